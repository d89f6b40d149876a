"""AppTests of the dataset picker and of the pages on another dataset (issue #12, the app's side).

The named sets other than MNIST are not downloaded here (there is no route to their mirrors): the picker
offers them and the offline message says where to put the files. A workspace's own dataset is written by
the tests themselves: a zip of three class folders of drawn shapes (tests/dataset_files.py), read through
the Dataset page's upload panel as a visitor's upload is.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from apptest_helpers import figure_row, figures, no_exceptions, open_page, rerun_until, texts
from dataset_files import write_shape_folder, zip_folder

from ui.datasets import UPLOAD_GENERATION

SIDEBAR = "dataset_picker_sidebar"


@pytest.fixture(autouse=True)
def mnist_folder(monkeypatch, mnist_dir):
    monkeypatch.setenv("ANN_DATA_DIR", str(mnist_dir))


@pytest.fixture(scope="module")
def shapes_zip(tmp_path_factory) -> bytes:
    """Three classes (circle, cross, square), 20 drawn images each, of several sizes and colours, zipped."""
    folder = write_shape_folder(tmp_path_factory.mktemp("shapes") / "shapes", per_class=20)
    return zip_folder(folder, top="shapes")


def choose(at, *files: tuple[str, bytes]) -> None:
    """Upload files on the Dataset page's panel (its tab opened, as a click would)."""
    at.session_state["ds_tab"] = "Your own data"
    at.run()
    generation = at.session_state[UPLOAD_GENERATION] if UPLOAD_GENERATION in at.session_state else 0
    key = "own_upload" if not generation else f"own_upload_{generation}"  # a new uploader after each upload
    at.file_uploader(key=key).set_value([(name, data, "application/octet-stream") for name, data in files])
    at.run()


def upload(at, name: str, data: bytes) -> None:
    """Upload a file and press Read."""
    choose(at, (name, data))
    at.button(key="own_read").click().run()


def test_the_picker_offers_the_named_sets_and_offline_says_where_the_files_go(monkeypatch, tmp_path):
    def offline(request, timeout=None):
        raise OSError("Network is unreachable")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    monkeypatch.setenv("ANN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ANN_RUNS_DIR", str(tmp_path.parent / f"{tmp_path.name}_runs"))  # its own store: see test_app
    at = open_page()
    no_exceptions(at)
    picker = at.sidebar.radio(key=SIDEBAR)
    assert picker.options == ["MNIST", "Fashion-MNIST", "Kuzushiji-MNIST"] and picker.value == "mnist"
    picker.set_value("fashion").run()
    no_exceptions(at)
    assert at.session_state["dataset_key"] == "fashion"
    assert at.radio(key="dataset_picker_home").value == "fashion"  # Home's picker follows the sidebar's
    assert "Fashion-MNIST is not downloaded yet" in texts(at.warning)
    assert "Zalando" in texts(at.caption)  # what the set is
    at.button(key="download_home_fashion").click().run()
    no_exceptions(at)
    message = texts(at.error)
    assert "Fashion-MNIST" in message and str(tmp_path / "fashion") in message, message
    assert not any(tmp_path.rglob("*.gz")), "a failed download leaves nothing behind"
    # every page that needs the data offers the download there too, and the pick holds across pages
    for page in ("dataset", "train", "evaluate"):
        at.switch_page(f"pages/{page}.py").run()
        no_exceptions(at)
        assert "needs the Fashion-MNIST dataset, which is not downloaded yet" in texts(at.info), page
        assert at.sidebar.radio(key=SIDEBAR).value == "fashion"


def test_upload_bad_data_says_what_is_wrong_and_keeps_nothing(shapes_zip, tmp_path):
    at = open_page("dataset")
    no_exceptions(at)
    bad = write_shape_folder(tmp_path / "bad", per_class=12)
    (bad / "circle" / "notes.png").write_text("not an image")
    upload(at, "bad.zip", zip_folder(bad, top="bad"))
    no_exceptions(at)
    assert "Not read:" in texts(at.error) and "notes.png" in texts(at.error)
    assert "dataset_key" not in at.session_state or at.session_state["dataset_key"] == "mnist"
    assert at.sidebar.radio(key=SIDEBAR).options == ["MNIST", "Fashion-MNIST", "Kuzushiji-MNIST"]
    few = write_shape_folder(tmp_path / "few", per_class=3)
    upload(at, "few.zip", zip_folder(few, top="few"))
    no_exceptions(at)
    assert "Not read:" in texts(at.error) and "circle" in texts(at.error)  # a class with too few images
    assert len(at.sidebar.radio(key=SIDEBAR).options) == 3
    from ann.data.own import MAX_TOTAL_MB

    choose(at, ("huge.csv", b"0" * (MAX_TOTAL_MB * 2**20 + 1)))  # over the limit: refused as it arrives
    no_exceptions(at)
    assert f"at most {MAX_TOTAL_MB} MB of files are read here" in texts(at.error)
    assert len(at.sidebar.radio(key=SIDEBAR).options) == 3


def test_an_uploaded_dataset_becomes_active_and_the_pages_use_its_class_names(shapes_zip):
    at = open_page("dataset")
    upload(at, "shapes.zip", shapes_zip)
    no_exceptions(at)
    key = at.session_state["dataset_key"]
    assert key.startswith("own-")
    assert "**shapes** is now the active dataset: 3 classes (circle, cross, square)" in texts(at.success)
    picker = at.sidebar.radio(key=SIDEBAR)
    assert picker.value == key and "shapes (yours, 3 classes)" in picker.options
    # Browse: the images are captioned with their class names; the counts table names the classes
    at.session_state["ds_tab"] = "Browse"
    at.run()
    no_exceptions(at)
    grid = figures(at.html[0].value)
    assert len(grid) == 48 and {caption.split(": ")[1] for caption, _ in grid} == {"circle", "cross", "square"}
    at.session_state["ds_tab"] = "Counts and mean images"
    at.run()
    no_exceptions(at)
    assert [caption for caption, _ in figures(at.html[0].value)] == ["mean circle", "mean cross", "mean square"]
    table = at.dataframe[0].value
    assert list(table["class"]) == ["circle", "cross", "square"] and table["training"].sum() == 48
    assert table["test"].sum() == 12  # 20% of each class held out (seeded)
    # Home says which dataset is active; the shipped MNIST model says it belongs to another dataset
    at.switch_page("pages/home.py").run()
    no_exceptions(at)
    assert "shapes, your own data, is ready" in texts(at.success)
    assert "trained on MNIST (10 classes), not on shapes (3 classes)" in texts(at.warning)
    # Evaluate cannot score a 10-output model on three classes: it says so instead of a scorecard
    at.switch_page("pages/evaluate.py").run()
    no_exceptions(at)
    assert "its 10 outputs do not match the 3 classes" in texts(at.warning)
    assert not figure_row(at)
    # Draw reads digits, and says the active dataset is not digits
    at.switch_page("pages/draw.py").run()
    no_exceptions(at)
    assert "The active dataset, shapes, is not handwritten digits" in texts(at.caption)
    # Train trains on it: one output per class
    at.switch_page("pages/train.py").run()
    no_exceptions(at)
    assert "Trains on **shapes** (3 classes: circle, cross, square" in texts(at.caption)
    at.slider(key="tr_epochs").set_value(3)
    at.run()
    at.button(key="tr_start").click().run()
    no_exceptions(at)
    from ui import workspace

    (run,) = workspace.store().list_runs(at.session_state["workspace_key"])
    assert run.dataset == key and tuple(run.class_names) == ("circle", "cross", "square") and run.records == 48
    assert run.network_config.output_nodes == 3
    rerun_until(at, lambda a: a.session_state["active_model"].run_id == run.id, "the run to end", timeout=180)
    no_exceptions(at)
    model = at.session_state["active_model"]
    assert model.dataset.class_names == ("circle", "cross", "square")
    # Evaluate: the scorecard in class names (the confusion matrix's axes, the pickers, the table)
    at.switch_page("pages/evaluate.py").run()
    no_exceptions(at)
    assert not texts(at.warning)
    assert figure_row(at)[1][0] == "Right, of 12"
    assert at.selectbox(key="ev_true").options == ["0 circle", "1 cross", "2 square"]
    (matrix,) = at.get("bidi_component")  # the confusion matrix (ui.confusion_view): its rows and columns
    (cells,) = json.loads(matrix.proto.json)  # the view, as the one item of a list
    assert cells["names"] == ["circle", "cross", "square"] and cells["noun"] == "class"
    assert len(cells["labels"]) == 9 and sum(int(c) for c in cells["labels"]) == 12  # the 12 test images
    table = next(h.value for h in at.html if "precision" in h.value)
    assert all(f"<td style='padding:2px 10px'>{name}</td>" in table for name in ("circle", "cross", "square"))
    # the model picker says which dataset each model belongs to
    labels = at.radio(key="model_picker").options
    assert any("· MNIST" in label for label in labels) and any("· shapes" in label for label in labels)
    # Runs: each run names its dataset
    at.switch_page("pages/runs.py").run()
    no_exceptions(at)
    assert list(at.dataframe[0].value["dataset"]) == ["shapes"]
    # Inside: the model's outputs by name, a test image of the active set
    at.switch_page("pages/inside.py").run()
    no_exceptions(at)
    at.session_state["in_follow"] = True  # view 2 opened, as a click would
    at.run()
    no_exceptions(at)
    assert "**The 3 outputs**" in texts(at.markdown)
    # switching back to MNIST: this model now says it belongs to shapes
    at.sidebar.radio(key=SIDEBAR).set_value("mnist").run()
    no_exceptions(at)
    assert "trained on shapes (3 classes), not on MNIST (10 classes)" in texts(at.warning)
    # and Draw reads drawings with a model trained on digits
    at.switch_page("pages/draw.py").run()
    no_exceptions(at)
    assert "your drawings are read by" in texts(at.caption)


def test_deleting_the_active_dataset_goes_back_to_mnist_and_a_vanished_one_says_so(shapes_zip):
    from ui import workspace

    at = open_page("dataset")
    upload(at, "shapes.zip", shapes_zip)
    key = at.session_state["dataset_key"]
    at.button(key=f"ds_delete_{key}").click().run()
    no_exceptions(at)
    assert at.session_state["dataset_key"] == "mnist"
    assert at.sidebar.radio(key=SIDEBAR).options == ["MNIST", "Fashion-MNIST", "Kuzushiji-MNIST"]
    assert workspace.store().list_datasets(at.session_state["workspace_key"]) == []
    # removed behind the session's back (housekeeping, another tab): the next page says so and uses MNIST
    upload(at, "shapes.zip", shapes_zip)
    workspace.store().delete_dataset(at.session_state["workspace_key"], key)
    at.switch_page("pages/evaluate.py").run()
    no_exceptions(at)
    assert "is no longer on this server" in texts(at.warning) and at.session_state["dataset_key"] == "mnist"


def test_a_shipped_model_scored_on_mnist_and_on_an_own_set_of_ten_classes_keeps_two_scorecards(mnist):
    """The shipped model's scorecard is cached once per server (ui.model_cache), so its key must name the
    dataset: scored on MNIST, then on an own set of ten classes (the shipped model fits it), then on MNIST
    again, each scorecard counts its own test images."""
    from tempfile import TemporaryDirectory

    from ann.data.csv_files import write_csv
    from ann.data.split import Split

    at = open_page("evaluate")
    no_exceptions(at)
    label, right = figure_row(at)[1]
    assert label == "Right, of 10,000" and int(right.replace(",", "")) > 9000
    with TemporaryDirectory() as tmp:  # 300 MNIST test records as an own CSV: ten classes, "0" to "9"
        path = Path(tmp) / "digits.csv"
        write_csv(path, Split(mnist.test.images[9000:9300], mnist.test.labels[9000:9300]))
        data = path.read_bytes()
    at.switch_page("pages/dataset.py").run()
    upload(at, "digits.csv", data)
    no_exceptions(at)
    assert at.session_state["dataset_key"].startswith("own-")
    at.switch_page("pages/evaluate.py").run()
    no_exceptions(at)
    (label, right), (_, mistakes) = figure_row(at)[1:3]
    right, mistakes = int(right.replace(",", "")), int(mistakes.replace(",", ""))
    total = int(label.removeprefix("Right, of ").replace(",", ""))
    assert total < 300 and right <= total, (label, right)  # not the MNIST scorecard's 9,9xx
    assert right + mistakes == total
    at.sidebar.radio(key=SIDEBAR).set_value("mnist").run()
    no_exceptions(at)
    label, right = figure_row(at)[1]
    assert label == "Right, of 10,000" and int(right.replace(",", "")) > 9000
