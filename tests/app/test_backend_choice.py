"""The sidebar's model tier choice: classic by default, the cascade on demand,
explained word by word."""

from __future__ import annotations

import pytest

from sentiment import config
from tests.app.conftest import analyse, values

pytest.importorskip("onnxruntime", reason="pip install -r requirements-transformer.txt")


def test_the_page_starts_on_classic_and_offers_every_tier(app):
    (choice,) = [box for box in app.sidebar.selectbox if box.label == "Model"]
    assert choice.value == "classic"
    assert list(choice.options) == list(config.BACKENDS)


@pytest.mark.skipif(
    not config.TRANSFORMER_MODEL_PATH.is_file(), reason="no committed transformer"
)
def test_the_cascade_scores_and_explains_with_the_posts_own_words(app):
    (choice,) = [box for box in app.sidebar.selectbox if box.label == "Model"]
    choice.set_value("cascade").run()
    analyse(app, "the support team was wonderful today")
    assert not app.exception
    assert any("Words that pushed towards" in m for m in values(app.markdown))
