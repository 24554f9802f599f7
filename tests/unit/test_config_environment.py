"""What importing ``sentiment.config`` sets up for every command."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

_BLAS_THREADS = """
import sentiment.config, numpy, threadpoolctl
print(sum(i["num_threads"] for i in threadpoolctl.threadpool_info()
          if i["internal_api"] == "openblas"))
"""


@pytest.mark.parametrize("asked, expected", [(None, "1"), ("2", "2")])
def test_commands_start_with_one_blas_thread_unless_asked(asked, expected):
    # Idle OpenBLAS threads spin for ~0.1 CPU s at every start; scoring calls
    # no BLAS. A user's own OPENBLAS_NUM_THREADS is kept.
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if asked is not None:
        env["OPENBLAS_NUM_THREADS"] = asked
    done = subprocess.run(
        [sys.executable, "-c", _BLAS_THREADS],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == expected
