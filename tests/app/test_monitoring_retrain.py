"""The Monitoring page's "Retraining runs" section, driven by AppTest."""

from __future__ import annotations

from sentiment.ops import retrain_runs as runs
from sentiment.ops.logstore import PredictionLog
from tests.app.conftest import MONITORING, assert_no_traceback, metrics, open_page
from tests.app.conftest import values


def _gate(candidate: float, current: float) -> dict:
    return {
        "candidate": {"macro_recall": candidate},
        "current": {"macro_recall": current},
        "margin": 0.01,
    }


def _log_posts(log_db, tiny_predictor) -> PredictionLog:
    prediction_log = PredictionLog(log_db)
    texts = ["i love pizza", "i hate my car"]
    prediction_log.append("api", None, "v", texts, tiny_predictor.score(texts))
    return prediction_log


def test_without_runs_the_page_says_how_to_start_them(app, log_db, tiny_predictor):
    _log_posts(log_db, tiny_predictor).close()
    open_page(app, MONITORING)

    assert_no_traceback(app)
    assert any("sentiment.retrain --auto" in text for text in values(app.main.info))


def test_the_runs_show_as_a_table_counts_and_a_gate_chart(app, log_db, tiny_predictor):
    with _log_posts(log_db, tiny_predictor) as prediction_log:
        outcomes = [
            (runs.PROMOTED, "better", _gate(0.81, 0.78)),
            (runs.REJECTED, "macro-recall 0.40 is below the current", _gate(0.4, 0.8)),
            (runs.FAILED, "DataError: too few rows", None),
        ]
        for decision, reason, gate in outcomes:
            run_id = runs.start_run(prediction_log, "drift", {})
            runs.finish_run(prediction_log, run_id, decision, reason, {}, gate)
        runs.start_run(prediction_log, "new_files", {})  # still running
    open_page(app, MONITORING)

    assert_no_traceback(app)
    shown = metrics(app.main)
    counts = {d: shown[d.capitalize()] for d in runs.DECISIONS}
    assert counts == {"running": "1", "promoted": "1", "rejected": "1", "failed": "1"}
    table = next(d.value for d in app.main.dataframe if "decision" in d.value)
    assert table["decision"].tolist() == ["running", "failed", "rejected", "promoted"]
    assert table["candidate"].tolist()[2:] == [0.4, 0.81]
    charts = [str(c.proto) for c in app.main.get("vega_lite_chart")]
    assert any("macro-recall" in chart for chart in charts)
