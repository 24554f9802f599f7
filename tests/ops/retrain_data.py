"""Small synthetic posts for the retraining tests (written here, no benchmark rows).

Domain "shop" (product reviews) is the base training data; domain "match"
(football talk: other words, longer posts, more negative ones) is the shift.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from sentiment import config
from sentiment.model.predictor import Predictor
from sentiment.ops.logstore import PredictionLog
from tests.conftest import TINY_PARAMS

_DOMAINS = {
    "shop": {
        "positive": ["i love {}", "{} works great", "really happy with {}"],
        "negative": ["i hate {}", "{} broke after a day", "so let down by {}"],
        "neutral": ["{} arrives on tuesday", "{} comes in grey", "ordered {}"],
        "things": ["the phone", "this laptop", "the kettle", "my headphones"]
        + ["the blender", "this charger", "the camera", "the vacuum"],
        "extra": ["", " today", " from the shop", " for my desk", " online"],
        "mix": (1, 1, 1),
    },
    "match": {
        "positive": [
            "what a brilliant goal by {} tonight",
            "proud of {} after " "that comeback",
            "{} deserved the trophy, superb",
        ],
        "negative": [
            "{} got thrashed again, shambles",
            "the referee robbed {} " "tonight, disgrace",
            "{} defending was pathetic",
        ],
        "neutral": [
            "{} kick off at eight",
            "{} announced the squad for " "saturday",
            "the lineup for {} is out",
        ],
        "things": ["united", "the rovers", "city", "our keeper", "the striker"]
        + ["the wanderers", "the academy side", "the captain"],
        "extra": ["", " in the rain", " at the stadium", " in the league"],
        "mix": (3, 1, 1),  # negative, neutral, positive weights
    },
}


def posts(domain: str, n: int, seed: int) -> tuple[list[str], list[str]]:
    """``n`` labelled posts of ``domain``, reproducible from ``seed``."""
    spec, rng = _DOMAINS[domain], random.Random(seed)
    labels = rng.choices(config.LABELS, weights=spec["mix"], k=n)
    texts = [
        rng.choice(spec[label]).format(rng.choice(spec["things"]))
        + rng.choice(spec["extra"])
        for label in labels
    ]
    return texts, list(labels)


def write_csv(path: Path, texts: list[str], labels: list[str]) -> Path:
    """A text,label CSV (quoted: the posts have commas)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(zip(texts, labels))
    return path


def log_traffic(db: Path, predictor: Predictor, texts: list[str]) -> None:
    """Log ``texts`` as the API would, scored by ``predictor``."""
    with PredictionLog(db) as prediction_log:
        prediction_log.append(
            "api", None, predictor.card["model_sha256"], texts, predictor.score(texts)
        )


@pytest.fixture()
def small_pipeline(monkeypatch):
    """The production pipeline with tiny settings (no word vectors): seconds."""
    for key, value in {**TINY_PARAMS, "vector_scale": 0.0}.items():
        monkeypatch.setitem(config.HYPERPARAMS, key, value)
