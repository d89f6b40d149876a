"""What a model was trained on: a dataset's key, title and class names, kept in its model file's meta.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ann.inputs import N_CLASSES

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,63}$")  # "mnist", "fashion", "own-0123456789abcdef"
MAX_CLASS_NAME = 64  # characters of one class name (a folder's name, a line of classes.txt)
MAX_TITLE = 200


# --------------------------------------------------------------------------- what a model was trained on


@dataclass(frozen=True)
class DatasetTag:
    """What a model was trained on: the dataset's key, title and class names (label i is class_names[i])."""

    key: str
    title: str
    class_names: tuple[str, ...]

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def digits(self) -> bool:
        """Trained on handwritten digits (MNIST): drawings of digits are what it reads."""
        return self.key == "mnist"

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "classes": list(self.class_names)}

    @classmethod
    def from_json(cls, value: Any, n_outputs: int | None = None) -> DatasetTag:
        """The tag stored in a model file or a run; ValueError says what is wrong with it.

        Parameters
        ----------
        value : dict or None
            ``{"key", "title", "classes"}``; None (files written before datasets were recorded) means MNIST
            for a network of 10 outputs, else classes named by their numbers.
        n_outputs : int, optional
            The network's output nodes: the class count must equal it.
        """
        if value is None:
            if n_outputs in (None, N_CLASSES):
                return MNIST_TAG
            return cls("unknown", "unknown data", tuple(str(i) for i in range(int(n_outputs))))
        if not isinstance(value, dict):
            raise ValueError(  # noqa: TRY004 -- bad content of a file, reported as a ModelFileError
                f"its dataset entry is {type(value).__name__}, not a dict of key, title and classes")
        key, title, classes = value.get("key"), value.get("title"), value.get("classes")
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            raise ValueError(f"its dataset key {key!r} is not a dataset key (lower-case letters, digits, -)")
        if not isinstance(title, str) or not 0 < len(title) <= MAX_TITLE:
            raise ValueError(f"its dataset title {title!r} is not a name of 1 to {MAX_TITLE} characters")
        if (not isinstance(classes, list) or not classes
                or not all(isinstance(c, str) and 0 < len(c) <= MAX_CLASS_NAME for c in classes)):
            raise ValueError(f"its dataset's classes are not a list of names of 1 to {MAX_CLASS_NAME} characters")
        if n_outputs is not None and len(classes) != n_outputs:
            raise ValueError(f"it names {len(classes)} classes for a network of {n_outputs} outputs")
        return cls(key, title, tuple(classes))

    def describe(self) -> str:
        """``"Fashion-MNIST (10 classes)"``."""
        return f"{self.title} ({self.n_classes} classes)"


def mismatch(model: DatasetTag, active: DatasetTag) -> str | None:
    """What to tell someone whose model was trained on another dataset than the one in use, or None.

    Returns
    -------
    str or None
        A sentence naming both datasets, and whether the model can be scored on the active one at all
        (only when the class counts agree).
    """
    if model.key == active.key:
        return None
    if model.n_classes != active.n_classes:
        return (f"This model was trained on {model.describe()}, not on {active.describe()}: its "
                f"{model.n_classes} outputs do not match the {active.n_classes} classes, so it cannot be scored "
                f"on {active.title}. Train a model on {active.title}, or switch back to {model.title}.")
    return (f"This model was trained on {model.title}, not on {active.title}: its answers are "
            f"{_few(model.class_names)}, so on {active.title} (whose classes are {_few(active.class_names)}) its "
            "scores mean little. Train a model on it, or switch back.")


def _few(names: tuple[str, ...], shown: int = 3) -> str:
    head = ", ".join(names[:shown])
    return head + (", ..." if len(names) > shown else "")


MNIST_TAG = DatasetTag("mnist", "MNIST", tuple(str(digit) for digit in range(10)))
