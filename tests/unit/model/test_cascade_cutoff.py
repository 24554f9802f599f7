"""Choosing the cascade's cut-off: the table and the tolerance rule."""

from __future__ import annotations

import numpy as np

from sentiment.model.cascade_cutoff import CUTOFF_GRID, choose_cutoff, cutoff_table

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
