"""AppTest smoke and behaviour tests for every page of the dashboard (headless, no browser).

The pages read the real MNIST files from ../shared/mnist (ANN_DATA_DIR points there for these tests) and
the shipped data/pretrained.npz. The canvas is not drawn under AppTest: ``st_canvas`` returns a result
whose ``image_data`` is None, which the Draw page treats as an empty canvas.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from apptest_helpers import AppTest, figure_row, figures, no_exceptions, open_page, rerun_until, texts  # noqa: F401


@pytest.fixture(autouse=True)
def mnist_folder(monkeypatch, mnist_dir):
    """The pages read the real MNIST files (tests/conftest.py finds them)."""
    monkeypatch.setenv("ANN_DATA_DIR", str(mnist_dir))


# --------------------------------------------------------------------------- Home

from ann.models import default_model, shipped_models  # noqa: E402


def test_home_renders_network_dataset_and_model():
    at = open_page()
    no_exceptions(at)
    assert at.title[0].value == "ANN Explorer"
    assert "MNIST is ready" in texts(at.success)
    default = default_model()
    assert f"{default.title}: 784-" in texts(at.markdown)
    assert "Active model" in texts(at.sidebar.caption)


def test_the_model_picker_offers_the_shipped_models_and_the_pick_holds_on_every_page():
    at = open_page()
    picker = at.radio(key="model_picker")
    assert picker.value == f"shipped:{default_model().name}"  # the default: the best reader of handwriting
    assert [option for option in picker.options] == [picker.format_func(f"shipped:{m.name}")
                                                     for m in shipped_models()]
    picker.set_value("shipped:seed").run()
    no_exceptions(at)
    assert at.session_state["active_model"].shipped_name == "seed"
    assert "Seed classic (the blog's network): 784-200-10" in texts(at.markdown)
    for page in ("pages/evaluate.py", "pages/inside.py", "pages/draw.py"):
        at.switch_page(page).run()
        no_exceptions(at)
        assert at.radio(key="model_picker").value == "shipped:seed"
        assert "784-200-10" in texts(at.caption)  # the page names the model it predicts with


def test_home_offers_download_and_reports_offline_clearly(monkeypatch, tmp_path):
    import ann.data.mnist

    monkeypatch.setenv("ANN_DATA_DIR", str(tmp_path))
    # a run store of its own: the training service made for a data folder without MNIST stays cached for the
    # session; on the other tests' store its pool would start workers for their queued runs too, and one of them
    # that claimed a run first would fail it for want of MNIST
    monkeypatch.setenv("ANN_RUNS_DIR", str(tmp_path.parent / f"{tmp_path.name}_runs"))
    monkeypatch.setattr(ann.data.mnist, "MIRRORS", ("http://127.0.0.1:9/", "http://127.0.0.1:9/"))
    at = open_page()
    no_exceptions(at)
    assert "not downloaded yet" in texts(at.warning)
    at.button(key="download_home").click().run()
    no_exceptions(at)
    message = texts(at.error)
    assert "Could not download MNIST" in message and str(tmp_path) in message
    assert "127.0.0.1:9: it refused the connection" in message and "[Errno" not in message  # a sentence
    assert "[127.0.0.1:9](http://127.0.0.1:9/)" in message  # an address as a link named by its host
    assert not any(tmp_path.iterdir()), "a failed download must leave nothing behind"


# --------------------------------------------------------------------------- Dataset


def test_dataset_browse_filter_and_record(mnist):
    at = open_page("dataset")
    no_exceptions(at)
    grid = figures(at.html[0].value)  # one page of thumbnails: one grid of small PNGs
    assert len(grid) == 60 and grid[0][0] == "#1: 5"  # image numbers count from 1 on every page
    np.testing.assert_array_equal(grid[0][1], 255 - mnist.train.images[0].reshape(28, 28))  # dark on white
    at.segmented_control(key="ds_digit").set_value(3).run()
    no_exceptions(at)
    assert "6,131 images of 3 in the training set" in texts(at.caption)
    assert all(caption.endswith(": 3") for caption, _ in figures(at.html[0].value))
    at.segmented_control(key="ds_set").set_value("Test").run()
    assert "1,010 images of 3 in the test set" in texts(at.caption)
    assert not at.code  # the CSV record is computed only when its expander is opened
    at.session_state["ds_record"] = True
    at.run()
    record = at.code[0].value.split(",")
    assert len(record) == 785 and record[0] == "3"
    assert all(0 <= int(v) <= 255 for v in record[1:])
    at.get("pagination")[0].set_value(2).run()
    no_exceptions(at)
    shown = np.flatnonzero(mnist.test.labels == 3)[60:120]  # page 2 of the test set's 3s
    assert at.session_state["ds_pick_Test_3_2"] == shown[0] and at.button(key="ds_previous").disabled
    at.button(key="ds_next").click().run()  # up close: the page's images one by one, in the order shown
    no_exceptions(at)
    assert at.session_state["ds_pick_Test_3_2"] == shown[1] and "Image 2 of 60 on this page" in texts(at.markdown)
    at.button(key="ds_previous").click().run()
    assert at.session_state["ds_pick_Test_3_2"] == shown[0]
    at.session_state["ds_pick_Test_3_2"] = int(shown[-2])
    at.button(key="ds_next").click().run()
    no_exceptions(at)
    assert "Image 60 of 60 on this page" in texts(at.markdown) and at.button(key="ds_next").disabled
    index = int(shown[-1])
    number = index + 1  # image numbers on screen count from 1
    assert f"**Test image #{number:,}: a 3**" in texts(at.markdown)
    up_close = at.html[1].value  # the image large, every inked pixel's value on hover
    image = mnist.test.images[index].reshape(28, 28)
    for r, c in zip(*np.nonzero(image)):
        assert f'title="row {r}, column {c}: {image[r, c]}"' in up_close
    assert up_close.count('title="row ') == np.count_nonzero(image)


def test_dataset_counts_and_means_only_when_their_tab_is_open(mnist):
    at = open_page("dataset")
    assert not at.get("vega_lite_chart") and not at.dataframe  # the second tab costs nothing at first
    at.session_state["ds_tab"] = "Counts and mean images"
    at.run()
    no_exceptions(at)
    counts = at.dataframe[0].value
    assert counts["training"].tolist() == np.bincount(mnist.train.labels, minlength=10).tolist()
    means = figures(at.html[0].value)
    assert [caption for caption, _ in means] == [f"mean {d}" for d in range(10)]
    three = mnist.train.images[mnist.train.labels == 3].mean(axis=0, dtype=np.float64).round()
    np.testing.assert_array_equal(means[3][1], 255 - three.reshape(28, 28).astype(np.uint8))


# --------------------------------------------------------------------------- Train


def test_train_starts_a_tiny_run_that_is_offered_as_the_active_model():
    """Start queues a run; a worker process trains it while the page is rerun; when it ends, reading worse
    than the shipped default, it is offered (not put in its place) and one click makes it the active model."""
    from ui import workspace

    at = open_page("train")
    no_exceptions(at)
    at.select_slider(key="tr_limit").set_value(500)
    at.slider(key="tr_epochs").set_value(1)
    at.run()
    at.button(key="tr_start").click().run()
    no_exceptions(at)
    store = workspace.store()
    key = at.session_state["workspace_key"]
    runs = store.list_runs(key)
    assert len(runs) == 1 and runs[0].records == 500 and runs[0].target_epochs == 1
    rerun_until(at, lambda a: "Run 1 finished" in texts(a.success), "the run to end")
    no_exceptions(at)
    run = store.list_runs(key)[0]
    assert run.status == "finished" and run.epochs_done == 1
    epoch = store.history(run)[0]
    assert 0.5 < epoch["test_accuracy"] <= 1.0 and epoch["test_loss"] > 0
    assert at.selectbox(key="tr_view").value == run.id
    assert at.session_state["active_model"].shipped_name == "handwriting"  # 500 records read worse than it
    assert "Use Run 1?" in texts(at.markdown)
    at.button(key="tr_offer_use").click().run()
    no_exceptions(at)
    assert at.session_state["active_model"].name == "Run 1"


def test_train_says_how_long_a_run_takes_here_once_it_has_measured_this_server():
    """The estimate is measured in the background: a setup not measured yet says so, the page's script run does
    not wait for it, and the figure comes when it is there (the page's timer reruns it, as _until does here)."""
    from ui import waits

    at = open_page("train")
    no_exceptions(at)
    at.number_input(key="tr_hidden_0").set_value(37).run()  # a network no other test has measured
    no_exceptions(at)
    caption = texts(at.caption)
    assert f"784-37-10 network, 10,000 records x3 (rotations) x 5 epochs: how long from Start to the end: " \
           f"{waits.MEASURING}" in caption
    rerun_until(at, lambda a: "at this server's speed now" in texts(a.caption), "the estimate", timeout=60)
    caption = texts(at.caption)
    assert "784-37-10 network, 10,000 records x3 (rotations) x 5 epochs: about " in caption
    assert "from Start to the end, at this server's speed now" in caption
    assert waits.MEASURING not in caption and "rough estimate" not in caption


def test_train_preset_sets_every_widget():
    from ann.config import PRESETS

    at = open_page("train")
    at.segmented_control(key="tr_preset").set_value("fast").run()
    no_exceptions(at)
    fast = PRESETS["fast"].train
    assert at.select_slider(key="tr_batch").value == fast.batch_size
    assert at.number_input(key="tr_lr").value == pytest.approx(fast.learning_rate)
    assert at.slider(key="tr_momentum").value == pytest.approx(fast.momentum)
    assert at.select_slider(key="tr_limit").value == 10_000  # the record count stays the user's
    at.segmented_control(key="tr_preset").set_value("best").run()
    best = PRESETS["best"]
    assert at.number_input(key="tr_hidden_0").value == best.network.hidden_nodes[0]
    assert at.segmented_control(key="tr_activation").value == best.network.activation
    assert at.slider(key="tr_elastic").value == pytest.approx(best.train.elastic_alpha)


def test_a_preset_quotes_its_shipped_models_figure_from_the_model_file():
    from ann.formats import format_accuracy
    from ann.model_io import read_model_info
    from ann.models import shipped_for_preset

    at = open_page("train")
    for preset in ("seed", "handwriting"):
        at.segmented_control(key="tr_preset").set_value(preset).run()
        no_exceptions(at)
        made = shipped_for_preset(preset)
        accuracy = read_model_info(made.path)["info"]["test_accuracy"]  # 0.9676 and 0.9936 today
        assert (f"The shipped model made this way ({made.label}) reads {format_accuracy(accuracy)} on the test set"
                in texts(at.caption))
    at.segmented_control(key="tr_preset").set_value("fast").run()  # no shipped model: no figure
    assert "The shipped model made this way" not in texts(at.caption)


def test_train_settings_survive_a_visit_to_another_page():
    at = open_page("train")
    at.number_input(key="tr_lr").set_value(0.25)
    at.select_slider(key="tr_batch").set_value(16)
    at.run()
    at.switch_page("pages/draw.py").run()
    at.switch_page("pages/train.py").run()
    no_exceptions(at)
    assert at.number_input(key="tr_lr").value == pytest.approx(0.25)
    assert at.select_slider(key="tr_batch").value == 16


def test_train_bad_combination_is_an_error_not_a_traceback():
    at = open_page("train")
    at.slider(key="tr_epochs").set_value(1)
    at.segmented_control(key="tr_schedule").set_value("cosine")
    at.run()
    at.number_input(key="tr_warmup").set_value(5.0).run()
    no_exceptions(at)
    assert "warmup_epochs" in texts(at.error)
    assert at.button(key="tr_start").disabled


def test_model_upload_accepts_ours_and_rejects_others():
    from ann.config import NetworkConfig
    from ann.model_io import model_to_bytes
    from ann.network import Network

    at = open_page("train")
    assert not at.get("file_uploader")  # the model files are drawn when their expander is opened
    at.session_state["tr_model_files"] = True  # a click on it
    at.run()
    at.file_uploader(key="tr_upload").set_value(("notes.npz", b"not a model at all", "application/octet-stream"))
    at.run()
    no_exceptions(at)
    assert "not a model file" in texts(at.error)
    assert at.session_state["active_model"].source == "pretrained"

    good = model_to_bytes(Network(NetworkConfig(hidden_nodes=(30,))), info={"test_accuracy": 0.1})
    at.file_uploader(key="tr_upload").set_value(("mine.npz", good, "application/octet-stream"))
    at.run()
    no_exceptions(at)
    assert at.session_state["active_model"].name == "Uploaded mine.npz"
    assert "784-30-10" in texts(at.sidebar.caption)

    # who trained it: a command line in code font, as typed; the app's own page in words
    for trained_by, said in (("ANN Explorer Train page", "Trained on the ANN Explorer Train page"),
                             ("python -m ann train", "Trained by `python -m ann train`")):
        made = model_to_bytes(Network(NetworkConfig(hidden_nodes=(30,))), info={"trained_by": trained_by})
        at.file_uploader(key="tr_upload").set_value((f"{trained_by[:6]}.npz", made, "application/octet-stream"))
        at.run()
        assert said in texts(at.sidebar.caption) and "`ANN Explorer Train page`" not in texts(at.sidebar.caption)


# --------------------------------------------------------------------------- Evaluate


def test_evaluate_scorecard_and_cells():
    at = open_page("evaluate")
    no_exceptions(at)
    boxes = figure_row(at)
    assert [label for label, _ in boxes[:3]] == ["Test accuracy", "Right, of 10,000", "Mistakes"]
    assert re.fullmatch(r"Hardest digit \(recall [0-9.]+%\)", boxes[3][0]), boxes[3][0]
    (_, accuracy), (_, right), (_, wrong), (_, hardest) = boxes
    assert accuracy.endswith("%") and 90 < float(accuracy.rstrip("%")) <= 100
    assert int(right.replace(",", "")) + int(wrong.replace(",", "")) == 10_000 and hardest in "0123456789"
    assert not at.metric  # HTML boxes: no metric element for a browser to fetch scripts for
    at.segmented_control(key="ev_true").set_value(4)
    at.segmented_control(key="ev_predicted").set_value(9)
    at.run()
    no_exceptions(at)
    assert "test images of **4** read as 9" in texts(at.markdown)


def test_the_row_of_figures_escapes_what_it_shows():
    """A class name is the visitor's own text: it shows as text, never as markup, in the box and its tooltip."""
    from ui import tables

    html = tables.figure_row([tables.Figure("Hardest class", '<img src=x onerror="alert(1)">', help='the "odd" <one>')])
    assert "<img" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert 'title="the &quot;odd&quot; &lt;one&gt;"' in html


def test_evaluate_without_any_model_says_so(monkeypatch, tmp_path):
    from ui import state

    monkeypatch.setattr(state, "SHIPPED_DIR", tmp_path)  # no shipped model file there
    monkeypatch.setattr(state, "PRETRAINED_PATH", tmp_path / "pretrained.npz")
    at = open_page("evaluate")
    no_exceptions(at)
    assert "No model yet" in texts(at.info)


# --------------------------------------------------------------------------- Draw


class DrawnCanvas:
    """What st_canvas returns once something is drawn: RGBA pixels, ink in the alpha channel."""

    def __init__(self, rgba: np.ndarray | None):
        self.image_data = rgba
        self.json_data = None


def canvas_drawing_of(pixels: np.ndarray) -> np.ndarray:
    """An MNIST image (784,) as a 280x280 canvas drawing: black strokes on a transparent background."""
    ink = np.kron(pixels.reshape(28, 28), np.ones((10, 10), np.uint8))
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = ink
    return rgba


def draw_on_canvas(monkeypatch, at: AppTest, rgba: np.ndarray | None) -> None:
    """Make the page's st_canvas return ``rgba`` (AppTest cannot draw on the real one)."""
    import sys

    canvas_module = sys.modules["streamlit_drawable_canvas"]  # imported by the page's first run
    monkeypatch.setattr(canvas_module, "st_canvas", lambda **kwargs: DrawnCanvas(rgba))


def png_bytes(pixels: np.ndarray, dark_on_light: bool = True) -> bytes:
    from PIL import Image

    image = pixels.reshape(28, 28)
    buffer = io.BytesIO()
    Image.fromarray(255 - image if dark_on_light else image).resize((112, 112)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def test_digits(mnist_dir):
    from ann.data.mnist import load_mnist

    return load_mnist(mnist_dir, download=False).test


def test_draw_empty_canvas_asks_for_a_digit():
    at = open_page("draw")
    no_exceptions(at)
    assert "Draw a digit" in texts(at.info)
    assert not at.metric  # no prediction without a drawing
    at.button(key="clear_canvas").click().run()
    no_exceptions(at)
    assert "Draw a digit" in texts(at.info)


def test_draw_blank_drawing_is_an_empty_canvas(monkeypatch):
    at = open_page("draw")
    draw_on_canvas(monkeypatch, at, np.zeros((280, 280, 4), np.uint8))
    at.run()
    no_exceptions(at)
    assert "Draw a digit" in texts(at.info)


def test_draw_predicts_and_teach_changes_only_this_session(monkeypatch, test_digits):
    from ann.model_io import load_model

    seven = test_digits.images[0]
    assert test_digits.labels[0] == 7
    at = open_page("draw")
    draw_on_canvas(monkeypatch, at, canvas_drawing_of(seven))
    at.run()
    no_exceptions(at)
    assert (at.metric[0].label, at.metric[0].value) == ("Prediction", "7")

    at.segmented_control(key="teach_digit").set_value(1)
    at.number_input(key="teach_times").set_value(40)
    at.run()
    at.button(key="teach").click().run()
    no_exceptions(at)
    labels = {m.label: m.value for m in at.metric}
    assert labels["Before"] == "7" and labels["After"] == "1"
    assert labels["Prediction"] == "1"
    mine = at.session_state["active_model"]
    assert not mine.shared and mine.version == 1 and mine.info["taught"] == 1
    assert "taught 1 drawing" in texts(at.sidebar.caption)

    other = open_page("draw")  # another browser session
    theirs = other.session_state["active_model"]
    assert theirs.shared and theirs.version == 0
    shipped = load_model(default_model().path)
    for w_theirs, w_file, w_mine in zip(theirs.network.weights, shipped.network.weights, mine.network.weights):
        np.testing.assert_array_equal(w_theirs, w_file)
        assert not np.array_equal(w_mine, w_file)

    # The taught copy is this session's own model; the picker offers it beside the shipped one as shipped.
    picker = at.radio(key="model_picker")
    assert picker.value == f"own:{mine.uid}"
    assert any("your copy, taught 1 drawing" in option for option in picker.options)
    picker.set_value(f"shipped:{default_model().name}").run()
    pristine = at.session_state["active_model"]
    assert pristine.shared and pristine is not mine
    np.testing.assert_array_equal(pristine.network.weights[0], shipped.network.weights[0])
    at.radio(key="model_picker").set_value(f"own:{mine.uid}").run()
    assert at.session_state["active_model"] is mine


def test_draw_uploads_grid_and_bad_files(test_digits):
    at = open_page("draw")
    assert not at.get("file_uploader")  # drawn once its section is opened: a first look fetches none of it
    at.session_state["draw_upload_open"] = True  # opened, as a click would
    at.run()
    files = [(f"digit{i}.png", png_bytes(test_digits.images[i]), "image/png") for i in range(3)]
    files.append(("light_on_dark.png", png_bytes(test_digits.images[3], dark_on_light=False), "image/png"))
    files.append(("notes.png", b"these are notes, not a picture", "image/png"))
    files.append(("blank.png", png_bytes(np.zeros(784, np.uint8)), "image/png"))
    at.file_uploader(key="draw_uploads").set_value(files)
    at.run()
    no_exceptions(at)
    errors = texts(at.error)
    assert "notes.png" in errors and "not an image" in errors
    assert "blank.png" in errors and "no digit" in errors
    captions = [c for image in at.get("image") for c in image.captions]
    predicted = [c for c in captions if ": predicted " in c]
    assert len(predicted) == 4
    for i, caption in enumerate(predicted):
        assert caption.startswith(f"{files[i][0]}: predicted {test_digits.labels[i]} (")
    # closed again, the section keeps its files, and their answers stay on the page
    at.session_state["draw_upload_open"] = False
    at.run()
    no_exceptions(at)
    assert len(at.file_uploader(key="draw_uploads").value) == len(files)
    assert len([c for image in at.get("image") for c in image.captions if ": predicted " in c]) == 4
