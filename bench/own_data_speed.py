"""How long reading your own data takes (ann.data.own), in each form, and storing it on the server.

- an image folder of ``--images`` drawn shapes (64-400 pixels a side, PNG and JPEG, five classes), read from
  the folder and from a zip of it (as an upload);
- ``--photos`` phone-sized JPEGs (4032x3024), the slowest kind of image there is to decode;
- MNIST's 60,000 training images as the seed's CSV, and as an IDX pair;
- saving the 70,000-image dataset in a workspace's store and opening it again (mapped).

Each is timed once (the machine is shared: run it twice to see the spread); the figures go to stdout and to
bench/out/own_data_speed.json, with the process's peak memory (VmHWM) after each step.

    python bench/own_data_speed.py [--data DIR] [--images 2000] [--photos 20]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import DEFAULT_DATA_DIR, REPO_DIR, write_results

sys.path.insert(0, str(REPO_DIR / "tests"))
from dataset_files import SHAPES, shape_image, zip_folder  # noqa: E402 -- the tests' own shape drawer

from ann.data.csv_files import write_csv  # noqa: E402
from ann.data.mnist import load_mnist
from ann.data.own import read_own_data  # noqa: E402
from ann.data.split import Split
from ann.service.datasets import DatasetStore


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(label: str, fn, results: dict, per: int | None = None):
    start = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    results[label] = {"seconds": round(seconds, 3), "peak_mb": round(peak_mb(), 1)}
    if per:
        results[label]["ms_each"] = round(seconds / per * 1000, 2)
    print(f"{label:<40} {seconds:7.2f} s" + (f"  ({seconds / per * 1000:.2f} ms each)" if per else "")
          + f"  peak {peak_mb():.0f} MB")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA_DIR), help="the MNIST folder")
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--photos", type=int, default=20)
    args = parser.parse_args()
    results: dict = {}
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "shapes"
        for i in range(args.images):
            kind = SHAPES[i % len(SHAPES)]
            folder = root / kind
            folder.mkdir(parents=True, exist_ok=True)
            mode = "JPEG" if i % 3 == 0 else "RGB"
            (folder / f"{i}.{'jpg' if mode == 'JPEG' else 'png'}").write_bytes(
                shape_image(kind, int(rng.integers(64, 400)), rng, mode))
        data = timed(f"image folder, {args.images} images", lambda: read_own_data(root), results, args.images)
        packed = zip_folder(root, top="shapes")
        results["zip_mb"] = round(len(packed) / 2**20, 1)
        timed(f"the same as an uploaded zip ({len(packed) / 2**20:.1f} MB)",
              lambda: read_own_data([("shapes.zip", packed)]), results, args.images)

        from PIL import Image, ImageDraw

        photos = Path(tmp) / "photos"
        for i in range(args.photos):
            image = Image.new("RGB", (4032, 3024), (230, 228, 220))
            ImageDraw.Draw(image).ellipse([1200, 700, 2800, 2300], outline=(20, 20, 20), width=90)
            folder = photos / ("a" if i % 2 else "b")
            folder.mkdir(parents=True, exist_ok=True)
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=90)
            (folder / f"{i}.jpg").write_bytes(buffer.getvalue())
        if args.photos >= 20:
            timed(f"{args.photos} phone photos (4032x3024 JPEG)", lambda: read_own_data(photos), results, args.photos)

        mnist = load_mnist(args.data, download=False)
        csv = Path(tmp) / "mnist_train.csv"
        write_csv(csv, Split(mnist.train.images, mnist.train.labels))
        timed("MNIST's 60,000 training images as CSV", lambda: read_own_data(csv), results, 60_000)
        idx = [Path(args.data) / f"{p}-{k}-idx{n}-ubyte.gz" for p in ("train", "t10k") for k, n in
               (("images", 3), ("labels", 1))]
        timed("MNIST's four IDX files (a given split)", lambda: read_own_data(idx), results, 70_000)

        store = DatasetStore(Path(tmp) / "store")
        whole = read_own_data(idx)
        key = timed("store: save 70,000 images", lambda: store.save("a" * 32, whole), results)
        opened = timed("store: open them (mapped)", lambda: store.open("a" * 32, key), results)
        assert np.array_equal(opened.test.images, whole.test.images)
        results["classes"] = list(data.class_names)
    print(f"written to {write_results('own_data_speed', results)}")


if __name__ == "__main__":
    main()
