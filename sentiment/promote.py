"""``python -m sentiment.promote``: replace the served model only if it is not worse.

    python -m sentiment.promote CANDIDATE.pkl [--eval LABELLED.csv] [--margin 0.01]
    python -m sentiment.promote --rollback

The candidate (checked like any model: its card and SHA-256) and the current
``models/model.pkl`` are scored on the same labelled evaluation set; the
candidate is promoted only if its macro-averaged recall is at most ``--margin``
below the current model's. ``--rollback`` serves the most recently replaced
model again (and marks the one it replaces as rolled back, so repeated
rollbacks walk back through history).

Each model lives whole in ``models/versions/<time>-<sha>/``; ``models/current``
is a symlink to the served one, and ``models/model.pkl`` (and its card and
profile) are links through it. A new version is copied in completely first;
then one rename of ``current`` switches the model. A process killed at any
moment leaves the old model or the new one served, with nothing to finish by
hand; ``--recover`` only removes the unfinished copies, which the next promote
or rollback also does. Plain model files in ``models/`` (a fresh clone, or
``train --out models/model.pkl``) are moved into a version folder first.
Running services load the model at start: restart them to serve the promoted one.

``--models-dir`` may be a registry prefix on cloud storage (``s3://bucket/
models/``, ``az://container/models/``): the same gate, then the candidate is
uploaded to ``versions/<time>-<sha>/`` and the pointer ``current.json`` is
replaced with one PUT (see sentiment.ops.bucket_promotion). Load the served
model with ``--model s3://bucket/models/``. The candidate may be a URL too.

Exit codes: 0 promoted or rolled back, 1 the candidate failed the gate, 2 error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from sentiment import cli, config
from sentiment.files.labelled import parse_label_map
from sentiment.files.remote import is_url, path_or_url
from sentiment.ops.bucket_promotion import promote_in_bucket, rollback_in_bucket
from sentiment.ops.promotion import Decision, promote, recover, rollback


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m sentiment.promote``; returns the exit code."""
    cli.setup_logging()
    parser = cli.parser_for("promote", __doc__)
    parser.add_argument(
        "candidate", nargs="?", type=path_or_url, help="candidate model.pkl"
    )
    parser.add_argument(
        "--eval",
        type=Path,
        default=None,
        help=f"labelled CSV/TSV for the gate (default {config.SEMEVAL_TEST})",
    )
    parser.add_argument("--margin", type=float, default=config.PROMOTION_MARGIN)
    parser.add_argument(
        "--rollback", action="store_true", help="restore the previous model"
    )
    parser.add_argument(
        "--recover",
        action="store_true",
        help="remove what an interrupted promote or rollback left",
    )
    parser.add_argument(
        "--models-dir",
        type=path_or_url,
        default=config.MODELS_DIR,
        help="models folder, or a registry prefix URL (s3://bucket/models/)",
    )
    cli.add_trust_option(parser)
    cli.add_column_options(parser)
    args = parser.parse_args(argv)
    if sum([args.candidate is not None, args.rollback, args.recover]) != 1:
        parser.error("give a CANDIDATE, --rollback or --recover")
    return cli.run(lambda: _promote(args))


def _promote(args: argparse.Namespace) -> int:
    if is_url(args.models_dir):
        return _promote_in_bucket(args)
    if args.recover:
        done = recover(args.models_dir)
        print("Removed unfinished copies." if done else "Nothing to recover.")
        return 0
    if args.rollback:
        entry = rollback(args.models_dir)
        print(f"Serving the model in {entry} again.")
        return 0
    decision = promote(
        args.candidate,
        args.eval,
        args.margin,
        args.models_dir,
        args.trust_model_path,
        args.text_col,
        args.label_col,
        parse_label_map(args.label_map),
    )
    return _report(decision)


def _promote_in_bucket(args: argparse.Namespace) -> int:
    """The same commands on a registry prefix URL."""
    if args.recover:
        print("Nothing to recover: a registry changes only by its pointer's one PUT.")
        return 0
    if args.rollback:
        print(f"Serving the model in {rollback_in_bucket(args.models_dir)} again.")
        return 0
    decision = promote_in_bucket(
        args.candidate,
        args.models_dir,
        args.eval,
        args.margin,
        args.trust_model_path,
        args.text_col,
        args.label_col,
        parse_label_map(args.label_map),
    )
    return _report(decision)


def _report(decision: Decision) -> int:
    """Print the decision; the exit code (0 promoted, 1 refused by the gate)."""
    print(json.dumps(decision.to_dict(), indent=2))
    print(
        f"{'Promoted' if decision.promoted else 'Not promoted'}: {decision.reason}.",
        file=sys.stderr,
    )
    return 0 if decision.promoted else 1


if __name__ == "__main__":
    sys.exit(main())
