"""Every tier against the lexicon tools on the SemEval-2017 test set, in one run.

    python benchmarks/compare_tiers.py [--latency-posts 200] [--dollars-per-hour 0.085]

Systems: VADER, TextBlob, the classic model, frozen MiniLM embeddings + LR
(needs build/frozen_minilm/model.onnx from benchmarks/export_frozen_encoder.py;
the LR is fitted here on a seeded sample of train.csv), the fine-tuned
transformer and the cascade. For each it reports test macro-recall,
macro-F1 and ECE (10 bins of the top-class confidence; n/a for tools without
probabilities), single-post latency p50/p99 (``predict`` one post at a time on
``--latency-posts`` test posts), batch posts/s (the whole test set in one
``score`` call, all cores), size on disk, resident memory of a fresh process
that loads the model, the training time its card records, and the cost of a
million posts on one 2-core machine at ``--dollars-per-hour`` (default: an
on-demand 2-vCPU cloud VM). The cascade's share of posts sent to the
transformer is printed too. Results go to ``benchmarks/compare_tiers.md``.
The test set is for reporting only: nothing here is tuned on it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression

from sentiment import config
from sentiment.files.labelled import load_labelled
from sentiment.model.metrics import compute_metrics
from sentiment.model.tiers import load_predictor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_models import textblob_labeller, vader_labeller  # noqa: E402

OUTPUT = Path(__file__).resolve().parent / "compare_tiers.md"
FROZEN = config.PROJECT_ROOT / "build" / "frozen_minilm" / "model.onnx"
# Probabilities (config.LABELS order) for a list of posts, or None (labels only).
Scorer = Callable[[Sequence[str]], tuple[list[str], np.ndarray | None]]


def predictor_scorer(predictor: Any) -> Scorer:
    def score(texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        table = predictor.score(list(texts))
        columns = [f"prob_{label}" for label in config.LABELS]
        return table["sentiment"].tolist(), table[columns].to_numpy(float)

    return score


def labeller_scorer(labeller: Callable[[Sequence[str]], list[str]]) -> Scorer:
    return lambda texts: (labeller(texts), None)


def frozen_minilm_scorer(train_texts: list[str], train_labels: list[str]) -> Scorer:
    """Frozen MiniLM sentence embeddings + LogisticRegression (balanced)."""
    from sentiment.model.transformer import OnnxSentimentModel

    encoder = OnnxSentimentModel(FROZEN, config.TRANSFORMER_TOKENIZER_PATH)
    started = time.perf_counter()
    model = LogisticRegression(max_iter=2_000, C=1.0, class_weight="balanced")
    model.fit(encoder.logits(train_texts), train_labels)
    frozen_minilm_scorer.training_seconds = time.perf_counter() - started
    order = [list(model.classes_).index(label) for label in config.LABELS]

    def score(texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        probabilities = model.predict_proba(encoder.logits(list(texts)))[:, order]
        return [config.LABELS[i] for i in probabilities.argmax(1)], probabilities

    return score


def latency_ms(score: Scorer, texts: Sequence[str]) -> tuple[float, float]:
    """p50 and p99 of scoring one post at a time, in milliseconds."""
    seconds = []
    for text in texts:
        started = time.perf_counter()
        score([text])
        seconds.append(time.perf_counter() - started)
    p50, p99 = np.percentile(seconds, [50, 99]) * 1000
    return float(p50), float(p99)


def loaded_memory_mb(backend: str) -> float | None:
    """Resident memory (MB) of a fresh Python that loads one tier and scores a post."""
    code = (
        "import psutil; from sentiment.model.tiers import load_predictor; "
        f"p = load_predictor(backend={backend!r}); p.predict('hello'); "
        "print(psutil.Process().memory_info().rss / 1e6)"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    return float(run.stdout.split()[-1]) if run.returncode == 0 else None


def disk_mb(*paths: Path) -> float:
    return sum(p.stat().st_size for p in paths if p.exists()) / 1e6


def row(
    name: str,
    score: Scorer,
    test: Any,
    latency_posts: int,
    dollars_per_hour: float,
) -> dict[str, Any]:
    """Accuracy, calibration, latency and throughput of one system."""
    started = time.perf_counter()
    predicted, probabilities = score(test.texts)
    seconds = time.perf_counter() - started
    confidence = None if probabilities is None else probabilities.max(1)
    metrics = compute_metrics(test.labels, predicted, confidence)
    p50, p99 = latency_ms(score, test.texts[:latency_posts])
    posts_per_s = len(test.texts) / seconds
    print(
        f"{name}: macro-recall {metrics['macro_recall']:.4f}, "
        f"{posts_per_s:,.0f} posts/s, p50 {p50:.1f} ms",
        flush=True,
    )
    return {
        "system": name,
        "macro_recall": metrics["macro_recall"],
        "macro_f1": metrics["macro_f1"],
        "ece": metrics.get("expected_calibration_error"),
        "p50_ms": p50,
        "p99_ms": p99,
        "posts_per_s": posts_per_s,
        "dollars_per_million": 1e6 / posts_per_s / 3600 * dollars_per_hour,
    }


def markdown(rows: list[dict[str, Any]]) -> str:
    head = (
        "| system | macro-recall | macro-F1 | ECE | p50 ms | p99 ms | posts/s | "
        "disk MB | memory MB | training | $ per 1M posts |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |"
    )

    def fmt(value: Any, spec: str) -> str:
        return "n/a" if value is None else format(value, spec)

    lines = [head]
    for r in rows:
        lines.append(
            f"| {r['system']} | {r['macro_recall']:.3f} | {r['macro_f1']:.3f} | "
            f"{fmt(r['ece'], '.3f')} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
            f"{r['posts_per_s']:,.0f} | {fmt(r.get('disk_mb'), '.1f')} | "
            f"{fmt(r.get('memory_mb'), '.0f')} | {r.get('training', 'none')} | "
            f"{r['dollars_per_million']:.4f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=Path, default=config.SEMEVAL_TRAIN)
    parser.add_argument("--test", type=Path, default=config.SEMEVAL_TEST)
    parser.add_argument("--latency-posts", type=int, default=200)
    parser.add_argument("--frozen-train-posts", type=int, default=8_000)
    parser.add_argument("--dollars-per-hour", type=float, default=0.085)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    test = load_labelled(args.test)
    classic = load_predictor()
    cascade = load_predictor(backend="cascade")
    transformer = cascade.transformer
    classic_card, transformer_card = classic.card, transformer.card
    systems: list[tuple[str, Scorer, dict[str, Any]]] = [
        ("VADER (compound ±0.05)", labeller_scorer(vader_labeller()), {}),
        ("TextBlob (polarity sign)", labeller_scorer(textblob_labeller()), {}),
        (
            "classic (TF-IDF + lexicons + vectors, LR)",
            predictor_scorer(classic),
            {
                # The fitted model carries its word vectors: model.pkl is all.
                "disk_mb": disk_mb(config.DEFAULT_MODEL_PATH),
                "memory_mb": loaded_memory_mb("classic"),
                "training": f"{classic_card.get('training_seconds')} s, 2 CPU cores",
            },
        ),
    ]
    if FROZEN.exists() and args.frozen_train_posts > 0:
        train = load_labelled(args.train)
        rng = np.random.default_rng(config.SEED)
        sample = rng.permutation(len(train.texts))[: args.frozen_train_posts]
        scorer = frozen_minilm_scorer(
            [train.texts[i] for i in sample], [train.labels[i] for i in sample]
        )
        systems.append(
            (
                f"frozen MiniLM embeddings + LR ({len(sample):,} train posts)",
                scorer,
                {
                    "disk_mb": disk_mb(FROZEN),
                    "training": f"{frozen_minilm_scorer.training_seconds:.0f} s, "
                    "2 CPU cores",
                },
            )
        )
    else:
        print(f"skipping frozen MiniLM + LR ({FROZEN}, --frozen-train-posts)")
    trained = transformer_card.get("training_seconds")
    systems += [
        (
            "fine-tuned MiniLM (int8 ONNX)",
            predictor_scorer(transformer),
            {
                "disk_mb": disk_mb(
                    config.TRANSFORMER_MODEL_PATH, config.TRANSFORMER_TOKENIZER_PATH
                ),
                "memory_mb": loaded_memory_mb("transformer"),
                "training": f"{trained} s, 2 shared CPU cores",
            },
        ),
        (
            f"cascade (cut-off {cascade.cutoff}"
            + (" + negation routing" if cascade.route_negation else "")
            + (
                f", classic weight {cascade.classic_weight:g})"
                if cascade.classic_weight
                else ")"
            ),
            predictor_scorer(cascade),
            {
                "memory_mb": loaded_memory_mb("cascade"),
                "training": "both, + cut-off on a train split",
            },
        ),
    ]
    rows = []
    for name, scorer, extra in systems:
        if name.startswith("cascade"):
            cascade.sent = cascade.scored = 0
        rows.append(
            row(name, scorer, test, args.latency_posts, args.dollars_per_hour) | extra
        )
        if name.startswith("cascade"):
            rows[-1]["disk_mb"] = rows[2]["disk_mb"] + rows[-2]["disk_mb"]
            # The whole-set pass is the first len(test) posts scored.
            share = cascade.sent / cascade.scored
            rows[-1]["share_sent"] = share
            print(f"cascade sent {share:.1%} of posts scored to the transformer")
    table = markdown(rows)
    share = next(r["share_sent"] for r in rows if "share_sent" in r)
    text = (
        f"SemEval-2017 test set ({len(test.texts):,} tweets), one run on this "
        f"machine; written by `python benchmarks/compare_tiers.py`. Cost at "
        f"${args.dollars_per_hour}/h for one 2-core machine. The cascade sent "
        f"{share:.1%} of the posts to the transformer.\n\n{table}\n"
    )
    args.output.write_text(text, encoding="utf-8")
    args.output.with_suffix(".json").write_text(json.dumps(rows, indent=2))
    print("\n" + table + f"\n\nWrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
