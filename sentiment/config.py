"""Paths, labels and defaults: the one place every other module reads them from."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

# Before numpy loads: scoring calls no BLAS, and idle threads spin ~0.1 CPU s.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = PROJECT_ROOT / "models"
DEFAULT_MODEL_PATH = MODELS_DIR / "model.pkl"

# The operator of a long-running front end (the Streamlit page) can point it at
# another model with this variable. A path set there is trusted like the CLI's
# --trust-model-path, since whoever sets the server's environment already runs
# code on it; the model's SHA-256 is still checked against its card.
MODEL_PATH_ENV = "SENTIMENT_MODEL_PATH"


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def model_path_from_env() -> Path | str | None:
    """``$SENTIMENT_MODEL_PATH`` (a URL stays a str), or None when unset or empty."""
    value = os.environ.get(MODEL_PATH_ENV, "").strip()
    return (value if "://" in value else Path(value).expanduser()) if value else None


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
LABEL_ALIASES: dict[str, str] = {a: lb for lb in LABELS for a in (lb, lb[:3])}

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
# Where pre-issue-13 promotions archived replaced models (rollback reads it).
ARCHIVE_DIR_NAME = "archive"

# --- Reading users' files and delivering scored ones (issue 13) ---

# A cell of a user's CSV may hold up to this many characters (Excel's own limit
# is 32,767); a longer one is refused with its line number, not cut. A physical
# line (between line breaks) may hold up to MAX_LINE_BYTES.
MAX_FIELD_CHARS = 10_000_000
MAX_LINE_BYTES = 4 * MAX_FIELD_CHARS
# A batch chunk also ends when its rows take this many bytes of the file, so a
# file of huge posts keeps memory as flat as one of tweets.
BATCH_CHUNK_BYTES = 16_000_000
# Lines that were not UTF-8 (read as Windows-1252) named in the warning.
FALLBACK_LINES_NAMED = 10
# A batch run's log rows wait in a scratch file until its output is renamed
# into place, then go to the log in transactions of this many rows, so other
# writers (the API) wait for one short transaction at a time.
LOG_STAGED_ROWS_PER_COMMIT = 20_000

# --- Model signing and the fast scoring tier (issue 15; issue 13 item 13) ---

# Training signs the card with the Ed25519 seed (64 hex digits) in this file;
# serving checks it against the keys below. Unset: an unsigned card, which
# loads only from a path the user vouches for (--trust-model-path).
SIGNING_KEY_ENV = "SENTIMENT_SIGNING_KEY_FILE"
# Trusted public keys (hex): the release key that signed the committed models
# (rotated 2026-12-03, see README "Model files and signing"), plus any listed,
# comma-separated, in $SENTIMENT_TRUSTED_KEYS (an operator's own).
RELEASE_VERIFY_KEYS: tuple[str, ...] = (
    "3fc130a020a456cec86991403a588e34cd368f46bc95d45459a9bae34a7dd9ab",
)
TRUSTED_KEYS_ENV = "SENTIMENT_TRUSTED_KEYS"


def signing_key_path_from_env(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The private signing key file from ``$SENTIMENT_SIGNING_KEY_FILE``, or None."""
    value = environ.get(SIGNING_KEY_ENV, "").strip()
    return Path(value).expanduser() if value else None


def trusted_keys_from_env(environ: Mapping[str, str] = os.environ) -> tuple[str, ...]:
    """The release key plus the keys in ``$SENTIMENT_TRUSTED_KEYS`` (hex)."""
    extra = environ.get(TRUSTED_KEYS_ENV, "")
    return RELEASE_VERIFY_KEYS + tuple(k.strip() for k in extra.split(",") if k.strip())


# Distinct words whose analysis the fast scorer keeps (~200 bytes each).
FAST_WORD_CACHE = 200_000

# --- API: log queue, keys and what the API reveals (issue 13) ---

# The API hands log rows to a worker thread through a queue of at most this many
# waiting writes (one per scored batch), and an answer waits at most this long
# for its row's commit; past either it is answered as not logged (a header,
# and a counter in /health) instead of waiting for SQLite.
LOG_QUEUE_ENV = "SENTIMENT_LOG_QUEUE"
LOG_QUEUE_WRITES = 1_000
LOG_WAIT_ENV = "SENTIMENT_LOG_WAIT_MS"
LOG_WAIT_MS = 250

# API keys: a comma-separated list in SENTIMENT_API_KEYS, and/or a file of
# salted hashes (one "name:salt-hex:sha256-hex" line per key, made by
# ``python -m sentiment.api --new-key NAME``) in SENTIMENT_API_KEYS_FILE.
# /predict* and /brands* need one (``Authorization: Bearer KEY``); /health
# does not. SENTIMENT_API_AUTH=off serves without keys, only for an API behind
# a proxy that authenticates. Clients (ApiPredictor, the page) send
# SENTIMENT_API_KEY.
API_KEYS_ENV = "SENTIMENT_API_KEYS"
API_KEYS_FILE_ENV = "SENTIMENT_API_KEYS_FILE"
API_AUTH_ENV = "SENTIMENT_API_AUTH"
API_KEY_ENV = "SENTIMENT_API_KEY"
PROTECTED_API_PREFIXES = ("/predict", "/brands")

# /model and /docs name no library version or git commit unless this is on.
API_SHOW_VERSIONS_ENV = "SENTIMENT_API_SHOW_VERSIONS"

# ``python -m sentiment.api`` (make api, the image's API command) listens here.
API_HOST_ENV = "SENTIMENT_API_HOST"
DEFAULT_API_HOST = "127.0.0.1"


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    value = environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name}={value!r}: use a whole number of at least 1.")
    return int(value)


def log_queue_from_env(environ: Mapping[str, str] = os.environ) -> int:
    """Writes the API's log queue holds (``SENTIMENT_LOG_QUEUE``)."""
    return _positive_int(environ, LOG_QUEUE_ENV, LOG_QUEUE_WRITES)


def log_wait_ms_from_env(environ: Mapping[str, str] = os.environ) -> int:
    """How long an answer waits for its log commit (``SENTIMENT_LOG_WAIT_MS``)."""
    return _positive_int(environ, LOG_WAIT_ENV, LOG_WAIT_MS)


def api_keys_from_env(environ: Mapping[str, str] = os.environ) -> list[str]:
    """The plain API keys in ``SENTIMENT_API_KEYS`` (comma-separated)."""
    return [k.strip() for k in environ.get(API_KEYS_ENV, "").split(",") if k.strip()]


def api_keys_file_from_env(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The file of salted key hashes (``SENTIMENT_API_KEYS_FILE``), or None."""
    value = environ.get(API_KEYS_FILE_ENV, "").strip()
    return Path(value).expanduser() if value else None


def api_auth_from_env(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the API asks for keys (``SENTIMENT_API_AUTH``, default yes)."""
    return environ.get(API_AUTH_ENV, "on").strip().lower() not in LOG_OFF_VALUES


def api_key_from_env(environ: Mapping[str, str] = os.environ) -> str | None:
    """The key an API client sends (``SENTIMENT_API_KEY``), or None."""
    return environ.get(API_KEY_ENV, "").strip() or None


def api_show_versions_from_env(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether /model and /docs may name versions (default no)."""
    value = environ.get(API_SHOW_VERSIONS_ENV, "").strip().lower()
    return value in {"1", "true", "yes", "on"}


def api_host_from_env(environ: Mapping[str, str] = os.environ) -> str:
    """The address ``python -m sentiment.api`` binds (default 127.0.0.1)."""
    return environ.get(API_HOST_ENV, "").strip() or DEFAULT_API_HOST


# --- Model versions and the current pointer (issue 13) ---

# Promotion copies each model into models/versions/<time>-<sha>/ (whatever
# files it consists of) and then replaces the symlink models/current with one
# rename: the only step that changes the served model. models/model.pkl and its
# companions are symlinks through current/, so DEFAULT_MODEL_PATH keeps working.
VERSIONS_DIR_NAME = "versions"
CURRENT_LINK_NAME = "current"


# --- Reviewer sign-in for the page (issue 13) ---

# The page's Monitoring and Review pages show logged posts and store
# corrections, so they ask for a reviewer's name and password. Accounts are
# salted scrypt hashes in this TOML file (`python -m sentiment.users add NAME`);
# SENTIMENT_USERS_FILE points elsewhere (keep it out of git and images).
USERS_FILE_ENV = "SENTIMENT_USERS_FILE"
DEFAULT_USERS_FILE = PROJECT_ROOT / "secrets" / "users.toml"
# scrypt cost: 2**14 x 8 blocks is 16 MiB and ~50 ms per check, which makes
# guessing slow without making a sign-in slow (the parameters are stored with
# each hash, so raising them later keeps old hashes valid).
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
MIN_PASSWORD_CHARS = 12


def users_file_from_env(environ: Mapping[str, str] = os.environ) -> Path:
    """The reviewer accounts file: ``$SENTIMENT_USERS_FILE`` or the default."""
    value = environ.get(USERS_FILE_ENV, "").strip()
    return Path(value).expanduser() if value else DEFAULT_USERS_FILE


# --- Brand monitoring: watchlists, posting time, alerts, languages (issue 12) ---

# Languages the model was trained on; posts detected in another language get
# status "unsupported_language" and no label unless --score-all-languages.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en",)
# A post counts as another language only when the detector is at least this
# sure: short English posts full of names sometimes come out as a weak guess
# of Spanish or Italian (0.38-0.49 on examples/brand_posts.csv), real French,
# Spanish, German or Italian posts come out at 0.78-1.0.
LANGUAGE_MIN_CONFIDENCE = 0.5
# Column names that hold a post's posting time, in order of preference
# (compared case-insensitively); a column is used only if its cells parse.
TIME_COLUMN_NAMES: tuple[str, ...] = (
    "created_at",
    "posted_at",
    "published_at",
    "timestamp",
    "created",
    "date",
    "datetime",
    "time",
    "posted",
    "published",
)
# Per-brand alerts (python -m sentiment.monitor alerts): a day alerts when its
# negative share, or its volume, exceeds the brand's own trailing mean + k
# sigma of the previous BRAND_ALERT_WINDOW days with BRAND_ALERT_MIN_POSTS
# posts or more.
BRAND_ALERT_K = 3.0
BRAND_ALERT_WINDOW = 14
BRAND_ALERT_MIN_POSTS = 20
# Webhook delivery: attempts per alert and the first wait between them
# (doubled after each failure), and the timeout of one POST.
WEBHOOK_ATTEMPTS = 4
WEBHOOK_BACKOFF_S = 0.5
WEBHOOK_TIMEOUT_S = 10.0

# --- hyperparameters (HYPERPARAMS, read on first use): the pipeline is built
# from these alone. They live in params.yaml, which DVC's pipeline (dvc.yaml)
# also reads, so `python -m sentiment.train` and `dvc repro` (or `dvc exp run
# -S train.C=1.0`) train with the same values.
PARAMS_PATH = PROJECT_ROOT / "params.yaml"


def load_hyperparams(path: Path = PARAMS_PATH) -> dict[str, object]:
    """The ``train`` section of ``path``; lists become tuples (n-gram ranges)."""
    import yaml  # only training reads it: 15 ms off every other command's start

    try:
        section = yaml.safe_load(path.read_text(encoding="utf-8"))["train"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as e:
        raise RuntimeError(
            f"Cannot read the hyperparameters (section train) from {path}: {e}. "
            "Restore the file with `git checkout -- params.yaml`."
        ) from e
    if not isinstance(section, dict):
        raise RuntimeError(f"{path}: section train must map names to values.")
    return {k: tuple(v) if isinstance(v, list) else v for k, v in section.items()}


def __getattr__(name: str) -> object:
    # HYPERPARAMS on first use: scoring neither pays for nor fails on params.yaml.
    if name == "HYPERPARAMS":
        globals()[name] = load_hyperparams()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- transformer tier and cascade (issue 16) ---
# Backends of load_predictor and of --backend on the CLIs; classic stays default.
BACKENDS: tuple[str, ...] = ("classic", "transformer", "cascade")
DEFAULT_BACKEND = "classic"
TRANSFORMER_DIR = MODELS_DIR / "transformer"
TRANSFORMER_MODEL_PATH = TRANSFORMER_DIR / "model.onnx"
TRANSFORMER_TOKENIZER_PATH = TRANSFORMER_DIR / "tokenizer.json"
# Tokens per post (tweets: 99% of the training posts fit; see the card).
TRANSFORMER_MAX_LENGTH = 64
# Where the resumable fine-tuning job keeps checkpoints and its progress log.
TRANSFORMER_WORK_DIR = PROJECT_ROOT / "build" / "transformer"
# The cascade's fallback when the card records no cut-off: classic verdicts
# below this confidence go to the transformer.
CASCADE_CUTOFF = 0.75
# Which tier the API and the page load when nothing else says (a server runs
# one tier; a request naming another gets a clear error).
BACKEND_ENV = "SENTIMENT_BACKEND"
# --- retraining that starts itself (issue 14): python -m sentiment.retrain --auto
RETRAIN = {"corrections": 50, "drift_rows": 200, "drift_days": 7, "cooldown_h": 24.0}
RETRAIN_IN, RETRAIN_OUT = PROJECT_ROOT / "data/incoming", PROJECT_ROOT / "build/retrain"


def backend_from_env(environ: Mapping[str, str] = os.environ) -> str:
    """``$SENTIMENT_BACKEND`` if set (checked), else the default tier."""
    backend = environ.get(BACKEND_ENV, "").strip().lower() or DEFAULT_BACKEND
    if backend not in BACKENDS:
        raise ValueError(
            f"{BACKEND_ENV}={backend!r} is not a backend; "
            f"use one of {', '.join(BACKENDS)}."
        )
    return backend
