"""``python -m ann``: exit codes, JSON output, and the seed's own-images step, run as a user would."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ann.cli.runs import dashboard_url
from ann.formats import format_accuracy
from ann.live_points import point_ends

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, env_extra: dict | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env_extra or {})}
    env.pop("ANN_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "ann", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory, mnist_dir):
    out = tmp_path_factory.mktemp("cli") / "model.npz"
    result = run("train", "--data", str(mnist_dir), "--limit", "6000", "--epochs", "1", "--out", str(out),
                 "--json")
    assert result.returncode == 0, result.stderr
    return out, result


def test_train_json_contract(trained_model):
    out, result = trained_model
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert 0.85 <= payload["test_accuracy"] <= 1.0  # the seed's network, 6000 records with rotations
    assert payload["train_seconds"] > 0
    assert len(payload["epochs"]) == 1 and payload["epochs"][0]["samples_seen"] == 18_000
    assert payload["config"]["hidden_nodes"] == [200] and payload["config"]["learning_rate"] == 0.1
    assert out.exists()
    assert "epoch 1/1" in result.stderr  # the progress bar is on stderr, not mixed into the JSON
    assert "on 6,000 records x3, 1 epoch, batch 1" in result.stderr  # counts agree with their nouns


def test_evaluate_prints_accuracy_and_confusion(trained_model, mnist_dir):
    out, train_result = trained_model
    result = run("evaluate", str(out), "--data", str(mnist_dir), "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    expected = json.loads(train_result.stdout.strip().splitlines()[-1])["test_accuracy"]
    assert payload["accuracy"] == pytest.approx(expected)
    assert np.array(payload["confusion"]).sum() == 10_000
    text = run("evaluate", str(out), "--data", str(mnist_dir))
    assert text.returncode == 0 and "performance:" in text.stdout and "confusion matrix" in text.stdout


def test_predict_own_images_like_the_seed(trained_model, mnist_dir, tmp_path):
    """The seed's last part: its own PNG digits, dark ink on white. Here: real test digits saved that way."""
    import imageio.v3 as iio

    from ann.data.mnist import load_mnist

    out, _ = trained_model
    test = load_mnist(mnist_dir, download=False).test
    paths = []
    for i in range(9):
        img = 255 - np.kron(test.images[i].reshape(28, 28), np.ones((4, 4), np.uint8))
        path = tmp_path / f"digit{i}.png"
        iio.imwrite(path, img)
        paths.append(str(path))
    result = run("predict", "--model", str(out), *paths, "--json")
    assert result.returncode == 0, result.stderr
    predictions = json.loads(result.stdout.strip().splitlines()[-1])
    assert [p["file"] for p in predictions] == paths
    right = sum(p["digit"] == int(test.labels[i]) for i, p in enumerate(predictions))
    assert right >= 7
    for p in predictions:
        assert p["error"] is None and len(p["outputs"]) == 10
        assert p["confidence"] == max(p["outputs"]) and 0 <= p["confidence"] <= 1


def test_predict_reports_each_bad_file_and_goes_on(trained_model, tmp_path):
    import imageio.v3 as iio

    out, _ = trained_model
    good = tmp_path / "seven.png"
    seven = np.full((60, 60), 255, np.uint8)
    seven[10:14, 12:48] = 0  # the bar of a 7 ...
    for k in range(36):  # ... and its stem
        seven[14 + k, 44 - k // 2: 48 - k // 2] = 0
    iio.imwrite(good, seven)
    blank = tmp_path / "blank.png"
    iio.imwrite(blank, np.full((50, 50), 255, np.uint8))
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    files = [str(blank), str(good), str(text), str(tmp_path / "missing.png")]
    result = run("predict", "--model", str(out), *files, "--json")
    assert result.returncode == 1  # some files failed
    assert "Traceback" not in result.stderr
    entries = json.loads(result.stdout.strip().splitlines()[-1])
    assert [e["file"] for e in entries] == files
    assert "no digit found" in entries[0]["error"] and entries[0]["digit"] is None
    assert entries[1]["error"] is None and entries[1]["digit"] is not None and len(entries[1]["outputs"]) == 10
    assert "not an image" in entries[2]["error"] and entries[2]["confidence"] is None
    assert "no such file" in entries[3]["error"] and entries[3]["outputs"] is None
    lines = result.stdout.splitlines()
    assert any(line.startswith(str(blank)) and "no digit found" in line for line in lines)
    only_good = run("predict", "--model", str(out), str(good))
    assert only_good.returncode == 0 and only_good.stdout.startswith(f"{good}: ")


def test_predict_without_model_uses_the_default(tmp_path):
    import imageio.v3 as iio

    from ann.models import default_model

    digit = np.full((60, 60), 255, np.uint8)
    digit[8:52, 27:33] = 0  # a 1
    path = tmp_path / "one.png"
    iio.imwrite(path, digit)
    result = run("predict", str(path), "--json")
    assert result.returncode == 0, result.stderr
    assert default_model().label in result.stderr
    (entry,) = json.loads(result.stdout.strip().splitlines()[-1])
    assert entry["digit"] == 1 and entry["error"] is None
    model_as_image = run("predict", str(default_model().path))
    assert model_as_image.returncode == 1 and "a model file, not an image" in model_as_image.stdout


@pytest.mark.parametrize("args, code, message", [
    (("train", "--lr", "-1"), 2, "learning_rate=-1.0 is out of range"),
    (("train", "--epochs", "0"), 2, "must be at least 1"),
    (("train", "--activation", "swish"), 2, "invalid choice"),
    (("train", "--preset", "huge"), 2, "invalid choice"),
    (("frobnicate",), 2, "invalid choice"),
    (("evaluate", "missing.npz"), 1, "missing.npz: no such file"),
])
def test_exit_codes_and_one_line_messages(args, code, message):
    result = run(*args)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_not_a_model_file(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"hello")
    result = run("evaluate", str(bad))
    assert result.returncode == 1
    assert "not a model file" in result.stderr and "Traceback" not in result.stderr


def test_offline_without_data_says_where_to_put_the_files(tmp_path):
    """No files and no network (this test blocks sockets): exit 1 with the folder to fill by hand."""
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text("import socket\n"
                       "def _no(*a, **k):\n    raise OSError('network is unreachable')\n"
                       "socket.socket.connect = _no\nsocket.create_connection = _no\n"
                       "socket.getaddrinfo = _no\n")
    empty = tmp_path / "empty"
    result = run("train", "--data", str(empty), "--limit", "10",
                 env_extra={"PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"})
    assert result.returncode == 1
    assert str(empty) in result.stderr
    assert "Traceback" not in result.stderr
    assert not any(p.name.endswith(".tmp") or p.name.startswith(".") for p in empty.glob("*"))


def test_out_is_a_folder(tmp_path):
    result = run("train", "--out", str(tmp_path))
    assert result.returncode == 2 and "is a folder" in result.stderr


def test_every_training_setting_has_a_flag():
    """Each TrainConfig and NetworkConfig field can be set from the command line."""
    from ann.cli.parser import build_parser
    from ann.config import network_fields, train_fields

    train_parser = build_parser()._subparsers._group_actions[0].choices["train"]
    dests = {a.dest for a in train_parser._actions}
    expected = (set(train_fields()) | set(network_fields())) - {"input_nodes", "output_nodes", "hidden_nodes"}
    assert expected <= dests
    assert "hidden" in dests


def test_a_recorded_run_is_listed_shown_exported_and_deleted(tmp_path, mnist_dir):
    """``train --save-run`` records the run where the dashboard lists it; ``runs`` reads, exports, deletes."""
    store_dir = tmp_path / "runs"
    env = {"ANN_RUNS_DIR": str(store_dir)}
    out = tmp_path / "model.npz"
    # the dashboard of this checkout configured on another port, as Streamlit reads it from the environment
    trained = run("train", "--data", str(mnist_dir), "--limit", "1000", "--epochs", "2", "--save-run",
                  "--out", str(out), "--json", env_extra=env | {"STREAMLIT_SERVER_PORT": "8642"})
    assert trained.returncode == 0, trained.stderr
    payload = json.loads(trained.stdout.strip().splitlines()[-1])
    assert payload["status"] == "finished" and len(payload["epochs"]) == 2 and out.exists()
    # the link that opens this workspace in the dashboard, at the port it runs on
    assert "the dashboard shows it at http://localhost:8642/runs?workspace=" in trained.stderr

    listed = run("runs", "list", "--json", env_extra=env)
    assert listed.returncode == 0, listed.stderr
    runs = json.loads(listed.stdout)
    assert [(r["run"], r["status"], r["epochs_done"], r["source"]) for r in runs] == [("Run 1", "finished", 2, "cli")]
    assert runs[0]["test_accuracy"] == pytest.approx(payload["test_accuracy"])

    shown = run("runs", "show", "Run 1", "--json", env_extra=env)
    assert shown.returncode == 0 and [e["epoch"] for e in json.loads(shown.stdout)["epochs"]] == [1, 2]
    points = json.loads(shown.stdout)["points"]  # the live points: every 2% of an epoch, as the steps allow
    assert len(points) == 2 * len(point_ends(1000, 64)) and points[-1]["samples"] == 6000
    assert [p["samples"] for p in points] == sorted({p["samples"] for p in points})
    assert set(points[0]) == {"epoch", "samples", "train_loss", "train_accuracy", "slice_accuracy"}
    exported = tmp_path / "exported.npz"
    assert run("runs", "export", runs[0]["id"], "--out", str(exported), env_extra=env).returncode == 0
    from ann.model_io import load_model

    a, b = load_model(out).network, load_model(exported).network
    assert all(np.array_equal(x, y) for x, y in zip(a.weights, b.weights))

    listed = run("runs", "list", "--dashboard-url", "https://class.example.org/ann/", env_extra=env)
    assert "the dashboard lists these at https://class.example.org/ann/runs?workspace=" in listed.stdout
    assert f"{format_accuracy(payload['test_accuracy']):>8}" in listed.stdout  # the formatter every page uses

    missing = run("runs", "show", "7", env_extra=env)
    assert missing.returncode == 1 and "no run '7' in this workspace" in missing.stderr
    other = run("runs", "list", "--workspace", "x" * 22, env_extra=env)  # another workspace sees nothing
    assert other.returncode == 0 and "no runs in this workspace" in other.stdout
    bad = run("runs", "list", "--workspace", "not a key", env_extra=env)
    assert bad.returncode == 2 and "is not a workspace key" in bad.stderr
    assert run("runs", "delete", "1", env_extra=env).returncode == 0
    assert json.loads(run("runs", "list", "--json", env_extra=env).stdout) == []


# --------------------------------------------------------------------------- other datasets, your own data


def _last_json(result: subprocess.CompletedProcess) -> dict:
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_train_evaluate_and_predict_on_your_own_data(tmp_path, trained_model):
    """A CSV of four classes (split 80/20, seeded) and a zip of class folders: each trains, its model names
    its classes, evaluate needs the same data and finds the same accuracy, predict answers in class names."""
    from dataset_files import band_set, csv_bytes, shape_image, write_shape_folder, zip_folder

    csv = tmp_path / "four.csv"
    csv_bytes(band_set(400, 4, seed=1), csv)
    model = tmp_path / "four.npz"
    trained = run("train", "--data", str(csv), "--hidden", "20", "--rotate", "0", "--epochs", "1", "--out",
                  str(model), "--json")
    assert trained.returncode == 0, trained.stderr
    payload = _last_json(trained)
    assert payload["dataset"]["title"] == "four" and payload["dataset"]["classes"] == ["0", "1", "2", "3"]
    assert "320 training and 80 test images, 4 classes" in trained.stderr and "20% of each class" in trained.stderr
    assert payload["test_accuracy"] > 0.9  # the band set: 100% measured
    needs_data = run("evaluate", str(model))
    assert needs_data.returncode == 2 and "data of your own: give it with --data PATH" in needs_data.stderr
    scored = run("evaluate", str(model), "--data", str(csv), "--json")
    assert scored.returncode == 0 and _last_json(scored)["accuracy"] == pytest.approx(payload["test_accuracy"])
    wrong = run("evaluate", str(trained_model[0]), "--data", str(csv))  # an MNIST model on four classes
    assert wrong.returncode == 1 and "its 10 outputs do not match the 4 classes" in wrong.stderr

    shapes = write_shape_folder(tmp_path / "shapes", per_class=10)
    (tmp_path / "shapes.zip").write_bytes(zip_folder(shapes, top="shapes"))
    zipped = run("train", "--data", str(tmp_path / "shapes.zip"), "--hidden", "20", "--epochs", "2", "--out",
                 str(tmp_path / "shapes.npz"), "--json")
    assert zipped.returncode == 0, zipped.stderr
    assert _last_json(zipped)["dataset"]["classes"] == ["circle", "cross", "square"]
    picture = tmp_path / "a_cross.png"
    picture.write_bytes(shape_image("cross", 64, np.random.default_rng(1)))
    predicted = run("predict", "--model", str(tmp_path / "shapes.npz"), str(picture), "--json")
    assert predicted.returncode == 0, predicted.stderr
    (answer,) = json.loads(predicted.stdout.strip().splitlines()[-1])
    assert answer["class"] in ("circle", "cross", "square") and answer["class"] == ["circle", "cross", "square"][
        answer["digit"]]
    assert "trained on shapes (3 classes)" in predicted.stderr


def test_bad_own_data_is_one_line_naming_the_file(tmp_path):
    folder = tmp_path / "set"
    (folder / "cat").mkdir(parents=True)
    (folder / "cat" / "readme.txt").write_text("hello")
    result = run("train", "--data", str(folder))
    assert result.returncode == 1 and "cat/readme.txt is not an image" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    split = run("train", "--dataset", "fashion", "--test-fraction", "0.3")
    assert split.returncode == 2 and "--test-fraction and --split-seed split your own data" in split.stderr


def test_a_named_dataset_end_to_end_through_a_fake_mirror(monkeypatch, tmp_path, capsys):
    """``download``, ``train`` and ``evaluate`` with ``--dataset kmnist``, in-process, the mirror faked with
    small files in its format (the registry's checksums patched to theirs)."""
    from dataset_files import band_set, idx_bytes, md5

    from ann.cli import main
    from ann.data.named import NAMED
    from ann.model_io import load_model

    files = {}
    for prefix, split in (("train", band_set(500, seed=1)), ("t10k", band_set(100, seed=2))):
        images, labels = idx_bytes(split)
        files[f"{prefix}-images-idx3-ubyte.gz"], files[f"{prefix}-labels-idx1-ubyte.gz"] = images, labels
    for name, content in files.items():
        monkeypatch.setitem(NAMED["kmnist"].published.files, name, md5(content))

    class Response(io.BytesIO):
        headers = {}

    monkeypatch.setattr("urllib.request.urlopen",
                        lambda request, timeout=None: Response(files[request.full_url.rsplit("/", 1)[1]]))
    monkeypatch.setenv("ANN_DATA_DIR", str(tmp_path / "data"))
    assert main(["download", "--dataset", "kmnist"]) == 0
    assert f"Kuzushiji-MNIST is ready in {tmp_path / 'data' / 'kmnist'}" in capsys.readouterr().out
    out = tmp_path / "k.npz"
    assert main(["train", "--dataset", "kmnist", "--hidden", "20", "--rotate", "0", "--epochs", "1",
                 "--out", str(out)]) == 0
    assert load_model(out).dataset == NAMED["kmnist"].tag
    capsys.readouterr()
    assert main(["evaluate", str(out)]) == 0  # its own dataset by default
    text = capsys.readouterr().out
    assert "test images of Kuzushiji-MNIST" in text and "o (お)" in text and "wo (を)" in text
    # --dataset names what the folder must hold: Kuzushiji-MNIST's files are not MNIST's
    assert main(["evaluate", str(out), "--dataset", "mnist", "--data", str(tmp_path / "data" / "kmnist")]) == 1
    assert "not the original MNIST file" in capsys.readouterr().err


def test_offline_a_named_dataset_says_where_its_files_go(tmp_path):
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text("import socket\n"
                       "def _no(*a, **k):\n    raise OSError('network is unreachable')\n"
                       "socket.socket.connect = _no\nsocket.create_connection = _no\n"
                       "socket.getaddrinfo = _no\n")
    result = run("download", "--dataset", "fashion", env_extra={"PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}",
                                                                 "ANN_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "Could not download Fashion-MNIST file train-images-idx3-ubyte.gz" in result.stderr
    assert str(tmp_path / "data" / "fashion") in result.stderr


def test_a_sweep_on_your_own_data_gives_each_run_one_output_per_class(tmp_path):
    from dataset_files import band_set, csv_bytes

    csv = tmp_path / "three.csv"
    csv_bytes(band_set(150, 3, seed=2), csv)
    result = run("sweep", "--data", str(csv), "--param", "learning_rate=0.1,0.3", "--workers", "1", "--epochs",
                 "1", "--rotate", "0", "--hidden", "10", "--out", str(tmp_path / "s.json"), "--json")
    assert result.returncode == 0, result.stderr
    assert _last_json(result)["runs"] == 2 and _last_json(result)["best"]["test_accuracy"] > 0.9


def test_the_dashboard_link_follows_the_dashboards_own_configuration(tmp_path):
    """--dashboard-url, then $ANN_DASHBOARD_URL, then Streamlit's environment variables, then the project's
    .streamlit/config.toml over the user's, then Streamlit's default."""
    project, user = tmp_path / "project.toml", tmp_path / "user.toml"
    files = [project, user]
    assert dashboard_url(environ={}, config_files=files) == "http://localhost:8501"  # neither file exists
    user.write_text('[server]\nport = 8600\naddress = "10.1.2.3"\n')
    assert dashboard_url(environ={}, config_files=files) == "http://10.1.2.3:8600"
    project.write_text('[server]\nport = 8700\naddress = "0.0.0.0"\nbaseUrlPath = "/ann/"\n')
    assert dashboard_url(environ={}, config_files=files) == "http://localhost:8700/ann"  # 0.0.0.0: every address
    environ = {"STREAMLIT_SERVER_PORT": "9001", "STREAMLIT_SERVER_ADDRESS": "::1"}
    assert dashboard_url(environ=environ, config_files=files) == "http://[::1]:9001/ann"
    environ["ANN_DASHBOARD_URL"] = "https://class.example.org/"
    assert dashboard_url(environ=environ, config_files=files) == "https://class.example.org"
    assert dashboard_url("http://me:1234", environ=environ, config_files=files) == "http://me:1234"
    project.write_text("[server\nport = ")  # a broken file is skipped, not a crash
    assert dashboard_url(environ={}, config_files=files) == "http://10.1.2.3:8600"
    # this checkout's own config sets no address or port: Streamlit's defaults
    assert dashboard_url(environ={}, config_files=[ROOT / ".streamlit" / "config.toml"]) == "http://localhost:8501"
