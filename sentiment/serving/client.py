"""Getting a predictor: the local model, or the REST API when one is configured.

:func:`get_predictor` returns an :class:`ApiPredictor` when ``$SENTIMENT_API_URL``
is set (e.g. ``http://127.0.0.1:8000``) and the in-process predictor otherwise,
so a caller has one code path either way: ``.predict()``, ``.predict_batch()``,
``.score()``, ``.version``, ``.card``. The API key the server asks for is sent
from ``$SENTIMENT_API_KEY``. The API's answers are built from
:class:`~sentiment.model.predictor.Prediction` and turned back into it here.

Only the standard library is used, so the core install can talk to a server.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.request
from typing import Any, Sequence

import pandas as pd

from sentiment import config
from sentiment.batch.step import predictions_frame
from sentiment.model.inputs import prepare_texts
from sentiment.model.predictor import NO_TEXT, Prediction, Predictor
from sentiment.model.tiers import load_local_predictor

# Texts per request: the API's limit (config.MAX_BATCH_TEXTS), which
# this module does not import so it needs neither FastAPI nor pydantic.
BATCH_TEXTS = 1_000


class ApiError(RuntimeError):
    """The API could not be reached or refused the request; the message says why."""


class ApiPredictor:
    """Predictions from a running ``sentiment.api`` server, as :class:`Predictor` gives.

    Empty texts are answered here (status "no_text") and long texts are cut
    here, exactly as the in-process predictor does, so the server only sees
    texts it accepts; ``truncated`` is reported as if scored in-process.
    """

    def __init__(
        self,
        base_url: str,
        threshold: float = config.DEFAULT_THRESHOLD,
        timeout: float = 30.0,
        api_key: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # The key the server asks for (``$SENTIMENT_API_KEY`` unless given).
        self.api_key = api_key or config.api_key_from_env()
        self.threshold = threshold
        self.timeout = timeout
        self._card: dict[str, Any] | None = None

    @property
    def card(self) -> dict[str, Any]:
        """The server model's card (``GET /model``), fetched once."""
        if self._card is None:
            self._card = self._call("GET", "/model")
        return self._card

    @property
    def version(self) -> str:
        """The server model's version, as ``Predictor.version`` gives it."""
        return str(self._call("GET", "/health")["model_version"])

    def predict(self, text: object, threshold: float | None = None) -> Prediction:
        """Predict one text; empty or None input gives status "no_text"."""
        return self.predict_batch([text], threshold)[0]

    def predict_batch(
        self, texts: Sequence[object], threshold: float | None = None
    ) -> list[Prediction]:
        """Predict many texts, ``BATCH_TEXTS`` per request; results in input order."""
        threshold = self.threshold if threshold is None else threshold
        cleaned, truncated = prepare_texts(texts)
        results: list[Prediction] = [NO_TEXT] * len(cleaned)
        to_send = [i for i, text in enumerate(cleaned) if text]
        for start in range(0, len(to_send), BATCH_TEXTS):
            indices = to_send[start : start + BATCH_TEXTS]
            answer = self._call(
                "POST",
                "/predict/batch",
                {"texts": [cleaned[i] for i in indices], "threshold": threshold},
            )
            for i, item in zip(indices, answer["predictions"]):
                results[i] = _prediction(item, truncated=truncated[i])
        return results

    def score(
        self, texts: Sequence[object], threshold: float | None = None
    ) -> pd.DataFrame:
        """The table ``Predictor.score`` gives, from the server's predictions."""
        return predictions_frame(self.predict_batch(texts, threshold))

    def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        request = urllib.request.Request(
            self.base_url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode("utf-8"),
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.load(response)
        except urllib.error.HTTPError as e:
            raise ApiError(
                f"The sentiment API at {self.base_url} answered {e.code} to "
                f"{method} {path}: {_detail(e)}"
            ) from e
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise ApiError(
                f"The sentiment API at {self.base_url} could not be reached ({e}). "
                f"Check that it runs and that ${config.API_URL_ENV} is right."
            ) from e


def _prediction(item: dict[str, Any], truncated: bool) -> Prediction:
    fields = {f.name for f in dataclasses.fields(Prediction)}
    prediction = Prediction(**{k: v for k, v in item.items() if k in fields})
    return dataclasses.replace(prediction, truncated=truncated)


def _detail(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.load(error).get("detail", error.reason))
    except (ValueError, AttributeError, OSError):
        return str(error.reason)


def get_predictor(
    threshold: float = config.DEFAULT_THRESHOLD, backend: str | None = None
) -> Predictor | ApiPredictor:
    """The API client when ``$SENTIMENT_API_URL`` is set, else the local model
    (tier ``backend``, default ``$SENTIMENT_BACKEND`` or classic)."""
    url = config.api_url_from_env()
    if url:
        return ApiPredictor(url, threshold)
    return load_local_predictor(threshold, backend)
