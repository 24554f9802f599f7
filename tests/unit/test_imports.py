"""Every module of the package imports: a renamed or moved name breaks here,
not in the rarely run command that uses it (fine-tuning, the cascade cut-off)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import sentiment

# Modules that need the fine-tuning extra (torch), absent from the test venv.
OPTIONAL = {"torch", "transformers"}


@pytest.mark.parametrize(
    "name",
    sorted(m.name for m in pkgutil.walk_packages(sentiment.__path__, "sentiment.")),
)
def test_every_module_imports(name):
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name not in OPTIONAL:
            raise
        pytest.skip(f"{name} needs {error.name} (make transformer installs it)")
