"""A text's prediction does not depend on the texts scored with it."""

import random

from tests.conftest import tiny_dataset
from tests.tricky_posts import SPECIAL_TEXTS


def test_a_text_scores_the_same_alone_and_in_any_batch(tiny_predictor):
    texts, _ = tiny_dataset()
    pool = texts + SPECIAL_TEXTS
    rng = random.Random(0)
    for _ in range(20):
        batch = rng.sample(pool, 12)
        # Exact equality: micro-batching in the API, --jobs and Dask promise
        # the same bytes as scoring one text at a time.
        assert tiny_predictor.predict_batch(batch) == [
            tiny_predictor.predict(text) for text in batch
        ]
