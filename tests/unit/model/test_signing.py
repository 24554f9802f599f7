"""Model cards are signed; loading checks the signature, and reads each file
once, loading exactly the bytes it hashed."""

import json

import numpy as np
import pytest

from sentiment import config
from sentiment.model import artifacts
from sentiment.model.artifacts import ModelLoadError, card_path, load_fast_model
from sentiment.model.export import arrays_path
from sentiment.model.predictor import load_predictor
from sentiment.model.signing import new_private_key, public_key_hex


@pytest.fixture()
def signed_model(tiny_pipeline, tmp_path, monkeypatch):
    """The tiny model saved in a temporary models/ folder, signed by a trusted key."""
    seed = new_private_key()
    key_file = tmp_path / "signing.key"
    key_file.write_text(seed.hex())
    monkeypatch.setenv(config.SIGNING_KEY_ENV, str(key_file))
    monkeypatch.setenv(config.TRUSTED_KEYS_ENV, public_key_hex(seed))
    models = tmp_path / "models"
    monkeypatch.setattr(config, "MODELS_DIR", models)
    path = models / "model.pkl"
    artifacts.save_model(tiny_pipeline, path, {"versions": {}})
    return path


def test_signed_model_loads_from_models_dir(signed_model):
    predictor = load_predictor(signed_model)
    assert predictor.predict("i love pizza").label == "positive"
    assert predictor.card["signature"]["algorithm"] == "ed25519"


def test_untrusted_key_is_refused(signed_model, monkeypatch):
    monkeypatch.setenv(config.TRUSTED_KEYS_ENV, public_key_hex(new_private_key()))
    with pytest.raises(ModelLoadError, match="not trusted"):
        load_predictor(signed_model)
    # Vouching for the path does not bless a card signed by someone unknown.
    with pytest.raises(ModelLoadError, match="not trusted"):
        load_predictor(signed_model, allow_outside_models_dir=True)


def test_edited_card_breaks_the_signature(signed_model):
    card = json.loads(card_path(signed_model).read_text())
    card["default_threshold"] = 0.1
    card_path(signed_model).write_text(json.dumps(card))
    with pytest.raises(ModelLoadError, match="does not match its contents"):
        load_predictor(signed_model, allow_outside_models_dir=True)


def test_replacing_files_and_card_together_is_refused(signed_model, monkeypatch):
    """An attacker who rewrites the arrays and the card's hash cannot re-sign."""
    arrays = arrays_path(signed_model)
    arrays.write_bytes(arrays.read_bytes() + b"\0")
    card = json.loads(card_path(signed_model).read_text())
    import hashlib

    card["arrays_sha256"] = hashlib.sha256(arrays.read_bytes()).hexdigest()
    card_path(signed_model).write_text(json.dumps(card))
    with pytest.raises(ModelLoadError, match="does not match its contents"):
        load_predictor(signed_model)
    del card["signature"]
    card_path(signed_model).write_text(json.dumps(card))
    with pytest.raises(ModelLoadError, match="not signed"):
        load_predictor(signed_model)


def test_tampered_arrays_are_refused(signed_model):
    arrays = arrays_path(signed_model)
    arrays.write_bytes(arrays.read_bytes()[:-1] + b"\1")
    with pytest.raises(ModelLoadError, match="changed or replaced"):
        load_predictor(signed_model)


def test_unsigned_model_needs_a_trusted_path(saved_tiny_model, monkeypatch):
    monkeypatch.setattr(config, "MODELS_DIR", saved_tiny_model.parent)
    with pytest.raises(ModelLoadError, match="not signed"):
        load_predictor(saved_tiny_model)
    assert load_predictor(saved_tiny_model, allow_outside_models_dir=True)


def test_a_file_swapped_after_hashing_is_never_loaded(signed_model, monkeypatch):
    """The bytes that were hashed are the bytes loaded: swapping the file right
    after the check changes nothing, and the file is not opened again."""
    original = artifacts.verified_bytes
    reads = []

    def hash_then_swap(path, expected):
        data = original(path, expected)
        reads.append(path)
        path.write_bytes(b"swapped after the hash was checked")
        return data

    monkeypatch.setattr(artifacts, "verified_bytes", hash_then_swap)
    model, card = load_fast_model(signed_model)
    probabilities, _ = model.probabilities(["i love pizza"])
    assert probabilities[0].argmax() == 2  # positive: the genuine model
    assert reads == [arrays_path(signed_model)]


def test_committed_model_verifies_without_secrets(monkeypatch):
    """CI has no private key: the committed card verifies with the public one."""
    monkeypatch.delenv(config.TRUSTED_KEYS_ENV, raising=False)
    monkeypatch.delenv(config.SIGNING_KEY_ENV, raising=False)
    if not card_path(config.DEFAULT_MODEL_PATH).is_file():
        pytest.skip("no committed model")
    model, card = load_fast_model()
    assert card["signature"]["algorithm"] == "ed25519"
    assert np.isfinite(model.probabilities(["great day"])[0]).all()


def test_tampered_pickle_is_refused_when_explanations_load_it(signed_model):
    predictor = load_predictor(signed_model)  # scores from the arrays
    with open(signed_model, "ab") as f:
        f.write(b"\0")
    with pytest.raises(ModelLoadError, match="changed or replaced"):
        predictor.pipeline
