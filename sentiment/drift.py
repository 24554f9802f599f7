"""Drift tests between a reference Sample and a current one, and the HTML report.

Each test reports its statistic, p-value and thresholds, and flags drift only
when the change is both significant (p < ``config.DRIFT_P_VALUE``) and large
enough to matter (an effect-size threshold): with thousands of posts a p-value
alone flags changes nobody would act on. ``drift_detected`` is true when any
test that could run flags drift.

* label_mix: chi-square test of the predicted-label counts, and their PSI.
* confidence, length: PSI over the reference's deciles, and the two-sample KS test.
* oov: rise of the share of word tokens the model's vocabulary lacks.
* domain_classifier: can a classifier tell current texts from reference texts?
  Out-of-fold ROC-AUC of a TF-IDF + LogisticRegression classifier, against the
  95th percentile of a random classifier's AUC (the same scores with shuffled
  sides), the approach Evidently uses for text; it also names the words that
  most separate the two sides.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Sequence

import numpy as np
from scipy import stats
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from sentiment import config
from sentiment.preprocess import normalize
from sentiment.reference import Sample

_PSI_FLOOR = 1e-4  # an empty bin would make PSI infinite
_PSI_BINS = 10
_TOP_WORDS = 15


@dataclass
class DriftReport:
    """All test results; ``to_dict`` is what ``--json`` prints."""

    reference: Sample
    current: Sample
    tests: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def drift_detected(self) -> bool:
        return any(test.get("drift") is True for test in self.tests.values())

    def to_dict(self) -> dict[str, Any]:
        side = lambda s: {"description": s.description, "n": s.n}  # noqa: E731
        return {
            "drift_detected": self.drift_detected,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "reference": side(self.reference),
            "current": side(self.current),
            "tests": self.tests,
            "thresholds": {
                "p_value": config.DRIFT_P_VALUE,
                "label_psi": config.DRIFT_LABEL_PSI,
                "numeric_psi": config.DRIFT_NUMERIC_PSI,
                "oov_increase": config.DRIFT_OOV_INCREASE,
                "domain_auc": config.DRIFT_DOMAIN_AUC,
            },
        }


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of ``actual`` against ``expected``'s deciles."""
    edges = np.unique(np.quantile(expected, np.linspace(0, 1, _PSI_BINS + 1)))[1:-1]
    e = np.bincount(
        np.searchsorted(edges, expected, side="right"), minlength=len(edges) + 1
    )
    a = np.bincount(
        np.searchsorted(edges, actual, side="right"), minlength=len(edges) + 1
    )
    return _psi_from_counts(e, a)


def _psi_from_counts(expected: np.ndarray, actual: np.ndarray) -> float:
    e = np.maximum(expected / expected.sum(), _PSI_FLOOR)
    a = np.maximum(actual / actual.sum(), _PSI_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def label_mix_test(reference: Sample, current: Sample) -> dict[str, Any]:
    """Chi-square on the 2 x 3 table of predicted-label counts, plus its PSI."""
    table = np.array(
        [
            [reference.label_counts[label] for label in config.LABELS],
            [current.label_counts[label] for label in config.LABELS],
        ]
    )
    observed = table[:, table.sum(axis=0) > 0]  # a label nobody got has no test
    chi2, p_value = (0.0, 1.0)
    if observed.shape[1] > 1:
        chi2, p_value, _, _ = stats.chi2_contingency(observed)
    value = _psi_from_counts(table[0], table[1])
    shares = lambda row: {  # noqa: E731
        label: round(float(n / row.sum()), 4) for label, n in zip(config.LABELS, row)
    }
    return {
        "method": "chi-square on predicted-label counts; PSI of the label shares",
        "statistic": float(chi2),
        "p_value": float(p_value),
        "psi": value,
        "threshold": {"p_value": config.DRIFT_P_VALUE, "psi": config.DRIFT_LABEL_PSI},
        "drift": bool(
            p_value < config.DRIFT_P_VALUE and value >= config.DRIFT_LABEL_PSI
        ),
        "reference": shares(table[0]),
        "current": shares(table[1]),
    }


def distribution_test(reference: np.ndarray, current: np.ndarray) -> dict[str, Any]:
    """PSI over the reference's deciles and the two-sample Kolmogorov-Smirnov test."""
    ks = stats.ks_2samp(reference, current)
    value = psi(reference, current)
    return {
        "method": "PSI over reference deciles; two-sample Kolmogorov-Smirnov",
        "statistic": float(ks.statistic),
        "p_value": float(ks.pvalue),
        "psi": value,
        "threshold": {"p_value": config.DRIFT_P_VALUE, "psi": config.DRIFT_NUMERIC_PSI},
        "drift": bool(
            ks.pvalue < config.DRIFT_P_VALUE and value >= config.DRIFT_NUMERIC_PSI
        ),
        "reference_median": float(np.median(reference)),
        "current_median": float(np.median(current)),
    }


def oov_test(reference: Sample, current: Sample) -> dict[str, Any]:
    """Rise of the out-of-vocabulary token share (current minus reference)."""
    if reference.oov_tokens is None or current.oov_tokens is None:
        return _skipped("no texts on one side to tokenize")
    ref_share = reference.oov_tokens[0] / max(reference.oov_tokens[1], 1)
    cur_share = current.oov_tokens[0] / max(current.oov_tokens[1], 1)
    rise = cur_share - ref_share
    return {
        "method": "share of word tokens missing from the model's vocabulary",
        "statistic": rise,
        "p_value": None,
        "threshold": {"increase": config.DRIFT_OOV_INCREASE},
        "drift": bool(rise >= config.DRIFT_OOV_INCREASE),
        "reference": ref_share,
        "current": cur_share,
    }


def domain_classifier_test(
    reference_texts: Sequence[str] | None,
    current_texts: Sequence[str] | None,
    seed: int = config.SEED,
    permutations: int = config.DRIFT_PERMUTATIONS,
) -> dict[str, Any]:
    """Can a classifier tell current texts from reference ones? (see module doc)."""
    if not reference_texts or not current_texts:
        return _skipped(
            "needs texts on both sides: pass --reference as a CSV (a profile holds "
            "no text) and keep text storage on in the log"
        )
    rng = np.random.default_rng(seed)
    n = min(len(reference_texts), len(current_texts), config.DRIFT_SAMPLE_ROWS)
    if n < 20:
        return _skipped(f"only {n} texts on the smaller side; need 20")
    texts = [
        side[i]
        for side in (list(reference_texts), list(current_texts))
        for i in rng.choice(len(side), n, replace=False)
    ]
    side = np.repeat([0, 1], n)
    # Plain word tokens of the normalized text: topic words are what separate
    # domains, and this is ~3x faster than the model's negation-marking tokenizer.
    vectorizer = TfidfVectorizer(
        preprocessor=normalize, lowercase=False, min_df=2, sublinear_tf=True
    )
    features = vectorizer.fit_transform(texts)
    classifier = LogisticRegression(C=1.0, max_iter=1_000)
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    scores = cross_val_predict(
        classifier, features, side, cv=folds, method="decision_function"
    )
    auc = float(roc_auc_score(side, scores))
    # Random-classifier baseline: the same scores against shuffled sides; the
    # AUC is the rank-sum of the "current" rows (Mann-Whitney).
    ranks = stats.rankdata(scores)
    random_auc = np.array(
        [
            (ranks[rng.permutation(2 * n)[:n]].sum() - n * (n + 1) / 2) / (n * n)
            for _ in range(permutations)
        ]
    )
    baseline = float(np.percentile(random_auc, 95))
    p_value = float((1 + (random_auc >= auc).sum()) / (1 + permutations))
    weights = classifier.fit(features, side).coef_[0]
    return {
        "method": "out-of-fold ROC-AUC of a TF-IDF + LogisticRegression domain "
        "classifier vs the 95th percentile of a random classifier's AUC",
        "statistic": auc,
        "p_value": p_value,
        "random_auc_95th_percentile": baseline,
        "threshold": {
            "auc": config.DRIFT_DOMAIN_AUC,
            "above": "random 95th percentile",
        },
        "drift": bool(auc > baseline and auc >= config.DRIFT_DOMAIN_AUC),
        "texts_per_side": n,
        "top_words": _top_words(vectorizer, features, side, weights),
    }


def _top_words(vectorizer, features, side, weights) -> dict[str, list[dict]]:
    words = vectorizer.get_feature_names_out()
    present = features > 0
    share_ref = np.asarray(present[side == 0].mean(axis=0)).ravel()
    share_cur = np.asarray(present[side == 1].mean(axis=0)).ravel()
    order = np.argsort(weights)
    describe = lambda i: {  # noqa: E731
        "word": str(words[i]),
        "weight": round(float(weights[i]), 3),
        "reference_share": round(float(share_ref[i]), 4),
        "current_share": round(float(share_cur[i]), 4),
    }
    return {
        "current": [describe(i) for i in order[::-1][:_TOP_WORDS]],
        "reference": [describe(i) for i in order[:_TOP_WORDS]],
    }


def _skipped(reason: str) -> dict[str, Any]:
    return {"drift": None, "skipped": reason}


def compare(
    reference: Sample,
    current: Sample,
    seed: int = config.SEED,
    permutations: int = config.DRIFT_PERMUTATIONS,
) -> DriftReport:
    """Run every drift test; raises ValueError when a side has no labelled post."""
    for sample in (reference, current):
        if sample.n == 0:
            raise ValueError(f"{sample.description} has no scored post to compare.")
    report = DriftReport(reference, current)
    report.tests["label_mix"] = label_mix_test(reference, current)
    report.tests["confidence"] = distribution_test(
        reference.confidence, current.confidence
    )
    report.tests["length"] = distribution_test(reference.length, current.length)
    report.tests["oov"] = oov_test(reference, current)
    report.tests["domain_classifier"] = domain_classifier_test(
        reference.texts, current.texts, seed, permutations
    )
    return report


# -- HTML report ---------------------------------------------------------------

_COLOURS = {"reference": "#4c78a8", "current": "#f58518"}


def _svg_bars(
    title: str, categories: Sequence[str], series: dict[str, Sequence[float]]
) -> str:
    """A grouped bar chart as inline SVG (no script, no external file)."""
    width, height, left, bottom, top = 640, 240, 40, 40, 28
    top_value = max((max(v) for v in series.values() if len(v)), default=1) or 1
    slot = (width - left - 10) / max(len(categories), 1)
    bar = slot * 0.8 / max(len(series), 1)
    scale = (height - bottom - top) / top_value
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{html.escape(title)}">',
        f'<text x="{left}" y="16" font-size="13" font-weight="bold">'
        f"{html.escape(title)}</text>",
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" '
        f'y2="{height - bottom}" stroke="#888"/>',
    ]
    for s, (name, values) in enumerate(series.items()):
        colour = _COLOURS.get(name, "#888")
        parts.append(
            f'<rect x="{width - 170 + s * 85}" y="6" width="10" height="10" '
            f'fill="{colour}"/><text x="{width - 156 + s * 85}" y="15" '
            f'font-size="11">{html.escape(name)}</text>'
        )
        for i, value in enumerate(values):
            h = value * scale
            x = left + i * slot + slot * 0.1 + s * bar
            parts.append(
                f'<rect x="{x:.1f}" y="{height - bottom - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{html.escape(name)} '
                f"{html.escape(str(categories[i]))}: {value:.3f}</title></rect>"
            )
    step = max(1, len(categories) // 10)
    for i in range(0, len(categories), step):
        x = left + i * slot + slot / 2
        parts.append(
            f'<text x="{x:.1f}" y="{height - bottom + 14}" font-size="10" '
            f'text-anchor="middle">{html.escape(str(categories[i]))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _histograms(
    title: str,
    reference: np.ndarray,
    current: np.ndarray,
    low: float,
    high: float,
    fmt: str = "{:.2f}",
) -> str:
    edges = np.linspace(low, high, 21)
    shares = {
        name: np.histogram(np.clip(values, low, high), edges)[0] / max(len(values), 1)
        for name, values in (("reference", reference), ("current", current))
    }
    labels = [fmt.format(edge) for edge in edges[:-1]]
    return _svg_bars(title, labels, {k: v.tolist() for k, v in shares.items()})


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1e-3 and value else f"{value:.4f}"
    return html.escape(str(value))


def render_html(report: DriftReport) -> str:
    """A self-contained HTML page: verdict, table of tests, charts, top words."""
    data = report.to_dict()
    verdict = "DRIFT DETECTED" if report.drift_detected else "No drift detected"
    rows = []
    for name, test in data["tests"].items():
        if test.get("skipped"):
            rows.append(
                f"<tr><td>{name}</td><td colspan=5>skipped: "
                f"{html.escape(test['skipped'])}</td></tr>"
            )
            continue
        threshold = ", ".join(f"{k} {v}" for k, v in test["threshold"].items())
        rows.append(
            f"<tr><td>{name}</td><td>{_number(test['statistic'])}</td>"
            f"<td>{_number(test.get('p_value'))}</td>"
            f"<td>{_number(test.get('psi'))}</td><td>{html.escape(threshold)}</td>"
            f"<td class={'bad' if test['drift'] else 'ok'}>"
            f"{'drift' if test['drift'] else 'no drift'}</td></tr>"
        )
    ref, cur = report.reference, report.current
    label = data["tests"]["label_mix"]
    charts = [
        _svg_bars(
            "Predicted-label mix (share of posts)",
            list(config.LABELS),
            {
                "reference": list(label["reference"].values()),
                "current": list(label["current"].values()),
            },
        ),
        _histograms("Confidence", ref.confidence, cur.confidence, 1 / 3, 1.0),
        _histograms(
            "Text length (characters)",
            ref.length,
            cur.length,
            0,
            float(np.quantile(np.concatenate([ref.length, cur.length]), 0.99)) or 1,
            "{:.0f}",
        ),
    ]
    if ref.oov_share is not None and cur.oov_share is not None:
        charts.append(
            _histograms(
                "Out-of-vocabulary share per post",
                ref.oov_share,
                cur.oov_share,
                0,
                1,
                "{:.1f}",
            )
        )
    words = data["tests"]["domain_classifier"].get("top_words")
    word_tables = ""
    if words:
        for side in ("current", "reference"):
            items = "".join(
                f"<tr><td>{html.escape(w['word'])}</td><td>{w['weight']}</td>"
                f"<td>{w['reference_share']:.2%}</td>"
                f"<td>{w['current_share']:.2%}</td></tr>"
                for w in words[side]
            )
            word_tables += (
                f"<h3>Words that mark {side} posts</h3><table><tr><th>word</th>"
                "<th>weight</th><th>in reference</th><th>in current</th></tr>"
                f"{items}</table>"
            )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drift report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; max-width: 60em; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; }}
.bad {{ background: #fdd; }} .ok {{ background: #dfd; }}
.verdict {{ font-size: 1.4em; padding: 0.5em; }}
</style></head><body>
<h1>Drift report</h1>
<p class="verdict {'bad' if report.drift_detected else 'ok'}">{verdict}</p>
<p>Reference: {html.escape(ref.description)}: {ref.n:,} scored posts<br>
Current: {html.escape(cur.description)}: {cur.n:,} scored posts<br>
Created {data['created']}. A test flags drift when p &lt; {config.DRIFT_P_VALUE}
and its effect passes the threshold shown.</p>
<table><tr><th>test</th><th>statistic</th><th>p-value</th><th>PSI</th>
<th>thresholds</th><th>verdict</th></tr>{''.join(rows)}</table>
{''.join(f'<figure>{chart}</figure>' for chart in charts)}
{word_tables}
</body></html>
"""
