"""What a model card records beyond metrics: library versions, the git commit,
data files' hashes and label counts, and the word-vector file."""

from __future__ import annotations

import platform
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

import joblib
import nltk
import numpy as np
import pandas as pd
import scipy
import sklearn

from sentiment import config
from sentiment.files.storage import file_sha256


def library_versions() -> dict[str, str]:
    """Versions that decide whether a pickle loads and predicts the same."""
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "nltk": nltk.__version__,
        "joblib": joblib.__version__,
    }


def git_commit() -> str | None:
    """The checkout's commit (with "-dirty" if it has changes), or None outside git."""
    try:
        run = lambda *cmd: subprocess.run(  # noqa: E731
            cmd, cwd=config.PROJECT_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        commit = run("git", "rev-parse", "HEAD")
        dirty = run("git", "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("-dirty" if dirty else "")


def describe_file(path: str | Path, labels: Sequence[str]) -> dict[str, Any]:
    """A data file as the card records it: name, SHA-256, rows and label counts."""
    counts = Counter(labels)
    return {
        "file": Path(path).name,
        "sha256": file_sha256(path),
        "rows_used": len(labels),
        "label_counts": {label: counts[label] for label in config.LABELS},
    }


def describe_vectors(pipeline: Any) -> dict[str, Any] | None:
    """The word-vectors file the model was fitted with (None when the block is off)."""
    union = pipeline.named_steps["features"]
    if "vectors" not in union.named_transformers:
        return None
    path = union.named_transformers["vectors"].source_path()
    return {"file": path.name, "sha256": file_sha256(path)}


def jsonable(params: dict[str, Any]) -> dict[str, Any]:
    """Hyperparameters as JSON writes them back (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}
