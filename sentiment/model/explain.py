"""Inspection of a fitted pipeline, kept apart from the estimators: feature
names, known-word counts, per-post contributions and top n-grams per class."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

import numpy as np
from sklearn.pipeline import Pipeline

from sentiment.model.features import post_tokens


def known_word_counts(pipeline: Pipeline, features: Any) -> np.ndarray:
    """Per row of ``features``, how many word n-grams of the model's vocabulary it has.

    Character n-grams match almost any string, gibberish included, and the
    lexicon columns are only a summary of the words, so only words (emoticons
    and emoji are words here) count as evidence.
    """
    union = pipeline.named_steps["features"]
    n_words = len(union.named_transformers["word"].vocabulary_)
    return features[:, :n_words].getnnz(axis=1)


def word_tokens(pipeline: Pipeline, texts: Sequence[str]) -> list[list[str]]:
    """Each text's word tokens as the model sees them (normalized, negation marked)."""
    return [
        post_tokens(post) for post in pipeline.named_steps["prepare"].transform(texts)
    ]


def word_unigrams(pipeline: Pipeline) -> set[str]:
    """The single words (not n-grams) in the model's word vocabulary."""
    word = pipeline.named_steps["features"].named_transformers["word"]
    return {term for term in word.vocabulary_ if " " not in term}


@lru_cache(maxsize=4)
def feature_names(pipeline: Pipeline) -> np.ndarray:
    """Names of the pipeline's features, e.g. "word__not good" or "char__ goo".

    Cached per fitted pipeline (by identity): building the list of several
    hundred thousand names takes a noticeable fraction of a second.
    """
    return pipeline.named_steps["features"].get_feature_names_out()


def feature_slice(pipeline: Pipeline, transformer: str | None) -> slice:
    """The columns of one part ("word", "char", "lexicon", "pattern"); all for None."""
    if transformer is None:
        return slice(None)
    # The union lays its parts' columns side by side, in transformer_list order.
    start = 0
    for part, step in pipeline.named_steps["features"].transformer_list:
        stop = start + len(step.get_feature_names_out())
        if part == transformer:
            return slice(start, stop)
        start = stop
    raise ValueError(f"the pipeline has no feature part {transformer!r}")


def top_contributions(
    pipeline: Pipeline,
    text: str,
    label: str,
    k: int = 10,
    transformer: str | None = None,
) -> list[tuple[str, float]]:
    """The ``k`` features of ``text`` that pushed hardest towards ``label``.

    A feature's contribution is its TF-IDF value in the text times the
    classifier's coefficient for ``label``; only positive contributions are
    returned, largest first, as ``(feature_name, contribution)`` pairs.
    ``transformer`` ("word" or "char") keeps only that part of the features.
    """
    classifier = pipeline[-1]
    row = list(classifier.classes_).index(label)
    features = pipeline[:-1].transform([text]).tocsr()
    indices, values = features.indices, features.data
    if transformer is not None:
        part = feature_slice(pipeline, transformer)
        inside = (indices >= part.start) & (indices < part.stop)
        indices, values = indices[inside], values[inside]
    contributions = values * classifier.coef_[row, indices]
    order = np.argsort(-contributions, kind="stable")[:k]
    names = feature_names(pipeline)
    return [
        (str(names[indices[i]]), float(contributions[i]))
        for i in order
        if contributions[i] > 0
    ]


def top_features_per_class(
    pipeline: Pipeline, k: int = 15, transformer: str | None = None
) -> dict[str, list[tuple[str, float]]]:
    """Per class, the ``k`` features with the largest coefficients, largest first.

    ``transformer`` ("word" or "char") keeps only that part of the feature
    union; names keep their "word__"/"char__" prefix.
    """
    classifier = pipeline[-1]
    names = feature_names(pipeline)
    keep = np.arange(len(names))[feature_slice(pipeline, transformer)]
    result: dict[str, list[tuple[str, float]]] = {}
    for row, label in enumerate(classifier.classes_):
        coefs = classifier.coef_[row, keep]
        best = np.argsort(-coefs, kind="stable")[:k]
        result[str(label)] = [(str(names[keep[i]]), float(coefs[i])) for i in best]
    return result


# Words leave-one-out explains at most: each costs one more scoring pass.
MAX_EXPLAINED_WORDS = 64


def word_influence(
    predictor: Any, text: str, label: str | None = None
) -> list[tuple[str, float]]:
    """How much each word of ``text`` moved the decision, for any tier.

    Every word (split on whitespace, as the user wrote it) is left out in
    turn and the post scored again: a word's influence is the probability of
    ``label`` (default: the predicted label) with it minus without it.
    Positive pushed towards ``label``, negative away. Returned in the post's
    word order, so the page can colour the post itself. ``predictor`` is any
    tier's Predictor (its ``score`` method is all that is used).
    """
    words = text.split()[:MAX_EXPLAINED_WORDS]
    if not words:
        return []
    variants = [" ".join(words[:i] + words[i + 1 :]) for i in range(len(words))]
    table = predictor.score([" ".join(words), *variants])
    labels = [c.removeprefix("prob_") for c in table.columns if c.startswith("prob_")]
    probabilities = table[[f"prob_{name}" for name in labels]].to_numpy(float)
    target = labels.index(label) if label else int(np.nanargmax(probabilities[0]))
    # A variant with no words left scores NaN: the word carried everything.
    without = np.nan_to_num(probabilities[1:, target], nan=1.0 / len(labels))
    return [(w, float(probabilities[0, target] - p)) for w, p in zip(words, without)]


# Words a brand team should not meet unmasked on a model card; the weights
# stay, the letters after the first become asterisks.
_MASKED_WORDS = frozenset(
    "fuck fucking fucked fucks shit shitty bitch bitches cunt dick asshole "
    "bastard whore slut nigga nigger faggot fag damn crap piss pissed".split()
)


def readable_ngram(name: str) -> str:
    """A feature name as words people use: the "word__" prefix dropped,
    "bad_NEG" as "not…bad", placeholders as "@user" / "link", profanity masked."""
    words = []
    for token in name.removeprefix("word__").split():
        negated = token.endswith("_NEG")
        token = token.removesuffix("_NEG")
        token = {"<user>": "@user", "<url>": "link"}.get(token, token)
        if token.lower() in _MASKED_WORDS:
            token = token[0] + "*" * (len(token) - 1)
        words.append(f"not…{token}" if negated else token)
    return " ".join(words)
