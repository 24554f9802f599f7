"""A drift report for people: the verdict table (one implementation, used by
the CLI's text, the page's table and the HTML report) and the HTML report."""

from __future__ import annotations

import html
import math
from typing import Any, Sequence

import numpy as np
import pandas as pd

from sentiment import config
from sentiment.ops.drift import DriftReport

_COLOURS = {"reference": "#4c78a8", "current": "#f58518"}


def _svg_bars(
    title: str, categories: Sequence[str], series: dict[str, Sequence[float]]
) -> str:
    """A grouped bar chart as inline SVG (no script, no external file)."""
    width, height, left, bottom, top = 640, 240, 40, 40, 28
    top_value = max((max(v) for v in series.values() if len(v)), default=1) or 1
    slot = (width - left - 10) / max(len(categories), 1)
    bar = slot * 0.8 / max(len(series), 1)
    scale = (height - bottom - top) / top_value
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{html.escape(title)}">',
        f'<text x="{left}" y="16" font-size="13" font-weight="bold">'
        f"{html.escape(title)}</text>",
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" '
        f'y2="{height - bottom}" stroke="#888"/>',
    ]
    for s, (name, values) in enumerate(series.items()):
        colour = _COLOURS.get(name, "#888")
        parts.append(
            f'<rect x="{width - 170 + s * 85}" y="6" width="10" height="10" '
            f'fill="{colour}"/><text x="{width - 156 + s * 85}" y="15" '
            f'font-size="11">{html.escape(name)}</text>'
        )
        for i, value in enumerate(values):
            h = value * scale
            x = left + i * slot + slot * 0.1 + s * bar
            parts.append(
                f'<rect x="{x:.1f}" y="{height - bottom - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{html.escape(name)} '
                f"{html.escape(str(categories[i]))}: {value:.3f}</title></rect>"
            )
    step = max(1, len(categories) // 10)
    for i in range(0, len(categories), step):
        x = left + i * slot + slot / 2
        parts.append(
            f'<text x="{x:.1f}" y="{height - bottom + 14}" font-size="10" '
            f'text-anchor="middle">{html.escape(str(categories[i]))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _histograms(
    title: str,
    reference: np.ndarray,
    current: np.ndarray,
    low: float,
    high: float,
    fmt: str = "{:.2f}",
) -> str:
    edges = np.linspace(low, high, 21)
    shares = {
        name: np.histogram(np.clip(values, low, high), edges)[0] / max(len(values), 1)
        for name, values in (("reference", reference), ("current", current))
    }
    labels = [fmt.format(edge) for edge in edges[:-1]]
    return _svg_bars(title, labels, {k: v.tolist() for k, v in shares.items()})


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1e-3 and value else f"{value:.4f}"
    return html.escape(str(value))


def drift_table(report: DriftReport) -> pd.DataFrame:
    """One row per drift test: verdict, statistic, p-value, PSI, thresholds, note.

    The verdict is ``drift``, ``no drift`` or ``skipped`` (the note says why);
    numbers a test does not have are NaN. The text summary, the page's table
    and the HTML report are all drawn from this table.
    """
    rows = []
    for name, test in report.tests.items():
        skipped = test.get("skipped")
        rows.append(
            {
                "test": name,
                "verdict": (
                    "skipped" if skipped else "drift" if test["drift"] else "no drift"
                ),
                "statistic": test.get("statistic"),
                "p_value": test.get("p_value"),
                "psi": test.get("psi"),
                "thresholds": ", ".join(
                    f"{k} {v}" for k, v in test.get("threshold", {}).items()
                ),
                "note": skipped or "",
            }
        )
    table = pd.DataFrame(rows)
    numbers = ["statistic", "p_value", "psi"]
    table[numbers] = table[numbers].astype(float)
    return table


def verdict(report: DriftReport) -> str:
    """The report's one-line verdict."""
    return "DRIFT DETECTED" if report.drift_detected else "No drift detected."


def format_drift(report: DriftReport) -> str:
    """Plain-text summary of a drift report."""
    lines = [
        f"reference: {report.reference.description}",
        f"current:   {report.current.description}",
        "",
    ]
    for row in drift_table(report).itertuples(index=False):
        if row.verdict == "skipped":
            lines.append(f"{row.test:18} skipped: {row.note}")
            continue
        lines.append(
            f"{row.test:18} {'DRIFT' if row.verdict == 'drift' else 'ok':5}  "
            f"statistic {row.statistic:.4f}"
            + ("" if math.isnan(row.p_value) else f"  p {row.p_value:.2g}")
            + ("" if math.isnan(row.psi) else f"  PSI {row.psi:.3f}")
        )
    return "\n".join([*lines, "", verdict(report)])


def _table_rows_html(report: DriftReport) -> str:
    rows = []
    for row in drift_table(report).itertuples(index=False):
        if row.verdict == "skipped":
            rows.append(
                f"<tr><td>{row.test}</td><td colspan=5>skipped: "
                f"{html.escape(row.note)}</td></tr>"
            )
            continue
        rows.append(
            f"<tr><td>{row.test}</td><td>{_number(row.statistic)}</td>"
            f"<td>{_number(row.p_value)}</td><td>{_number(row.psi)}</td>"
            f"<td>{html.escape(row.thresholds)}</td>"
            f"<td class={'bad' if row.verdict == 'drift' else 'ok'}>"
            f"{row.verdict}</td></tr>"
        )
    return "".join(rows)


def _charts_html(report: DriftReport) -> str:
    ref, cur = report.reference, report.current
    label = report.tests["label_mix"]
    lengths = np.concatenate([ref.length, cur.length])
    charts = [
        _svg_bars(
            "Predicted-label mix (share of posts)",
            list(config.LABELS),
            {
                "reference": list(label["reference"].values()),
                "current": list(label["current"].values()),
            },
        ),
        _histograms("Confidence", ref.confidence, cur.confidence, 1 / 3, 1.0),
        _histograms(
            "Text length (characters)",
            ref.length,
            cur.length,
            0,
            float(np.quantile(lengths, 0.99)) or 1,
            "{:.0f}",
        ),
    ]
    if ref.oov_share is not None and cur.oov_share is not None:
        charts.append(
            _histograms(
                "Out-of-vocabulary share per post",
                ref.oov_share,
                cur.oov_share,
                0,
                1,
                "{:.1f}",
            )
        )
    return "".join(f"<figure>{chart}</figure>" for chart in charts)


def _word_tables_html(report: DriftReport) -> str:
    words = report.tests["domain_classifier"].get("top_words")
    if not words:
        return ""
    tables = []
    for side in ("current", "reference"):
        items = "".join(
            f"<tr><td>{html.escape(w['word'])}</td><td>{w['weight']}</td>"
            f"<td>{w['reference_share']:.2%}</td>"
            f"<td>{w['current_share']:.2%}</td></tr>"
            for w in words[side]
        )
        tables.append(
            f"<h3>Words that mark {side} posts</h3><table><tr><th>word</th>"
            "<th>weight</th><th>in reference</th><th>in current</th></tr>"
            f"{items}</table>"
        )
    return "".join(tables)


_PAGE_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; max-width: 60em; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; }
.bad { background: #fdd; } .ok { background: #dfd; }
.verdict { font-size: 1.4em; padding: 0.5em; }
"""


def render_html(report: DriftReport) -> str:
    """A self-contained HTML page: verdict, table of tests, charts, top words."""
    ref, cur = report.reference, report.current
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drift report</title>
<style>{_PAGE_STYLE}</style></head><body>
<h1>Drift report</h1>
<p class="verdict {'bad' if report.drift_detected else 'ok'}">{verdict(report)}</p>
<p>Reference: {html.escape(ref.description)}: {ref.n:,} scored posts<br>
Current: {html.escape(cur.description)}: {cur.n:,} scored posts<br>
Created {report.to_dict()['created']}. A test flags drift when
p &lt; {config.DRIFT_P_VALUE} and its effect passes the threshold shown.</p>
<table><tr><th>test</th><th>statistic</th><th>p-value</th><th>PSI</th>
<th>thresholds</th><th>verdict</th></tr>{_table_rows_html(report)}</table>
{_charts_html(report)}
{_word_tables_html(report)}
</body></html>
"""
