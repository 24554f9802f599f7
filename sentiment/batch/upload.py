"""Scoring the page's uploads: in chunks with progress, the label mix over
time, filters and the download."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

from sentiment import config
from sentiment.batch.step import ScoreSummary, score_texts
from sentiment.files.formats import DataError
from sentiment.files.output import scored_csv_text
from sentiment.files.upload import PLAIN_TEXT_SUFFIX, UploadedTable
from sentiment.model.language import STATUS_UNSUPPORTED_LANGUAGE
from sentiment.model.predictor import STATUS_NO_SIGNAL, Predictor

# How the summary names posts left unscored for their language.
OTHER_LANGUAGE = "other language"


def score_frame(
    predictor: Predictor,
    texts: Sequence[object],
    threshold: float | None = None,
    chunk_rows: int = config.BATCH_CHUNK_ROWS,
    on_progress: Callable[[int, int], None] | None = None,
    score_all_languages: bool = True,
) -> pd.DataFrame:
    """Score ``texts`` in chunks of ``chunk_rows``; one row per text, in order.

    ``on_progress(done, total)`` is called after each chunk, so a page can
    move a progress bar while a large file is scored. With
    ``score_all_languages=False`` posts in a language the model was not
    trained for get status "unsupported_language" and no label.
    """
    total = len(texts)
    parts = []
    for start in range(0, total, chunk_rows):
        part = list(texts[start : start + chunk_rows])
        parts.append(score_texts(predictor, part, threshold, score_all_languages))
        if on_progress is not None:
            on_progress(min(start + chunk_rows, total), total)
    if not parts:
        return predictor.score([], threshold)
    return pd.concat(parts, ignore_index=True)


def summarize(scored: pd.DataFrame) -> tuple[ScoreSummary, pd.DataFrame]:
    """Counts of the run, and per label (plus "no text" and "other language")
    its count and share of rows."""
    summary = ScoreSummary()
    summary.add(scored)
    outcome = scored["sentiment"].where(
        scored["status"] != STATUS_UNSUPPORTED_LANGUAGE, OTHER_LANGUAGE
    )
    counts = outcome.replace("", "no text").value_counts()
    order = [*config.LABELS, "no text", OTHER_LANGUAGE]
    mix = pd.DataFrame(
        {"label": order, "count": [int(counts.get(k, 0)) for k in order]}
    )
    mix["share"] = mix["count"] / max(len(scored), 1)
    return summary, mix


def label_mix_over_time(
    dates: pd.Series, labels: pd.Series, freq: str | None = None
) -> tuple[pd.DataFrame, int]:
    """Share of each label per period, and how many rows had no readable date.

    Rows without a label (no text) are left out. ``freq`` is a pandas period
    alias ("h", "D", "W", "M"); by default it is chosen from the dates' span.
    Returns a long table with columns period, label, count, share. Raises
    DataError when no date can be read.
    """
    parsed = pd.to_datetime(dates, errors="coerce", utc=True, format="mixed")
    parsed = parsed.dt.tz_convert(None)
    usable = parsed.notna().to_numpy() & (labels != "").to_numpy()
    unparsed = int(parsed.isna().sum())
    if not usable.any():
        raise DataError(
            f"No date could be read in column {dates.name!r}. Pick a column with "
            "dates such as 2024-05-01 or 2024-05-01 13:45, or none."
        )
    when, label = parsed[usable], labels[usable]
    freq = freq or _period_for(when.max() - when.min())
    period = when.dt.to_period(freq).dt.start_time.rename("period")
    counts = (
        label.groupby([period.to_numpy(), label.to_numpy()])
        .size()
        .unstack(fill_value=0)
        .reindex(columns=list(config.LABELS), fill_value=0)
    )
    counts.index.name = "period"
    shares = counts.div(counts.sum(axis=1), axis=0)
    long = counts.stack().rename("count").to_frame()
    long["share"] = shares.stack()
    return long.reset_index().rename(columns={"level_1": "label"}), unparsed


def _period_for(span: pd.Timedelta) -> str:
    # Aim for a few dozen points at most, whatever the span of the data.
    if span <= pd.Timedelta(days=2):
        return "h"
    if span <= pd.Timedelta(days=90):
        return "D"
    if span <= pd.Timedelta(days=3 * 365):
        return "W"
    return "M"


def filter_results(
    results: pd.DataFrame,
    labels: Sequence[str],
    needs_review: bool | None = None,
    brand_col: str | None = None,
    brands: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Rows whose ``sentiment`` is in ``labels`` ("" for no text), by review flag.

    ``needs_review`` None keeps both flagged and confident rows. With
    ``brand_col`` and ``brands``, only rows naming one of ``brands`` in that
    column (several brands in a cell are ``|``-separated) are kept.
    """
    return results[result_mask(results, labels, needs_review, brand_col, brands)]


def result_mask(
    results: pd.DataFrame,
    labels: Sequence[str],
    needs_review: bool | None = None,
    brand_col: str | None = None,
    brands: Sequence[str] | None = None,
) -> pd.Series:
    """:func:`filter_results` as a boolean mask over ``results``' rows."""
    keep = results["sentiment"].isin(list(labels))
    if needs_review is not None:
        keep &= results["needs_review"] == needs_review
    if brand_col is not None and brands is not None:
        wanted = set(brands)
        keep &= (
            results[brand_col]
            .astype(str)
            .map(lambda cell: bool(wanted & {b.strip() for b in cell.split("|")}))
        )
    return keep


def brand_values(values: pd.Series) -> list[str]:
    """The distinct brands named in a column (cells may hold ``a|b``), sorted."""
    found = {b.strip() for cell in values.astype(str) for b in cell.split("|")}
    return sorted(b for b in found if b)


def relabel(scored: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """``scored`` with ``needs_review`` for another threshold, without re-scoring.

    The same rule as the predictor: a post with text needs review when its
    confidence is below the threshold or the model knew none of its words.
    """
    has_text = scored["confidence"].notna()
    flagged = has_text & (
        (scored["confidence"] < threshold) | (scored["status"] == STATUS_NO_SIGNAL)
    )
    return scored.assign(needs_review=flagged.to_numpy(dtype=bool))


def scored_file_bytes(
    table: UploadedTable,
    scored: pd.DataFrame,
    rows: pd.Series | None = None,
    spreadsheet_safe: bool = True,
) -> bytes:
    """The uploaded file with the prediction columns appended, as UTF-8 bytes.

    The batch CLI's writer: same columns, delimiter, quoting and formula
    neutralizing; a .txt upload comes back as a CSV with one ``text`` column.
    ``rows``: a boolean mask of the rows to keep (the filtered rows), in their
    order.
    """
    frame = table.frame.reset_index(drop=True)
    scored = scored.reset_index(drop=True)
    if rows is not None:
        keep = rows.to_numpy(dtype=bool)
        frame, scored = frame[keep], scored[keep]
    return scored_csv_text(
        frame.to_numpy().tolist(),
        scored,
        table.fmt.delimiter,
        list(frame.columns),
        spreadsheet_safe,
    ).encode("utf-8")


def scored_file_name(name: str) -> str:
    """Download name for a scored upload: ``posts.tsv`` -> ``posts_scored.tsv``."""
    path = Path(name)
    suffix = ".csv" if path.suffix.lower() in ("", PLAIN_TEXT_SUFFIX) else path.suffix
    return f"{path.stem}_scored{suffix}"
