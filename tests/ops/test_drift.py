"""Drift tests, spike alerts and the monitor CLI; SemEval verdicts on ../shared."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from sentiment import config, monitor, train
from sentiment.ops import drift, drift_report, sampling, spikes, views
from sentiment.ops.drift import (
    compare,
    distribution_test,
    domain_classifier_test,
    label_mix_test,
    psi,
)
from sentiment.ops.drift_report import render_html
from sentiment.ops.logstore import PredictionLog
from sentiment.ops.reference import Sample, load_reference, reference_path
from tests.conftest import needs_semeval, tiny_dataset, write_tiny_csv

RNG = np.random.default_rng(0)


def _sample(counts, confidence, length, texts=None, oov=(5, 100)) -> Sample:
    return Sample(
        "test",
        dict(zip(config.LABELS, counts)),
        np.asarray(confidence, dtype=float),
        np.asarray(length, dtype=float),
        None,
        oov,
        texts,
    )


def test_psi_is_zero_for_the_same_distribution_and_grows_with_a_shift():
    base = RNG.normal(0, 1, 5_000)
    assert psi(base, RNG.normal(0, 1, 5_000)) < 0.02
    assert psi(base, RNG.normal(1, 1, 5_000)) > config.DRIFT_NUMERIC_PSI
    ties = np.repeat([140.0, 20.0], 500)  # tweet lengths pile up: no crash on ties
    assert psi(ties, ties) == pytest.approx(0.0)


def test_label_mix_needs_significance_and_size():
    same = label_mix_test(
        _sample((160, 450, 390), [], []), _sample((80, 225, 195), [], [])
    )
    assert not same["drift"] and same["p_value"] > 0.5
    shifted = label_mix_test(
        _sample((1_600, 4_500, 3_900), [], []), _sample((3_200, 4_800, 2_000), [], [])
    )
    assert shifted["drift"] and shifted["psi"] >= config.DRIFT_LABEL_PSI
    assert shifted["current"]["negative"] == pytest.approx(0.32)
    # Significant but tiny (huge samples): not drift.
    tiny = label_mix_test(
        _sample((160_000, 450_000, 390_000), [], []),
        _sample((163_000, 449_000, 388_000), [], []),
    )
    assert tiny["p_value"] < config.DRIFT_P_VALUE and not tiny["drift"]


def test_distribution_test_flags_a_confidence_shift_only():
    ref = RNG.uniform(0.4, 1.0, 3_000)
    assert not distribution_test(ref, RNG.uniform(0.4, 1.0, 3_000))["drift"]
    assert distribution_test(ref, RNG.uniform(0.34, 0.7, 3_000))["drift"]


def _topic_texts(things, n, seed):
    texts, _ = tiny_dataset(seed)
    rng = np.random.default_rng(seed)
    return [f"{t} {rng.choice(things)} {rng.choice(things)}" for t in texts][:n]


def test_domain_classifier_tells_topics_apart_and_not_random_splits():
    a = _topic_texts(["football", "goal", "league", "coach"], 200, 1)
    b = _topic_texts(["election", "senate", "vote", "ballot"], 200, 2)
    drifted = domain_classifier_test(a, b, permutations=200)
    assert drifted["drift"] and drifted["statistic"] > 0.9
    assert drifted["statistic"] > drifted["random_auc_95th_percentile"]
    marks = {w["word"] for w in drifted["top_words"]["current"][:4]}
    assert marks <= {"election", "senate", "vote", "ballot"}
    mixed = a + b
    RNG.shuffle(mixed)
    same = domain_classifier_test(mixed[::2], mixed[1::2], permutations=200)
    assert not same["drift"] and same["statistic"] < config.DRIFT_DOMAIN_AUC


def test_domain_classifier_is_skipped_with_a_reason_without_texts():
    result = domain_classifier_test(None, ["a"] * 50)
    assert result["drift"] is None and "--reference" in result["skipped"]


def test_report_json_and_self_contained_html():
    ref = _sample(
        (300, 400, 300), RNG.uniform(0.4, 1, 1_000), RNG.integers(10, 140, 1_000)
    )
    cur = _sample(
        (600, 300, 100), RNG.uniform(0.4, 1, 1_000), RNG.integers(10, 140, 1_000)
    )
    report = compare(ref, cur, permutations=50)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["drift_detected"] is True
    assert data["tests"]["label_mix"]["drift"] is True
    assert data["tests"]["confidence"]["drift"] is False
    assert data["tests"]["domain_classifier"]["drift"] is None
    page = render_html(report)
    assert page.count("<svg") >= 3 and "DRIFT DETECTED" in page
    assert "<script" not in page and "src=" not in page and "<link" not in page


def _series(shares, n=100, start=datetime(2026, 1, 1, tzinfo=timezone.utc)):
    index = pd.date_range(start, periods=len(shares), freq="h", name="period")
    negative = (np.asarray(shares) * n).round().astype(int)
    return pd.DataFrame(
        {"n": n, "negative": negative, "share_negative": negative / n}, index=index
    )


def test_a_negative_spike_alerts_against_its_trailing_baseline():
    shares = list(0.10 + 0.02 * np.sin(np.arange(48))) + [0.45] + [0.10] * 5
    table = spikes.negative_spikes(_series(shares), k=3, window=24)
    assert table.index[table["alert"]].tolist() == [table.index[48]]
    assert table["threshold"].iloc[48] < 0.45
    assert not spikes.negative_spikes(_series(shares), k=50, window=24)["alert"].any()
    few = spikes.negative_spikes(_series(shares, n=10), k=3, window=24, min_posts=20)
    assert not few["alert"].any()


def test_a_flat_history_does_not_turn_noise_into_alerts():
    # Identical shares give sigma 0; the binomial floor keeps +4 points quiet.
    table = spikes.negative_spikes(_series([0.10] * 30 + [0.14]), k=3, window=24)
    assert not table["alert"].any()


@pytest.fixture()
def spiky_log(tmp_path, tiny_predictor):
    log = PredictionLog(tmp_path / "p.db")
    start = datetime.now(timezone.utc).replace(minute=0, second=0) - timedelta(hours=40)
    neg, pos = "i hate my car", "i love pizza"
    for hour in range(40):
        n_neg = 30 if hour == 38 else 3 + hour % 2
        texts = [neg] * n_neg + [pos] * (40 - n_neg)
        log.append(
            "api",
            None,
            "v",
            texts,
            tiny_predictor.score(texts),
            timestamp=start + timedelta(hours=hour, minutes=5),
        )
    return log, start


def test_spikes_cli_reports_the_spike_and_exits_1(spiky_log, capsys):
    log, start = spiky_log
    code = monitor.main(["spikes", "--db", str(log.path), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 1 and result["alerts"] == 1
    assert result["periods"][0]["period"].startswith(
        (start + timedelta(hours=38)).strftime("%Y-%m-%d %H")
    )
    assert monitor.main(["spikes", "--db", str(log.path), "--since", "1h"]) == 0


def test_monitoring_view_and_status(spiky_log, capsys):
    log, _ = spiky_log
    view = views.monitoring_view(log, "hour")
    assert view.series["n"].sum() == 40 * 40
    assert len(view.alerts) == 1 and view.stats["predictions"] == 1_600
    assert monitor.main(["status", "--db", str(log.path), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["integrity"] == "ok" and status["dropped_rows"] == 0
    assert status["journal_mode"] == "wal"


def test_parse_time():
    now = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    assert sampling.parse_time("24h", now) == now - timedelta(hours=24)
    assert sampling.parse_time("7d", now) == now - timedelta(days=7)
    assert sampling.parse_time("2026-02-01").tzinfo == timezone.utc
    with pytest.raises(ValueError, match="ISO"):
        sampling.parse_time("yesterday")


@pytest.fixture(scope="module")
def trained_with_profile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("profile")
    data = write_tiny_csv(folder / "train.csv")
    model = folder / "model.pkl"
    assert train.main(["--data", str(data), "--out", str(model), "--no-progress"]) == 0
    return data, model


def test_training_writes_a_profile_without_text(trained_with_profile):
    data, model = trained_with_profile
    path = reference_path(model)
    profile = json.loads(path.read_text())
    card = json.loads(model.with_suffix(".json").read_text())
    assert profile["model_sha256"] == card["model_sha256"]
    assert profile["n"] == card["validation_metrics"]["n"]
    assert sum(profile["label_counts"].values()) == profile["n"]
    texts, _ = tiny_dataset()
    dumped = path.read_text()
    assert not any(text in dumped for text in texts)  # no post is copied
    sample = load_reference(path)
    assert sample.texts is None and len(sample.confidence) == profile["n"]


def test_drift_cli_with_the_default_profile(trained_with_profile, tmp_path, capsys):
    data, model = trained_with_profile
    common = ["--model", str(model), "--trust-model-path", "--json"]
    code = monitor.main(["drift", "--current", str(data), *common])
    report = json.loads(capsys.readouterr().out)
    assert code == int(report["drift_detected"])
    assert "skipped" in report["tests"]["domain_classifier"]
    negative = tmp_path / "negative.csv"
    pd.DataFrame({"text": ["i hate my car", "the team is awful"] * 50}).to_csv(
        negative, index=False
    )
    assert monitor.main(["drift", "--current", str(negative), *common]) == 1
    assert json.loads(capsys.readouterr().out)["tests"]["label_mix"]["drift"]


def test_committed_profile_is_small_and_textless():
    path = reference_path(config.DEFAULT_MODEL_PATH)
    if not path.is_file():
        pytest.skip(f"no committed profile at {path}")
    assert path.stat().st_size < 2_000_000
    profile = json.loads(path.read_text())
    for key in ("confidence", "length", "oov_share"):
        assert all(isinstance(v, (int, float)) for v in profile[key])
    assert "texts" not in profile


@needs_semeval
def test_semeval_train_vs_test_is_drift(committed_predictor, tmp_path, capsys):
    html = tmp_path / "report.html"
    code = monitor.main(
        [
            "drift",
            "--current",
            str(config.SEMEVAL_TEST),
            "--reference",
            str(config.SEMEVAL_TRAIN),
            "--json",
            "--html",
            str(html),
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["drift_detected"] is True
    label_mix = report["tests"]["label_mix"]
    assert label_mix["drift"] and label_mix["current"]["negative"] > 0.25
    assert report["tests"]["domain_classifier"]["drift"] is True
    assert "DRIFT DETECTED" in html.read_text()


@needs_semeval
def test_semeval_random_halves_are_not_drift(committed_predictor, tmp_path):
    frame = pd.read_csv(config.SEMEVAL_TRAIN, dtype=str, keep_default_na=False)
    order = np.random.default_rng(1).permutation(len(frame))
    half = len(frame) // 2
    frame.iloc[order[:half]].to_csv(tmp_path / "a.csv", index=False)
    frame.iloc[order[half:]].to_csv(tmp_path / "b.csv", index=False)
    report = drift.check_drift(
        tmp_path / "b.csv", tmp_path / "a.csv", committed_predictor
    )
    assert report.drift_detected is False, drift_report.format_drift(report)
    assert all(test["drift"] is False for test in report.tests.values())
