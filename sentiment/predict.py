"""Scoring posts: one text, a list of texts, or a CSV of any size.

``python -m sentiment.predict INPUT.csv --output OUT.csv`` streams the file in
chunks, keeps every input row and column in order and adds the prediction
columns; ``python -m sentiment.predict --text "..."`` prints one prediction as
JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from sentiment import cli, config
from sentiment.files.remote import path_or_url
from sentiment.model.predictor import model_version
from sentiment.model.tiers import load_predictor
from sentiment.ops.logstore import open_default_log

# --delimiter values; "tab" because a tab is awkward to type in a shell.
DELIMITER_OPTIONS = {",": ",", ";": ";", "|": "|", "tab": "\t"}


def build_parser() -> argparse.ArgumentParser:
    parser = cli.parser_for("predict", __doc__)
    parser.add_argument(
        "input",
        nargs="?",
        type=path_or_url,
        help="CSV/TSV file or URL to score (--engine dask: CSV/TSV or Parquet; "
        "globs allowed)",
    )
    parser.add_argument(
        "--output",
        "-o",
        type=path_or_url,
        help="where to write the scored file (--engine dask: a new folder or URL "
        "prefix for the parts)",
    )
    parser.add_argument("--text", help="score this one text and print JSON")
    cli.add_column_options(parser, labels=False)
    parser.add_argument(
        "--delimiter",
        choices=sorted(DELIMITER_OPTIONS),
        default=None,
        help="the input's delimiter, when detection picks the wrong one (default: "
        "the one that splits the header into most columns)",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help=f"needs_review below this confidence (default {config.DEFAULT_THRESHOLD})",
    )
    parser.add_argument(
        "--score-all-languages",
        action="store_true",
        help="score posts in every language; by default posts in a language the "
        "model was not trained for (it reads English) keep their row with status "
        "unsupported_language and no label",
    )
    cli.add_model_options(parser)
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
        help=f"worker processes (default: all {config.available_cores()} cores for the "
        "classic tier; 1 for the transformer and cascade, whose onnxruntime "
        "already uses every core); 1 scores in this process. The output does "
        "not depend on it.",
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
    cli.setup_logging()
    parser = build_parser()
    args = parser.parse_args(argv)
    if (args.text is None) == (args.input is None):
        parser.error("give either INPUT.csv (with --output) or --text")
    if args.input is not None and args.output is None:
        parser.error("--output is required with an input file")
    if args.scheduler is not None and args.engine != "dask":
        parser.error("--scheduler needs --engine dask")
    if args.delimiter is not None and args.engine == "dask":
        parser.error("--delimiter works with --engine local only")
    jobs = args.jobs if args.jobs is not None else default_jobs(args.backend)
    if jobs < 1:
        parser.error(f"--jobs must be at least 1, got {jobs}")
    return cli.run(lambda: _run(args, jobs))


def default_jobs(backend: str) -> int:
    """Worker processes when --jobs is not given. The transformer's
    onnxruntime runs on every core in one process; forked workers each got
    one core of it and the cascade ran slower with 2 jobs (46 s) than with 1
    (38 s) on the 12,284 test posts."""
    return config.available_cores() if backend == "classic" else 1


def _run(args: argparse.Namespace, jobs: int) -> int:
    try:
        if args.engine == "dask":
            # The optional extra: a missing install is reported before the load.
            from sentiment.batch.cluster import score_dask
        predictor = load_predictor(
            args.model,
            allow_outside_models_dir=args.trust_model_path,
            **cli.tier_options(args),
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
                score_all_languages=args.score_all_languages,
            )
        else:
            # Here, not at the top: it loads pandas, which `--text` never needs
            # (a third of the cold start).
            from sentiment.batch.local import score_csv

            summary = score_csv(
                args.input,
                args.output,
                predictor,
                text_col=args.text_col,
                threshold=args.threshold,
                progress=not args.no_progress,
                prediction_log=prediction_log,
                jobs=jobs,
                delimiter=DELIMITER_OPTIONS.get(args.delimiter),
                score_all_languages=args.score_all_languages,
            )
    except ModuleNotFoundError as e:
        print(
            f"error: --engine dask needs the Dask extra ({e}). Install it with "
            "`pip install -r requirements-dask.txt`.",
            file=sys.stderr,
        )
        return 2
    print(
        f"Wrote {summary.rows:,} rows to {args.output}: {summary.needs_review:,} need "
        f"review, {summary.no_text:,} had no text, {summary.no_signal:,} had no "
        f"known words, {summary.truncated:,} were truncated to "
        f"{config.MAX_TEXT_CHARS:,} characters.",
        file=sys.stderr,
    )
    if summary.other_language:
        print(
            f"{summary.other_language:,} posts in another language were not scored "
            "(status unsupported_language); --score-all-languages scores them.",
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
