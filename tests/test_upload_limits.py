"""One set of upload limits: what Streamlit accepts (``server.maxUploadSize``), what the uploaders ask for, and
what the readers read (``ann.data.own``) agree; MNIST's training set as the seed's CSV, the README's example,
fits them and reads on the Dataset page."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from apptest_helpers import no_exceptions, open_page, texts
from test_app_datasets import upload

from ann.data.csv_files import write_csv
from ann.data.own import MAX_TOTAL_MB

REPO = Path(__file__).parent.parent


def test_streamlit_accepts_the_largest_upload_the_app_reads():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == MAX_TOTAL_MB


def test_every_uploader_states_its_own_limit():
    """Each st.file_uploader passes max_upload_size (so the widget says its limit, and refuses a larger file in
    the browser); the dataset uploaders pass ann.data.own's MAX_TOTAL_MB itself."""
    found = []
    for path in sorted([*REPO.glob("pages/*.py"), *REPO.glob("ui/*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "file_uploader":
                limit = {k.arg: k.value for k in node.keywords}.get("max_upload_size")
                found.append((path.name, ast.unparse(limit) if limit is not None else None))
    assert found and all(limit is not None for _, limit in found), found
    assert [limit for name, limit in found if name == "datasets.py"] == ["MAX_TOTAL_MB", "MAX_TOTAL_MB"]


def test_mnist_training_set_as_the_seeds_csv_uploads_and_reads_on_the_dataset_page(mnist, tmp_path, monkeypatch,
                                                                                 mnist_dir):
    monkeypatch.setenv("ANN_DATA_DIR", str(mnist_dir))
    path = tmp_path / "mnist_train.csv"
    write_csv(path, mnist.train)
    assert 100 * 2**20 < path.stat().st_size <= MAX_TOTAL_MB * 2**20  # 105 MB: it fits the limit
    at = open_page("dataset")
    upload(at, "mnist_train.csv", path.read_bytes())
    no_exceptions(at)
    assert not texts(at.error)
    assert ("**mnist_train** is now the active dataset: 10 classes (0, 1, 2, 3, 4, 5, ...), 48,000 training and "
            "12,000 test images.") in texts(at.success)
