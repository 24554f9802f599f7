"""The Model card's tier comparison and limitations, shown for every tier.

The comparison is the committed ``benchmarks/compare_tiers.json`` (written by
``benchmarks/compare_tiers.py`` on the SemEval-2017 test set); an install
without it (the Docker image) gets a caption saying how to produce it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app_pages.charts import tier_tradeoff_chart
from app_pages.shared import python_command
from sentiment import config
from sentiment.model.transformer import LIMITATIONS

COMPARISON_PATH = config.PROJECT_ROOT / "benchmarks" / "compare_tiers.json"
COMPARISON_COMMAND = (
    "benchmarks/compare_tiers.py --latency-posts 200 --frozen-train-posts 4000"
)
# The comparison file's field -> the table's column, in the table's order.
COMPARISON_COLUMNS = {
    "system": "system",
    "macro_recall": "macro-recall",
    "macro_f1": "macro-F1",
    "ece": "ECE",
    "p50_ms": "p50 ms",
    "p99_ms": "p99 ms",
    "posts_per_s": "posts/s",
    "disk_mb": "disk MB",
    "memory_mb": "memory MB",
    "training": "training",
    "dollars_per_million": "$ per 1M posts",
}
# How each tier's row in the comparison file starts (the file names systems).
TIER_SYSTEM_PREFIX = {
    "classic": "classic",
    "transformer": "fine-tuned",
    "cascade": "cascade",
}
WHEN_TO_USE = (
    "**When to use which.** *classic*: thousands of posts per second per core, "
    "13 MB, retrains in a minute or two; bulk history and dashboards, and the "
    "tier the drift check and `promote` read. *cascade*: classic on the posts "
    "it is sure of, the transformer on the rest and on every negation; use it "
    "when labels drive decisions and one to two thousand posts per second are "
    "enough. "
    "*transformer*: every post through the encoder; about as accurate as the "
    "cascade and slower, for one model's judgement on every post (audits)."
)


def load_comparison(path: Path) -> tuple[pd.DataFrame | None, str]:
    """The comparison file as a frame (one row per system), or None and why not."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, f"`{path.name}` is not in this installation."
    except (OSError, ValueError) as e:
        return None, f"`{path.name}` could not be read ({e})."
    if not isinstance(rows, list) or not all(
        isinstance(row, dict) and "system" in row for row in rows
    ):
        return None, f"`{path.name}` is not a list of systems."
    frame = pd.DataFrame(rows).reindex(columns=list(COMPARISON_COLUMNS))
    return frame, ""


def tier_row(frame: pd.DataFrame, tier: str) -> pd.Series | None:
    """The comparison file's row of one tier, or None when it has none."""
    prefix = TIER_SYSTEM_PREFIX.get(tier)
    if prefix is None:
        return None
    matches = frame[frame["system"].astype(str).str.startswith(prefix)]
    return None if matches.empty else matches.iloc[0]


def comparison_ui(tier: str, frame: pd.DataFrame | None, problem: str) -> None:
    """The tier comparison (``load_comparison``'s result) as a table and a
    chart, the chosen tier marked; a caption saying how to produce it when
    the file is missing."""
    st.subheader("Every tier compared (SemEval-2017 test set)")
    if frame is None:
        st.caption(
            f"No tier comparison to show: {problem} Produce it in a checkout "
            f"with the benchmark data: `{python_command()} {COMPARISON_COMMAND}`."
        )
        return
    chosen = tier_row(frame, tier)
    st.altair_chart(
        tier_tradeoff_chart(frame, None if chosen is None else str(chosen["system"]))
    )
    st.dataframe(
        # Whole posts per second: the decimals are noise.
        frame.assign(posts_per_s=frame["posts_per_s"].round()).rename(
            columns=COMPARISON_COLUMNS
        ),
        hide_index=True,
        column_config=comparison_column_config(),
    )
    st.caption(
        "posts/s: the whole test set in one call on 2 CPU cores; p50/p99: one "
        "post at a time; ECE: calibration error (lower is better); None: not "
        f"measured. From "
        f"`benchmarks/{COMPARISON_PATH.name}`."
    )
    st.markdown(WHEN_TO_USE)


def comparison_column_config() -> dict[str, Any]:
    """Number formats and widths of the comparison table's columns; the
    system stays in view when a narrow window scrolls the table sideways."""

    def number(format: str) -> Any:
        return st.column_config.NumberColumn(format=format, width="small")

    return {
        "system": st.column_config.TextColumn(width="medium", pinned=True),
        **{name: number("%.3f") for name in ("macro-recall", "macro-F1", "ECE")},
        "p50 ms": number("%.2f"),
        "p99 ms": number("%.2f"),
        "posts/s": number("localized"),
        "disk MB": number("%.1f"),
        "memory MB": number("%d"),
        "training": st.column_config.TextColumn(width="medium"),
        "$ per 1M posts": number("%.4f"),
    }


def limitations(card: dict[str, Any]) -> list[str]:
    """The limitations the transformer's card lists (its own or the cascade's
    nested one), else the fixed list that matches the README."""
    transformer = (
        card if card.get("backend") == "transformer" else card.get("transformer")
    )
    listed = (transformer or {}).get("limitations")
    return [str(item) for item in listed] if listed else list(LIMITATIONS)


def limitations_ui(card: dict[str, Any]) -> None:
    """The limitations section, shown for every tier."""
    st.subheader("Limitations (every tier)")
    st.markdown("\n".join(f"- {item}" for item in limitations(card)))
