import pickle

import numpy as np
import pytest

from sentiment import config
from sentiment.model.features import TweetPreparer
from sentiment.model.word_vectors import (
    WordVectorFeatures,
    WordVectorsError,
    load_word_vectors,
)
from sentiment.vectors import save_word_vectors, word_list

WORDS = ["bad", "good", "pizza"]
VECTORS = np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=np.float16)


@pytest.fixture
def vectors_file(tmp_path):
    path = tmp_path / "vectors.npz"
    save_word_vectors(path, WORDS, VECTORS, {"encoder": "test"})
    return path


def features(path, scale=1.0):
    return WordVectorFeatures(str(path), scale=scale).fit()


def rows(transformer, texts):
    return transformer.transform(TweetPreparer().transform(texts)).toarray()


def test_a_post_gets_the_mean_vector_of_its_known_words(vectors_file):
    out = rows(features(vectors_file), ["good pizza", "good good bad", "zzz qqq", ""])
    np.testing.assert_allclose(out[0], [0.5, 0.5])
    np.testing.assert_allclose(out[1], [1 / 3, 0.0], rtol=1e-3)
    # No known word (or no word at all): zeros, not NaN.
    np.testing.assert_array_equal(out[2:], np.zeros((2, 2)))


def test_a_negated_word_counts_as_the_word(vectors_file):
    transformer = features(vectors_file)
    negated = TweetPreparer().transform(["not good"])
    assert "good_NEG" in negated[0].tokens
    np.testing.assert_allclose(
        rows(transformer, ["not good"]), rows(transformer, ["good"])
    )


def test_scale_multiplies_and_rows_do_not_depend_on_batch_mates(vectors_file):
    one, two = features(vectors_file, 1.0), features(vectors_file, 2.0)
    batch = ["good pizza", "bad", "zzz"]
    np.testing.assert_allclose(rows(two, batch), 2 * rows(one, batch))
    alone = np.vstack([rows(one, [text]) for text in batch])
    np.testing.assert_array_equal(alone, rows(one, batch))


def test_the_fitted_transformer_carries_its_vectors(vectors_file):
    fitted = features(vectors_file)
    vectors_file.unlink()
    clone = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(rows(clone, ["good"]), [[1.0, 0.0]])
    assert list(clone.get_feature_names_out()) == ["dim0", "dim1"]


def test_missing_file_says_how_to_get_it(tmp_path):
    with pytest.raises(WordVectorsError, match="make vectors"):
        WordVectorFeatures(str(tmp_path / "nope.npz")).fit()


def test_garbage_and_mismatched_files_are_refused(tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"\x00\xff not an archive")
    with pytest.raises(WordVectorsError, match="not a word-vectors file"):
        load_word_vectors(garbage)
    mismatched = tmp_path / "mismatched.npz"
    np.savez(mismatched, words=np.array(["a", "b"]), vectors=np.zeros((3, 2)))
    with pytest.raises(WordVectorsError, match="damaged"):
        load_word_vectors(mismatched)


def test_a_file_holding_pickled_objects_is_not_unpickled(tmp_path):
    hostile = tmp_path / "hostile.npz"
    np.savez(
        hostile, words=np.array([object()], dtype=object), vectors=np.zeros((1, 2))
    )
    with pytest.raises(WordVectorsError):
        load_word_vectors(hostile)


def test_word_list_joins_encoder_words_lexicons_and_training_words():
    words = word_list(
        ["Loving the #NewPhone, not bad"], ["[UNK]", "##ing", "hello", "7"]
    )
    assert "hello" in words and "[UNK]" not in words and "##ing" not in words
    assert {"loving", "new", "phone", "bad"} <= set(words)
    assert not any(w.endswith("_NEG") for w in words)
    assert "wonderful" in words  # from the lexicons
    assert words == sorted(words)


def test_committed_vectors_place_similar_words_together():
    words, vectors = load_word_vectors(config.WORD_VECTORS_PATH)
    assert vectors.shape == (len(words), config.WORD_VECTOR_DIMS)
    table = dict(zip(words, vectors.astype(np.float32)))
    np.testing.assert_allclose(
        np.linalg.norm(vectors.astype(np.float32), axis=1), 1, atol=1e-2
    )

    def similarity(a, b):
        return float(table[a] @ table[b])

    assert similarity("awful", "terrible") > similarity("awful", "table")
    assert similarity("happy", "glad") > similarity("happy", "monday")
