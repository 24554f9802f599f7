"""Labelled data for training and evaluation: label spellings, label maps,
and a load report that names every skipped row."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from sentiment import config
from sentiment.files.formats import DataError
from sentiment.files.reading import read_table, require_columns


def parse_label_map(spec: str | None) -> dict[str, str]:
    """Parse ``"0=negative,1=neutral,2=positive"`` into {raw value: label}."""
    if not spec:
        return {}
    mapping: dict[str, str] = {}
    for part in spec.split(","):
        raw, sep, label = part.partition("=")
        label = config.LABEL_ALIASES.get(label.strip().lower())
        if not sep or not raw.strip() or label is None:
            raise DataError(
                f"Bad --label-map entry {part!r}: expected VALUE=LABEL with LABEL one "
                f"of {', '.join(config.LABELS)}, e.g. 0=negative,1=neutral,2=positive."
            )
        mapping[raw.strip().lower()] = label
    return mapping


def held_out_split(
    texts: Sequence[str],
    labels: Sequence[str],
    seed: int = config.SEED,
    source: object = "the data",
) -> tuple[list[str], list[str], list[str], list[str]]:
    """``(fit_texts, held_out_texts, fit_labels, held_out_labels)``: the
    stratified ``config.VALIDATION_SIZE`` split that every tier validates,
    calibrates and picks its cut-off on (never the test set).

    Raises DataError naming ``source`` when a class has fewer than the 2
    examples a stratified split needs.
    """
    from sklearn.model_selection import train_test_split  # heavy: only here

    counts = Counter(labels)
    missing = [label for label in config.LABELS if counts[label] < 2]
    if missing:
        raise DataError(
            f"Need at least 2 examples of every class to train; too few of "
            f"{', '.join(missing)} in {source} (counts: {dict(counts)})."
        )

    fit_x, held_x, fit_y, held_y = train_test_split(
        list(texts),
        list(labels),
        test_size=config.VALIDATION_SIZE,
        stratify=list(labels),
        random_state=seed,
    )
    return fit_x, held_x, fit_y, held_y


def canonical_label(raw: str, label_map: dict[str, str]) -> str | None:
    """Map a raw label cell to one of ``config.LABELS``, or None if unknown."""
    key = raw.strip().lower()
    if label_map:
        return label_map.get(key)
    return config.LABEL_ALIASES.get(key)


@dataclass
class LoadReport:
    """What happened to each row of a labelled file."""

    path: str
    n_rows: int
    empty_text_rows: list[int] = field(default_factory=list)
    unknown_label_rows: list[int] = field(default_factory=list)
    unknown_label_values: Counter = field(default_factory=Counter)

    @property
    def n_used(self) -> int:
        return self.n_rows - len(self.empty_text_rows) - len(self.unknown_label_rows)

    def summary(self) -> str:
        """Human-readable account of used and skipped rows (row 1 is the header)."""
        lines = [f"{self.path}: {self.n_used:,} of {self.n_rows:,} rows used."]
        if self.empty_text_rows:
            lines.append(
                f"  {len(self.empty_text_rows):,} rows skipped for empty text "
                f"(rows {_first(self.empty_text_rows)})."
            )
        if self.unknown_label_rows:
            values = ", ".join(
                f"{v!r} ×{n}" for v, n in self.unknown_label_values.most_common(5)
            )
            lines.append(
                f"  {len(self.unknown_label_rows):,} rows skipped for an unknown label "
                f"(rows {_first(self.unknown_label_rows)}; values {values})."
            )
            if any(v.strip().lstrip("-").isdigit() for v in self.unknown_label_values):
                lines.append(
                    "  Numeric labels need an explicit mapping, e.g. "
                    "--label-map 0=negative,1=neutral,2=positive"
                )
        return "\n".join(lines)


def _first(rows: list[int], n: int = 10) -> str:
    shown = ", ".join(str(r) for r in rows[:n])
    return shown + (", ..." if len(rows) > n else "")


@dataclass
class LabelledData:
    """Usable texts and their canonical labels, plus the account of skipped rows."""

    texts: list[str]
    labels: list[str]
    report: LoadReport


def load_labelled(
    path: str | Path,
    text_col: str = "text",
    label_col: str = "label",
    label_map: dict[str, str] | None = None,
) -> LabelledData:
    """Load a labelled CSV/TSV, keeping rows with text and a known label.

    Raises DataError when a column is missing or no usable row is left.
    """
    path = Path(path)
    frame = read_table(path)
    require_columns(frame, [text_col, label_col], path)
    report = LoadReport(str(path), len(frame))
    texts: list[str] = []
    labels: list[str] = []
    label_map = label_map or {}
    for i, (text, raw) in enumerate(zip(frame[text_col], frame[label_col])):
        row = i + 2  # spreadsheet numbering: the header is row 1
        label = canonical_label(raw, label_map)
        if not text.strip():
            report.empty_text_rows.append(row)
        elif label is None:
            report.unknown_label_rows.append(row)
            report.unknown_label_values[raw] += 1
        else:
            texts.append(text)
            labels.append(label)
    if not texts:
        raise DataError(
            f"No usable rows in {path}.\n{report.summary()}\n"
            f"Columns found: {', '.join(map(repr, frame.columns))}."
        )
    return LabelledData(texts, labels, report)
