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
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from tqdm import tqdm

from sentiment import cli, config
from sentiment.files.formats import DataError
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
    _check_every_class(data.labels, data_path)
    train_x, val_x, train_y, val_y = held_out_split(data.texts, data.labels, seed)

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


def _check_every_class(labels: Sequence[str], data_path: object) -> None:
    """Refuse data with fewer than 2 examples of a class (the split needs 2)."""
    counts = Counter(labels)
    missing = [label for label in config.LABELS if counts[label] < 2]
    if missing:
        raise DataError(
            f"Need at least 2 examples of every class to train; too few of "
            f"{', '.join(missing)} in {data_path} (counts: {dict(counts)})."
        )


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
    _add_tier_options(parser)
    args = parser.parse_args(argv)
    if args.backend == "transformer":
        return cli.run(lambda: _train_transformer(args))
    if args.backend == "cascade":
        return cli.run(lambda: _pick_cutoff(args))
    return cli.run(lambda: _train(args))


def _add_tier_options(parser: argparse.ArgumentParser) -> None:
    """Options of the transformer tier and the cascade (issue 16)."""
    parser.add_argument(
        "--backend",
        choices=config.BACKENDS,
        default=config.DEFAULT_BACKEND,
        help="classic: the TF-IDF model (default); transformer: fine-tune MiniLM "
        "(needs torch: make transformer); cascade: pick the cascade's cut-off",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="transformer: continue from the last checkpoint in --work-dir",
    )
    parser.add_argument(
        "--export-only",
        action="store_true",
        help="transformer: export and calibrate the last checkpoint, no training",
    )
    parser.add_argument(
        "--requantise",
        action="store_true",
        help="transformer: quantise the model in --transformer-dir again (from "
        "its 8-bit weights) and recalibrate it; no torch, no checkpoint needed",
    )
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument(
        "--epochs",
        type=float,
        default=None,
        help="transformer (default 1.6, the committed run)",
    )
    parser.add_argument(
        "--frozen-layers",
        type=int,
        default=None,
        help="transformer: lower encoder layers not trained (default 1; 0 on a GPU)",
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work-dir", type=Path, default=config.TRANSFORMER_WORK_DIR)
    parser.add_argument("--transformer-dir", type=Path, default=config.TRANSFORMER_DIR)


def _train_transformer(args: argparse.Namespace) -> int:
    if args.requantise:
        return _requantise(args)
    # torch is a training-time dependency only: imported here, never at scoring.
    try:
        from sentiment.model.finetune import FinetuneSettings
        from sentiment.model.transformer_train import train_transformer
    except ImportError as error:
        raise DataError(
            f"--backend transformer needs torch and the encoder ({error.name} is "
            "missing): run `make transformer`, or pip install -r "
            "requirements-transformer-train.txt"
        ) from error

    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise DataError("--device cuda: no CUDA device here; use --device cpu.")
    chosen = {"epochs": args.epochs, "frozen_layers": args.frozen_layers}
    settings = FinetuneSettings(
        threads=args.threads,
        device=args.device,
        seed=args.seed,
        **{name: value for name, value in chosen.items() if value is not None},
    )
    card = train_transformer(
        args.data[0],
        args.transformer_dir,
        args.work_dir,
        settings,
        resume=args.resume,
        export_only=args.export_only,
        test_path=args.test_data,
    )
    return _report_transformer(card, args.transformer_dir)


def _requantise(args: argparse.Namespace) -> int:
    try:
        import onnx  # noqa: F401  (the quantiser needs it; fail before any work)

        from sentiment.model.transformer_export import requantise
    except ImportError as error:
        raise DataError(
            f"--requantise needs {error.name}: pip install -r "
            "requirements-transformer-export.txt (torch is not needed)"
        ) from error
    card = requantise(
        args.data[0], args.transformer_dir, args.work_dir, test_path=args.test_data
    )
    print(
        "Requantised; the cascade's cut-off is picked again with "
        "`python -m sentiment.train --backend cascade`."
    )
    return _report_transformer(card, args.transformer_dir)


def _report_transformer(card: dict, transformer_dir: Path) -> int:
    print(f"\nValidation ({config.VALIDATION_SIZE:.0%} stratified split):")
    print(format_metrics(card["validation_metrics"]))
    if card.get("test_metrics"):
        print(f"\nTest set {card['test_metrics']['data']['file']}:")
        print(format_metrics(card["test_metrics"]))
    print(f"\nSaved {transformer_dir} ({card['model_bytes'] / 1e6:.1f} MB).")
    return 0


def _pick_cutoff(args: argparse.Namespace) -> int:
    from sentiment.model.cascade_cutoff import pick_cascade_cutoff

    card = pick_cascade_cutoff(args.data[0], args.transformer_dir, args.seed)
    block = card["cascade"]
    print(
        f"Cascade cut-off {block['cutoff']}: held-out macro-recall classic "
        f"{block['classic_alone_macro_recall']}, transformer "
        f"{block['transformer_alone_macro_recall']}; posts with a negation or "
        f"a contrasting 'but' ({block['negation_or_contrast_share']:.1%}) always "
        f"go on; recorded in {args.transformer_dir / 'model.json'}."
    )
    for row in block["table"]:
        print(
            f"  cut-off {row['cutoff']:.3f}: sent {row['share_sent']:.1%}, "
            f"macro-recall {row['macro_recall']:.4f}"
        )
    return 0


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
