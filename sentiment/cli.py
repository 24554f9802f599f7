"""What every ``python -m sentiment.X`` command shares: its parser's common
options, the logging setup, and one rule for turning a user's mistake into a
message and exit code 2 instead of a traceback."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any, Callable

from sentiment import config
from sentiment.files.formats import DataError
from sentiment.files.remote import path_or_url
from sentiment.model.artifacts import ModelLoadError
from sentiment.ops.logstore import LogStoreError

# Not from ops.promotion: that would load pandas and scikit-learn into every
# command, the fast scoring path included.
from sentiment.ops.errors import PromotionError

# Mistakes in what the user gave (files, columns, models, settings): reported
# as one line, exit code 2. Anything else is a bug and keeps its traceback.
USER_ERRORS: tuple[type[Exception], ...] = (
    DataError,
    ModelLoadError,
    LogStoreError,
    PromotionError,
    ValueError,
    OSError,  # a path that cannot be read or written
)
EXIT_USER_ERROR = 2


def setup_logging() -> None:
    """Plain ``LEVEL: message`` lines on stderr, INFO and up."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")


def parser_for(command: str, doc: str | None) -> argparse.ArgumentParser:
    """A parser for ``python -m sentiment.<command>`` whose description is the
    first paragraph of the command's docstring and whose epilog is the rest."""
    summary, _, details = (doc or "").partition("\n\n")
    return argparse.ArgumentParser(
        prog=f"python -m sentiment.{command}",
        description=summary,
        epilog=details or None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_model_options(
    parser: argparse.ArgumentParser, what: str = "model", tiers: bool = True
) -> None:
    """``--model PATH`` and ``--trust-model-path`` (loading outside models/);
    with ``tiers``, also ``--backend`` and ``--cutoff`` (:func:`tier_options`)."""
    parser.add_argument(
        "--model",
        type=path_or_url,
        default=None,
        help=f"{what} .pkl (default {config.DEFAULT_MODEL_PATH.name} in models/)",
    )
    add_trust_option(parser)
    if tiers:
        add_backend_option(parser)
        parser.add_argument(
            "--cutoff",
            type=_share,
            default=None,
            help="with --backend cascade: posts classic scores below this "
            "confidence go to the transformer (default: the cut-off in its "
            "card; lower is faster and less accurate: README, 'Cascade routing')",
        )


def add_backend_option(
    parser: argparse.ArgumentParser,
    help: str = "classic (default, fastest), transformer (most accurate) or "
    "cascade (classic, and the transformer for the posts classic is unsure of)",
) -> None:
    """``--backend``: which model tier (issue 16); classic by default. ``help``
    says what choosing one does in this command."""
    parser.add_argument(
        "--backend", choices=config.BACKENDS, default=config.DEFAULT_BACKEND, help=help
    )


def tier_options(args: argparse.Namespace) -> dict[str, Any]:
    """``load_predictor``'s ``backend`` and ``cutoff`` from the parsed
    options; a cut-off is refused for any tier but the cascade."""
    if args.cutoff is not None and args.backend != "cascade":
        raise DataError(
            f"--cutoff is the cascade's; --backend {args.backend} has none. Use "
            "--backend cascade, or drop --cutoff."
        )
    return {"backend": args.backend, "cutoff": args.cutoff}


def _share(value: str) -> float:
    """A number from 0 to 1 (argparse type)."""
    try:
        share = float(value)
    except ValueError:
        share = -1.0
    if not 0.0 <= share <= 1.0:
        raise argparse.ArgumentTypeError(
            f"expected a number from 0 to 1, got {value!r}"
        )
    return share


def add_trust_option(parser: argparse.ArgumentParser) -> None:
    """``--trust-model-path``: a pickle can run code, so outside models/ is opt-in."""
    parser.add_argument(
        "--trust-model-path",
        action="store_true",
        help="allow a model outside models/ (only models you trained yourself)",
    )


def add_column_options(parser: argparse.ArgumentParser, labels: bool = True) -> None:
    """``--text-col`` and, for labelled data, ``--label-col`` and ``--label-map``."""
    parser.add_argument("--text-col", default="text", help="column with the posts")
    if labels:
        parser.add_argument("--label-col", default="label", help="column of labels")
        parser.add_argument(
            "--label-map",
            default=None,
            help="map raw label values, e.g. 0=negative,1=neutral,2=positive",
        )


def run(body: Callable[[], int]) -> int:
    """Run a command's body; a user's mistake becomes ``error: ...`` and exit 2."""
    try:
        return body()
    except USER_ERRORS as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
