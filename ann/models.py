"""The models ann ships in ``data/``: their stable names, files, and which one is the default.

Each shipped model is made by one command line (``command``), so anyone can rebuild it. The dashboard
offers them by ``name`` (a stable identifier that caches and links may key on) and starts every session
with :data:`DEFAULT_MODEL`, the one that reads handwriting from outside MNIST best
(``bench/real_handwriting.py``); ``python -m ann predict`` uses it when no ``--model`` is given.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ann.paths import DATA_DIR

__all__ = ["ShippedModel", "SHIPPED_MODELS", "DEFAULT_MODEL", "DEFAULT_MODEL_ENV", "DATA_DIR", "shipped_models",
           "shipped_model", "shipped_for_preset", "default_name", "default_model"]



@dataclass(frozen=True)
class ShippedModel:
    """A model file that ships with ann."""

    name: str  # stable identifier: "handwriting", "seed"
    title: str  # what the dashboard's picker shows
    filename: str  # in data/
    command: str  # the command line that made it
    preset: str  # the ann.config preset that command trains (its figures are the file's own, not typed here)
    description: str  # one sentence: what it is and what it is good at

    @property
    def path(self) -> Path:
        return DATA_DIR / self.filename

    @property
    def label(self) -> str:
        """The file as the repository names it, ``data/<filename>``."""
        return f"data/{self.filename}"


SHIPPED_MODELS: tuple[ShippedModel, ...] = (
    ShippedModel(
        name="handwriting",
        title="Handwriting (reads real handwriting best)",
        filename="handwriting.npz",
        command="python -m ann train --preset handwriting --float16 --out data/handwriting.npz",
        preset="handwriting",
        description="784-800-800-10 ReLU trained with random rotations, shifts, elastic distortions and "
        "strokes thinned and thickened: the one that reads handwriting from outside MNIST best.",
    ),
    ShippedModel(
        name="seed",
        title="Seed classic (the blog's network)",
        filename="pretrained.npz",
        command="python -m ann train --preset seed --out data/pretrained.npz",
        preset="seed",
        description="The seed blog's 784-200-10 sigmoid network, trained exactly as the blog does.",
    ),
)
DEFAULT_MODEL = "handwriting"
DEFAULT_MODEL_ENV = "ANN_DEFAULT_MODEL"  # names another shipped model as the default (tests, a server)


def shipped_models() -> list[ShippedModel]:
    """The shipped models whose files are present, the default first."""
    return [model for model in SHIPPED_MODELS if model.path.is_file()]


def shipped_model(name: str) -> ShippedModel:
    """The shipped model called ``name``; KeyError names the known ones."""
    for model in SHIPPED_MODELS:
        if model.name == name:
            return model
    raise KeyError(f"no shipped model {name!r}; the shipped models are: "
                   f"{', '.join(m.name for m in SHIPPED_MODELS)}")


def shipped_for_preset(preset: str) -> ShippedModel | None:
    """The shipped model made with ``preset`` (whose file is present), or None."""
    return next((model for model in shipped_models() if model.preset == preset), None)


def default_name() -> str:
    """The default model's name: ``$ANN_DEFAULT_MODEL`` when it names a shipped model (a server that should
    start its visitors on another one), else :data:`DEFAULT_MODEL`."""
    chosen = os.environ.get(DEFAULT_MODEL_ENV, "").strip()
    return chosen if chosen in {m.name for m in SHIPPED_MODELS} else DEFAULT_MODEL


def default_model() -> ShippedModel | None:
    """The default model (:func:`default_name`) if its file is present, else the first shipped model
    present, else None."""
    present = shipped_models()
    wanted = default_name()
    for model in present:
        if model.name == wanted:
            return model
    return present[0] if present else None
