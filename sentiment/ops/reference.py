"""The reference profile: what the model's inputs and outputs looked like at training.

Training writes ``<model>.reference.json`` beside the model (``models/
model.reference.json`` for the committed one) from the held-out validation
split, scored by the model fit without it, so confidences are out-of-sample as
they will be in production. It holds the predicted-label counts, and per post
the confidence, the length and the out-of-vocabulary (OOV) token share, plus
quantiles for people to read.

It holds no text: the committed model is trained on SemEval tweets, which must
not be redistributed. The drift check's domain classifier therefore needs
reference texts from a CSV (``--reference train.csv``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from sentiment import config
from sentiment.files.storage import atomic_write
from sentiment.model.explain import word_tokens, word_unigrams

REFERENCE_FORMAT = "sentiment-reference"


REFERENCE_FORMAT_VERSION = 1


_QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


@dataclass
class Sample:
    """One side of a drift comparison: a model's outputs on a set of posts.

    ``confidence``, ``length`` and ``oov_share`` have one value per post that
    got a label; ``texts`` is None when the side holds no text (a profile, or a
    log with text storage off).
    """

    description: str
    label_counts: dict[str, int]
    confidence: np.ndarray
    length: np.ndarray
    oov_share: np.ndarray | None
    oov_tokens: tuple[int, int] | None  # (out-of-vocabulary, all) tokens
    texts: list[str] | None = None

    @property
    def n(self) -> int:
        return int(sum(self.label_counts.values()))


def sample_indices(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted positions of a random sample of ``size`` of ``n`` items (all of
    them when there are no more than ``size``): the one way posts are sampled
    for profiles and drift checks."""
    if n <= size:
        return np.arange(n)
    return np.sort(rng.choice(n, size, replace=False))


def reference_path(model_path: str | Path) -> Path:
    """``models/model.pkl`` -> ``models/model.reference.json``."""
    return Path(model_path).with_suffix(".reference.json")


def oov_shares(pipeline: Pipeline, texts: Sequence[str]) -> tuple[np.ndarray, int, int]:
    """Per text, the share of word tokens the model's vocabulary lacks.

    Tokens come from the model's own preparation step, so the check follows
    the model. Returns ``(per_text, oov,
    total)``; a text with no token has share 0.
    """
    vocabulary = word_unigrams(pipeline)
    shares = np.zeros(len(texts))
    oov_total = token_total = 0
    for i, tokens in enumerate(word_tokens(pipeline, texts)):
        unknown = sum(token not in vocabulary for token in tokens)
        shares[i] = unknown / len(tokens) if tokens else 0.0
        oov_total += unknown
        token_total += len(tokens)
    return shares, oov_total, token_total


def sample_from_scores(
    pipeline: Pipeline,
    texts: Sequence[str],
    scored: pd.DataFrame,
    description: str,
    keep_texts: bool = True,
) -> Sample:
    """A Sample from texts and their ``Predictor.score`` output (no-text rows out)."""
    labelled = (scored["sentiment"] != "").to_numpy()
    kept = [t for t, keep in zip(texts, labelled) if keep]
    shares, oov, total = oov_shares(pipeline, kept)
    labels = scored.loc[labelled, "sentiment"]
    return Sample(
        description=description,
        label_counts={label: int((labels == label).sum()) for label in config.LABELS},
        confidence=scored.loc[labelled, "confidence"].to_numpy(dtype=float),
        length=np.array([len(t) for t in kept], dtype=float),
        oov_share=shares,
        oov_tokens=(oov, total),
        texts=kept if keep_texts else None,
    )


def build_reference(
    pipeline: Pipeline,
    texts: Sequence[str],
    scored: pd.DataFrame,
    true_labels: Sequence[str],
    source: str,
    seed: int = config.SEED,
) -> dict[str, Any]:
    """The profile of held-out texts scored by ``pipeline`` (no text is kept)."""
    sample = sample_from_scores(pipeline, texts, scored, source, keep_texts=False)
    # A sample keeps the file small (~150 kB).
    keep = sample_indices(
        len(sample.confidence), config.DRIFT_SAMPLE_ROWS, np.random.default_rng(seed)
    )
    quantiles = lambda values: {  # noqa: E731
        str(q): round(float(np.quantile(values, q)), 4) for q in _QUANTILES
    }
    return {
        "format": REFERENCE_FORMAT,
        "format_version": REFERENCE_FORMAT_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "source": source,
        "n": sample.n,
        "label_counts": sample.label_counts,
        "true_label_counts": {
            label: int(sum(t == label for t in true_labels)) for label in config.LABELS
        },
        "oov_tokens": {"oov": sample.oov_tokens[0], "total": sample.oov_tokens[1]},
        "summary": {
            "confidence_quantiles": quantiles(sample.confidence),
            "length_quantiles": quantiles(sample.length),
            "mean_oov_share": round(float(sample.oov_share.mean()), 4),
        },
        "confidence": np.round(sample.confidence[keep], 4).tolist(),
        "length": sample.length[keep].astype(int).tolist(),
        "oov_share": np.round(sample.oov_share[keep], 4).tolist(),
    }


def save_reference(profile: dict[str, Any], model_path: str | Path, card: dict) -> Path:
    """Write the profile beside the model, tied to it by the model's SHA-256."""
    path = reference_path(model_path)
    text = json.dumps({**profile, "model_sha256": card.get("model_sha256")}) + "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path


def load_reference(path: str | Path) -> Sample:
    """Read a profile written by :func:`save_reference` as a Sample (no texts)."""
    path = Path(path)
    try:
        profile = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ValueError(f"Cannot read the reference profile {path}: {e}") from e
    if not isinstance(profile, dict) or profile.get("format") != REFERENCE_FORMAT:
        raise ValueError(f"{path} is not a reference profile.")
    tokens = profile["oov_tokens"]
    return Sample(
        description=f"reference profile {path.name} ({profile['source']})",
        label_counts={k: int(v) for k, v in profile["label_counts"].items()},
        confidence=np.asarray(profile["confidence"], dtype=float),
        length=np.asarray(profile["length"], dtype=float),
        oov_share=np.asarray(profile["oov_share"], dtype=float),
        oov_tokens=(int(tokens["oov"]), int(tokens["total"])),
        texts=None,
    )
