"""Milliseconds a post for transformer graphs, one post a call on one thread,
with and without onnxruntime's SkipLayerNormalization fusion, in alternating
rounds; and how far each graph's logits are from the first one's.

    git show f7db3df:models/transformer/model.onnx > build/before.onnx
    python benchmarks/transformer_graph.py build/before.onnx \
        models/transformer/model.onnx

Posts: a seeded sample of train.csv, tokenized as the tier does. Used for
the graph rewrites of 2026-12-03 (benchmarks/results.md).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from sentiment import config
from sentiment.files.labelled import load_labelled
from sentiment.model.transformer import (
    SLOW_FUSIONS,
    OnnxSentimentModel,
    single_thread_session,
)


def run(sess, posts: list[list[int]]) -> tuple[float, np.ndarray]:
    """Milliseconds a post, and the logits."""
    rows = []
    start = time.perf_counter()
    for ids in posts:
        tokens = np.array([ids], dtype=np.int64)
        feeds = {"input_ids": tokens, "attention_mask": np.ones_like(tokens)}
        rows.append(sess.run(["logits"], feeds)[0][0])
    return (time.perf_counter() - start) / len(posts) * 1e3, np.array(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("graphs", nargs="+", type=Path)
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", type=Path, default=config.SEMEVAL_DIR / "train.csv")
    args = parser.parse_args(argv)

    texts = load_labelled(args.data).texts
    chosen = np.random.default_rng(config.SEED).choice(len(texts), args.posts)
    tokenizer = OnnxSentimentModel(
        config.TRANSFORMER_MODEL_PATH, config.TRANSFORMER_TOKENIZER_PATH, threads=1
    )
    posts = tokenizer.encode([texts[i] for i in chosen])
    variants = {
        (graph, fused): single_thread_session(str(graph), () if fused else SLOW_FUSIONS)
        for graph in args.graphs
        for fused in (True, False)
    }
    times: dict[tuple, list[float]] = {key: [] for key in variants}
    logits = {}
    for _ in range(args.rounds):
        for key, sess in variants.items():
            ms, logits[key] = run(sess, posts)
            times[key].append(ms)
    reference = logits[(args.graphs[0], True)]
    print(f"{args.posts} posts of {args.data.name}, {args.rounds} alternating rounds")
    print(
        "| graph | SkipLayerNorm fusion | ms a post (median) | max logit difference |"
    )
    print("| --- | --- | ---: | ---: |")
    for (graph, fused), values in times.items():
        difference = np.abs(logits[(graph, fused)] - reference).max()
        print(
            f"| {graph} | {'on' if fused else 'off'} | {np.median(values):.3f} "
            f"| {difference:.3f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
