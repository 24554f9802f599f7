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

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from scipy import stats
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from sentiment import config
from sentiment.files.formats import DataError
from sentiment.model.predictor import Predictor, load_predictor
from sentiment.model.preprocess import normalize
from sentiment.ops.reference import Sample, reference_path, sample_indices
from sentiment.ops.sampling import load_sample

log = logging.getLogger(__name__)


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
        for i in sample_indices(len(side), n, rng)
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


def default_reference(
    model_path: str | Path | None, shown_as: str | Path | None = None
) -> Path:
    """The reference profile beside the model; a clear error if there is none.

    ``shown_as`` names the model in that error when ``model_path`` is a
    download of it (a URL's model, in a temporary folder).
    """
    path = reference_path(model_path or config.DEFAULT_MODEL_PATH)
    if not path.is_file():
        where = f"beside {shown_as}" if shown_as and shown_as != model_path else path
        raise DataError(
            f"No reference profile {where}. Training writes one beside the model "
            "(python -m sentiment.train); or compare with the training data: "
            "--reference train.csv."
        )
    return path


def check_drift(
    current: str | Path,
    reference: str | Path | None = None,
    predictor: Predictor | None = None,
    text_col: str = "text",
    since: datetime | None = None,
    until: datetime | None = None,
    size: int = config.DRIFT_SAMPLE_ROWS,
    seed: int = config.SEED,
) -> DriftReport:
    """Compare ``current`` with ``reference`` (default: the model's profile).

    Both sides are sampled (``size`` posts each, fixed ``seed``) so a check
    takes seconds whatever the volume.
    """
    predictor = predictor or load_predictor()
    reference = reference or default_reference(None)
    _warn_if_profile_is_stale(reference, predictor)
    ref = load_sample(reference, predictor, text_col, None, None, size, seed)
    cur = load_sample(current, predictor, text_col, since, until, size, seed)
    return compare(ref, cur, seed)


def _warn_if_profile_is_stale(reference: str | Path, predictor: Predictor) -> None:
    if Path(reference).suffix.lower() != ".json":
        return
    try:
        profiled = json.loads(Path(reference).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # load_reference reports it
    model = predictor.card.get("model_sha256")
    if profiled.get("model_sha256") != model:
        log.warning(
            "The reference profile %s was made for model %s, not the one in use "
            "(%s): retrain to refresh it, or pass --reference with the training data.",
            reference,
            str(profiled.get("model_sha256"))[:12],
            str(model)[:12],
        )
