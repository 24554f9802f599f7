"""Choosing the cascade's cut-off: the table and the tolerance rule."""

from __future__ import annotations

import numpy as np

from sentiment.model.cascade_cutoff import (
    CUTOFF_GRID,
    choose_classic_weight,
    choose_cutoff,
    classic_weight_table,
    cutoff_table,
)

# Classic is right and sure on post 0, wrong and unsure on post 1, wrong but
# sure (0.9) on post 2; the transformer is right on all three.
CLASSIC = np.array([[0.9, 0.05, 0.05], [0.2, 0.5, 0.3], [0.05, 0.05, 0.9]])
TRANSFORMER = np.array([[0.8, 0.1, 0.1], [0.1, 0.1, 0.8], [0.8, 0.1, 0.1]])
LABELS = np.array([0, 2, 0])


def row_at(table, cutoff):
    return next(row for row in table if abs(row["cutoff"] - cutoff) < 1e-9)


def test_posts_below_the_cutoff_go_to_the_transformer():
    table = cutoff_table(CLASSIC, TRANSFORMER, LABELS)
    assert len(table) == len(CUTOFF_GRID)
    assert row_at(table, 0.4)["share_sent"] == 0.0
    assert row_at(table, 0.6)["share_sent"] == round(1 / 3, 4)
    assert row_at(table, 1.0)["share_sent"] == 1.0
    assert row_at(table, 0.6)["macro_recall"] > row_at(table, 0.4)["macro_recall"]


def test_always_sent_posts_count_at_every_cutoff():
    always = np.array([False, False, True])
    table = cutoff_table(CLASSIC, TRANSFORMER, LABELS, always)
    assert row_at(table, 0.4)["share_sent"] == round(1 / 3, 4)
    assert row_at(table, 0.6)["share_sent"] == round(2 / 3, 4)
    # Post 2 is fixed only by the routing: classic was sure and wrong.
    assert row_at(table, 0.6)["macro_recall"] == 1.0


def test_the_lowest_cutoff_within_tolerance_of_the_best_is_chosen():
    table = [
        {"cutoff": 0.5, "share_sent": 0.1, "macro_recall": 0.700},
        {"cutoff": 0.6, "share_sent": 0.3, "macro_recall": 0.716},
        {"cutoff": 0.7, "share_sent": 0.5, "macro_recall": 0.720},
    ]
    assert choose_cutoff(table, tolerance=0.005) == 0.6
    assert choose_cutoff(table, tolerance=0.0) == 0.7


def test_a_sent_post_is_scored_by_the_blend_in_the_table():
    # Post 1 (classic unsure, sent at 0.6): classic says neutral at 0.5, the
    # transformer positive at 0.8; blended at 0.9 classic, neutral still wins.
    table = cutoff_table(CLASSIC, TRANSFORMER, LABELS, classic_weight=0.9)
    assert row_at(table, 0.6)["macro_recall"] == row_at(table, 0.4)["macro_recall"]
    table = cutoff_table(CLASSIC, TRANSFORMER, LABELS, classic_weight=0.25)
    assert row_at(table, 0.6)["macro_recall"] > row_at(table, 0.4)["macro_recall"]


def test_posts_always_sent_get_the_transformers_answer_unblended():
    always = np.array([False, False, True])
    # Post 2, blended at 0.9 classic, would stay wrong; unblended it is right.
    blended = cutoff_table(CLASSIC, TRANSFORMER, LABELS, always, classic_weight=0.9)
    plain = cutoff_table(CLASSIC, TRANSFORMER, LABELS, always)
    assert row_at(blended, 0.4) == row_at(plain, 0.4)


def test_the_classic_weight_of_lowest_held_out_log_loss_is_chosen():
    # The transformer is right at 0.97 on nine posts and sure and wrong on the
    # tenth; classic is right at 0.5 on all ten: a blend beats either alone.
    labels = np.zeros(10, dtype=int)
    transformer = np.tile([0.97, 0.02, 0.01], (10, 1))
    transformer[9] = [0.02, 0.97, 0.01]
    classic = np.tile([0.5, 0.3, 0.2], (10, 1))
    table = classic_weight_table(classic, transformer, labels)
    losses = {row["classic_weight"]: row["log_loss"] for row in table}
    assert choose_classic_weight(table) == 0.4 == min(losses, key=losses.get)
    assert losses[0.4] < losses[0.0] and losses[0.4] < losses[0.6]
    same = classic_weight_table(transformer, transformer, labels)
    assert choose_classic_weight(same) == 0.0  # ties go to the smaller weight
