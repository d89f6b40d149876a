"""Memory and time of everything a visitor uploads (issue #13), against the code as it was before, same run.

Part 1, files: each upload is run through ann in a fresh interpreter (one BLAS thread, as the app runs;
tests/hostile_files.py's child), which measures its baseline after the imports, resets VmHWM and reports the
peak resident memory above that baseline and the seconds of the reading alone. Each case runs ``--repeats``
times, the reference (the readers as they were before #13: ``np.load`` of every entry; imageio decoding the
whole frame, float64 from there, without the old 4000-pixel side limit so that it reads what the new code
reads) and the candidate (``ann.model_io.load_model``, ``ann.data.preprocess.prepare``) alternating; medians are the
figures. The issue's targets: a 12 MP JPEG in at most 1 s and 150 MB above the baseline; the blank
3999x3999 RGBA PNG in at most 100 MB; a model bomb refused in well under a second.

Part 2, the app (``--app``, needs Debian's chromium and playwright): ``streamlit run app.py`` of this tree and
of the reference commit (``git archive`` into a temporary folder), one after the other; in a real headless
Chromium, 30 phone photos (4000x3000 JPEG, the largest the old code accepted; 6 distinct photos, 5 copies of
each under their own names) uploaded at once on the Draw page, then in a new session the blank PNG bomb and an
81-megapixel PNG, then the model bomb on the Train page; the server's VmRSS and VmHWM (from /proc) after each.
Target: the server under 600 MB, and no rise from the model bomb.

Part 3, datasets (``--datasets``): the hostile dataset uploads of issue #21 (a CSV of one 112 MB line and one of
57 million short lines, each in a zip of about 115 KB; a 48 MB CSV of short lines) and two honest ones (MNIST's
first 27,500 training images as a 48 MB CSV, its whole training set as the seed's 105 MB CSV), each read by
``ann.data.own.read_own_data`` (what ``python -m ann train --data`` and the Dataset page call) in a fresh child,
here and in the tree before #21 (``DATASETS_REFERENCE``, from ``git archive``), alternating; the reference's
address space is capped at ``REFERENCE_CAP_MB`` (it asked for 43.6 GiB on the short lines).

Part 4, the server (``--server``, needs Debian's chromium and playwright): ``streamlit run app.py`` of this tree;
on the Dataset page, in real headless Chromium tabs, each upload read (or refused) while the server's VmHWM is
reset before and read after (``/proc/PID/clear_refs``): one visitor's one-line zip; three visitors' one-line zips
at once; three visitors' short-lines zips at once; MNIST's training CSV; and three files of 45 MB in one upload
(refused on their total), with the server's resident memory once they are released. Targets: 400 MB above the
baseline for one upload, 600 MB for three at once.

Files are written to bench/out/uploads/ (git-ignored). Writes bench/out/upload_memory.json.

Run (part 1 about 2 minutes, part 2 about 2 more, part 3 about 2, part 4 about 3)::

    python bench/upload_memory.py
    python bench/upload_memory.py --app --repeats 1
    python bench/upload_memory.py --no-files --datasets --server --repeats 1
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from _common import DEFAULT_DATA_DIR, OUT_DIR, REPO_DIR, median, write_results

sys.path.insert(0, str(REPO_DIR / "tests"))
import hostile_files as h  # noqa: E402 -- the writers and the measuring child are the tests' own

from ui.memory import EVERY_SECONDS  # noqa: E402 -- how often the server collects and returns freed pages

REFERENCE_COMMIT = "7aa5e39"  # main just before issue #13's first commit
DATASETS_REFERENCE = "528b868"  # main just before issue #21's first commit
REFERENCE_CAP_MB = 3000  # the reference's address space above its baseline (it asks for 43.6 GiB on one file)
UPLOADS = OUT_DIR / "uploads"
TARGETS = {"photo_12mp_seconds": 1.0, "photo_12mp_mb": 150.0, "png_bomb_mb": 100.0, "model_bomb_seconds": 1.0,
           "server_mb": 600.0, "one_upload_mb": 400.0, "three_uploads_mb": 600.0}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT_MS = 180_000


# --------------------------------------------------------------------------- the files


def write_inputs() -> dict[str, Path]:
    """Every upload of part 1 and 2, written once (kept between runs: the same bytes every time)."""
    UPLOADS.mkdir(parents=True, exist_ok=True)
    makers = {
        "photo_12mp.jpg": lambda: h.phone_photo(7, 4032, 3024, orientation=6, noise=4),
        "photo_12mp_progressive.jpg": lambda: h.phone_photo(3, 4032, 3024, orientation=6, noise=4,
                                                            progressive=True),
        "photo_50mp.jpg": lambda: h.phone_photo(2, 8160, 6120, orientation=6, noise=4),
        "blank_3999_rgba.png": lambda: h.png_blank(3999, 3999, 4),
        "blank_81mp.png": lambda: h.png_blank(9000, 9000, 1),
        "model_bomb.npz": lambda: h.model_npz(h.model_meta(),
                                              h.npy_entry("weights_0", descr="<f4", shape=(30000, 30000)),
                                              h.npy_entry("weights_1", descr="<f4", shape=(10, 200))),
        "model_784_4x1000_10.npz": _largest_train_page_model,
        # The largest model read at all: 15.9 million parameters (the limit is 16 million), float64 zeros
        # (127 MB unpacked from a 124 KB file) into a float32 network.
        "model_largest_accepted.npz": lambda: h.model_npz(
            h.model_meta(hidden_nodes=(8000, 1200)), h.npy_entry("weights_0", descr="<f8", shape=(8000, 784)),
            h.npy_entry("weights_1", descr="<f8", shape=(1200, 8000)),
            h.npy_entry("weights_2", descr="<f8", shape=(10, 1200))),
    }
    for digit, orientation in zip((1, 2, 3, 4, 7, 2), (6, 1, 8, 6, 3, 6)):
        makers[f"phone_{digit}_{orientation}.jpg"] = (
            lambda d=digit, o=orientation: h.phone_photo(d, 4000, 3000, orientation=o, noise=4))
    paths = {}
    for name, make in makers.items():
        path = UPLOADS / name
        if not path.exists():
            path.write_bytes(make())
        paths[name] = path
    return paths


def _largest_train_page_model() -> bytes:
    """784-1000-1000-1000-1000-10 with biases, float32, trained-looking random weights, through ann."""
    import numpy as np

    from ann.config import NetworkConfig
    from ann.model_io import model_to_bytes
    from ann.network import Network

    network = Network(NetworkConfig(hidden_nodes=(1000,) * 4, bias=True, activation="relu"))
    network.biases = [np.full_like(b, 0.01) for b in network.biases]
    return model_to_bytes(network)


# --------------------------------------------------------------------------- part 1


FILE_CASES = [  # name, file, reference kind, candidate kind
    ("12 MP phone JPEG (4032x3024, EXIF 6)", "photo_12mp.jpg", "reference_image", "image"),
    ("12 MP progressive JPEG", "photo_12mp_progressive.jpg", "reference_image", "image"),
    ("50 MP phone JPEG (8160x6120)", "photo_50mp.jpg", "reference_image", "image"),
    ("blank 3999x3999 RGBA PNG", "blank_3999_rgba.png", "reference_image", "image"),
    ("model bomb (30000x30000 weights_0)", "model_bomb.npz", "reference_model", "model"),
    ("largest Train-page model (784-4x1000-10)", "model_784_4x1000_10.npz", "reference_model", "model"),
    ("largest model accepted (784-8000-1200-10, float64)", "model_largest_accepted.npz", "reference_model",
     "model"),
]


def files_part(paths: dict[str, Path], repeats: int) -> list[dict[str, Any]]:
    rows = []
    for label, name, reference_kind, candidate_kind in FILE_CASES:
        runs: dict[str, list[dict]] = {"reference": [], "candidate": []}
        for _ in range(repeats):
            for side, kind in (("reference", reference_kind), ("candidate", candidate_kind)):
                result = h.run_child(kind, paths[name], limit_mb=16_000, timeout=600)
                result.pop("image", None)
                runs[side].append(result)
        row = {"case": label, "file": name, "file_bytes": paths[name].stat().st_size}
        for side, results in runs.items():
            row[side] = {
                "outcome": results[-1]["outcome"],
                "answer": results[-1].get("digit", results[-1].get("layers", results[-1].get("arrays"))),
                "message": results[-1].get("message"),
                "median_seconds": median([r.get("seconds", float("nan")) for r in results]),
                "median_peak_mb": median([r.get("peak_above_baseline_mb", float("nan")) for r in results]),
                "peaks_mb": [r.get("peak_above_baseline_mb") for r in results],
                "seconds": [r.get("seconds") for r in results],
                "baseline_vmsize_mb": results[-1].get("baseline_vmsize_mb"),
            }
        rows.append(row)
        ref, new = row["reference"], row["candidate"]
        answer = new["answer"] if new["outcome"] == "ok" else f"refused: {new['message'][-90:]}"
        print(f"{label}: {row['file_bytes'] / 2**20:.2f} MB file; before {ref['median_seconds']:.3f} s, "
              f"{ref['median_peak_mb']:.0f} MB; now {new['median_seconds']:.3f} s, {new['median_peak_mb']:.1f} MB "
              f"({answer})", flush=True)
    return rows


# --------------------------------------------------------------------------- part 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``streamlit run app.py`` from ``folder`` in its own process group, stopped by its own PID."""

    def __init__(self, folder: Path, data_dir: Path, log: Path) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        self._log = open(log, "w")
        env = dict(os.environ, ANN_DATA_DIR=str(data_dir), PYTHONPATH=str(folder))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
             self.url.rsplit(":", 1)[1], "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=folder, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1) as response:
                    if response.read().decode().strip() == "ok":
                        break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the app in {folder} did not start; see {log}")
            time.sleep(0.1)

    def memory_mb(self) -> dict[str, float]:
        fields = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
        return {"rss_mb": round(fields["VmRSS"], 1), "peak_mb": round(fields["VmHWM"], 1)}

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self._log.close()


def reference_tree(folder: Path) -> Path:
    """The reference commit's files, from ``git archive`` (read-only for the repository), in ``folder``: a
    temporary folder outside the repository, where pytest would otherwise collect its tests."""
    archive = subprocess.run(["git", "archive", REFERENCE_COMMIT], cwd=REPO_DIR, capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def wait_idle(page) -> None:
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(timeout=WAIT_MS)


def app_run(browser, folder: Path, data_dir: Path, paths: dict[str, Path], label: str) -> dict[str, Any]:
    server = Server(folder, data_dir, OUT_DIR / f"upload_memory_{label}.log")
    samples = []

    def sample(after: str) -> None:
        samples.append({"after": after, **server.memory_mb()})
        print(f"  [{label}] after {after}: {samples[-1]['rss_mb']:.0f} MB resident, peak {samples[-1]['peak_mb']:.0f} "
              "MB", flush=True)

    try:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(WAIT_MS)
        page = context.new_page()
        page.goto(f"{server.url}/draw")
        page.locator(".st-key-draw_upload_open summary").click()  # the uploader is drawn once opened
        page.locator(".st-key-draw_uploads input[type='file']").wait_for(state="attached")
        wait_idle(page)
        sample("opening Draw")
        photos = [paths[n] for n in sorted(paths) if n.startswith("phone_")]
        files = []
        for copy in range(5):
            for photo in photos:
                twin = UPLOADS / "thirty" / f"{copy}_{photo.name}"
                twin.parent.mkdir(exist_ok=True)
                if not twin.exists():
                    twin.write_bytes(photo.read_bytes())
                files.append(twin)
        started = time.perf_counter()
        page.locator(".st-key-draw_uploads input[type='file']").set_input_files(files)
        captions = page.get_by_text(re.compile(r": predicted \d \("))
        captions.nth(len(files) - 1).wait_for()
        wait_idle(page)
        grid_seconds = time.perf_counter() - started
        read = [re.search(r"(\d)_\d\.jpg: predicted (\d)", c) for c in captions.all_inner_texts()]
        right = sum(1 for m in read if m and m.group(1) == m.group(2))
        sample(f"{len(files)} phone photos at once")
        print(f"  [{label}] the grid of {len(files)} shown {grid_seconds:.1f} s after the files were chosen; "
              f"{right} read as written", flush=True)

        context.close()  # a new session: the uploader adds files to its list, and shows the first 30 only
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(WAIT_MS)
        page = context.new_page()
        page.goto(f"{server.url}/draw")
        page.locator(".st-key-draw_upload_open summary").click()  # the uploader is drawn once opened
        page.locator(".st-key-draw_uploads input[type='file']").wait_for(state="attached")
        wait_idle(page)
        page.locator(".st-key-draw_uploads input[type='file']").set_input_files(
            [paths["blank_3999_rgba.png"], paths["blank_81mp.png"]])
        page.get_by_test_id("stAlertContentError").nth(1).wait_for()
        wait_idle(page)
        messages = page.get_by_test_id("stAlertContentError").all_inner_texts()
        sample("the blank PNG bomb and an 81 MP PNG")

        page.goto(f"{server.url}/train")
        page.locator("h1").first.wait_for()
        wait_idle(page)
        model_files = page.locator(".st-key-tr_model_files summary")  # the model files open on demand (#14)
        if model_files.count():
            model_files.click()
        upload = page.locator(".st-key-tr_upload input[type='file']")
        upload.wait_for(state="attached")
        wait_idle(page)
        sample("opening Train")
        before_bomb = samples[-1]
        started = time.perf_counter()
        upload.set_input_files(paths["model_bomb.npz"])
        page.get_by_text(re.compile("Not loaded:")).wait_for()
        model_seconds = time.perf_counter() - started
        model_message = page.get_by_text(re.compile("Not loaded:")).inner_text()
        sample("the model bomb")
        context.close()
    finally:
        server.stop()
    return {"samples": samples, "photos": len(files), "photos_read_right": right,
            "grid_seconds": round(grid_seconds, 2), "image_messages": messages, "model_message": model_message,
            "model_message_seconds": round(model_seconds, 2),
            "model_bomb_rise_mb": round(samples[-1]["peak_mb"] - before_bomb["peak_mb"], 1),
            "peak_mb": max(s["peak_mb"] for s in samples)}


def app_part(paths: dict[str, Path], data_dir: Path, chromium: str) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    result = {}
    with sync_playwright() as p, tempfile.TemporaryDirectory(prefix="ann_reference_") as reference:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            for label, folder in (("candidate", REPO_DIR), ("reference", reference_tree(Path(reference)))):
                print(f"app, {label} ({folder if label == 'candidate' else REFERENCE_COMMIT}):", flush=True)
                result[label] = app_run(browser, folder, data_dir, paths, label)
        finally:
            browser.close()
    return result


# --------------------------------------------------------------------------- part 3: datasets


def write_dataset_inputs(data_dir: Path) -> dict[str, Path]:
    """The dataset uploads (kept between runs); MNIST's from the real files in ``data_dir``."""
    from ann.data.csv_files import write_csv
    from ann.data.mnist import load_mnist
    from ann.data.split import Split

    makers = {
        "csv_one_line.zip": lambda: h.zip_archive([h.Entry("digits.csv", zeros=112 * 2**20, fill=b"0,")]),
        "csv_short_lines.zip": lambda: h.zip_archive([h.Entry("digits.csv", zeros=57_000_000 * 2, fill=b"0\n")]),
        "csv_short_lines_48mb.csv": lambda: b"0\n" * (24 * 2**20),
    }
    paths = {}
    for name, make in makers.items():
        paths[name] = UPLOADS / name
        if not paths[name].exists():
            paths[name].write_bytes(make())
    for name, count in (("mnist_27500.csv", 27_500), ("mnist_train.csv", 60_000)):
        paths[name] = UPLOADS / name
        if not paths[name].exists():
            train = load_mnist(data_dir).train
            write_csv(paths[name], Split(train.images[:count], train.labels[:count]))
    return paths


DATASET_CASES = [  # label, file
    ("a CSV of one 112 MB line in a 114 KB zip", "csv_one_line.zip"),
    ("a CSV of 57 million short lines in a 111 KB zip", "csv_short_lines.zip"),
    ("a 48 MB CSV of short lines", "csv_short_lines_48mb.csv"),
    ("MNIST's first 27,500 training images as a 48 MB CSV", "mnist_27500.csv"),
    ("MNIST's training set as the seed's CSV (105 MB)", "mnist_train.csv"),
]


def run_child_in(tree: Path, kind: str, path: Path, limit_mb: float, timeout: float = 900) -> dict:
    """tests/hostile_files.py's measuring child, from ``tree`` (this one or the reference's)."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONPATH=str(tree))
    done = subprocess.run([sys.executable, str(tree / "tests" / "hostile_files.py"), kind, str(path), "--limit-mb",
                           str(limit_mb)], capture_output=True, text=True, env=env, timeout=timeout, cwd=tree,
                          check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"outcome": "crashed", "returncode": done.returncode, "stderr": done.stderr[-300:]}
    return json.loads(lines[-1])


def datasets_part(paths: dict[str, Path], repeats: int) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="ann_reference_21_") as folder:
        reference = git_tree(DATASETS_REFERENCE, Path(folder))
        for label, name in DATASET_CASES:
            runs: dict[str, list[dict]] = {"reference": [], "candidate": []}
            for _ in range(repeats):
                runs["reference"].append(run_child_in(reference, "own_data", paths[name], REFERENCE_CAP_MB))
                runs["candidate"].append(run_child_in(REPO_DIR, "own_data", paths[name], 768))
            row = {"case": label, "file": name, "file_bytes": paths[name].stat().st_size}
            for side, results in runs.items():
                last = results[-1]
                row[side] = {"outcome": last["outcome"], "error": last.get("error"),
                             "message": (last.get("message") or "")[:160],
                             "median_seconds": median([r.get("seconds", float("nan")) for r in results]),
                             "median_peak_mb": median([r.get("peak_above_baseline_mb", float("nan"))
                                                       for r in results])}
            rows.append(row)
            ref, new = row["reference"], row["candidate"]
            said = "read" if new["outcome"] == "ok" else f"refused: {new['message'][:70]}"
            before = ("out of memory" if ref["outcome"] == "MemoryError" or ref.get("error") == "_ArrayMemoryError"
                      else ref["outcome"] if ref["outcome"] != "error" else f"{ref['error']}")
            print(f"{label} ({row['file_bytes'] / 2**20:.2f} MB): before {ref['median_seconds']:.2f} s, "
                  f"{ref['median_peak_mb']:.0f} MB ({before}); now {new['median_seconds']:.2f} s, "
                  f"{new['median_peak_mb']:.1f} MB ({said})", flush=True)
    return rows


def git_tree(commit: str, folder: Path) -> Path:
    archive = subprocess.run(["git", "archive", commit], cwd=REPO_DIR, capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    return folder


# --------------------------------------------------------------------------- part 4: the server


def _reset_peak(pid: int) -> None:
    with open(f"/proc/{pid}/clear_refs", "w") as clear:
        clear.write("5")


def _open_upload_panel(browser, url: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto(f"{url}/dataset")
    page.get_by_role("tab", name="Your own data").click()
    page.locator(".st-key-own_upload input[type='file']").wait_for(state="attached")
    wait_idle(page)
    return context, page


def server_part(paths: dict[str, Path], data_dir: Path, chromium: str) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    big = []
    for i in range(3):
        twin = UPLOADS / "eight" / f"part{i}.csv"
        twin.parent.mkdir(exist_ok=True)
        if not twin.exists():
            twin.write_bytes(b"0," * (45 * 2**19))
        big.append(twin)
    cases = [("one visitor: the one-line zip", [[paths["csv_one_line.zip"]]]),
             ("three visitors at once: the one-line zip", [[paths["csv_one_line.zip"]]] * 3),
             ("three visitors at once: the short-lines zip", [[paths["csv_short_lines.zip"]]] * 3),
             ("one visitor: MNIST's training CSV (105 MB)", [[paths["mnist_train.csv"]]])]
    result: dict[str, Any] = {"cases": []}
    with tempfile.TemporaryDirectory(prefix="ann_runs_") as runs:
        os.environ["ANN_RUNS_DIR"] = runs
        server = Server(REPO_DIR, data_dir, OUT_DIR / "upload_memory_server.log")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
                try:
                    warm, page = _open_upload_panel(browser, server.url)  # imports and first page runs done
                    warm.close()
                    time.sleep(2)
                    result["baseline_rss_mb"] = server.memory_mb()["rss_mb"]
                    for label, uploads in cases:
                        tabs = [_open_upload_panel(browser, server.url) for _ in uploads]
                        before = server.memory_mb()["rss_mb"]
                        _reset_peak(server.process.pid)
                        # one Playwright thread drives all the tabs: the uploads go out in turn, the server
                        # reads them at once (each press returns as soon as it is sent)
                        for (_, tab), files in zip(tabs, uploads):
                            tab.locator(".st-key-own_upload input[type='file']").set_input_files(files)
                        for _, tab in tabs:
                            tab.wait_for_function("() => { const b = document.querySelector('.st-key-own_read "
                                                  "button'); return b && !b.disabled; }", timeout=WAIT_MS)
                        for _, tab in tabs:
                            tab.locator(".st-key-own_read button").click()
                        said = []
                        for _, tab in tabs:
                            box = tab.get_by_test_id("stAlertContentError").or_(
                                tab.get_by_test_id("stAlertContentSuccess")).first
                            box.wait_for()
                            said.append(box.inner_text()[:160])
                        memory = server.memory_mb()
                        row = {"case": label, "rss_before_mb": before, "peak_mb": memory["peak_mb"],
                               "peak_above_baseline_mb": round(memory["peak_mb"] - result["baseline_rss_mb"], 1),
                               "said": said}
                        for context, _ in tabs:
                            context.close()
                        result["cases"].append(row)
                        print(f"  {label}: peak {row['peak_above_baseline_mb']:.0f} MB above the baseline "
                              f"({result['baseline_rss_mb']:.0f} MB); said: {said[0][:90]}", flush=True)
                    # three files of 45 MB in one upload: refused on their total, their bytes released
                    context, tab = _open_upload_panel(browser, server.url)
                    time.sleep(EVERY_SECONDS + 1)  # the previous cases' garbage collected and returned (ui.memory)
                    before = server.memory_mb()["rss_mb"]
                    _reset_peak(server.process.pid)
                    tab.locator(".st-key-own_upload input[type='file']").set_input_files(big)
                    message = tab.get_by_text("files are read here")
                    message.wait_for()
                    said = message.inner_text()[:160]  # before the reload below, which clears it
                    wait_idle(tab)
                    time.sleep(3)
                    tab.reload()
                    wait_idle(tab)
                    time.sleep(EVERY_SECONDS + 1)
                    after = server.memory_mb()
                    row = {"case": "three files of 45 MB in one upload", "said": said,
                           "peak_mb": after["peak_mb"], "rss_after_refusal_mb": after["rss_mb"],
                           "peak_above_baseline_mb": round(after["peak_mb"] - result["baseline_rss_mb"], 1),
                           "rss_above_baseline_after_mb": round(after["rss_mb"] - result["baseline_rss_mb"], 1),
                           "rss_before_mb": before, "rss_after_minus_before_mb": round(after["rss_mb"] - before, 1)}
                    context.close()
                    result["cases"].append(row)
                    print(f"  {row['case']}: peak {row['peak_above_baseline_mb']:.0f} MB above the baseline, "
                          f"{row['rss_above_baseline_after_mb']:.0f} MB still held 9 s after the refusal "
                          f"({row['rss_after_minus_before_mb']:+.0f} MB against just before the upload); said: "
                          f"{row['said'][:90]}", flush=True)
                finally:
                    browser.close()
        finally:
            server.stop()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description="Memory and time of uploads, before and after issue #13.")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each file case, per side")
    parser.add_argument("--app", action="store_true", help="also part 2: the app in a real browser")
    parser.add_argument("--no-files", action="store_true", help="skip part 1 (with --app: the app alone)")
    parser.add_argument("--datasets", action="store_true", help="also part 3: dataset uploads, before and now")
    parser.add_argument("--server", action="store_true", help="also part 4: dataset uploads to the app")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="MNIST folder for the app")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    load_before = os.getloadavg()
    paths = write_inputs()
    results: dict[str, Any] = {"reference_commit": REFERENCE_COMMIT, "targets": TARGETS,
                               "load_average_at_start": [round(x, 2) for x in load_before]}
    print(f"load average at start: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}", flush=True)
    if not args.no_files:
        results["files"] = files_part(paths, args.repeats)
    if args.app:
        results["app"] = app_part(paths, args.data, args.chromium)
    if args.datasets or args.server:
        dataset_paths = write_dataset_inputs(args.data)
        if args.datasets:
            results["datasets"] = datasets_part(dataset_paths, args.repeats)
        if args.server:
            results["server"] = server_part(dataset_paths, args.data, args.chromium)
    parts = [part for part, wanted in (("app", args.app), ("datasets", args.datasets), ("server", args.server))
             if wanted]
    name = "upload_memory" if not args.no_files else "_".join(["upload_memory", *parts])
    print(f"results: {write_results(name, results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
