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
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Iterator, NamedTuple, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
import sklearn
from sklearn.pipeline import Pipeline
from tqdm import tqdm

from sentiment import config
from sentiment.artifacts import ModelLoadError, load_model
from sentiment.data import (
    DataError,
    TableFormat,
    detect_format,
    read_table,
    require_columns,
)
from sentiment.logstore import LogStoreError, PredictionLog, open_default_log
from sentiment.model import known_word_counts
from sentiment.parallel import available_cores, map_ordered
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
        # Sliced once: slicing builds a new Pipeline on every call.
        self._features = pipeline[:-1]
        self._classifier = pipeline[-1]

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
        return self._score_arrays(texts, threshold).frame()

    def predict_batch(
        self, texts: Sequence[object], threshold: float | None = None
    ) -> list[Prediction]:
        """Predict many texts at once (vectorised); results in input order."""
        # Built from plain lists, not from score()'s DataFrame: for a handful of
        # texts pandas would cost more than the model itself.
        scores = self._score_arrays(texts, threshold)
        rows = zip(
            scores.labels.tolist(),
            scores.confidence.tolist(),
            scores.probabilities.tolist(),
            scores.needs_review.tolist(),
            scores.status.tolist(),
            scores.truncated.tolist(),
        )
        return [_prediction(*row) for row in rows]

    def predict(self, text: object, threshold: float | None = None) -> Prediction:
        """Predict one text. Empty or None input gives status "no_text", no label."""
        return self.predict_batch([text], threshold)[0]

    def _score_arrays(
        self, texts: Sequence[object], threshold: float | None
    ) -> _Scores:
        threshold = self.threshold if threshold is None else _check_threshold(threshold)
        prepared = [prepare_text(t) for t in texts]
        n = len(prepared)
        has_text = np.fromiter((bool(t) for t, _ in prepared), bool, count=n)
        probabilities = np.full((n, len(config.LABELS)), np.nan)
        no_signal = np.zeros(n, dtype=bool)
        if has_text.any():
            scored, known = self._probabilities([t for t, _ in prepared if t])
            probabilities[has_text] = scored
            no_signal[has_text] = known == 0
        filled = np.nan_to_num(probabilities)
        confidence = np.where(has_text, filled.max(axis=1), np.nan)
        return _Scores(
            labels=np.where(has_text, _LABEL_ARRAY[filled.argmax(axis=1)], ""),
            confidence=confidence,
            probabilities=probabilities,
            needs_review=has_text & ((confidence < threshold) | no_signal),
            status=np.where(
                ~has_text,
                STATUS_NO_TEXT,
                np.where(no_signal, STATUS_NO_SIGNAL, STATUS_OK),
            ),
            truncated=np.fromiter((cut for _, cut in prepared), bool, count=n),
        )

    def _probabilities(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities (``config.LABELS`` order) and known-word counts."""
        # sklearn re-validates every step's input, which for one text costs more
        # than the model: TF-IDF output is finite and the parameters were checked
        # at fit time, so both checks are skipped (the setting is thread-local).
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            features = self._features.transform(texts)
            if sp.issparse(features) and not features.has_sorted_indices:
                # A row's entries are summed in stored order, and float32 sums
                # differ in the last bits by order; the pipeline's column order
                # in a row depends on the other texts in the batch. Sorted, a
                # text scores the same alone, in a micro-batch or in a chunk.
                features.sort_indices()
            raw = self._classifier.predict_proba(features)
        return raw[:, self._order], known_word_counts(self.pipeline, features)


class _Scores(NamedTuple):
    """Predictor output as parallel arrays, one entry per input text."""

    labels: np.ndarray
    confidence: np.ndarray
    probabilities: np.ndarray
    needs_review: np.ndarray
    status: np.ndarray
    truncated: np.ndarray

    def frame(self) -> pd.DataFrame:
        """The table :meth:`Predictor.score` returns."""
        return pd.DataFrame(
            {
                "sentiment": self.labels,
                "confidence": self.confidence,
                **{
                    col: self.probabilities[:, i]
                    for i, col in enumerate(PROBABILITY_COLUMNS)
                },
                "needs_review": self.needs_review,
                "status": self.status,
                "truncated": self.truncated,
            }
        )


_LABEL_ARRAY = np.array(config.LABELS, dtype=object)

# The verdict on an empty text (nothing to cut, so never truncated).
NO_TEXT = Prediction(None, None, None, False, STATUS_NO_TEXT)


def predictions_frame(predictions: Sequence[Prediction]) -> pd.DataFrame:
    """The :meth:`Predictor.score` table of predictions made elsewhere (the API)."""
    n = len(predictions)
    return _Scores(
        labels=np.array([p.label or "" for p in predictions], dtype=object),
        confidence=np.array(
            [np.nan if p.confidence is None else p.confidence for p in predictions],
            dtype=float,
        ),
        probabilities=np.array(
            [
                (
                    [np.nan] * len(config.LABELS)
                    if p.probabilities is None
                    else [p.probabilities[label] for label in config.LABELS]
                )
                for p in predictions
            ],
            dtype=float,
        ).reshape(n, len(config.LABELS)),
        needs_review=np.array([p.needs_review for p in predictions], dtype=bool),
        status=np.array([p.status for p in predictions], dtype=str),
        truncated=np.array([p.truncated for p in predictions], dtype=bool),
    ).frame()


def _prediction(
    label: str,
    confidence: float,
    probabilities: list[float],
    needs_review: bool,
    status: str,
    truncated: bool,
) -> Prediction:
    if status == STATUS_NO_TEXT:
        return NO_TEXT
    return Prediction(
        label=label,
        confidence=confidence,
        probabilities=dict(zip(config.LABELS, probabilities)),
        needs_review=needs_review,
        status=status,
        truncated=truncated,
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

    def merge(self, other: ScoreSummary) -> None:
        """Add the counts of another run (a chunk or a partition) to these."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def score_chunk(
    predictor: Predictor,
    chunk: pd.DataFrame,
    text_col: str,
    threshold: float | None = None,
) -> tuple[pd.DataFrame, ScoreSummary]:
    """The predictions for ``chunk[text_col]`` (a :meth:`Predictor.score` table).

    The one scoring step of every batch engine (in-process, worker processes,
    Dask), so they all give the same rows; also returns their counts.
    """
    texts = chunk[text_col]
    if texts.hasnans:  # Parquet and in-memory frames can hold missing values
        texts = texts.astype(object).where(texts.notna(), None)
    scored = predictor.score(texts.tolist(), threshold)
    summary = ScoreSummary()
    summary.add(scored)
    return scored, summary


def to_csv_text(
    rows: pd.DataFrame, scored: pd.DataFrame, delimiter: str, header: bool
) -> str:
    """The CSV text a scored file holds for ``rows`` (see :func:`with_predictions`)."""
    return with_predictions(rows, scored).to_csv(
        sep=delimiter, index=False, header=header, float_format=SCORED_FLOAT_FORMAT
    )


class _ScoredChunk(NamedTuple):
    """What scoring one chunk of a CSV gives back to the process writing the file."""

    csv_text: str
    summary: ScoreSummary
    texts: list[object]  # for the prediction log
    scored: pd.DataFrame


def _score_csv_chunk(
    predictor: Predictor,
    numbered_chunk: tuple[int, pd.DataFrame],
    text_col: str,
    threshold: float | None,
    delimiter: str,
) -> _ScoredChunk:
    number, chunk = numbered_chunk
    scored, summary = score_chunk(predictor, chunk, text_col, threshold)
    return _ScoredChunk(
        to_csv_text(chunk, scored, delimiter, header=number == 0),
        summary,
        chunk[text_col].tolist(),
        scored,
    )


def score_csv(
    input_path: str | Path,
    output_path: str | Path,
    predictor: Predictor,
    text_col: str = "text",
    threshold: float | None = None,
    chunk_rows: int = config.BATCH_CHUNK_ROWS,
    progress: bool = True,
    prediction_log: PredictionLog | None = None,
    jobs: int = 1,
) -> ScoreSummary:
    """Score a CSV/TSV chunk by chunk into ``output_path`` (UTF-8, same delimiter).

    Every input row and column is kept, in order, with ``OUTPUT_COLUMNS``
    appended. Memory stays flat whatever the file size. With a
    ``prediction_log`` each chunk is logged as source "batch", one request id
    per run and the row number as item. With ``jobs`` > 1, chunks are scored
    by that many worker processes, then logged and written in input order by
    this one: the output is byte for byte that of ``jobs=1``.
    """
    input_path, output_path = Path(input_path), Path(output_path)
    if input_path.resolve() == output_path.resolve():
        raise DataError(
            "--output must differ from the input file, or it is overwritten."
        )
    fmt = detect_format(input_path)
    summary = ScoreSummary()
    run_id: str | None = None  # the log's request id for this run
    task = partial(
        _score_csv_chunk,
        text_col=text_col,
        threshold=threshold,
        delimiter=fmt.delimiter,
    )
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
        chunks = read_csv_chunks(handle, input_path, fmt, text_col, chunk_rows)
        for done in map_ordered(task, enumerate(chunks), predictor, jobs):
            if prediction_log is not None:
                run_id = prediction_log.append(
                    "batch",
                    run_id,
                    model_version(predictor),
                    done.texts,
                    done.scored,
                    first_item=summary.rows,
                ).request_id
            out.write(done.csv_text)
            summary.merge(done.summary)
            bar.update(handle.tell() - bar.n)
    return summary


def model_version(predictor: Predictor) -> str:
    """The SHA-256 of the predictor's model file, as the prediction log stores it."""
    return str(predictor.card.get("model_sha256", "unknown"))


def read_csv_chunks(
    handle: BinaryIO, path: Path, fmt: TableFormat, text_col: str, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    """Read an open CSV/TSV in chunks of ``chunk_rows``, checking its columns first.

    Raises DataError when the text column is missing, an output column is
    already there, or the table is malformed.
    """
    chunks = read_table(handle, fmt, chunksize=chunk_rows)
    try:
        for number, chunk in enumerate(chunks):
            if number == 0:
                check_input_columns(chunk.columns, text_col, path)
            yield chunk
    except pd.errors.ParserError as e:
        raise DataError(
            f"{path} is not a well-formed table ({e}). Check for an unclosed "
            "quote or a row with more fields than the header."
        ) from e


def check_input_columns(columns: Iterable[str], text_col: str, path: Path) -> None:
    """Raise DataError unless ``text_col`` is present and no output column is."""
    columns = list(columns)
    require_columns(pd.DataFrame(columns=columns), [text_col], path)
    clash = [c for c in OUTPUT_COLUMNS if c in columns]
    if clash:
        raise DataError(
            f"{path} already has column(s) {', '.join(map(repr, clash))}, which the "
            "output adds. Rename them (is this an already scored file?)."
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sentiment.predict", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "input",
        nargs="?",
        type=Path,
        help="CSV/TSV file to score (--engine dask: CSV/TSV or Parquet; globs allowed)",
    )
    parser.add_argument(
        "--output",
        "-o",
        type=Path,
        help="where to write the scored file (--engine dask: a new folder of parts)",
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
    parser.add_argument(
        "--no-log",
        action="store_true",
        help=f"do not append the predictions to the prediction log "
        f"({config.LOG_DB_ENV}; --engine dask runs are never logged: their parts "
        "are the record)",
    )
    parser.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=None,
        help=f"worker processes (default: all {available_cores()} cores); 1 scores "
        "in this process. The output does not depend on it.",
    )
    parser.add_argument(
        "--engine",
        choices=("local", "dask"),
        default="local",
        help="local: this machine's cores; dask: a Dask cluster, partition by "
        "partition (needs `pip install -r requirements-dask.txt`)",
    )
    parser.add_argument(
        "--scheduler",
        help="with --engine dask: address of a running Dask scheduler, e.g. "
        "tcp://10.0.0.5:8786 (default: start a local cluster of --jobs workers)",
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
    if args.scheduler is not None and args.engine != "dask":
        parser.error("--scheduler needs --engine dask")
    jobs = available_cores() if args.jobs is None else args.jobs
    if jobs < 1:
        parser.error(f"--jobs must be at least 1, got {jobs}")
    try:
        if args.engine == "dask":
            # The optional extra: a missing install is reported before the load.
            from sentiment.distributed import score_dask
        predictor = load_predictor(
            args.model, allow_outside_models_dir=args.trust_model_path
        )
        logging_on = not args.no_log and args.engine != "dask"
        prediction_log = open_default_log() if logging_on else None
        if args.text is not None:
            prediction = predictor.predict(args.text, args.threshold)
            if prediction_log is not None:
                prediction_log.append(
                    "cli", None, model_version(predictor), [args.text], [prediction]
                )
            print(json.dumps(prediction.to_dict()))
            return 0
        if args.engine == "dask":
            summary = score_dask(
                args.input,
                args.output,
                predictor,
                text_col=args.text_col,
                threshold=args.threshold,
                scheduler=args.scheduler,
                workers=jobs,
                progress=not args.no_progress,
            )
        else:
            summary = score_csv(
                args.input,
                args.output,
                predictor,
                text_col=args.text_col,
                threshold=args.threshold,
                progress=not args.no_progress,
                prediction_log=prediction_log,
                jobs=jobs,
            )
    except ModuleNotFoundError as e:
        print(
            f"error: --engine dask needs the Dask extra ({e}). Install it with "
            "`pip install -r requirements-dask.txt`.",
            file=sys.stderr,
        )
        return 2
    except (DataError, ModelLoadError, LogStoreError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(
        f"Wrote {summary.rows:,} rows to {args.output}: {summary.needs_review:,} need "
        f"review, {summary.no_text:,} had no text, {summary.no_signal:,} had no "
        f"known words, {summary.truncated:,} were truncated to "
        f"{config.MAX_TEXT_CHARS:,} characters.",
        file=sys.stderr,
    )
    if prediction_log is not None:
        print(
            f"Logged to {prediction_log.path}; {prediction_log.dropped:,} rows could "
            "not be logged.",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
