"""The fast tier: the arrays-scored model gives the scikit-learn pipeline's
answers, and its compiled and pure-Python paths give the same numbers."""

import numpy as np
import pytest

from sentiment.model import fast
from sentiment.model.artifacts import load_fast_model
from sentiment.model.export import export_arrays, read_arrays, write_arrays
from sentiment.model.fast import FastModel
from sentiment.model.fast_pure import score_pure
from sentiment.model.inputs import prepare_text
from sentiment.model.predictor import Predictor

LINKS_HANDLES_HASHTAGS = [
    'http://t.co/Xzl4 HTTPS://A.B/c?d=1" www.x.org Www.Y.com, http:// https:// www.',
    "http:x hxxp://a wwww.a ww.a http://a\u00e9 @bob @Bob_2: @bob! @bob!! @ @: @bob's",
    "@bob-x @b\u00e9 @@bob a@bob #NotHappy #notHAPPY #BestDay! #aB #a #Sooo #soOO",
    "#i8 #a_b #a-b ## #! #abc?! #a, #AbcDef. #HTTP://x #www.x #ABC #aBC #Abc123 #8)",
]


# Posts that exercise every rule: negation scope, spaced ellipses across and
# within words, hashtags, mentions, links, elongations, emoji, non-ASCII,
# emoticons, numbers, apostrophes, and words the model never saw.
TRICKY = [
    "i love pizza",
    "I don't like it :( . great",
    "not great, but fun!!!",
    "Soooo HAPPY!!!! @bob https://t.co/x #BestDay",
    "rating is 4.74. ...wtf...I am DELIGHTFUL. #5stars",
    "Tweet later . . . euthanasia comes . ..soon",
    "a. . b .. . c",
    "😂😂 so funny 💗😛💰",
    "Ｆｕｌｌｗｉｄｔｈ ｔｅｘｔ and café déjà vu",
    "never never no nothing good",
    "qwzx vbnm plkj",
    "hello, world! hi. yes? no",
    "HELLO,",
    "aaa bbb aaab",
    "<3 </3 :-) ;) :D 8)",
    "email me at bob@example.com or www.example.com",
    "1/2 +3.5 -7 10:30",
    "ΣΊΣΥΦΟΣ ΟΔΟΣ",
    "don't won't can't isn't",
    "x" * 300,
    # Chunks the compiled core treats as plain words, and their near misses.
    "don't it's i'm 'quoted' rock'n'roll a'1 x'y' 'a",
    "abc123 4ever b4 123, 1000 99 12,5 1/2",
    "8p 8) d8 p8 8 88 8D do8 po8 P8, 8-)",
    "HeLLo! WOW. ok? no, Yes!! Ok!? aaa, aa,",
    # Links, handles and hashtags the compiled core reads itself, and near misses.
    *LINKS_HANDLES_HASHTAGS,
]


@pytest.fixture(scope="module")
def tiny_fast(tiny_pipeline) -> FastModel:
    arrays = export_arrays(tiny_pipeline)
    arrays["meta"] = arrays["meta"].copy()
    return FastModel(*_round_trip(arrays))


def _round_trip(arrays):
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return read_arrays(buffer.getvalue(), "memory")


def _texts(extra=()):
    return [prepare_text(t)[0] for t in [*TRICKY, *extra]]


def test_fast_model_matches_the_pipeline(tiny_pipeline, tiny_fast):
    texts = _texts()
    expected, expected_known = Predictor(tiny_pipeline).model.probabilities(texts)
    got, known = tiny_fast.probabilities(texts)
    assert np.abs(got - expected).max() <= 1e-6
    assert (got.argmax(axis=1) == expected.argmax(axis=1)).all()
    assert (known == expected_known).all()


@pytest.mark.skipif(fast._fastscore is None, reason="compiled core not built")
def test_compiled_and_pure_paths_agree_exactly(tiny_fast, tiny_pipeline):
    texts = _texts()
    compiled, compiled_known = tiny_fast.probabilities(texts)
    arrays = export_arrays(tiny_pipeline)
    pure_model = FastModel(*_round_trip(arrays), compiled=False)
    pure, pure_known = score_pure(pure_model, texts)
    assert np.array_equal(compiled, pure)
    assert (compiled_known == pure_known).all()
    # The same bytes per chunk whichever path analysed it.
    for text in texts:
        for chunk in text.split():
            assert tiny_fast.analyse(chunk) == pure_model.analyse(chunk)


@pytest.mark.skipif(fast._fastscore is None, reason="compiled core not built")
@pytest.mark.parametrize("exact_as_floats", [True, False])
def test_tfidf_tables_are_read_as_floats_only_when_exact(
    tiny_pipeline, exact_as_floats
):
    arrays, meta = _round_trip(export_arrays(tiny_pipeline))
    for name in ("coef", "word_idf", "char_idf"):
        arrays[name] = arrays[name].astype(np.float32).astype(np.float64)
    if not exact_as_floats:  # one coefficient a float cannot hold
        arrays["coef"][0, 0] = np.nextafter(arrays["coef"][0, 0], 1.0)
    compiled = FastModel(arrays, meta)
    assert compiled._scorer.floats == exact_as_floats
    texts = _texts()
    pure = score_pure(FastModel(arrays, meta, compiled=False), texts)
    assert np.array_equal(compiled.probabilities(texts)[0], pure[0])


@pytest.mark.skipif(fast._fastscore is None, reason="compiled core not built")
def test_links_handles_and_hashtags_are_read_as_normalize_reads_them():
    # The committed model knows <url>, <user> and the words: a wrong text or
    # token would change the ids. Near misses must take normalize's path.
    model, _ = load_fast_model()
    pure = FastModel(model._arrays, model.meta, compiled=False)
    chunks = {c for text in LINKS_HANDLES_HASHTAGS for c in text.split()}
    chunks |= {prefix + rest for prefix in ("@", "#") for rest in ("GoodDay", "x:")}
    for chunk in chunks:
        assert model.analyse(chunk) == pure.analyse(chunk), chunk


def test_scores_do_not_depend_on_the_cache_or_the_batch(tiny_fast):
    texts = _texts()
    together, _ = tiny_fast.probabilities(texts)
    tiny_fast.clear_cache()
    alone = np.vstack([tiny_fast.probabilities([t])[0] for t in reversed(texts)])
    assert np.array_equal(together, alone[::-1])


@pytest.mark.skipif(fast._fastscore is None, reason="compiled core not built")
def test_compiled_cache_splits_and_remembers_as_the_pure_path(
    tiny_fast, tiny_pipeline, monkeypatch
):
    # The core splits posts itself and keeps each chunk's analysis in its own
    # table: every whitespace str.split() knows, and enough distinct chunks
    # (words of the tiny set glued to numbers) that the table grows.
    spaces = ["\t", "\n", "\x1c", "\x85", "\u2028", "\u3000", "\xa0", "  "]
    words = [w for t in _texts() for w in t.split()]
    texts = [
        spaces[i % len(spaces)].join(f"{w}{i % 7}" if i % 3 else w for w in words[i:])
        for i in range(0, len(words), 2)
    ] + _texts()
    arrays = export_arrays(tiny_pipeline)
    pure_model = FastModel(*_round_trip(arrays), compiled=False)
    expected, expected_known = score_pure(pure_model, texts)
    tiny_fast.clear_cache()
    got, known = tiny_fast.probabilities(texts)
    assert tiny_fast._scorer.cached_chunks() > 1024  # grown past its first table
    assert np.array_equal(got, expected) and (known == expected_known).all()
    again, _ = tiny_fast.probabilities(texts[::-1])  # every chunk from the cache
    assert np.array_equal(again, expected[::-1])
    monkeypatch.setattr(fast.config, "FAST_WORD_CACHE", 10)
    tiny_fast.probabilities(texts[:1])  # over the limit: forgotten first
    assert 0 < tiny_fast._scorer.cached_chunks() <= len(texts[0].split())


def test_arrays_file_round_trips(tiny_pipeline, tmp_path):
    arrays = export_arrays(tiny_pipeline)
    path = tmp_path / "model.npz"
    write_arrays(arrays, path)
    loaded, meta = read_arrays(path.read_bytes(), str(path))
    assert meta["classes"] == ["negative", "neutral", "positive"]
    assert set(loaded) == set(arrays) - {"meta"}
    for name, values in loaded.items():
        assert np.array_equal(values, arrays[name]), name


def test_arrays_file_with_objects_is_refused(tmp_path):
    import io

    from sentiment.model.export import ArraysError

    buffer = io.BytesIO()
    np.savez(buffer, meta=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(ArraysError, match="not a model arrays file"):
        read_arrays(buffer.getvalue(), "evil.npz")


def test_arrays_are_read_in_place_with_their_shape_order_and_type():
    import io

    from sentiment.model.export import _stored_arrays

    arrays = {
        "fortran": np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4)),
        "scalar": np.array(7, dtype=np.int64),
        "empty": np.zeros((0, 3)),
        "text": np.frombuffer("h\u00e9llo".encode(), dtype=np.uint8),
    }
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    loaded = _stored_arrays(buffer.getvalue())
    for name, values in arrays.items():
        assert loaded[name].dtype == values.dtype and loaded[name].shape == values.shape
        assert np.array_equal(loaded[name], values), name
        assert not loaded[name].flags.writeable  # a view of the checked bytes


def _claims_more_than_it_holds() -> bytes:
    """An arrays file whose first member's header promises 1,000 numbers but
    holds one: read as promised, it would take the next member's bytes."""
    import io
    import zipfile

    member = io.BytesIO()
    header = {"descr": "<f8", "fortran_order": False, "shape": (1000,)}
    np.lib.format.write_array_header_1_0(member, header)
    member.write(np.zeros(1).tobytes())
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("meta.npy", member.getvalue())
        out.writestr("coef.npy", b"\0" * 10_000)
    return archive.getvalue()


@pytest.mark.parametrize("damage", ["compressed", "cut short", "not a zip"])
def test_damaged_arrays_files_are_refused(tiny_pipeline, damage):
    import io

    from sentiment.model.export import ArraysError

    if damage == "cut short":
        data = _claims_more_than_it_holds()
    elif damage == "not a zip":
        data = b"#!/bin/sh\necho pwned\n" * 10
    else:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **export_arrays(tiny_pipeline))
        data = buffer.getvalue()
    with pytest.raises(ArraysError, match="not a model arrays file"):
        read_arrays(data, "damaged.npz")


def test_a_member_is_never_read_past_its_end():
    from sentiment.model.export import _stored_arrays

    with pytest.raises(ValueError, match="meta is not a plain array of its size"):
        _stored_arrays(_claims_more_than_it_holds())


def test_a_pickled_fast_model_scores_the_same(tiny_fast):
    """Dask and spawned workers receive the model pickled."""
    import pickle

    texts = _texts()
    copy = pickle.loads(pickle.dumps(tiny_fast))
    assert np.array_equal(
        copy.probabilities(texts)[0], tiny_fast.probabilities(texts)[0]
    )


def test_threads_scoring_at_once_get_what_one_thread_gets(committed_predictor):
    # The page's sessions and the API's workers share one loaded model. New
    # non-ASCII words make the compiled core call back into Python, where
    # another thread may run: it must not see, or change, this call's work.
    import pickle
    import sys
    import threading

    posts = [
        f"{word} café{n} déjà{n % 7} vu ñ{n}" for n in range(300) for word in TRICKY
    ]
    batches = [posts[k::4] for k in range(4)]
    found: dict[int, np.ndarray] = {}

    def score(k: int) -> None:
        found[k] = committed_predictor.score(batches[k])["confidence"].to_numpy()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=score, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    # A fresh copy: a mixed-up analysis the threads cached would be reused.
    fresh = Predictor(pickle.loads(pickle.dumps(committed_predictor.model)))
    for k, batch in enumerate(batches):
        alone = fresh.score(batch)["confidence"].to_numpy()
        np.testing.assert_allclose(found[k], alone, rtol=0, atol=1e-12)
