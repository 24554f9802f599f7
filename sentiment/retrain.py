"""``python -m sentiment.retrain``: retraining that starts itself (for cron or
any scheduler).

    python -m sentiment.retrain --auto [--dry-run] [--json] [--summary PR.md]
    python -m sentiment.retrain --history

``--auto`` checks three triggers against the last recorded run: enough new
agreed corrections in the prediction log (--min-corrections), a new labelled
CSV/TSV in the watched folder (--watch), or drift of the posts logged since
then from the base training data (at least --drift-min-rows posts; drift alone
waits --cooldown-hours after the last run). When one fires it trains a
candidate on the base data, the new files and the agreed corrections, runs the
promotion gate on the held-out evaluation set (--eval, --margin) and promotes
only if it passes. Each run (triggers, data SHA-256s, gate metrics, decision,
reason) is recorded in the log's retrain_runs table; the Monitoring page shows
them. ``--dry-run`` reports what would fire and trains nothing.

Exit codes: 0 nothing fired, dry run or promoted; 1 the gate refused the
candidate; 2 error (the run is recorded as failed).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from sentiment import cli, config
from sentiment.files.labelled import parse_label_map
from sentiment.ops import retrain_runs as runs
from sentiment.ops.logstore import PredictionLog
from sentiment.retrain_job import Outcome, RetrainSettings, run_auto


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m sentiment.retrain``; returns the exit code."""
    cli.setup_logging()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.dry_run and not args.auto:
        parser.error("--dry-run goes with --auto")
    return cli.run(lambda: _run(args))


def build_parser() -> argparse.ArgumentParser:
    """The command's options (the workflow's test checks it passes only these)."""
    parser = cli.parser_for("retrain", __doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--auto", action="store_true", help="check triggers, act")
    mode.add_argument("--history", action="store_true", help="list recorded runs")
    parser.add_argument("--dry-run", action="store_true", help="report, train nothing")
    parser.add_argument("--log-db", type=Path, default=None, help="prediction log")
    parser.add_argument(
        "--base-data",
        type=Path,
        action="append",
        default=None,
        help=f"base training CSV/TSV; repeatable (default {config.SEMEVAL_TRAIN})",
    )
    parser.add_argument(
        "--eval", type=Path, default=config.SEMEVAL_TEST, help="held-out gate set"
    )
    parser.add_argument("--watch", type=Path, default=config.RETRAIN_IN)
    parser.add_argument("--models-dir", type=Path, default=config.MODELS_DIR)
    parser.add_argument("--work-dir", type=Path, default=config.RETRAIN_OUT)
    parser.add_argument(
        "--min-corrections", type=int, default=int(config.RETRAIN["corrections"])
    )
    parser.add_argument(
        "--drift-min-rows", type=int, default=int(config.RETRAIN["drift_rows"])
    )
    parser.add_argument(
        "--cooldown-hours", type=float, default=config.RETRAIN["cooldown_h"]
    )
    parser.add_argument("--margin", type=float, default=config.PROMOTION_MARGIN)
    parser.add_argument("--seed", type=int, default=config.SEED)
    parser.add_argument("--json", action="store_true", help="print the outcome JSON")
    parser.add_argument(
        "--summary", type=Path, default=None, help="write a Markdown summary here"
    )
    cli.add_column_options(parser)
    return parser


def _log_path(args: argparse.Namespace) -> Path:
    path = args.log_db or config.log_path_from_env()
    if path is None:
        raise ValueError(
            f"The prediction log is off ({config.LOG_DB_ENV}); pass --log-db."
        )
    return Path(path)


def _run(args: argparse.Namespace) -> int:
    if args.history:
        return _history(_log_path(args))
    settings = RetrainSettings(
        log_db=_log_path(args),
        base_data=args.base_data or [config.SEMEVAL_TRAIN],
        eval_path=args.eval,
        models_dir=args.models_dir,
        watch_dir=args.watch,
        work_dir=args.work_dir,
        min_corrections=args.min_corrections,
        drift_min_rows=args.drift_min_rows,
        cooldown_hours=args.cooldown_hours,
        margin=args.margin,
        seed=args.seed,
        text_col=args.text_col,
        label_col=args.label_col,
        label_map=parse_label_map(args.label_map),
    )
    outcome = run_auto(settings, dry_run=args.dry_run)
    for trigger in outcome.triggers:
        mark = "FIRES" if trigger.fired else "quiet"
        print(f"{trigger.name:12} {mark}  {trigger.detail}", file=sys.stderr)
    print(f"{outcome.decision}: {outcome.reason}", file=sys.stderr)
    if args.json:
        print(json.dumps(outcome.to_dict(), indent=2, default=str))
    if args.summary is not None:
        args.summary.parent.mkdir(parents=True, exist_ok=True)
        args.summary.write_text(summary_markdown(outcome), encoding="utf-8")
    return 1 if outcome.decision == runs.REJECTED else 0


def summary_markdown(outcome: Outcome) -> str:
    """The run as Markdown: the body of the pull request the workflow opens."""
    lines = [
        f"## Retraining run {outcome.run_id or '-'}: {outcome.decision}",
        "",
        f"**Why:** {outcome.reason}",
        "",
        "| trigger | fired | detail |",
        "|---|---|---|",
        *(
            f"| {t.name} | {'yes' if t.fired else 'no'} | {t.detail} |"
            for t in outcome.triggers
        ),
    ]
    gate = outcome.metrics
    if gate.get("candidate"):
        lines += [
            "",
            "| model | macro-recall | accuracy | macro-F1 |",
            "|---|---|---|---|",
        ]
        for side in ("candidate", "current"):
            m = gate.get(side) or {}
            if m:
                lines.append(
                    f"| {side} | {m['macro_recall']:.4f} | {m['accuracy']:.4f} "
                    f"| {m['macro_f1']:.4f} |"
                )
    if outcome.card is not None:
        card = {k: v for k, v in outcome.card.items() if k != "versions"}
        lines += ["", "<details><summary>Candidate's card</summary>", "", "```json"]
        lines += [json.dumps(card, indent=2, default=str), "```", "</details>"]
    return "\n".join(lines) + "\n"


def _history(log_db: Path) -> int:
    if not log_db.is_file():
        raise ValueError(f"No prediction log at {log_db}.")
    with PredictionLog(log_db) as prediction_log:
        frame = runs.list_runs(prediction_log)
    if frame.empty:
        print("No retraining run recorded yet.")
        return 0
    columns = ["id", "started_at", "trigger", "decision", "reason"]
    print(frame[columns].to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
