"""Pick the cascade's confidence cut-off on a held-out split of the training
file (never the test set) and record it in the transformer's card.

``python -m sentiment.train --backend cascade --data train.csv`` fits a
classic model on the same 90 % part the transformer was fine-tuned on (the
committed classic model has seen all rows, so its confidence on the held-out
part would be too high), scores the held-out part with it and with the
transformer, and tries every cut-off on a grid. Posts with a negation or a
contrasting "but" always go to the transformer (``route_negation`` in the
card: the bag of words reads them poorly; on the held-out part of
SemEval-2017 train this cost about 10 % more posts sent and lost no
macro-recall). It keeps the lowest cut-off whose macro-recall is within
``tolerance`` of the best one: most of the transformer's accuracy for the
smallest share of posts sent to it.

A post sent on for being below the cut-off is not answered by the
transformer alone: both tiers' log-probabilities are summed with
``classic_weight`` for classic's (:func:`~sentiment.model.tiers.blend`), the
weight that gives the held-out posts without a negation or contrast the lowest
log loss (0.3 on SemEval-2017; a weighted mean of the probabilities fitted
them less well: 0.6071 against 0.6029). The transformer is over-confident on
posts from another time, and the bag of words, wrong in other ways, tempers it
(SemEval-2017 test ECE 0.059 -> 0.046).
Posts sent for a negation or a contrast keep the transformer's answer: there
the bag of words is wrong in a known way (with a blend, "I expected to hate it
but it was actually great" turned negative).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from sentiment import config
from sentiment.files.labelled import held_out_split, load_labelled
from sentiment.model.calibration import log_loss, macro_recall_of
from sentiment.model.card import describe_file
from sentiment.model.pipeline import build_pipeline
from sentiment.model.predictor import Predictor
from sentiment.model.preprocess import has_negation_or_contrast
from sentiment.model.tiers import blend
from sentiment.model.transformer import load_onnx_model, save_transformer_card

log = logging.getLogger(__name__)

CUTOFF_GRID = np.round(np.arange(0.40, 1.001, 0.025), 3)
CLASSIC_WEIGHT_GRID = np.round(np.arange(0.0, 0.601, 0.05), 2)


def classic_weight_table(
    classic: np.ndarray, transformer: np.ndarray, labels: np.ndarray
) -> list[dict[str, float]]:
    """Held-out log loss of the blend, every post blended, for each weight."""
    return [
        {
            "classic_weight": float(weight),
            "log_loss": round(log_loss(blend(classic, transformer, weight), labels), 5),
        }
        for weight in CLASSIC_WEIGHT_GRID
    ]


def choose_classic_weight(table: Sequence[dict[str, float]]) -> float:
    """The weight of the lowest log loss (the smaller weight on a tie)."""
    best = min(row["log_loss"] for row in table)
    return min(row["classic_weight"] for row in table if row["log_loss"] == best)


def cutoff_table(
    classic: np.ndarray,
    transformer: np.ndarray,
    labels: np.ndarray,
    always_sent: np.ndarray | None = None,
    classic_weight: float = 0.0,
) -> list[dict[str, float]]:
    """Macro-recall and share sent to the transformer for each cut-off;
    ``always_sent`` marks posts sent whatever the classic confidence (they get
    the transformer's answer), and the other posts sent get the blend of
    ``classic_weight`` (as :class:`~sentiment.model.tiers.CascadePredictor`)."""
    confident = classic.max(axis=1)
    if always_sent is None:
        always_sent = np.zeros(len(confident), dtype=bool)
    answered = np.where(
        always_sent[:, None], transformer, blend(classic, transformer, classic_weight)
    )
    rows = []
    for cutoff in CUTOFF_GRID:
        sent = (confident < cutoff) | always_sent
        mixed = np.where(sent[:, None], answered, classic)
        rows.append(
            {
                "cutoff": float(cutoff),
                "share_sent": round(float(sent.mean()), 4),
                "macro_recall": round(
                    macro_recall_of(labels, mixed.argmax(1), len(config.LABELS)), 4
                ),
            }
        )
    return rows


def choose_cutoff(table: Sequence[dict[str, float]], tolerance: float) -> float:
    """The lowest cut-off within ``tolerance`` of the best macro-recall."""
    best = max(row["macro_recall"] for row in table)
    return min(
        row["cutoff"] for row in table if row["macro_recall"] >= best - tolerance
    )


def pick_cascade_cutoff(
    data_path: Path,
    transformer_dir: Path = config.TRANSFORMER_DIR,
    seed: int = config.SEED,
    tolerance: float = 0.005,
    text_col: str = "text",
    label_col: str = "label",
    label_map: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Choose the cut-off and the classic weight on ``data_path`` (its
    columns named as for training) and write them into the transformer's card."""
    data = load_labelled(data_path, text_col, label_col, label_map)
    train_x, val_x, train_y, val_y = held_out_split(
        data.texts, data.labels, seed, source=data_path
    )
    log.info("fitting a classic model on the %d-post fit part", len(train_x))
    classic = Predictor(build_pipeline(seed=seed).fit(train_x, train_y))
    classic_p, _ = classic._probabilities(list(val_x))
    model, card = load_onnx_model(transformer_dir)
    transformer_p = model.probabilities(list(val_x))
    labels = np.array([config.LABELS.index(y) for y in val_y])
    routed = np.fromiter(map(has_negation_or_contrast, val_x), bool)
    blended = ~routed  # routed posts get the transformer's answer alone
    weights = classic_weight_table(
        classic_p[blended], transformer_p[blended], labels[blended]
    )
    classic_weight = choose_classic_weight(weights)
    table = cutoff_table(classic_p, transformer_p, labels, routed, classic_weight)
    cutoff = choose_cutoff(table, tolerance)
    card["cascade"] = {
        "cutoff": cutoff,
        "classic_weight": classic_weight,
        "classic_weight_table": weights,
        "route_negation": True,
        "negation_or_contrast_share": round(float(routed.mean()), 4),
        "chosen_on": describe_file(data_path, data.labels)
        | {"split": f"{config.VALIDATION_SIZE:.0%} stratified, seed {seed}"},
        "tolerance": tolerance,
        "classic_alone_macro_recall": round(
            macro_recall_of(labels, classic_p.argmax(1), len(config.LABELS)), 4
        ),
        "transformer_alone_macro_recall": round(
            macro_recall_of(labels, transformer_p.argmax(1), len(config.LABELS)), 4
        ),
        "table": table,
    }
    return save_transformer_card(Path(transformer_dir), card)
