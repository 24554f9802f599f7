"""The ``--backend transformer`` and ``--backend cascade`` branches of
``python -m sentiment.train`` (issue 16): fine-tune or requantise the
transformer tier, or pick the cascade's cut-off. torch and onnx are imported
only here, and only when asked for.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sentiment import cli, config
from sentiment.files.formats import DataError
from sentiment.model.metrics import format_metrics


def add_tier_options(parser: argparse.ArgumentParser) -> None:
    """Options of the transformer tier and the cascade (issue 16)."""
    cli.add_backend_option(
        parser,
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
        help="transformer: bring the model in --transformer-dir to the served "
        "format (8-bit weight-only matrices quantised again, an int8 graph "
        "rewritten) and recalibrate it; no torch, no checkpoint needed",
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


def train_transformer_tier(args: argparse.Namespace) -> int:
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
    return _report(card, args.transformer_dir)


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
    return _report(card, args.transformer_dir)


def _report(card: dict, transformer_dir: Path) -> int:
    print(f"\nValidation ({config.VALIDATION_SIZE:.0%} stratified split):")
    print(format_metrics(card["validation_metrics"]))
    if card.get("test_metrics"):
        print(f"\nTest set {card['test_metrics']['data']['file']}:")
        print(format_metrics(card["test_metrics"]))
    print(f"\nSaved {transformer_dir} ({card['model_bytes'] / 1e6:.1f} MB).")
    return 0


def pick_cutoff(args: argparse.Namespace) -> int:
    from sentiment.files.labelled import parse_label_map
    from sentiment.model.cascade_cutoff import pick_cascade_cutoff

    card = pick_cascade_cutoff(
        args.data[0],
        args.transformer_dir,
        args.seed,
        text_col=args.text_col,
        label_col=args.label_col,
        label_map=parse_label_map(args.label_map),
    )
    block = card["cascade"]
    print(
        f"Cascade cut-off {block['cutoff']}: held-out macro-recall classic "
        f"{block['classic_alone_macro_recall']}, transformer "
        f"{block['transformer_alone_macro_recall']}; posts with a negation or "
        f"a contrasting 'but' ({block['negation_or_contrast_share']:.1%}) always "
        f"go on and keep the transformer's answer; the others sent pool both "
        f"tiers with classic weight {block['classic_weight']} (lowest held-out "
        f"log loss); recorded in {args.transformer_dir / 'model.json'}."
    )
    for row in block["table"]:
        print(
            f"  cut-off {row['cutoff']:.3f}: sent {row['share_sent']:.1%}, "
            f"macro-recall {row['macro_recall']:.4f}"
        )
    return 0
