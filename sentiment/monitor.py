"""``python -m sentiment.monitor``: drift checks, negative-spike alerts, log status.

    python -m sentiment.monitor drift --current SOURCE [--reference PATH]
        [--since T] [--until T] [--json] [--html OUT]
    python -m sentiment.monitor spikes [--db PATH] [--freq hour|day] [--k 3]
        [--window N] [--since T] [--time auto|posted|scored] [--json]
    python -m sentiment.monitor alerts [--watchlist brands.toml] [--webhook URL]
        [--db PATH] [--freq day|hour] [--k 3] [--min-posts N] [--json]
    python -m sentiment.monitor status [--db PATH] [--json]

SOURCE is a CSV/TSV of posts, a prediction-log file (``*.db``), or ``log`` for
the configured log. ``--reference`` is a reference profile (``.json``, default:
the one beside the model, also for a ``--model`` URL or registry prefix) or a
CSV/TSV. T is an ISO date/time (UTC) or an age
such as ``24h``, ``7d``. Periods follow the posting time of the posts where
the log has it (``--time auto``), and every report says which time it used.
``alerts`` checks each brand against its own baseline and posts every alert
not delivered before to the webhook (Slack or Teams), once. Exit codes: 0
nothing found, 1 drift, a spike or a new alert found, 2 error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any, Sequence

from sentiment import cli, config
from sentiment.model.predictor import load_predictor
from sentiment.model.remote_model import localize
from sentiment.ops.brand_alerts import (
    alert_dict,
    brand_series,
    find_brand_alerts,
    record_sent,
    sent_keys,
)
from sentiment.ops.drift import check_drift, default_reference
from sentiment.ops.drift_report import format_drift, render_html
from sentiment.ops.logstore import LogStoreError, PredictionLog
from sentiment.ops.sampling import parse_time
from sentiment.ops.spikes import spikes_from_log
from sentiment.ops.watchlist import load_watchlist
from sentiment.ops.webhook import WebhookError, destination, post_json

log = logging.getLogger(__name__)


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def _drift(args: argparse.Namespace) -> int:
    # A model URL (or registry prefix) is downloaded once, with its profile.
    model, trusted = localize(args.model, args.trust_model_path)
    predictor = load_predictor(model, allow_outside_models_dir=trusted)
    report = check_drift(
        args.current,
        args.reference or default_reference(model, shown_as=args.model),
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


def _open_log(db: Path | None) -> PredictionLog:
    path = db or config.log_path_from_env()
    if path is None:
        raise LogStoreError(
            f"The prediction log is off ({config.LOG_DB_ENV}); use --db."
        )
    if not Path(path).is_file():
        raise LogStoreError(f"No prediction log at {path} yet.")
    return PredictionLog(path)


def _spikes(args: argparse.Namespace) -> int:
    with _open_log(args.db) as prediction_log:
        basis = prediction_log.time_basis(args.time)
        table = spikes_from_log(
            prediction_log,
            args.freq,
            args.k,
            args.window,
            args.min_posts,
            args.since and parse_time(args.since),
            basis=basis,
        )
    alerts = table[table["alert"]]
    if args.json:
        _print_json(
            {
                "time_basis": basis,
                "alerts": int(len(alerts)),
                "periods": [
                    {"period": str(period), **row}
                    for period, row in alerts.to_dict("index").items()
                ],
            }
        )
    elif alerts.empty:
        print(
            f"No negative spike in {len(table):,} {args.freq} periods ({basis} time)."
        )
    else:
        print(f"Periods by {basis} time:")
        print(alerts.to_string(float_format=lambda x: f"{x:.3f}"))
    return 1 if len(alerts) else 0


def _alerts(args: argparse.Namespace) -> int:
    names = load_watchlist(args.watchlist).names if args.watchlist else None
    with _open_log(args.db) as prediction_log:
        series, basis = brand_series(prediction_log, args.freq, args.time)
        alerts = find_brand_alerts(
            series, basis, names, args.freq, args.k, args.window, args.min_posts
        )
        sent = sent_keys(prediction_log)
        new = [a for a in alerts if a.key not in sent]
        failed = 0
        for alert in new if args.webhook else []:
            try:
                post_json(args.webhook, alert.message())
            except WebhookError as e:
                failed += 1
                log.error("Alert %s not delivered: %s", alert.key, e)
                continue
            record_sent(prediction_log, alert, destination(args.webhook))
            sent.add(alert.key)
    if args.json:
        _print_json(
            {
                "time_basis": basis,
                "alerts": [alert_dict(a, a.key in sent) for a in alerts],
                "new": len(new),
                "failed": failed,
            }
        )
    else:
        print(f"{len(alerts)} alert(s) by {basis} time, {len(new)} new:")
        for alert in alerts:
            state = "sent" if alert.key in sent else "NEW"
            print(f"  [{state}] {alert.message()['text']}")
    if failed:
        return 2
    return 1 if new else 0


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


def _add_time_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--time",
        choices=["auto", "posted", "scored"],
        default="auto",
        help="periods by posting or scoring time (auto: posting time where logged)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = cli.parser_for("monitor", __doc__)
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
    cli.add_column_options(drift, labels=False)
    # The reference profile is the classic model's: no other tier to choose.
    cli.add_model_options(drift, tiers=False)
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
    _add_time_option(spikes)
    spikes.add_argument("--json", action="store_true")
    spikes.set_defaults(run=_spikes)

    alerts = commands.add_parser(
        "alerts", help="per-brand spikes, each posted once to a webhook"
    )
    alerts.add_argument("--db", type=Path, default=None, help="log file (default: env)")
    alerts.add_argument("--watchlist", type=Path, help="only the brands of this TOML")
    alerts.add_argument(
        "--webhook", help="Slack/Teams incoming-webhook URL to post new alerts to"
    )
    alerts.add_argument("--freq", choices=["hour", "day"], default="day")
    alerts.add_argument("--k", type=float, default=config.BRAND_ALERT_K)
    alerts.add_argument("--window", type=int, default=config.BRAND_ALERT_WINDOW)
    alerts.add_argument("--min-posts", type=int, default=config.BRAND_ALERT_MIN_POSTS)
    _add_time_option(alerts)
    alerts.add_argument("--json", action="store_true")
    alerts.set_defaults(run=_alerts)

    status = commands.add_parser("status", help="the log's counts, settings and drops")
    status.add_argument("--db", type=Path, default=None)
    status.add_argument("--json", action="store_true")
    status.set_defaults(run=_status)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m sentiment.monitor``; returns the exit code."""
    cli.setup_logging()
    args = build_parser().parse_args(argv)
    return cli.run(lambda: args.run(args))


if __name__ == "__main__":
    sys.exit(main())
