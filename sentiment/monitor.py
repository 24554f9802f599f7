"""``python -m sentiment.monitor``: drift checks, negative-spike alerts, log status.

    python -m sentiment.monitor drift --current SOURCE [--reference PATH]
        [--since T] [--until T] [--json] [--html OUT]
    python -m sentiment.monitor spikes [--db PATH] [--freq hour|day] [--k 3]
        [--window N] [--since T] [--json]
    python -m sentiment.monitor status [--db PATH] [--json]

SOURCE is a CSV/TSV of posts, a prediction-log file (``*.db``), or ``log`` for
the configured log. ``--reference`` is a reference profile (``.json``, default:
the one beside the model) or a CSV/TSV. T is an ISO date/time (UTC) or an age
such as ``24h``, ``7d``. Exit codes: 0 nothing found, 1 drift or a spike found,
2 error.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from sentiment import config
from sentiment.artifacts import ModelLoadError
from sentiment.data import DataError, read_table, require_columns
from sentiment.drift import DriftReport, compare, render_html
from sentiment.logstore import LogStoreError, PredictionLog, log_path_from_env
from sentiment.predict import Predictor, load_predictor
from sentiment.reference import (
    Sample,
    load_reference,
    oov_shares,
    reference_path,
    sample_from_scores,
)

log = logging.getLogger(__name__)

_AGE_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([hd])$", re.IGNORECASE)
_LOG_SUFFIXES = (".db", ".sqlite", ".sqlite3")


def parse_time(value: str, now: datetime | None = None) -> datetime:
    """``"24h"``, ``"7d"`` (that long ago) or an ISO date/time (UTC if no zone)."""
    now = now or datetime.now(timezone.utc)
    age = _AGE_RE.match(value.strip())
    if age:
        amount, unit = float(age.group(1)), age.group(2).lower()
        return now - timedelta(**{"hours" if unit == "h" else "days": amount})
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"Cannot read the time {value!r}: use an ISO date/time such as "
            "2026-01-31 or 2026-01-31T09:00, or an age such as 24h or 7d."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# -- drift -----------------------------------------------------------------


def _subsample(n: int, size: int, seed: int) -> np.ndarray:
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size, replace=False))


def sample_from_table(
    path: str | Path,
    predictor: Predictor,
    text_col: str = "text",
    size: int = config.DRIFT_SAMPLE_ROWS,
    seed: int = config.SEED,
) -> Sample:
    """Score up to ``size`` random non-empty posts of a CSV/TSV with the model."""
    path = Path(path)
    frame = read_table(path)
    require_columns(frame, [text_col], path)
    texts = [t for t in frame[text_col] if t.strip()]
    texts = [texts[i] for i in _subsample(len(texts), size, seed)]
    description = f"{path.name} ({len(texts):,} of {len(frame):,} rows)"
    return sample_from_scores(
        predictor.pipeline, texts, predictor.score(texts), description
    )


def sample_from_log(
    prediction_log: PredictionLog,
    predictor: Predictor,
    since: datetime | None = None,
    until: datetime | None = None,
    size: int = config.DRIFT_SAMPLE_ROWS,
    seed: int = config.SEED,
) -> Sample:
    """Up to ``size`` random labelled predictions from the log, as logged.

    Labels and confidences are the ones served; the model is used only to
    tokenize stored texts for the OOV share (skipped when texts were not
    stored).
    """
    rows = prediction_log.predictions(since, until)
    rows = rows[rows["label"].notna()].reset_index(drop=True)
    rows = rows.iloc[_subsample(len(rows), size, seed)]
    versions = rows["model_version"].nunique()
    description = (
        f"prediction log {prediction_log.path.name} ({len(rows):,} predictions"
        f"{f', {versions} model versions' if versions > 1 else ''})"
    )
    texts = rows["text"].dropna().tolist()
    oov = None
    if texts:
        shares, unknown, total = oov_shares(predictor.pipeline, texts)
        oov = (shares, (unknown, total))
    return Sample(
        description=description,
        label_counts={
            label: int((rows["label"] == label).sum()) for label in config.LABELS
        },
        confidence=rows["confidence"].to_numpy(dtype=float),
        length=rows["text_length"].to_numpy(dtype=float),
        oov_share=oov[0] if oov else None,
        oov_tokens=oov[1] if oov else None,
        texts=texts or None,
    )


def load_sample(
    source: str | Path,
    predictor: Predictor,
    text_col: str = "text",
    since: datetime | None = None,
    until: datetime | None = None,
    size: int = config.DRIFT_SAMPLE_ROWS,
    seed: int = config.SEED,
) -> Sample:
    """A Sample from a profile (.json), a prediction log (.db or "log") or a table."""
    if str(source) == "log":
        path = log_path_from_env()
        if path is None:
            raise ValueError(f"The prediction log is off ({config.LOG_DB_ENV}).")
        source = path
    path = Path(source)
    if path.suffix.lower() == ".json":
        return load_reference(path)
    if not path.is_file():
        raise DataError(f"{path} does not exist or is not a file.")
    if path.suffix.lower() in _LOG_SUFFIXES:
        with PredictionLog(path) as prediction_log:
            return sample_from_log(prediction_log, predictor, since, until, size, seed)
    return sample_from_table(path, predictor, text_col, size, seed)


def default_reference(model_path: str | Path | None) -> Path:
    """The reference profile beside the model; a clear error if there is none."""
    path = reference_path(model_path or config.DEFAULT_MODEL_PATH)
    if not path.is_file():
        raise DataError(
            f"No reference profile {path}. Training writes one beside the model "
            "(python -m sentiment.train); or compare with the training data: "
            "--reference train.csv."
        )
    return path


def check_drift(
    current: str | Path,
    reference: str | Path | None = None,
    predictor: Predictor | None = None,
    text_col: str = "text",
    since: datetime | None = None,
    until: datetime | None = None,
    size: int = config.DRIFT_SAMPLE_ROWS,
    seed: int = config.SEED,
) -> DriftReport:
    """Compare ``current`` with ``reference`` (default: the model's profile).

    Both sides are sampled (``size`` posts each, fixed ``seed``) so a check
    takes seconds whatever the volume.
    """
    predictor = predictor or load_predictor()
    reference = reference or default_reference(None)
    _warn_if_profile_is_stale(reference, predictor)
    ref = load_sample(reference, predictor, text_col, None, None, size, seed)
    cur = load_sample(current, predictor, text_col, since, until, size, seed)
    return compare(ref, cur, seed)


def _warn_if_profile_is_stale(reference: str | Path, predictor: Predictor) -> None:
    if Path(reference).suffix.lower() != ".json":
        return
    try:
        profiled = json.loads(Path(reference).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # load_reference reports it
    model = predictor.card.get("model_sha256")
    if profiled.get("model_sha256") != model:
        log.warning(
            "The reference profile %s was made for model %s, not the one in use "
            "(%s): retrain to refresh it, or pass --reference with the training data.",
            reference,
            str(profiled.get("model_sha256"))[:12],
            str(model)[:12],
        )


# -- spikes ----------------------------------------------------------------


def negative_spikes(
    series: pd.DataFrame,
    k: float = config.SPIKE_K,
    window: int = 24,
    min_posts: int = config.SPIKE_MIN_POSTS,
) -> pd.DataFrame:
    """Flag periods whose negative share exceeds the trailing mean + k sigma.

    ``series`` is ``PredictionLog.time_series`` output. The baseline is the
    mean and standard deviation of the previous ``window`` periods that had at
    least ``min_posts`` posts (at least 3 of them). Sigma is never below the
    binomial standard error of the period's own share, sqrt(p(1-p)/n), so a
    flat history does not turn sampling noise into alerts.
    """
    share = series["share_negative"].where(series["n"] >= min_posts)
    history = share.shift(1).rolling(window, min_periods=min(3, window))
    mean, std = history.mean(), history.std()
    noise = np.sqrt(mean * (1 - mean) / series["n"].where(series["n"] > 0))
    sigma = np.maximum(std.fillna(0), noise)
    threshold = mean + k * sigma
    out = pd.DataFrame(
        {
            "n": series["n"],
            "negative": series["negative"],
            "share_negative": series["share_negative"],
            "baseline_mean": mean,
            "baseline_std": std,
            "threshold": threshold,
        }
    )
    out["alert"] = (series["n"] >= min_posts) & (share > threshold).fillna(False)
    return out


def spikes_from_log(
    prediction_log: PredictionLog,
    freq: str = "hour",
    k: float = config.SPIKE_K,
    window: int | None = None,
    min_posts: int = config.SPIKE_MIN_POSTS,
    since: datetime | None = None,
    until: datetime | None = None,
) -> pd.DataFrame:
    """:func:`negative_spikes` over the log, per hour or day, from ``since`` on.

    The ``window`` periods before ``since`` are read too, so the first periods
    shown have their full baseline.
    """
    window = window or config.SPIKE_WINDOW[freq]
    period = timedelta(hours=1) if freq == "hour" else timedelta(days=1)
    start = since - window * period if since else None
    table = negative_spikes(
        prediction_log.time_series(freq, start, until), k, window, min_posts
    )
    if since is not None:
        table = table[table.index >= pd.Timestamp(since).floor(period)]
    return table


# -- the Monitoring page: plain data for app.py to render --------------------


@dataclass
class MonitoringView:
    """What the Monitoring page shows, as plain data.

    ``series``: per period, ``n`` (volume), counts and ``share_*`` per label,
    ``mean_confidence``, ``needs_review``. ``spikes``: :func:`negative_spikes`
    output (``alert`` column). ``stats``: :meth:`PredictionLog.stats`.
    """

    series: pd.DataFrame
    spikes: pd.DataFrame
    stats: dict[str, Any]

    @property
    def alerts(self) -> pd.DataFrame:
        return self.spikes[self.spikes["alert"]]


def monitoring_view(
    prediction_log: PredictionLog,
    freq: str = "hour",
    since: datetime | None = None,
    k: float = config.SPIKE_K,
    window: int | None = None,
) -> MonitoringView:
    """Volume, label mix, confidence and spike alerts for the page."""
    spikes = spikes_from_log(prediction_log, freq, k, window, since=since)
    series = prediction_log.time_series(freq, since)
    return MonitoringView(series, spikes, prediction_log.stats())


# -- CLI ---------------------------------------------------------------------


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def _drift(args: argparse.Namespace) -> int:
    predictor = load_predictor(
        args.model, allow_outside_models_dir=args.trust_model_path
    )
    report = check_drift(
        args.current,
        args.reference or default_reference(args.model),
        predictor,
        args.text_col,
        args.since and parse_time(args.since),
        args.until and parse_time(args.until),
        args.sample,
        args.seed,
    )
    if args.html:
        Path(args.html).write_text(render_html(report), encoding="utf-8")
        print(f"Wrote {args.html}", file=sys.stderr)
    if args.json:
        _print_json(report.to_dict())
    else:
        print(format_drift(report))
    return 1 if report.drift_detected else 0


def format_drift(report: DriftReport) -> str:
    """Plain-text summary of a drift report."""
    lines = [
        f"reference: {report.reference.description}",
        f"current:   {report.current.description}",
        "",
    ]
    for name, test in report.tests.items():
        if test.get("skipped"):
            lines.append(f"{name:18} skipped: {test['skipped']}")
            continue
        p = test.get("p_value")
        extra = f"  PSI {test['psi']:.3f}" if "psi" in test else ""
        lines.append(
            f"{name:18} {'DRIFT' if test['drift'] else 'ok':5}  statistic "
            f"{test['statistic']:.4f}"
            + (f"  p {p:.2g}" if p is not None else "")
            + extra
        )
    lines += ["", "DRIFT DETECTED" if report.drift_detected else "No drift detected."]
    return "\n".join(lines)


def drift_table(report: DriftReport) -> pd.DataFrame:
    """One row per drift test: verdict, statistic, p-value, PSI, thresholds, note.

    The verdict is ``drift``, ``no drift`` or ``skipped`` (the note says why);
    numbers a test does not have are NaN.
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


def _open_log(db: Path | None) -> PredictionLog:
    path = db or log_path_from_env()
    if path is None:
        raise LogStoreError(
            f"The prediction log is off ({config.LOG_DB_ENV}); use --db."
        )
    if not Path(path).is_file():
        raise LogStoreError(f"No prediction log at {path} yet.")
    return PredictionLog(path)


def _spikes(args: argparse.Namespace) -> int:
    with _open_log(args.db) as prediction_log:
        table = spikes_from_log(
            prediction_log,
            args.freq,
            args.k,
            args.window,
            args.min_posts,
            args.since and parse_time(args.since),
        )
    alerts = table[table["alert"]]
    if args.json:
        _print_json(
            {
                "alerts": int(len(alerts)),
                "periods": [
                    {"period": str(period), **row}
                    for period, row in alerts.to_dict("index").items()
                ],
            }
        )
    elif alerts.empty:
        print(f"No negative spike in {len(table):,} {args.freq} periods.")
    else:
        print(alerts.to_string(float_format=lambda x: f"{x:.3f}"))
    return 1 if len(alerts) else 0


def _status(args: argparse.Namespace) -> int:
    with _open_log(args.db) as prediction_log:
        stats = prediction_log.stats()
        stats["integrity"] = prediction_log.integrity_check()
    if args.json:
        _print_json(stats)
    else:
        width = max(map(len, stats))
        for key, value in stats.items():
            print(f"{key:{width}}  {value}")
    return 0 if stats["integrity"] == "ok" else 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sentiment.monitor",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    commands = parser.add_subparsers(dest="command", required=True)

    drift = commands.add_parser(
        "drift", help="compare current posts with the reference"
    )
    drift.add_argument(
        "--current", required=True, help="CSV/TSV, log .db file, or 'log'"
    )
    drift.add_argument("--reference", default=None, help="profile .json or CSV/TSV")
    drift.add_argument("--since", help="log rows from this time (ISO or 24h/7d)")
    drift.add_argument("--until", help="log rows before this time")
    drift.add_argument("--text-col", default="text")
    drift.add_argument("--model", type=Path, default=None)
    drift.add_argument("--trust-model-path", action="store_true")
    drift.add_argument(
        "--sample",
        type=int,
        default=config.DRIFT_SAMPLE_ROWS,
        help="posts drawn per side (default %(default)s)",
    )
    drift.add_argument("--seed", type=int, default=config.SEED)
    drift.add_argument("--json", action="store_true", help="print one JSON object")
    drift.add_argument("--html", type=Path, help="write a self-contained HTML report")
    drift.set_defaults(run=_drift)

    spikes = commands.add_parser("spikes", help="alert on negative-share spikes")
    spikes.add_argument("--db", type=Path, default=None, help="log file (default: env)")
    spikes.add_argument("--freq", choices=["hour", "day"], default="hour")
    spikes.add_argument("--k", type=float, default=config.SPIKE_K)
    spikes.add_argument(
        "--window", type=int, default=None, help="trailing periods (24 h / 14 d)"
    )
    spikes.add_argument("--min-posts", type=int, default=config.SPIKE_MIN_POSTS)
    spikes.add_argument("--since", help="report periods from this time")
    spikes.add_argument("--json", action="store_true")
    spikes.set_defaults(run=_spikes)

    status = commands.add_parser("status", help="the log's counts, settings and drops")
    status.add_argument("--db", type=Path, default=None)
    status.add_argument("--json", action="store_true")
    status.set_defaults(run=_status)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m sentiment.monitor``; returns the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (DataError, ModelLoadError, LogStoreError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
