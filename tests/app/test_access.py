"""Sign-in for Monitoring and Review (app_pages/access.py), via AppTest; and two
reviewers' conflicting labels on the Review page."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from sentiment import config
from sentiment.ops.logstore import PredictionLog
from sentiment.ops.reviewers import set_reviewer
from tests.app.conftest import (
    APP,
    MONITORING,
    REVIEW,
    TIMEOUT_S,
    analyse,
    assert_no_traceback,
    click,
    sign_in,
    sign_in_form_shown,
    values,
)
from tests.app.test_review import edit_review


def test_anonymous_visitors_get_a_sign_in_form_instead_of_logged_posts(app):
    analyse(app, "zzqx vvbn")  # a logged post that needs review
    for page in (REVIEW, MONITORING):
        app.switch_page(page).run()
        assert_no_traceback(app)
        assert sign_in_form_shown(app)
        assert not app.main.data_editor and not app.main.dataframe
        assert not app.main.metric


@pytest.mark.parametrize(
    "name, password", [("ana", "not her password"), ("eve", "a long test password")]
)
def test_a_wrong_password_or_unknown_name_is_refused(app, name, password):
    app.switch_page(REVIEW).run()
    sign_in(app, name, password)
    assert values(app.main.error) == ["Wrong name or password."]
    assert sign_in_form_shown(app) and not app.main.data_editor


def test_the_right_password_opens_review_and_the_reviewer_is_recorded(app, log_db):
    analyse(app, "zzqx vvbn")
    app.switch_page(REVIEW).run()
    sign_in(app, "ana", "a long test password")
    assert not sign_in_form_shown(app) and app.main.data_editor
    assert "Review queue" in [s.value for s in app.main.subheader]
    assert any("Signed in as **ana**" in c.value for c in app.sidebar.caption)

    edit_review(app, {0: "neutral"})

    with PredictionLog(log_db) as prediction_log:
        history = prediction_log.correction_history()
    assert history[["label", "reviewer"]].values.tolist() == [["neutral", "ana"]]
    app.switch_page(MONITORING).run()  # signed in for the whole session
    assert not sign_in_form_shown(app) and app.main.metric
    click(app, "Sign out")
    assert sign_in_form_shown(app)


def test_without_an_accounts_file_the_pages_say_how_to_add_one(app, monkeypatch):
    monkeypatch.setenv(config.USERS_FILE_ENV, str(config.PROJECT_ROOT / "nosuch.toml"))
    app.switch_page(REVIEW).run()
    (warning,) = values(app.main.warning)
    assert "python -m sentiment.users add NAME" in warning
    assert not sign_in_form_shown(app)


def test_two_reviewers_with_different_labels_see_a_disagreement(
    app, log_db, reviewer_accounts
):
    set_reviewer(reviewer_accounts, "bo", "bo's long password")
    analyse(app, "zzqx vvbn")
    other = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()
    for session, name, password in [
        (app, "ana", "a long test password"),
        (other, "bo", "bo's long password"),
    ]:  # both load the same queue before either saves
        session.switch_page(REVIEW).run()
        sign_in(session, name, password)
        assert session.main.data_editor[0].value["text"].tolist() == ["zzqx vvbn"]

    edit_review(app, {0: "positive"})
    edit_review(other, {0: "negative"})

    assert any("disagree" in w for w in values(other.main.warning))
    queue = other.main.data_editor[0].value
    assert queue["review"].tolist() == ["disagreement: ana: positive, bo: negative"]
    with PredictionLog(log_db) as prediction_log:
        assert prediction_log.feedback_rows() == ([], [], [])  # not agreed
        assert len(prediction_log.correction_history()) == 2  # nothing overwritten
