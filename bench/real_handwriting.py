"""How well each model reads handwritten digits from outside MNIST (issue #9's measure).

The digits are those of ``bench/handwriting_sets.py``: real handwriting (UCI optdigits, 13 writers, through
scikit-learn), handwriting typefaces printed and scanned, the same as simulated phone photos, and the same
drawn with the Draw page's canvas pen. Each goes through ``ann.data.preprocess.prepare`` (the app's and
``python -m ann predict``'s path: decoding, then every preprocessing step), except the naive baseline, which
resizes the whole image straight to 28x28 as a naive app would.

For every model (the shipped ones by default) and every preprocessing variant it prints the accuracy per
kind of digit and part (``tune``: what choices were made on; ``held_out``: never tuned on), the mean over
the four kinds (each kind counts the same, whatever its size), and the MNIST test accuracy. The results go
to bench/out/real_handwriting.json.

    python bench/real_handwriting.py                                  # shipped models, default steps
    python bench/real_handwriting.py --model bench/out/m.npz --variants all
    python bench/real_handwriting.py --measure-mnist                  # MNIST's stroke widths and slant

Variants: ``naive`` (resize to 28x28), ``plain`` (MNIST's own steps: polarity, one background level,
crop, 20x20, centre of mass), ``model`` (what the app and ``predict`` use for that model:
``ann.data.preprocess.preprocess_for``), ``default`` (every step, ``ann.data.preprocess.DEFAULT_PREPROCESS``), and ``default``
with one step switched: ``-flatten``, ``-despeckle``, ``-stroke``, ``+deslant``.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import handwriting_sets as sets
import numpy as np
from _common import DEFAULT_DATA_DIR, REPO_DIR, write_results

from ann.data import decode, preprocess
from ann.data.mnist import load_mnist
from ann.model_io import load_model

KINDS = ("optdigits", "fonts", "photos", "canvas")
PARTS = ("tune", "held_out")


def variants() -> dict[str, preprocess.Preprocess | None]:
    default = preprocess.DEFAULT_PREPROCESS
    flip = lambda **kw: dataclasses.replace(default, **kw)  # noqa: E731
    return {
        "naive": None,
        "plain": preprocess.PLAIN_PREPROCESS,
        "model": None,  # per model: ann.data.preprocess.preprocess_for(its TrainConfig), what the app and predict use
        "default": default,
        "-flatten": flip(flatten=False),
        "-despeckle": flip(despeckle=False),
        "-stroke": flip(stroke=False),
        "+deslant": flip(deslant=True),
    }


def naive_input(sample: sets.Sample) -> np.ndarray:
    """What a naive app feeds the network: the whole image resized to 28x28, inverted if it is dark ink on
    light (by the border's level), scaled like MNIST."""
    from PIL import Image

    if sample.data is not None:
        grey = decode.load_image(sample.data)
    elif sample.rgba is not None:
        grey = decode.canvas_to_grey(sample.rgba)
    else:
        grey = np.asarray(sample.grey, dtype=np.float64)
    if np.median(np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])) > 127:
        grey = 255.0 - grey
    small = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8)).resize((28, 28), Image.BILINEAR)
    return np.asarray(small, dtype=np.float64).reshape(784)


def inputs(samples: list[sets.Sample], preprocess: preprocess.Preprocess | None) -> tuple[np.ndarray, list[str]]:
    """(n, 784) float32 network inputs and, per sample, an error message or ''."""
    X = np.full((len(samples), 784), 0.01, dtype=np.float32)
    errors = []
    for i, sample in enumerate(samples):
        try:
            if preprocess is None:
                X[i] = naive_input(sample) / 255.0 * 0.99 + 0.01
            else:
                X[i] = preprocess.prepare(sample.source_for_prepare(), preprocess=preprocess)[0][0]
            errors.append("")
        except decode.ImageError as exc:
            errors.append(str(exc))
    return X, errors


def scores(correct: np.ndarray, samples: list[sets.Sample]) -> dict[str, float]:
    out: dict[str, float] = {}
    kinds = np.array([s.kind for s in samples])
    parts = np.array([s.part for s in samples])
    for part in (*PARTS, "all"):
        in_part = np.ones(len(samples), bool) if part == "all" else parts == part
        per_kind = []
        for kind in KINDS:
            chosen = in_part & (kinds == kind)
            if chosen.any():
                out[f"{kind}/{part}"] = float(correct[chosen].mean())
                per_kind.append(out[f"{kind}/{part}"])
        out[f"mean/{part}"] = float(np.mean(per_kind))
    return out


def measure_mnist(data_dir: str, limit: int | None) -> dict:
    """MNIST's own stroke widths and slants, through the same steps (stroke and slant steps off)."""
    mnist = load_mnist(data_dir, download=False)
    digits = mnist.train.images[:limit].reshape(-1, 28, 28)
    widths, slants = [], []
    start = time.perf_counter()
    for digit in digits:
        ink = preprocess._ink(digit.astype(np.float64), False, flatten=False)
        work = preprocess._fit(preprocess._crop_to_ink(ink), preprocess.BOX_SIDE * preprocess.WORK_SCALE)
        work /= work.max()
        widths.append(preprocess.stroke_width(work) / preprocess.WORK_SCALE)
        slants.append(preprocess.slant(work))
    percentiles = [5, 10, 25, 50, 75, 90, 95]
    result = {"digits": len(digits), "seconds": time.perf_counter() - start, "percentiles": percentiles,
              "stroke_width": np.percentile(widths, percentiles).round(3).tolist(),
              "slant": np.percentile(slants, percentiles).round(3).tolist(),
              "in_ann_images": {"MNIST_STROKE_WIDTH": preprocess.MNIST_STROKE_WIDTH, "MNIST_SLANT": preprocess.MNIST_SLANT}}
    print(f"MNIST training digits: {len(digits):,} in {result['seconds']:.0f} s")
    print(f"stroke width (px of 28x28) at percentiles {percentiles}: {result['stroke_width']}")
    print(f"slant (columns per row) at percentiles {percentiles}: {result['slant']}")
    print(f"ann.data.preprocess has MNIST_STROKE_WIDTH={preprocess.MNIST_STROKE_WIDTH} (10th, 50th, 90th) and "
          f"MNIST_SLANT={preprocess.MNIST_SLANT} (10th, 50th, 90th)")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--model", action="append", default=None,
                        help="a model file (repeatable; default: every model in data/ that ann ships)")
    parser.add_argument("--variants", default="naive,plain,model",
                        help="comma-separated, or 'all' (" + ", ".join(variants()) + ")")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--name", default="real_handwriting", help="results file bench/out/NAME.json")
    parser.add_argument("--measure-mnist", action="store_true", help="measure MNIST's stroke widths and slant")
    parser.add_argument("--limit", type=int, default=None, help="--measure-mnist: the first N training digits")
    parser.add_argument("--no-mnist-test", action="store_true", help="skip the MNIST test accuracy")
    args = parser.parse_args()

    if args.measure_mnist:
        write_results("mnist_strokes", measure_mnist(args.data, args.limit))
        return
    from ann.models import shipped_models

    model_paths = args.model or [str(m.path) for m in shipped_models()]
    chosen = list(variants()) if args.variants == "all" else args.variants.split(",")
    kinds = args.kinds.split(",")
    start = time.perf_counter()
    samples = [s for s in (sets.optdigits() if "optdigits" in kinds else []) +
               sets.font_digits(tuple(k for k in kinds if k != "optdigits"))]
    labels = np.array([s.label for s in samples])
    print(f"{len(samples):,} digits ({', '.join(f'{k} {sum(s.kind == k for s in samples)}' for k in KINDS)}), "
          f"typefaces: {', '.join(sorted(sets.font_files()))} (held out: "
          f"{', '.join(n for n in sorted(sets.font_files()) if sets.held_out_font(n))}); "
          f"built in {time.perf_counter() - start:.0f} s")
    mnist = None if args.no_mnist_test else load_mnist(args.data, download=False)
    if "model" in chosen:  # made of the two it can be
        chosen = [name for name in chosen if name != "model"]
        chosen = ["model"] + [name for name in ("default", "-stroke") if name not in chosen] + chosen
    prepared = {}
    for name in chosen:
        if name == "model":
            continue
        started = time.perf_counter()
        prepared[name] = inputs(samples, variants()[name])
        failed = sum(bool(e) for e in prepared[name][1])
        print(f"  {name}: prepared in {time.perf_counter() - started:.1f} s, {failed} unreadable")
    results = {"samples": {k: {p: sum(s.kind == k and s.part == p for s in samples) for p in PARTS} for k in KINDS},
               "typefaces": sorted(sets.font_files()), "models": {}}
    header = "  ".join(f"{k[:9]:>9}" for k in KINDS)
    for path in model_paths:
        loaded = load_model(path)
        network = loaded.network
        if "model" in chosen:
            prepared["model"] = prepared["default" if preprocess.preprocess_for(loaded.train_config).stroke else "-stroke"]
        entry: dict = {}
        if mnist is not None:
            from ann.train import accuracy_of

            entry["mnist_test"] = accuracy_of(network, mnist.test.images, mnist.test.labels)
        print(f"\n{Path(path).name}" + (f"  (MNIST test {entry['mnist_test']:.2%})" if mnist is not None else ""))
        print(f"  {'variant':<11} {'part':<9} {header}  {'mean':>6}")
        for name in chosen:
            X, errors = prepared[name]
            predicted = network.query(X.astype(network.dtype)).argmax(axis=1)
            correct = (predicted == labels) & np.array([not e for e in errors])
            entry[name] = scores(correct, samples)
            for part in (*PARTS, "all"):
                cells = "  ".join(f"{entry[name].get(f'{k}/{part}', float('nan')):9.1%}" for k in KINDS)
                print(f"  {name:<11} {part:<9} {cells}  {entry[name][f'mean/{part}']:6.1%}")
        resolved = Path(path).resolve()
        results["models"][str(resolved.relative_to(REPO_DIR) if resolved.is_relative_to(REPO_DIR) else path)] = entry
    print(f"\nwritten to {write_results(args.name, results)}")


if __name__ == "__main__":
    main()
