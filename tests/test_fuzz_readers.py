"""Every reader of uploads and stored files, fed seeded mutations of a valid file (tests/fuzz_readers.py).

Each reader runs in its own child (one BLAS thread, its address space limited to its baseline plus
``LIMIT_MB``) and must answer every mutation with a valid result or one of the app's own exceptions (whose
message is short), never another exception, and within ``PEAK_MB`` of its baseline. The seeds are fixed: a
failure names its case, which runs again alone with ``python tests/fuzz_readers.py READER CASES SEED``.
About 3,000 cases in all, half a minute on one core.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux's /proc and RLIMIT_AS")

TESTS = Path(__file__).parent
LIMIT_MB = 768  # the child's address space above its baseline
PEAK_MB = 48  # resident memory above the baseline: measured 0.1-3.2 MB (2026-12), files of a few KB
CASES = {  # reader: mutations (the zip reads twenty images a case, the others one file)
    "model": 600, "checkpoint": 400, "csv": 500, "csv_dataset": 300, "idx_images": 400, "idx_labels": 300,
    "image": 500, "zip": 120,
}


@pytest.mark.parametrize("reader", list(CASES))
def test_a_mutated_file_is_read_or_refused_clearly_in_bounded_memory(reader):
    done = subprocess.run([sys.executable, str(TESTS / "fuzz_readers.py"), reader, str(CASES[reader]), "21",
                           "--limit-mb", str(LIMIT_MB)], capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1"), check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["unexpected"] == [], result
    assert result["ok"] + result["clear"] == CASES[reader]
    # the mutations reach the readers' checks: most are refused, and the readers still read what is valid
    assert result["clear"] >= CASES[reader] // 2, result
    assert result["peak_above_baseline_mb"] <= PEAK_MB, result
