"""The transformer tier at scoring time: the fine-tuned MiniLM as an int8 ONNX
file run by ``onnxruntime``, tokenized by ``tokenizers``. No torch.

``models/transformer/`` holds ``model.onnx``, ``tokenizer.json`` and the card
``model.json`` (hyperparameters, data hash, calibration, metrics and the
SHA-256 of both files), signed like the classic model's card. Loading checks
the card's signature (required inside ``models/``), reads each file once and
checks its hash on those bytes, and loads from the same bytes, so a swapped
file is refused rather than run; an ONNX graph holds no Python code either way.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from sentiment import config
from sentiment.files.storage import atomic_write, file_sha256
from sentiment.model.artifacts import (
    ModelLoadError,
    check_signature,
    is_inside,
    signed_if_configured,
    verified_bytes,
)
from sentiment.model.calibration import softmax
from sentiment.model.encoder_text import encoder_text

CARD_NAME = "model.json"
# What every tier gets wrong, as the card lists them (training adds how far it
# trained) and the Model card page shows them when no card says more.
LIMITATIONS = (
    "Sarcasm and irony are often read literally ('Oh great, another delay').",
    "English only: the encoder and the tweets are English; other languages "
    "get unreliable labels.",
    "Domain shift: trained on general tweets; product reviews, support chats "
    "or a single brand's jargon may score worse (check with evaluate first).",
    "Data period: the SemEval tweets are from 2013-2017; newer slang, emoji "
    "and events are not in them.",
    'Litotes such as "I don\'t hate it" can still be read as negative.',
)


# onnxruntime 1.32 fuses each residual Add and LayerNormalization into
# SkipLayerNormalization, which ran 6-9x slower than the pair here (1.95 ->
# 1.66 ms a post without it). Calibration, metrics and the cascade's cut-off
# are measured with these fusions off.
SLOW_FUSIONS = ("SkipLayerNormFusion",)


def single_thread_session(
    model: str | bytes, disabled_fusions: Sequence[str] = SLOW_FUSIONS
) -> Any:
    """One onnxruntime session on one thread, as the tier runs each post."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(
        model,
        options,
        providers=["CPUExecutionProvider"],
        disabled_optimizers=list(disabled_fusions),
    )


class OnnxSentimentModel:
    """Texts in, calibrated class probabilities out (``config.LABELS`` order).

    Each post is one onnxruntime call on one core, and ``threads`` posts run
    at once, each on its own session: the int8 model quantises a call's
    activations with one scale, so a post alone in its call scores the same
    whatever else is being scored (and per-post calls pad nothing).
    """

    def __init__(
        self,
        model_path: str | Path | bytes,
        tokenizer_path: str | Path | bytes,
        max_length: int = config.TRANSFORMER_MAX_LENGTH,
        bias: Sequence[float] | None = None,
        temperature: float = 1.0,
        threads: int | None = None,
    ) -> None:
        try:
            import onnxruntime  # noqa: F401  (missing: the message below)
            from tokenizers import Tokenizer
        except ImportError as error:
            raise ModelLoadError(
                "The transformer tier needs onnxruntime and tokenizers: "
                "pip install -r requirements-transformer.txt"
            ) from error
        # bytes: already read and checked against the card (load_onnx_model).
        model = model_path if isinstance(model_path, bytes) else str(model_path)
        self.sessions = [
            single_thread_session(model)
            for _ in range(threads or config.available_cores())
        ]
        if isinstance(tokenizer_path, bytes):
            self.tokenizer = Tokenizer.from_buffer(tokenizer_path)
        else:
            self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.enable_truncation(max_length)
        self.tokenizer.no_padding()
        self.bias = np.zeros(len(config.LABELS)) if bias is None else np.array(bias)
        self.temperature = float(temperature)
        # Word pieces with a letter or digit, [UNK] excluded: punctuation
        # alone is no signal, as for the classic tier.
        vocabulary = self.tokenizer.get_vocab()
        self._wordlike = np.zeros(max(vocabulary.values()) + 1, dtype=bool)
        for piece, index in vocabulary.items():
            wordlike = any(c.isalnum() for c in piece) and not piece.startswith("[")
            self._wordlike[index] = wordlike

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text (normalized as in training, truncated)."""
        encoded = self.tokenizer.encode_batch([encoder_text(t) for t in texts])
        return [e.ids for e in encoded]

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """Raw logits, one row per text, in input order."""
        return self._logits(self.encode(texts))

    def _logits(self, ids: list[list[int]]) -> np.ndarray:
        if not ids:
            return np.zeros((0, len(config.LABELS)), dtype=np.float32)
        rows: list[np.ndarray | None] = [None] * len(ids)

        def run(worker: int) -> None:
            # onnxruntime releases the GIL while it computes.
            session = self.sessions[worker]
            for row in range(worker, len(ids), len(self.sessions)):
                tokens = np.array([ids[row]], dtype=np.int64)
                feeds = {"input_ids": tokens, "attention_mask": np.ones_like(tokens)}
                rows[row] = session.run(["logits"], feeds)[0][0]

        # Worker w scores posts w, w + sessions, ...: with fewer posts than
        # sessions, one worker per post.
        workers = min(len(self.sessions), len(ids))
        if workers == 1:
            run(0)
        else:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(run, range(workers)))
        return np.stack(rows).astype(np.float32, copy=False)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities: softmax((logits + bias) / temperature)."""
        return self.scores(texts)[0]

    def scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and, per text, the number of known word pieces with
        a letter or digit (0 means "no signal", as for the classic tier)."""
        ids = self.encode(texts)
        logits = self._logits(ids) if ids else np.zeros((0, len(config.LABELS)))
        known = np.array([int(self._wordlike[row].sum()) for row in ids], np.int64)
        return softmax((logits + self.bias) / self.temperature), known


def read_transformer_card(model_dir: str | Path) -> dict[str, Any]:
    """The card of a transformer model folder; ModelLoadError when absent."""
    path = Path(model_dir) / CARD_NAME
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelLoadError(
            f"No readable transformer card at {path} ({error}). Train one with "
            "`python -m sentiment.train --backend transformer` (see README)."
        ) from error


def save_transformer_card(model_dir: Path, card: dict[str, Any]) -> dict[str, Any]:
    """Record the SHA-256 and size of both files in the card, sign it when a
    signing key is configured, and write it."""
    model_dir = Path(model_dir)
    card = dict(card)
    card["model_sha256"] = file_sha256(model_dir / "model.onnx")
    card["tokenizer_sha256"] = file_sha256(model_dir / "tokenizer.json")
    card["model_bytes"] = (model_dir / "model.onnx").stat().st_size
    card = signed_if_configured(card, model_dir / CARD_NAME)
    text = json.dumps(card, indent=2) + "\n"
    atomic_write(model_dir / CARD_NAME, lambda tmp: tmp.write_text(text, "utf-8"))
    return card


def load_onnx_model(
    model_dir: str | Path = config.TRANSFORMER_DIR, threads: int | None = None
) -> tuple[OnnxSentimentModel, dict[str, Any]]:
    """Check the card's signature and both files against it, then load them.

    Inside ``models/`` the card must be signed by a trusted key; a folder
    elsewhere was named by whoever runs this, so an unsigned card loads there
    with a warning (a signature that does not match is refused anywhere).
    """
    model_dir = Path(model_dir)
    card = read_transformer_card(model_dir)
    trusted_path = not is_inside(model_dir, config.MODELS_DIR)
    check_signature(
        card,
        model_dir / CARD_NAME,
        trusted_path,
        trust_hint="load a model you trained yourself from a folder outside "
        f"{config.MODELS_DIR}",
    )
    files = {}
    for name, key in (
        ("model.onnx", "model_sha256"),
        ("tokenizer.json", "tokenizer_sha256"),
    ):
        path = model_dir / name
        if not path.exists():
            raise ModelLoadError(f"{path} is missing; the card expects it.")
        files[name] = verified_bytes(path, card.get(key))
    model = OnnxSentimentModel(
        files["model.onnx"],
        files["tokenizer.json"],
        int(card.get("hyperparameters", {}).get("max_length", 64)),
        bias=card.get("class_bias"),
        temperature=float(card.get("temperature", 1.0)),
        threads=threads,
    )
    return model, card
