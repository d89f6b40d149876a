"""Which dataset: MNIST and the sets published in its format, their class names, and the dataset container.

Three *named* datasets share MNIST's format (four gzipped IDX files: 60,000 training and 10,000 test images,
28x28 grey, ten classes) and its file names, so each lives in its own folder under the data folder
(``data/`` or ``$ANN_DATA_DIR``):

=========  ===================  ======================  =========================================
key        title                folder                  classes
=========  ===================  ======================  =========================================
mnist      MNIST                the data folder itself  the digits 0-9
fashion    Fashion-MNIST        ``fashion/``            T-shirt/top, Trouser, ... Ankle boot
kmnist     Kuzushiji-MNIST      ``kmnist/``             ten cursive hiragana: o (お), ki (き), ...
=========  ===================  ======================  =========================================

Each is downloaded on first use from its public mirrors and checked against its published md5 sums, by
``ann.data``'s download (atomic writes, the same offline message saying where to put the files by hand).
A visitor's own data (``ann.data.own``) comes out as the same :class:`Dataset`, with its own key.

A model remembers what it was trained on as a :class:`DatasetTag` (key, title, class names): model files
keep it in their ``meta`` (``ann.model_io``), and :func:`mismatch` says when a model meets another dataset.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ann.data.mnist import (
    MNIST_PUBLISHED,
    Published,
    _find_file,
    _md5,
    default_data_dir,
    ensure_mnist,
    load_mnist,
    load_mnist_mapped,
    mnist_status,
)
from ann.data.split import ProgressCallback, Split
from ann.dataset_tag import KEY_PATTERN, MNIST_TAG, DatasetTag


class UnknownDatasetError(ValueError):
    """A dataset key that names no dataset; the message lists the known ones."""


# --------------------------------------------------------------------------- the named datasets


@dataclass(frozen=True)
class NamedDataset:
    """A dataset published in MNIST's format, downloaded on first use.

    Attributes
    ----------
    key : str
        The short name (``--dataset`` on the command line).
    title : str
        Its published name.
    class_names : tuple of str
        Label ``i`` is ``class_names[i]``.
    subfolder : str
        Its folder under the data folder ("" for MNIST, which keeps the place it always had).
    published : ann.data.mnist.Published
        Its files, md5 sums, sizes and mirrors.
    digits : bool
        Handwritten digits 0-9: what the Draw page's drawings are.
    about : str
        One sentence on what the images show.
    credit : str
        Who made it, and its licence.
    """

    key: str
    title: str
    class_names: tuple[str, ...]
    subfolder: str
    published: Published
    digits: bool
    about: str
    credit: str

    @property
    def tag(self) -> DatasetTag:
        return DatasetTag(self.key, self.title, self.class_names)


# The md5 sums of the gzipped files, each checked against two independent sources:
# - Fashion-MNIST: the dataset's own README (zalandoresearch/fashion-mnist, "Get the Data") and torchvision's
#   datasets/mnist.py (class FashionMNIST);
# - Kuzushiji-MNIST: torchvision's datasets/mnist.py (class KMNIST) and the R package torchvision
#   (mlverse/torchvision, R/dataset-mnist.R, kmnist_dataset); its own README publishes no sums.
# Sizes (progress totals only) are those the mirrors report (Keras's and torchvision's download logs).
# Neither set publishes the md5 of the decompressed files, so only the .gz files are accepted here.
FASHION_PUBLISHED = Published(
    title="Fashion-MNIST",
    files={
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
    sizes={
        "train-images-idx3-ubyte.gz": 26_421_880,
        "train-labels-idx1-ubyte.gz": 29_515,
        "t10k-images-idx3-ubyte.gz": 4_422_102,
        "t10k-labels-idx1-ubyte.gz": 5_148,
    },
    raw_md5={},
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",  # Zalando's own (torchvision uses it)
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",  # Keras's copy, the same files
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
)
KMNIST_PUBLISHED = Published(
    title="Kuzushiji-MNIST",
    files={
        "train-images-idx3-ubyte.gz": "bdb82020997e1d708af4cf47b453dcf7",
        "train-labels-idx1-ubyte.gz": "e144d726b3acfaa3e44228e80efcd344",
        "t10k-images-idx3-ubyte.gz": "5c965bf0a639b31b8f53240b1b52f4d7",
        "t10k-labels-idx1-ubyte.gz": "7320c461ea6c1c855c0b718fb2a4b134",
    },
    sizes={
        "train-images-idx3-ubyte.gz": 18_165_135,
        "train-labels-idx1-ubyte.gz": 29_497,
        "t10k-images-idx3-ubyte.gz": 3_041_136,
        "t10k-labels-idx1-ubyte.gz": 5_120,
    },
    raw_md5={},
    mirrors=(
        "https://codh.rois.ac.jp/kmnist/dataset/kmnist/",  # ROIS-CODH, who made it
        "http://codh.rois.ac.jp/kmnist/dataset/kmnist/",  # the address its README and torchvision give
    ),
)

NAMED: dict[str, NamedDataset] = {
    "mnist": NamedDataset(
        key="mnist", title="MNIST", class_names=MNIST_TAG.class_names, subfolder="",
        published=MNIST_PUBLISHED, digits=True,
        about="handwritten digits 0-9",
        credit="Yann LeCun, Corinna Cortes and Christopher J.C. Burges; CC BY-SA 3.0"),
    "fashion": NamedDataset(
        key="fashion", title="Fashion-MNIST",
        class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                     "Ankle boot"),
        subfolder="fashion", published=FASHION_PUBLISHED, digits=False,
        about="photos of Zalando's clothes, shoes and bags in ten kinds",
        credit="Han Xiao, Kashif Rasul and Roland Vollgraf (Zalando Research); MIT licence"),
    "kmnist": NamedDataset(
        key="kmnist", title="Kuzushiji-MNIST",
        # one hiragana from each row of the syllabary, in cursive (kuzushiji) from classical Japanese books
        class_names=("o (お)", "ki (き)", "su (す)", "tsu (つ)", "na (な)", "ha (は)", "ma (ま)", "ya (や)",
                     "re (れ)", "wo (を)"),
        subfolder="kmnist", published=KMNIST_PUBLISHED, digits=False,
        about="cursive Japanese characters (kuzushiji), one hiragana from each row of the syllabary",
        credit="ROIS-CODH, adapted from the Kuzushiji Dataset (NIJL and others, doi:10.20676/00000341); "
               "CC BY-SA 4.0"),
}
DATASET_KEYS = tuple(NAMED)


def named(key: str) -> NamedDataset:
    """The named dataset ``key``; :class:`UnknownDatasetError` lists the known keys otherwise."""
    try:
        return NAMED[key]
    except (KeyError, TypeError):
        raise UnknownDatasetError(f"dataset {key!r} is not known; choose one of: {', '.join(NAMED)}") from None


def folder_of(key: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Where the named dataset's four files live: MNIST in the data folder itself (where it always was),
    the others in their own subfolder of it."""
    root = Path(data_dir).expanduser().resolve() if data_dir is not None else default_data_dir()
    sub = named(key).subfolder
    return root / sub if sub else root


def named_status(key: str, data_dir: str | os.PathLike | None = None) -> dict:
    """``ann.data.mnist.mnist_status`` for a named dataset (in its own folder under ``data_dir``)."""
    return mnist_status(folder_of(key, data_dir), source=named(key).published)


def ensure_named(key: str, data_dir: str | os.PathLike | None = None,
                 progress: ProgressCallback | None = None) -> Path:
    """Download the named dataset's missing files and verify the present ones; returns its folder."""
    return ensure_mnist(folder_of(key, data_dir), progress=progress, source=named(key).published)


def load_named(key: str, data_dir: str | os.PathLike | None = None, *, download: bool = True,
               progress: ProgressCallback | None = None, verify: bool = True, mapped: bool = False,
               folder: str | os.PathLike | None = None) -> Dataset:
    """A named dataset, downloaded first if missing (unless ``download`` is False or ``mapped``).

    Parameters
    ----------
    key : {"mnist", "fashion", "kmnist"}
    data_dir : path, optional
        The data folder (default ``data/`` or ``$ANN_DATA_DIR``); the dataset is in :func:`folder_of`.
    download, progress, verify
        As ``ann.data.mnist.load_mnist``.
    mapped : bool
        Map uncompressed copies (``ann.data.mnist.load_mnist_mapped``): what a server and its workers share.
        Never downloads.
    folder : path, optional
        The folder holding this dataset's four files, instead of its place under ``data_dir``.

    Returns
    -------
    Dataset
    """
    spec = named(key)
    where = Path(folder).expanduser().resolve() if folder is not None else folder_of(key, data_dir)
    if mapped:
        sets = load_mnist_mapped(where, verify=verify, source=spec.published)
    else:
        sets = load_mnist(where, download=download, progress=progress, verify=verify, source=spec.published)
    return Dataset(key=spec.key, title=spec.title, class_names=spec.class_names, train=sets.train,
                   test=sets.test, digits=spec.digits, note=f"{spec.title}: {spec.about}")


def identify_folder(folder: str | os.PathLike) -> str | None:
    """Which named dataset a folder holds, from the md5 of the files present under its published names.

    Returns the key when every present file is that dataset's (missing ones can be downloaded), None when
    the folder holds none of these files, or files that are none of theirs (data of one's own, say).
    """
    folder = Path(folder)
    for key, spec in NAMED.items():
        present = [path for name in spec.published.files
                   if (path := _find_file(folder, name, spec.published)) is not None]
        if present and all(_md5(path.read_bytes()) == spec.published.expected_md5(path.name) for path in present):
            return key
    return None


def tag_for_key(key: str) -> DatasetTag | None:
    """The tag of a named dataset, None for any other key (own data carries its own)."""
    spec = NAMED.get(key)
    return None if spec is None else spec.tag


# --------------------------------------------------------------------------- the container


@dataclass(frozen=True, eq=False)
class Dataset:
    """A dataset ready to train on: a training and a test :class:`~ann.data.split.Split` and its class names.

    Attributes
    ----------
    key : str
        ``"mnist"``, ``"fashion"``, ``"kmnist"``, or ``"own-<16 hex digits>"`` for data of one's own (the
        start of the SHA-256 of its content, so the same data always gets the same key).
    title : str
        A name for people: the published name, or the uploaded file's or folder's name.
    class_names : tuple of str
        Label ``i`` is ``class_names[i]``; 2 to 62 classes.
    train, test : Split
        Images uint8 (n, 784), labels int64 (n,) in 0 .. n_classes - 1 (read-only arrays).
    digits : bool
        Handwritten digits 0-9, as the Draw page's drawings are.
    note : str
        Where it came from and, for one set given alone, how it was split (the fraction and the seed).
    """

    key: str
    title: str
    class_names: tuple[str, ...]
    train: Split
    test: Split
    digits: bool = False
    note: str = ""

    def __post_init__(self) -> None:
        if not KEY_PATTERN.match(self.key):
            raise ValueError(f"dataset key {self.key!r} is not a key (lower-case letters, digits and -)")
        n = len(self.class_names)
        if n < 2:
            raise ValueError(f"{self.title}: {n} class; a dataset needs at least 2")
        for split_name, split in (("training", self.train), ("test", self.test)):
            labels = split.labels
            if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= n):
                raise ValueError(f"{self.title}: a {split_name} label is outside 0-{n - 1} ({n} classes)")

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def tag(self) -> DatasetTag:
        return DatasetTag(self.key, self.title, self.class_names)

    def counts(self) -> tuple[np.ndarray, np.ndarray]:
        """Images per class in the training and the test set, int64 (n_classes,) each."""
        return (np.bincount(self.train.labels, minlength=self.n_classes),
                np.bincount(self.test.labels, minlength=self.n_classes))
