"""``python -m sentiment.train``: fit the pipeline on a labelled CSV and save it.

A stratified validation split of the given data is held out, the model is fit
on the rest and scored on it, then refit on all the data (so no labelled row is
wasted) and written with its card. Deterministic for a given ``--seed``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from tqdm import tqdm

from sentiment import cli, config
from sentiment.files.labelled import held_out_split, load_labelled, parse_label_map
from sentiment.files.remote import download, is_url, parent_url, path_or_url
from sentiment.files.remote import upload_files, url_name
from sentiment.model.artifacts import card_path, save_model
from sentiment.model.export import arrays_path
from sentiment.model.card import (
    describe_file,
    describe_vectors,
    jsonable,
    git_commit,
    library_versions,
)
from sentiment.model.metrics import compute_metrics, format_metrics
from sentiment.model.pipeline import build_pipeline
from sentiment.model.predictor import Predictor
from sentiment.ops.feedback import load_training_data
from sentiment.ops.reference import build_reference, reference_path, save_reference
from sentiment.train_tiers import add_tier_options, pick_cutoff, train_transformer_tier

log = logging.getLogger(__name__)


def train(
    data_path: str | Path | Sequence[str | Path],
    out: str | Path = config.DEFAULT_MODEL_PATH,
    text_col: str = "text",
    label_col: str = "label",
    label_map: dict[str, str] | None = None,
    seed: int = config.SEED,
    test_path: str | Path | None = None,
    progress: bool = True,
    feedback_db: str | Path | None = None,
) -> dict[str, Any]:
    """Train, validate, refit on all data and save; return the model card.

    ``data_path`` may be several files; ``feedback_db`` adds the reviewers'
    corrections from that prediction log. A reference profile for drift checks
    is saved beside the model (see sentiment.ops.reference).
    """
    started = time.perf_counter()
    steps = ["load data", "fit on training split", "validate", "refit on all data"]
    steps += ["evaluate on test set"] * (test_path is not None) + ["save"]
    progress_bar = _Steps(steps, progress)

    progress_bar.step("load data")
    data, training_data = load_training_data(
        data_path, text_col, label_col, label_map, feedback_db
    )
    log.info(data.report.summary())
    train_x, val_x, train_y, val_y = held_out_split(
        data.texts, data.labels, seed, source=data_path
    )

    progress_bar.step("fit on training split")
    pipeline = build_pipeline(seed=seed).fit(train_x, train_y)
    progress_bar.step("validate")
    scored = Predictor(pipeline).score(val_x)
    validation = compute_metrics(
        val_y, scored["sentiment"].tolist(), scored["confidence"]
    )
    reference = build_reference(
        pipeline, val_x, scored, val_y, "validation split", seed
    )

    progress_bar.step("refit on all data")
    pipeline = build_pipeline(seed=seed).fit(data.texts, data.labels)

    test = None
    if test_path is not None:
        progress_bar.step("evaluate on test set")
        test = _test_metrics(pipeline, test_path, text_col, label_col, label_map)

    progress_bar.step("save")
    card = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "training_data": training_data,
        "skipped_rows": {
            "empty_text": len(data.report.empty_text_rows),
            "unknown_label": len(data.report.unknown_label_rows),
        },
        "seed": seed,
        "validation_size": config.VALIDATION_SIZE,
        "hyperparameters": jsonable(config.HYPERPARAMS),
        "word_vectors": describe_vectors(pipeline),
        "classes": list(config.LABELS),
        "default_threshold": config.DEFAULT_THRESHOLD,
        "versions": library_versions(),
        "git_commit": git_commit(),
        "training_seconds": round(time.perf_counter() - started, 1),
        "validation_metrics": validation,
        "test_metrics": test,
    }
    card = save_model(pipeline, out, card)
    save_reference(reference, out, card)
    progress_bar.close()
    return card


class _Steps:
    """A progress bar over named steps: a step is done when the next begins."""

    def __init__(self, steps: list[str], progress: bool) -> None:
        self.bar = tqdm(
            total=len(steps), desc="training", unit="step", disable=not progress
        )
        self.begun = False

    def step(self, name: str) -> None:
        """Mark the previous step done and show ``name``."""
        if self.begun:
            self.bar.update(1)
        self.begun = True
        self.bar.set_postfix_str(name)

    def close(self) -> None:
        """Mark the last step done."""
        self.bar.update(1)
        self.bar.close()


def _test_metrics(
    pipeline: Any,
    test_path: str | Path,
    text_col: str,
    label_col: str,
    label_map: dict[str, str] | None,
) -> dict[str, Any]:
    """The fitted pipeline's metrics on the labelled file at ``test_path``."""
    test_data = load_labelled(test_path, text_col, label_col, label_map)
    scored = Predictor(pipeline).score(test_data.texts)
    return {
        "data": describe_file(test_path, test_data.labels),
        **compute_metrics(
            test_data.labels, scored["sentiment"].tolist(), scored["confidence"]
        ),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m sentiment.train``; returns the exit code."""
    cli.setup_logging()
    parser = cli.parser_for("train", __doc__)
    parser.add_argument(
        "--data",
        type=path_or_url,
        required=True,
        action="append",
        help="labelled CSV/TSV; repeat to train on several files",
    )
    parser.add_argument(
        "--include-feedback",
        nargs="?",
        type=Path,
        const=config.log_path_from_env() or config.DEFAULT_LOG_DB,
        default=None,
        metavar="LOG_DB",
        help="add reviewers' corrections from the prediction log "
        f"(default {config.LOG_DB_ENV} or {config.DEFAULT_LOG_DB.name})",
    )
    cli.add_column_options(parser)
    parser.add_argument(
        "--out",
        type=path_or_url,
        default=config.DEFAULT_MODEL_PATH,
        help="where to write model.pkl and its .npz, .json and .reference.json "
        "(a URL such as s3://bucket/models/model.pkl: uploaded after training)",
    )
    parser.add_argument("--seed", type=int, default=config.SEED)
    parser.add_argument(
        "--test-data",
        type=path_or_url,
        default=None,
        help="held-out labelled file scored once after training, recorded in the card",
    )
    parser.add_argument("--no-progress", action="store_true")
    add_tier_options(parser)
    args = parser.parse_args(argv)
    if args.backend == "transformer":
        return cli.run(lambda: train_transformer_tier(args))
    if args.backend == "cascade":
        return cli.run(lambda: pick_cutoff(args))
    return cli.run(lambda: _train(args))


def _train(args: argparse.Namespace) -> int:
    # Data on cloud storage is downloaded (training reads it whole anyway); a
    # model for a URL is written locally, then uploaded once training is done.
    with tempfile.TemporaryDirectory(prefix="sentiment-train-") as folder:
        work = Path(folder)
        data = [_local_copy(p, work / f"data{i}") for i, p in enumerate(args.data)]
        test = args.test_data and _local_copy(args.test_data, work / "test")
        out = work / "out" / url_name(args.out) if is_url(args.out) else args.out
        card = train(
            data,
            out,
            args.text_col,
            args.label_col,
            parse_label_map(args.label_map),
            args.seed,
            test,
            progress=not args.no_progress,
            feedback_db=args.include_feedback,
        )
        if is_url(args.out):
            upload_files(_model_files(Path(out)), parent_url(args.out))
    print(f"\nValidation ({config.VALIDATION_SIZE:.0%} stratified split of the data):")
    print(format_metrics(card["validation_metrics"]))
    if card["test_metrics"]:
        print(f"\nTest set {card['test_metrics']['data']['file']}:")
        print(format_metrics(card["test_metrics"]))
    print(
        f"\nSaved {args.out} ({card['model_bytes'] / 1e6:.1f} MB) and its card "
        f"{_card_name(args.out)} in {card['training_seconds']} s."
    )
    return 0


def _card_name(out: str | Path) -> str:
    """Where the card of the model at ``out`` (a path or a URL) is."""
    if is_url(out):
        return f"{parent_url(str(out))}/{card_path(url_name(str(out))).name}"
    return str(card_path(out))


def _local_copy(path: str | Path, folder: Path) -> Path:
    """``path`` itself when local; a URL is downloaded into ``folder`` first."""
    return download([path], folder)[0] if is_url(path) else Path(path)


def _model_files(model: Path) -> list[Path]:
    """A trained model's files in upload order: the card last, so a reader never
    sees a new card before the files it vouches for."""
    files = [model, arrays_path(model), reference_path(model)]
    return [f for f in files if f.is_file()] + [card_path(model)]


if __name__ == "__main__":
    sys.exit(main())
