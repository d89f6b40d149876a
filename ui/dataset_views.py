"""The Dataset page's pictures: a page of thumbnails, one image up close, each class's count and mean image.

They depend only on the dataset, so each is made once per server and shared by every visitor looking at the
same set: ``st.cache_data`` keyed on ``dataset_key`` (the dataset's tag key: a named set's name, or an own set's
content digest, so two different sets never share an entry) and the view's own arguments. The dataset's
arrays and tag come in as ``_data`` and ``_tag`` (not hashed: the key names them). The functions live here,
in a module imported once, rather than in the page, whose file runs on every script run: a cached function
defined there is made anew on every run, and Streamlit reads its source each time to name its cache. Call them
with keyword arguments: for each positional one, Streamlit inspects the function's signature to name it.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from ann.data.named import Dataset
from ann.dataset_tag import DatasetTag
from ui import datasets, digits, pictures

PER_PAGE = 60


def split_of(data: Dataset, set_name: str):
    """The "Training" or "Test" split of ``data``."""
    return data.train if set_name == "Training" else data.test


def in_view(split, shown_class: int | str) -> np.ndarray:
    """The indices of the split's images of ``shown_class`` ("All": every image), in file order."""
    return np.arange(len(split)) if shown_class == "All" else np.flatnonzero(split.labels == shown_class)


def caption(tag: DatasetTag, split, index: int) -> str:
    """"a 3" for a digit, the class name for other sets."""
    return f"{'a ' if tag.digits else ''}{datasets.class_label(tag, int(split.labels[index]))}"


@st.cache_data(show_spinner=False, max_entries=256)
def thumbnails(dataset_key: str, set_name: str, shown_class: int | str, page: int, _data: Dataset,
               _tag: DatasetTag) -> str:
    """One page of thumbnails with their numbers and class names, as one grid (the same for every visitor)."""
    split = split_of(_data, set_name)
    shown = in_view(split, shown_class)[(page - 1) * PER_PAGE:page * PER_PAGE]
    return pictures.digit_grid(split.images[shown],
                               [f"{digits.image_number(i)}: {_tag.class_names[split.labels[i]]}" for i in shown],
                               width=56)


@st.cache_data(show_spinner=False, max_entries=256)
def up_close(dataset_key: str, set_name: str, index: int, _data: Dataset, _tag: DatasetTag) -> str:
    """One image drawn large, every pixel's value on hover."""
    split = split_of(_data, set_name)
    return pictures.pixel_values(split.images[index], size=336,
                                 label=f"{set_name} image {digits.image_number(index)}: "
                                       f"{caption(_tag, split, index)}")


@st.cache_data(show_spinner=False, max_entries=8)
def class_statistics(dataset_key: str, set_name: str, _data: Dataset, _tag: DatasetTag) -> tuple[np.ndarray, str]:
    """Images per class (n_classes,) and the mean image of each class as one grid, for one set."""
    split = split_of(_data, set_name)
    n_classes = _tag.n_classes
    counts = np.bincount(split.labels, minlength=n_classes)
    # mean(dtype=float64) accumulates without a float copy of the class's images
    means = [(split.images[split.labels == d].mean(axis=0, dtype=np.float64) if counts[d] else np.zeros(784))
             .round().astype(np.uint8) for d in range(n_classes)]
    return counts, pictures.digit_grid(means, [f"mean {c}" for c in _tag.class_names], width=84)
