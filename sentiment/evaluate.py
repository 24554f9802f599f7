"""Metrics for three-class sentiment, and ``python -m sentiment.evaluate``.

The official SemEval-2017 Task 4A metric is macro-averaged recall; accuracy,
macro-F1 and F1-PN (mean F1 of positive and negative) are reported beside it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from sentiment import cli
from sentiment.files.labelled import load_labelled, parse_label_map
from sentiment.model.metrics import evaluate_predictor, format_metrics
from sentiment.model.tiers import backend_of, load_predictor


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m sentiment.evaluate``; returns the exit code."""
    cli.setup_logging()
    parser = cli.parser_for("evaluate", __doc__)
    parser.add_argument("--data", type=Path, required=True, help="labelled CSV/TSV")
    cli.add_model_options(parser, "model to evaluate:")
    cli.add_column_options(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    return cli.run(lambda: _evaluate(args))


def _evaluate(args: argparse.Namespace) -> int:
    data = load_labelled(
        args.data, args.text_col, args.label_col, parse_label_map(args.label_map)
    )
    predictor = load_predictor(
        args.model,
        allow_outside_models_dir=args.trust_model_path,
        **cli.tier_options(args),
    )
    print(data.report.summary(), file=sys.stderr)
    metrics = evaluate_predictor(predictor, data.texts, data.labels)
    if backend_of(predictor) == "cascade":
        metrics["cascade"] = {
            "cutoff": predictor.cutoff,
            "classic_weight": predictor.classic_weight,
            "share_sent_to_transformer": round(
                predictor.sent / max(predictor.scored, 1), 4
            ),
        }
    print(json.dumps(metrics) if args.json else format_metrics(metrics))
    return 0


if __name__ == "__main__":
    sys.exit(main())
