"""The text the transformer tier reads: one function shared by fine-tuning
(torch) and serving (onnxruntime), so both see posts exactly alike."""

from __future__ import annotations

from sentiment.model.preprocess import emoji_descriptions, normalize


def encoder_text(text: str) -> str:
    """Normalize a post for the encoder.

    Links and @mentions become placeholders (so the label cannot depend on who
    is mentioned or which link is shared), hashtags split into words,
    elongations shortened, and emoji followed by their names in words: the
    encoder's vocabulary has no emoji, and the training tweets have none either.

    >>> encoder_text("Soooo happy 😂 @bob https://t.co/x")
    'soo happy 😂 face with tears of joy <user> <url>'
    """
    return normalize(text.translate(emoji_descriptions()))
