"""Paths, labels and defaults: the one place every other module reads them from."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = PROJECT_ROOT / "models"
DEFAULT_MODEL_PATH = MODELS_DIR / "model.pkl"

# The operator of a long-running front end (the Streamlit page) can point it at
# another model with this variable. A path set there is trusted like the CLI's
# --trust-model-path, since whoever sets the server's environment already runs
# code on it; the model's SHA-256 is still checked against its card.
MODEL_PATH_ENV = "SENTIMENT_MODEL_PATH"


def model_path_from_env() -> Path | None:
    """The model path set in ``$SENTIMENT_MODEL_PATH``, or None when unset or empty."""
    value = os.environ.get(MODEL_PATH_ENV, "").strip()
    return Path(value).expanduser() if value else None


# The public benchmark sits beside the checkout (never inside it).
SHARED_DATA_DIR = Path(
    os.environ.get("SENTIMENT_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data")
)
SEMEVAL_DIR = SHARED_DATA_DIR / "semeval2017"
SEMEVAL_TRAIN = SEMEVAL_DIR / "train.csv"
SEMEVAL_TEST = SEMEVAL_DIR / "test.csv"

# Class order used everywhere: probabilities, confusion matrices, CSV columns.
LABELS: tuple[str, ...] = ("negative", "neutral", "positive")

# Spellings accepted in a label column (case-insensitive); anything else is
# reported as unknown rather than guessed.
LABEL_ALIASES: dict[str, str] = {
    "negative": "negative",
    "neg": "negative",
    "neutral": "neutral",
    "neu": "neutral",
    "positive": "positive",
    "pos": "positive",
}

# A prediction whose top probability is below this is marked needs_review.
DEFAULT_THRESHOLD = 0.6

# Texts are cut to this many characters before scoring: a tweet is 280, a long
# post a few thousand; beyond that the extra text only costs time.
MAX_TEXT_CHARS = 5_000

# REST API limits: texts in one /predict/batch request, and the request body.
MAX_BATCH_TEXTS = 1_000
MAX_BODY_BYTES = 2 * 1024 * 1024

SEED = 42
VALIDATION_SIZE = 0.1

# Batch scoring reads and writes this many rows at a time, so memory stays flat.
# Small enough that --jobs workers share even a modest file evenly and each
# holds little; per-chunk overheads stay under 1 % of the scoring time.
BATCH_CHUNK_ROWS = 2_000

# Model hyperparameters: the pipeline is built from these and nothing else.
HYPERPARAMS: dict[str, object] = {
    # Word n-grams of the tokens (negation-marked), TF-IDF.
    "word_ngram_range": (1, 2),
    "word_min_df": 2,
    "word_max_features": 300_000,
    # Character n-grams inside words (spaces padding them), TF-IDF.
    "char_ngram_range": (3, 5),
    "char_min_df": 3,
    "char_max_features": 300_000,
    # Words whose n-grams the model stores (scoring speed only, not results).
    "char_cached_words": 30_000,
    "sublinear_tf": True,
    # Weight of the two VADER-lexicon columns; 0 leaves them out.
    "lexicon_scale": 0.5,
    # Weight of the three pattern-lexicon columns (TextBlob's); 0 leaves them out.
    "pattern_scale": 0.5,
    # Weight of the mean word vector (WORD_VECTORS_PATH); 0 leaves it out.
    "vector_scale": 2.0,
    # Features are weighted by |log-count ratio| ** nb_alpha (NB-SVM style).
    "nb_alpha": 0.5,
    "C": 0.5,
    "class_weight": "balanced",
    "max_iter": 1_000,
}

# Static word vectors (sentiment/vectors.py builds them, once, from a
# pretrained encoder); training reads them, and the fitted model carries them.
WORD_VECTORS_PATH = MODELS_DIR / "word_vectors.npz"
WORD_VECTOR_DIMS = 64

MODEL_FORMAT = "sentiment-model"
MODEL_FORMAT_VERSION = 1

# --- Production monitoring (prediction log, drift, spikes, promotion) ---

# Every prediction (page, API, batch CLI) is appended to this SQLite file.
# SENTIMENT_LOG_DB overrides the path; "off" (or 0/false/no) switches logging off.
# SENTIMENT_LOG_TEXT=0 stores a SHA-256 of each text instead of the text.
LOG_DB_ENV = "SENTIMENT_LOG_DB"
LOG_TEXT_ENV = "SENTIMENT_LOG_TEXT"
DEFAULT_LOG_DB = PROJECT_ROOT / "logs" / "predictions.db"
LOG_OFF_VALUES = frozenset({"off", "0", "false", "no", "none"})
# How long a writer waits for another writer's lock before the row is dropped
# (and counted): long enough for any burst of commits, short enough that a
# request is not held for long.
LOG_BUSY_TIMEOUT_MS = 5_000
# WAL with synchronous=NORMAL keeps every commit through a crash or kill of the
# process; FULL also survives a power cut or kernel crash by syncing each
# commit, at 2-20x fewer commits per second (benchmarks/log_throughput.py).
# SENTIMENT_LOG_SYNC=FULL selects it.
LOG_SYNC_ENV = "SENTIMENT_LOG_SYNC"
LOG_SYNCHRONOUS = "NORMAL"


def log_path_from_env(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The configured log file, or None when logging is switched off."""
    value = environ.get(LOG_DB_ENV, "").strip()
    if value.lower() in LOG_OFF_VALUES:
        return None
    return Path(value) if value else DEFAULT_LOG_DB


def store_text_from_env(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether texts are stored (``SENTIMENT_LOG_TEXT``, default yes)."""
    value = environ.get(LOG_TEXT_ENV, "1").strip().lower()
    return value not in LOG_OFF_VALUES


def log_sync_from_env(environ: Mapping[str, str] = os.environ) -> str:
    """The SQLite ``synchronous`` level (``SENTIMENT_LOG_SYNC``, default NORMAL)."""
    return environ.get(LOG_SYNC_ENV, LOG_SYNCHRONOUS)


# --- Serving ---

# The web page (and ``get_predictor``) use a running API instead of loading the
# model when this is set, e.g. http://127.0.0.1:8000.
API_URL_ENV = "SENTIMENT_API_URL"


def api_url_from_env(environ: Mapping[str, str] = os.environ) -> str | None:
    """The API base URL from ``$SENTIMENT_API_URL``, or None when unset or empty."""
    return environ.get(API_URL_ENV, "").strip() or None


def child_environment(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment plus ``overrides``, for a server it starts."""
    return {**os.environ, **(overrides or {})}


# Drift: a test flags drift only when the difference is both significant
# (p-value below DRIFT_P_VALUE) and large enough to matter (effect threshold);
# with tens of thousands of rows a p-value alone flags negligible changes.
DRIFT_P_VALUE = 0.01
DRIFT_LABEL_PSI = 0.1  # predicted-label mix
DRIFT_NUMERIC_PSI = 0.2  # confidence and text-length distributions
DRIFT_OOV_INCREASE = 0.05  # absolute rise of the out-of-vocabulary token share
DRIFT_DOMAIN_AUC = 0.55  # domain classifier ROC-AUC (0.5 = indistinguishable)
DRIFT_PERMUTATIONS = 1_000  # label shuffles for the random-classifier baseline
DRIFT_SAMPLE_ROWS = 5_000  # per side, fixed seed: keeps a check to seconds

# Spike alerts: a period alerts when its negative share exceeds the trailing
# mean + SPIKE_K standard deviations of the previous SPIKE_WINDOW periods.
SPIKE_K = 3.0
SPIKE_WINDOW = {"hour": 24, "day": 14}
SPIKE_MIN_POSTS = 20  # periods with fewer posts never alert

# Promotion gate: a candidate replaces the current model only if its macro-recall
# on the evaluation set is at most this much below the current model's.
PROMOTION_MARGIN = 0.01
ARCHIVE_DIR_NAME = "archive"


# --- transformer tier and cascade (issue 16) ---
# Backends of load_predictor and of --backend on the CLIs; classic stays default.
BACKENDS: tuple[str, ...] = ("classic", "transformer", "cascade")
DEFAULT_BACKEND = "classic"
TRANSFORMER_DIR = MODELS_DIR / "transformer"
TRANSFORMER_MODEL_PATH = TRANSFORMER_DIR / "model.onnx"
TRANSFORMER_TOKENIZER_PATH = TRANSFORMER_DIR / "tokenizer.json"
# Tokens per post (tweets: 99% of the training posts fit; see the card).
TRANSFORMER_MAX_LENGTH = 64
# Posts per onnxruntime call. 1: int8 dynamic quantisation scales activations
# per call, so in a batch a post's probabilities moved by up to 0.03 with its
# batch mates; alone, a post always scores the same (as with the classic tier).
TRANSFORMER_BATCH = 1
# Where the resumable fine-tuning job keeps checkpoints and its progress log.
TRANSFORMER_WORK_DIR = PROJECT_ROOT / "build" / "transformer"
# The cascade's fallback when the card records no cut-off: classic verdicts
# below this confidence go to the transformer.
CASCADE_CUTOFF = 0.75
# Which tier the API and the page load when nothing else says (a server runs
# one tier; a request naming another gets a clear error).
BACKEND_ENV = "SENTIMENT_BACKEND"


def backend_from_env(environ: Mapping[str, str] = os.environ) -> str:
    """``$SENTIMENT_BACKEND`` if set (checked), else the default tier."""
    backend = environ.get(BACKEND_ENV, "").strip().lower() or DEFAULT_BACKEND
    if backend not in BACKENDS:
        raise ValueError(
            f"{BACKEND_ENV}={backend!r} is not a backend; "
            f"use one of {', '.join(BACKENDS)}."
        )
    return backend
