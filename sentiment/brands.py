"""Brand monitoring of a file of posts: per brand, how many posts, which labels,
net sentiment, share of voice, languages and a series over posting time.

    python -m sentiment.brands --watchlist brands.toml INPUT.csv [--json]
        [--brand-col C] [--date-col C] [--freq day] [--output OUT.csv]

Brands come from a watchlist (TOML, see examples/brands.toml) and/or a column
of the file. The posting time is the column given by --date-col, else one
named like created_at / timestamp / date whose cells parse (ISO 8601 or epoch
seconds). Posts not in English are marked status=unsupported_language with
their language and left unscored, unless --score-all-languages. The posts are
logged to the prediction log with their posting time (re-running the same file
adds nothing), unless --no-log. Net sentiment is (positive - negative) /
scored posts.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from sentiment import cli, config
from sentiment.batch.brand_file import score_brand_file
from sentiment.batch.brand_scoring import BrandOptions
from sentiment.model.tiers import load_predictor
from sentiment.ops.brand_summary import FREQS
from sentiment.ops.logstore import open_default_log
from sentiment.ops.watchlist import load_watchlist


def build_parser() -> argparse.ArgumentParser:
    parser = cli.parser_for("brands", __doc__)
    parser.add_argument("input", type=Path, help="CSV/TSV of posts")
    parser.add_argument("--watchlist", type=Path, help="brands TOML file")
    parser.add_argument(
        "--brand-col", help="column naming each post's brand(s), '|'-separated"
    )
    parser.add_argument(
        "--date-col", help="column of posting times (default: detected)"
    )
    parser.add_argument(
        "--no-date", action="store_true", help="do not look for a posting time"
    )
    parser.add_argument("--id-col", help="column of post ids (default: 'id' if any)")
    parser.add_argument("--freq", choices=list(FREQS), default="day")
    parser.add_argument("--output", "-o", type=Path, help="write the scored rows here")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--score-all-languages",
        action="store_true",
        help="score posts in every language (the model was trained on English)",
    )
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--no-log", action="store_true", help="do not log the posts")
    parser.add_argument("--no-progress", action="store_true")
    cli.add_column_options(parser, labels=False)
    cli.add_model_options(parser)
    return parser


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as a table people read: one line per brand."""
    lines = [
        f"{summary['posts']:,} posts, {summary['mentions']:,} brand mentions, "
        f"{summary['unsupported_language']:,} not in a supported language; "
        f"time: {summary['time_basis'] or 'none (no posting-time column)'}",
        f"{'brand':20} {'posts':>6} {'voice':>6} {'neg':>6} {'neu':>6} {'pos':>6}"
        f" {'net':>6}  languages",
    ]
    for b in summary["brands"]:
        shares = [b["shares"][k] for k in config.LABELS]
        cells = " ".join("     -" if s is None else f"{s:6.1%}" for s in shares)
        net = "     -" if b["net_sentiment"] is None else f"{b['net_sentiment']:+6.2f}"
        voice = b["share_of_voice"] or 0.0
        languages = ", ".join(f"{k or '?'} {v}" for k, v in b["languages"].items())
        lines.append(
            f"{b['brand'][:20]:20} {b['posts']:6,} {voice:6.1%} {cells} {net}  "
            f"{languages}"
        )
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    watchlist = load_watchlist(args.watchlist) if args.watchlist else None
    predictor = load_predictor(
        args.model,
        allow_outside_models_dir=args.trust_model_path,
        **cli.tier_options(args),
    )
    prediction_log = None if args.no_log else open_default_log()
    options = BrandOptions(
        watchlist=watchlist,
        brand_col=args.brand_col,
        time_col=args.date_col,
        id_col=args.id_col,
        score_all_languages=args.score_all_languages,
        freq=args.freq,
    )
    run = score_brand_file(
        args.input,
        predictor,
        options,
        text_col=args.text_col,
        output_path=args.output,
        threshold=args.threshold,
        prediction_log=prediction_log,
        detect_time=not args.no_date,
        progress=not args.no_progress,
    )
    if args.json:
        print(json.dumps(run.summary, indent=2))
    else:
        print(format_summary(run.summary))
    if args.output:
        print(f"Wrote {run.rows.rows:,} rows to {args.output}", file=sys.stderr)
    if prediction_log is not None:
        print(
            f"Logged {run.logged:,} new rows to {prediction_log.path} (posts already "
            "logged are not logged again).",
            file=sys.stderr,
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m sentiment.brands``; returns the exit code."""
    cli.setup_logging()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.watchlist is None and args.brand_col is None:
        parser.error("give --watchlist FILE.toml, --brand-col COLUMN, or both")
    return cli.run(lambda: _run(args))


if __name__ == "__main__":
    sys.exit(main())
