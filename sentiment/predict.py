"""Scoring posts: one text, a list of texts, or a CSV of any size.

``python -m sentiment.predict INPUT.csv --output OUT.csv`` streams the file in
chunks, keeps every input row and column in order and adds the prediction
columns; ``python -m sentiment.predict --text "..."`` prints one prediction as
JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from tqdm import tqdm

from sentiment import config
from sentiment.artifacts import ModelLoadError, load_model
from sentiment.data import DataError, detect_format, read_table, require_columns
from sentiment.model import known_word_counts
from sentiment.preprocess import clean_unicode

log = logging.getLogger(__name__)

STATUS_OK = "ok"
STATUS_NO_TEXT = "no_text"
STATUS_NO_SIGNAL = "no_signal"

PROBABILITY_COLUMNS = [f"prob_{label}" for label in config.LABELS]
OUTPUT_COLUMNS = [
    "sentiment",
    "confidence",
    *PROBABILITY_COLUMNS,
    "needs_review",
    "status",
]

# Cells a spreadsheet would run as a formula (OWASP "CSV injection"); plain
# numbers such as "-3.5" are data, not formulas, and are left alone.
_FORMULA_START_RE = r"^[=+\-@\t\r\n\x00]"
_PLAIN_NUMBER_RE = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"


@dataclass(frozen=True)
class Prediction:
    """The verdict on one post.

    ``status`` is "ok", "no_text" (empty input: no label, nothing to review)
    or "no_signal" (no word, emoticon or emoji the model knows, so the label
    is a guess and ``needs_review`` is set whatever the confidence).
    """

    label: str | None
    confidence: float | None
    probabilities: dict[str, float] | None
    needs_review: bool
    status: str
    truncated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def prepare_text(text: object) -> tuple[str, bool]:
    """Clean one input and cut it to ``config.MAX_TEXT_CHARS``.

    Returns ``(text, truncated)``; the text is "" when there is nothing to
    score. Raises TypeError for inputs that are neither str nor None.
    """
    if text is None:
        return "", False
    if not isinstance(text, str):
        raise TypeError(f"text must be a str or None, not {type(text).__name__}")
    text = clean_unicode(text).strip()
    if len(text) > config.MAX_TEXT_CHARS:
        return text[: config.MAX_TEXT_CHARS], True
    return text, False


class Predictor:
    """A loaded model with a review threshold; see :func:`load_predictor`."""

    def __init__(
        self,
        pipeline: Pipeline,
        card: dict[str, Any] | None = None,
        threshold: float = config.DEFAULT_THRESHOLD,
    ) -> None:
        classes = list(pipeline.classes_)
        if sorted(classes) != sorted(config.LABELS):
            raise ModelLoadError(
                f"The model predicts {classes}, expected {list(config.LABELS)}."
            )
        self.pipeline = pipeline
        self.card = card or {}
        self.threshold = _check_threshold(threshold)
        # Column order of predict_proba -> config.LABELS order.
        self._order = [classes.index(label) for label in config.LABELS]

    @property
    def version(self) -> str:
        """Short id of the model file (first 12 hex digits of its SHA-256)."""
        return str(self.card.get("model_sha256", "unknown"))[:12]

    def score(
        self, texts: Sequence[object], threshold: float | None = None
    ) -> pd.DataFrame:
        """Score texts in one vectorised pass; one row per input, in order.

        Columns are ``OUTPUT_COLUMNS`` plus ``truncated``. Rows without text
        have an empty ``sentiment``, NaN scores and status "no_text".
        """
        threshold = self.threshold if threshold is None else _check_threshold(threshold)
        prepared = [prepare_text(t) for t in texts]
        n = len(prepared)
        has_text = np.fromiter((bool(t) for t, _ in prepared), bool, count=n)
        probabilities = np.full((n, len(config.LABELS)), np.nan)
        no_signal = np.zeros(n, dtype=bool)
        if has_text.any():
            features = self.pipeline[:-1].transform([t for t, _ in prepared if t])
            raw = self.pipeline[-1].predict_proba(features)
            probabilities[has_text] = raw[:, self._order]
            no_signal[has_text] = known_word_counts(self.pipeline, features) == 0
        filled = np.nan_to_num(probabilities)
        labels = np.where(
            has_text, np.array(config.LABELS, dtype=object)[filled.argmax(axis=1)], ""
        )
        confidence = np.where(has_text, filled.max(axis=1), np.nan)
        status = np.where(
            ~has_text, STATUS_NO_TEXT, np.where(no_signal, STATUS_NO_SIGNAL, STATUS_OK)
        )
        return pd.DataFrame(
            {
                "sentiment": labels,
                "confidence": confidence,
                **{
                    col: probabilities[:, i]
                    for i, col in enumerate(PROBABILITY_COLUMNS)
                },
                "needs_review": has_text & ((confidence < threshold) | no_signal),
                "status": status,
                "truncated": [truncated for _, truncated in prepared],
            }
        )

    def predict_batch(
        self, texts: Sequence[object], threshold: float | None = None
    ) -> list[Prediction]:
        """Predict many texts at once (vectorised); results in input order."""
        frame = self.score(texts, threshold)
        return [_row_to_prediction(row) for row in frame.itertuples(index=False)]

    def predict(self, text: object, threshold: float | None = None) -> Prediction:
        """Predict one text. Empty or None input gives status "no_text", no label."""
        return self.predict_batch([text], threshold)[0]


def _row_to_prediction(row: Any) -> Prediction:
    if row.status == STATUS_NO_TEXT:
        return Prediction(None, None, None, False, row.status, row.truncated)
    probabilities = {
        label: float(getattr(row, col))
        for label, col in zip(config.LABELS, PROBABILITY_COLUMNS)
    }
    return Prediction(
        label=row.sentiment,
        confidence=float(row.confidence),
        probabilities=probabilities,
        needs_review=bool(row.needs_review),
        status=row.status,
        truncated=bool(row.truncated),
    )


def _check_threshold(threshold: float) -> float:
    if not 0.0 <= float(threshold) <= 1.0:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
    return float(threshold)


def load_predictor(
    path: str | Path | None = None,
    threshold: float = config.DEFAULT_THRESHOLD,
    allow_outside_models_dir: bool = False,
) -> Predictor:
    """Load and check the committed model (or ``path``); see artifacts.load_model."""
    pipeline, card = load_model(path, allow_outside_models_dir)
    return Predictor(pipeline, card, threshold)


def neutralize_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix a quote to text cells a spreadsheet would execute as a formula."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if not (
            pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)
        ):
            continue
        text = values.astype(str)
        risky = text.str.contains(_FORMULA_START_RE, regex=True) & ~text.str.match(
            _PLAIN_NUMBER_RE
        )
        if risky.any():
            out[column] = values.where(~risky, "'" + text)
    return out


def with_predictions(rows: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with ``OUTPUT_COLUMNS`` of ``scored`` appended and formulas neutralized.

    This is what a scored file holds; write it with ``SCORED_FLOAT_FORMAT``.
    """
    return neutralize_formulas(
        pd.concat(
            [
                rows.reset_index(drop=True),
                scored[OUTPUT_COLUMNS].reset_index(drop=True),
            ],
            axis=1,
        )
    )


# Four decimals: enough to rank and threshold, and the files stay small.
SCORED_FLOAT_FORMAT = "%.4f"


@dataclass
class ScoreSummary:
    """Counts from one batch run."""

    rows: int = 0
    no_text: int = 0
    needs_review: int = 0
    no_signal: int = 0
    truncated: int = 0

    def add(self, scored: pd.DataFrame) -> None:
        self.rows += len(scored)
        self.no_text += int((scored["status"] == STATUS_NO_TEXT).sum())
        self.no_signal += int((scored["status"] == STATUS_NO_SIGNAL).sum())
        self.needs_review += int(scored["needs_review"].sum())
        self.truncated += int(scored["truncated"].sum())


def score_csv(
    input_path: str | Path,
    output_path: str | Path,
    predictor: Predictor,
    text_col: str = "text",
    threshold: float | None = None,
    chunk_rows: int = config.BATCH_CHUNK_ROWS,
    progress: bool = True,
) -> ScoreSummary:
    """Score a CSV/TSV chunk by chunk into ``output_path`` (UTF-8, same delimiter).

    Every input row and column is kept, in order, with ``OUTPUT_COLUMNS``
    appended. Memory stays flat whatever the file size.
    """
    input_path, output_path = Path(input_path), Path(output_path)
    if input_path.resolve() == output_path.resolve():
        raise DataError(
            "--output must differ from the input file, or it is overwritten."
        )
    fmt = detect_format(input_path)
    summary = ScoreSummary()
    with (
        open(input_path, "rb") as handle,
        tqdm(
            total=input_path.stat().st_size,
            unit="B",
            unit_scale=True,
            desc="scoring",
            disable=not progress,
        ) as bar,
        open(output_path, "w", encoding="utf-8", newline="") as out,
    ):
        chunks = read_table(handle, fmt, chunksize=chunk_rows)
        for i, chunk in enumerate(_checked_chunks(chunks, input_path)):
            if i == 0:
                _check_columns(chunk, text_col, input_path)
            scored = predictor.score(chunk[text_col].tolist(), threshold)
            summary.add(scored)
            with_predictions(chunk, scored).to_csv(
                out,
                sep=fmt.delimiter,
                index=False,
                header=(i == 0),
                float_format=SCORED_FLOAT_FORMAT,
            )
            bar.update(handle.tell() - bar.n)
    return summary


def _checked_chunks(
    chunks: Iterable[pd.DataFrame], path: Path
) -> Iterable[pd.DataFrame]:
    try:
        yield from chunks
    except pd.errors.ParserError as e:
        raise DataError(
            f"{path} is not a well-formed table ({e}). Check for an unclosed "
            "quote or a row with more fields than the header."
        ) from e


def _check_columns(chunk: pd.DataFrame, text_col: str, path: Path) -> None:
    require_columns(chunk, [text_col], path)
    clash = [c for c in OUTPUT_COLUMNS if c in chunk.columns]
    if clash:
        raise DataError(
            f"{path} already has column(s) {', '.join(map(repr, clash))}, which the "
            "output adds. Rename them (is this an already scored file?)."
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sentiment.predict", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("input", nargs="?", type=Path, help="CSV/TSV file to score")
    parser.add_argument(
        "--output", "-o", type=Path, help="where to write the scored file"
    )
    parser.add_argument("--text", help="score this one text and print JSON")
    parser.add_argument("--text-col", default="text", help="column holding the posts")
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help=f"needs_review below this confidence (default {config.DEFAULT_THRESHOLD})",
    )
    parser.add_argument("--model", type=Path, default=None, help="model.pkl to use")
    parser.add_argument(
        "--trust-model-path",
        action="store_true",
        help="allow a --model outside models/ (only models you trained yourself)",
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="hide the progress bar"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m sentiment.predict``; returns the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    if (args.text is None) == (args.input is None):
        parser.error("give either INPUT.csv (with --output) or --text")
    if args.input is not None and args.output is None:
        parser.error("--output is required with an input file")
    try:
        predictor = load_predictor(
            args.model, allow_outside_models_dir=args.trust_model_path
        )
        if args.text is not None:
            print(json.dumps(predictor.predict(args.text, args.threshold).to_dict()))
            return 0
        summary = score_csv(
            args.input,
            args.output,
            predictor,
            text_col=args.text_col,
            threshold=args.threshold,
            progress=not args.no_progress,
        )
    except (DataError, ModelLoadError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(
        f"Wrote {summary.rows:,} rows to {args.output}: {summary.needs_review:,} need "
        f"review, {summary.no_text:,} had no text, {summary.no_signal:,} had no "
        f"known words, {summary.truncated:,} were truncated to "
        f"{config.MAX_TEXT_CHARS:,} characters.",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
