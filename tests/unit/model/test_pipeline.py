import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from sentiment import config
from sentiment.model.explain import (
    feature_names,
    feature_slice,
    known_word_counts,
    top_contributions,
)
from sentiment.model.pipeline import (
    NBWeightedLogisticRegression,
    build_pipeline,
    log_count_ratio_weights,
)
from tests.conftest import TINY_PARAMS


def _toy_problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    X = sp.random(600, 40, density=0.2, random_state=seed, format="csr")
    signal = X[:, 0].toarray().ravel() - X[:, 1].toarray().ravel()
    noisy = (signal + rng.normal(scale=0.3, size=600) > 0).astype(int)
    y = np.array(["a", "b", "c"])[noisy + (X[:, 2].toarray().ravel() > 0.5)]
    return X, y


def test_log_count_ratio_weights_favour_telling_features():
    X = sp.csr_matrix(
        np.array([[1, 1, 0], [1, 1, 0], [1, 0, 1], [1, 0, 1]], dtype=float)
    )
    y = np.array(["pos", "pos", "neg", "neg"])
    weights = log_count_ratio_weights(X, y, np.unique(y), alpha=1.0)
    # Feature 0 is in every post: it tells nothing.
    assert weights[0] == pytest.approx(0.0, abs=1e-9)
    assert weights[1] > 0.5 and weights[2] > 0.5
    np.testing.assert_allclose(
        log_count_ratio_weights(X, y, np.unique(y), alpha=0.5), np.sqrt(weights)
    )
    assert (log_count_ratio_weights(X, y, np.unique(y), alpha=0.0) == 1).all()


def test_nb_weighted_regression_is_lr_on_weighted_features():
    X, y = _toy_problem()
    model = NBWeightedLogisticRegression(C=1.0, nb_alpha=0.5).fit(X, y)
    weights = log_count_ratio_weights(X, y, np.unique(y), 0.5)
    weighted = X @ sp.diags(weights)
    plain = LogisticRegression(C=1.0, solver="newton-cg").fit(weighted, y)
    np.testing.assert_allclose(model.coef_, plain.coef_ * weights, atol=1e-5)
    np.testing.assert_allclose(
        model.predict_proba(X), plain.predict_proba(weighted), atol=1e-6
    )


def test_nb_alpha_zero_is_plain_logistic_regression():
    X, y = _toy_problem(1)
    model = NBWeightedLogisticRegression(C=0.5, nb_alpha=0.0).fit(X, y)
    plain = LogisticRegression(C=0.5, solver="newton-cg").fit(X, y)
    np.testing.assert_allclose(model.coef_, plain.coef_, atol=1e-6)


def test_pipeline_shape_that_predictor_and_app_rely_on(tiny_pipeline):
    assert list(tiny_pipeline.named_steps) == ["prepare", "features", "classifier"]
    union = tiny_pipeline.named_steps["features"]
    assert union.transformer_list[0][0] == "word"
    assert list(tiny_pipeline.classes_) == ["negative", "neutral", "positive"]
    assert hasattr(tiny_pipeline[-1], "coef_")


@pytest.mark.parametrize(
    "switch, blocks",
    [
        ({}, ["word", "char", "lexicon", "pattern", "vectors"]),
        ({"lexicon_scale": 0}, ["word", "char", "pattern", "vectors"]),
        ({"pattern_scale": 0}, ["word", "char", "lexicon", "vectors"]),
        ({"vector_scale": 0}, ["word", "char", "lexicon", "pattern"]),
    ],
)
def test_lexicon_and_vector_blocks_can_be_switched_off(switch, blocks):
    pipeline = build_pipeline({**TINY_PARAMS, **switch})
    union = pipeline.named_steps["features"]
    assert [name for name, _ in union.transformer_list] == blocks


def test_sequential_union_matches_feature_union(tiny_pipeline):
    union = tiny_pipeline.named_steps["features"]
    assert isinstance(union, FeatureUnion)
    posts = tiny_pipeline[:1].transform(["i love pizza :)", "", "news at 5pm"])
    expected = FeatureUnion.transform(union, posts)
    assert (union.transform(posts) != expected).nnz == 0


def test_known_word_counts_ignore_char_and_lexicon_columns(tiny_pipeline):
    features = tiny_pipeline[:-1].transform(["i love pizza", "qqqzzz", "love love"])
    assert list(known_word_counts(tiny_pipeline, features) > 0) == [True, False, True]


def test_feature_names_and_slices_cover_every_block(tiny_pipeline):
    names = feature_names(tiny_pipeline)
    assert len(names) == tiny_pipeline[:-1].transform(["x"]).shape[1]
    widths = {}
    for block in ("word", "char", "lexicon", "pattern", "vectors"):
        part = feature_slice(tiny_pipeline, block)
        assert all(str(n).startswith(f"{block}__") for n in names[part])
        widths[block] = part.stop - part.start
    assert widths["lexicon"] == 2 and widths["pattern"] == 3
    assert widths["vectors"] == config.WORD_VECTOR_DIMS
    assert sum(widths.values()) == len(names)


def test_lexicon_evidence_shows_in_explanations(tiny_pipeline):
    top = dict(top_contributions(tiny_pipeline, "i hate the phone :(", "negative", 50))
    assert top.get("lexicon__negative", 0) > 0
