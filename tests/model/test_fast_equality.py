"""The committed model's arrays give its pipeline's answers on every post of
the SemEval-2017 test set (issue 15: <= 1e-6 apart, the same label)."""

import numpy as np

from sentiment import config
from sentiment.files.labelled import load_labelled
from sentiment.model.artifacts import load_fast_model, load_model
from sentiment.model.inputs import prepare_text
from sentiment.model.predictor import Predictor
from tests.conftest import needs_semeval


@needs_semeval
def test_fast_tier_equals_the_pipeline_on_the_whole_test_set():
    texts = [prepare_text(t)[0] for t in load_labelled(config.SEMEVAL_TEST).texts]
    texts = [t for t in texts if t]
    model, _ = load_fast_model()
    pipeline, _ = load_model()
    expected, expected_known = Predictor(pipeline).model.probabilities(texts)
    got, known = model.probabilities(texts)
    assert len(texts) > 12_000
    assert np.abs(got - expected).max() <= 1e-6
    assert (got.argmax(axis=1) == expected.argmax(axis=1)).all()
    assert (known == expected_known).all()
