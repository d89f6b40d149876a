"""Where the project's folders are: ``data/`` (datasets, shipped models) and ``runs/`` (the run store).

In a checkout (``pip install -e .`` or ``python -m ann`` from it) they sit beside ``ann/``; an ``ann`` installed
from a wheel uses the folder it is run in. ``$ANN_DATA_DIR`` and ``$ANN_RUNS_DIR`` override either.
"""

from __future__ import annotations

from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[1]
PROJECT_ROOT = _CHECKOUT if (_CHECKOUT / "pyproject.toml").exists() else Path.cwd()
DATA_DIR = PROJECT_ROOT / "data"
