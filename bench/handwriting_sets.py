"""Handwritten digits from outside MNIST, for ``bench/real_handwriting.py`` (not a benchmark itself).

Four kinds of digit, each built from material that a package ships (nothing is downloaded at run time):

- ``optdigits``: real handwriting. scikit-learn's ``load_digits`` is the test part of UCI's *Optical
  Recognition of Handwritten Digits*: 1,797 digits written on forms by 13 people (not MNIST's writers),
  scanned by another scanner, and reduced to 8x8 grey (0..16: the ink pixels counted in 4x4 blocks of a
  32x32 bitmap). They go in as the small grey images they are, light ink on black, as a user's tiny scan
  would. A weak stand-in for a user's digits (8x8 is coarse), but real writers.
- ``fonts``: digits of handwriting typefaces (each drawn from a person's handwriting or with a pen), printed
  dark on light paper as a clean scan: two pens each (the glyph, and the glyph thickened by a few percent of
  its height, as a felt pen), at a random size and place on the page.
- ``photos``: the same glyphs as simulated phone photos of paper: uneven light with a shadow across the
  page, paper grain, a soft focus, a small tilt, the digit small in a 4:3 frame, saved as JPEG.
- ``canvas``: the same glyphs drawn as on the Draw page's canvas: each glyph thinned to its centre line
  and redrawn with the canvas's round pen (24 px on 280x280, light strokes on transparent), the digit as
  large as the box allows.

Every sample has a ``part``: ``tune`` or ``held_out``. Choices about preprocessing and training are made on
``tune`` only; ``held_out`` is reported, never tuned on. optdigits has no writer ids; its file is taken in
order (the first 1,200 digits ``tune``, the last 597 ``held_out``), which keeps most writers apart if the
file is grouped by writer, as UCI's files are. Typefaces are split by name (a typeface's every glyph is on
one side).

Typefaces are looked for in Debian's font packages (``fonts-dkg-handwriting fonts-bwht
fonts-klee fonts-rufscript fonts-sjfonts fonts-breip fonts-humor-sans fonts-yusei-magic fonts-seto
fonts-comic-neue``) and PyPI's ``fontpkg-*`` packages (bench/requirements.txt); whichever are installed are
used, and the report lists them.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.ndimage

# Debian font files (path, typeface name). Variants of one family (bold, italic) count as one typeface for
# the split but are separate writers' hands only when the family says so: kept to the regular weight.
DEBIAN_FONTS = {
    "dkg-handwriting": "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf",
    "bwht-build": "/usr/share/fonts/opentype/bwht/BecauseWeBuild-Regular.otf",
    "bwht-connect": "/usr/share/fonts/opentype/bwht/BecauseWeConnect-Regular.otf",
    "bwht-create": "/usr/share/fonts/opentype/bwht/BecauseWeCreate-Regular.otf",
    "bwht-learn": "/usr/share/fonts/opentype/bwht/BecauseWeLearn-Regular.otf",
    "bwht-mentor": "/usr/share/fonts/opentype/bwht/BecauseWeMentor-Regular.otf",
    "bwht-organize": "/usr/share/fonts/opentype/bwht/BecauseWeOrganize-Regular.otf",
    "klee": "/usr/share/fonts/truetype/klee/KleeOne-Regular.ttf",
    "rufscript": "/usr/share/fonts/truetype/rufscript/Rufscript010.ttf",
    "sj-delphine": "/usr/share/fonts/truetype/sjfonts/Delphine.ttf",
    "sj-steve": "/usr/share/fonts/truetype/sjfonts/SteveHand.ttf",
    "breip": "/usr/share/fonts/truetype/breip/Breip.ttf",
    "humor-sans": "/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf",
    "yusei-magic": "/usr/share/fonts/truetype/yusei-magic/YuseiMagic-Regular.ttf",
    "seto": "/usr/share/fonts/truetype/seto/setofont.ttf",
    "comic-neue": "/usr/share/fonts/opentype/comic-neue/ComicNeue-Regular.otf",
}
PYPI_FONTS = ("Caveat", "Indie Flower", "Kalam", "Permanent Marker", "Shadows Into Light", "Zeyada", "Delius")
OPTDIGITS_TUNE = 1200  # the first 1,200 of 1,797 are tuned on; the last 597 are held out
GLYPH_HEIGHT = 160  # pixels of a rendered digit's height before it is put on a page
CANVAS_SIDE, CANVAS_PEN = 280, 24  # the Draw page's canvas and its pen


@dataclass
class Sample:
    """One digit: what a user would give the app (a grey array or an image file's bytes) and its label."""

    kind: str  # optdigits, fonts, photos, canvas
    source: str  # the writer or typeface
    label: int
    part: str  # tune or held_out
    grey: np.ndarray | None = None  # (h, w) 0..255, light ink on dark or the reverse
    rgba: np.ndarray | None = None  # a canvas drawing (h, w, 4)
    data: bytes | None = None  # an encoded image file (JPEG)
    extra: dict = field(default_factory=dict)

    def source_for_prepare(self):
        for value in (self.data, self.rgba, self.grey):
            if value is not None:
                return value
        raise ValueError("empty sample")


def _stable_seed(*parts) -> int:
    return zlib.crc32("/".join(str(p) for p in parts).encode())


def held_out_font(name: str) -> bool:
    """A third of the typefaces, chosen by a hash of the name (not by how well they read)."""
    return _stable_seed("font-split", name) % 3 == 0


def optdigits() -> list[Sample]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    samples = []
    for i, (image, label) in enumerate(zip(digits.images, digits.target)):
        part = "tune" if i < OPTDIGITS_TUNE else "held_out"
        samples.append(Sample("optdigits", "UCI optdigits (13 writers)", int(label), part,
                              grey=image * (255.0 / 16.0)))
    return samples


def font_files() -> dict[str, str]:
    """Typeface name -> font file, for those installed."""
    found = {name: path for name, path in DEBIAN_FONTS.items() if Path(path).is_file()}
    try:
        import fontpkg
    except ImportError:
        return found
    for family in PYPI_FONTS:
        try:
            found[family.lower().replace(" ", "-")] = str(fontpkg.path(family))
        except Exception:  # that family's package is not installed
            continue
    return found


def _render_glyph(path: str, digit: int, pen: float) -> np.ndarray | None:
    """The digit in that typeface, ink 1.0 on 0.0, about GLYPH_HEIGHT tall; None if the font lacks it."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(path, size=GLYPH_HEIGHT)
    side = int(GLYPH_HEIGHT * 2.2)

    def draw(text: str, width: int) -> np.ndarray:
        image = Image.new("L", (side, side), 0)
        ImageDraw.Draw(image).text((side // 2, side // 2), text, fill=255, font=font, anchor="mm",
                                   stroke_width=width, stroke_fill=255)
        return np.asarray(image, dtype=np.float64) / 255.0

    plain = draw(str(digit), 0)
    if plain.sum() < 50 or np.array_equal(plain > 0.5, draw("\uffff", 0) > 0.5):
        return None  # no glyph for the digit (a box or nothing)
    rows, cols = np.nonzero(plain > 0.1)
    height = rows.max() - rows.min() + 1
    glyph = draw(str(digit), int(round(pen * height))) if pen else plain
    rows, cols = np.nonzero(glyph > 0.02)
    return glyph[rows.min():rows.max() + 1, cols.min():cols.max() + 1]


def _scan(glyph: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dark ink on light paper, the digit 40-80% of a 200x200 page, somewhere on it; mild noise."""
    page_side = 200
    scale = rng.uniform(0.4, 0.8) * page_side / max(glyph.shape)
    small = scipy.ndimage.zoom(glyph, scale, order=1)
    small = np.clip(small, 0, 1)[:page_side - 4, :page_side - 4]
    page = np.zeros((page_side, page_side))
    top = rng.integers(2, page_side - small.shape[0] - 1)
    left = rng.integers(2, page_side - small.shape[1] - 1)
    page[top:top + small.shape[0], left:left + small.shape[1]] = small
    paper, ink = rng.uniform(200, 250), rng.uniform(10, 90)
    grey = paper - (paper - ink) * page + rng.normal(0, 3, page.shape)
    return np.clip(grey, 0, 255)


def _photo(glyph: np.ndarray, rng: np.random.Generator) -> bytes:
    """A phone photo of the digit on paper: 640x480, the digit 20-45% of the height, a shadow over part of
    the page, grain, soft focus, a small tilt, JPEG."""
    from PIL import Image

    height, width = 480, 640
    scale = rng.uniform(0.2, 0.45) * height / glyph.shape[0]
    small = np.clip(scipy.ndimage.zoom(glyph, scale, order=1), 0, 1)
    small = scipy.ndimage.rotate(small, rng.uniform(-8, 8), order=1, reshape=True)
    page = np.zeros((height, width))
    top = rng.integers(40, height - small.shape[0] - 40)
    left = rng.integers(60, width - small.shape[1] - 60)
    page[top:top + small.shape[0], left:left + small.shape[1]] = np.clip(small, 0, 1)
    rows, cols = np.mgrid[0:height, 0:width] / max(height, width)
    # Light falling off across the page, and a soft-edged shadow (a hand, the phone) over one side.
    angle = rng.uniform(0, 2 * np.pi)
    light = 1.0 - rng.uniform(0.1, 0.35) * (np.cos(angle) * cols + np.sin(angle) * rows)
    edge = rng.uniform(0.25, 0.75)
    direction = rng.uniform(0, 2 * np.pi)
    along = np.cos(direction) * (cols - 0.5) + np.sin(direction) * (rows - 0.4) - (edge - 0.5)
    shadow = 1.0 - rng.uniform(0.25, 0.5) / (1.0 + np.exp(-along / 0.04))
    paper, ink = rng.uniform(180, 235), rng.uniform(20, 80)
    reflect = paper - (paper - ink) * page
    grain = scipy.ndimage.gaussian_filter(rng.normal(0, 1, page.shape), 1.0) * rng.uniform(2, 6)
    grey = reflect * light * shadow + grain
    grey = scipy.ndimage.gaussian_filter(grey, rng.uniform(0.6, 1.6))
    grey += rng.normal(0, 2.5, grey.shape)
    colour = np.stack([grey * 1.02, grey, grey * 0.93], axis=-1)  # warm light
    image = Image.fromarray(np.clip(colour, 0, 255).astype(np.uint8), "RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=int(rng.integers(60, 90)))
    return buffer.getvalue()


def _centre_line(glyph: np.ndarray) -> np.ndarray:
    """The glyph's centre line (a one-pixel skeleton), boolean."""
    from ann.data.preprocess import skeleton

    return skeleton(glyph > 0.5)


def _canvas(glyph: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The glyph's centre line drawn with the canvas's round pen: RGBA, black strokes on transparent."""
    box = CANVAS_SIDE - CANVAS_PEN - rng.integers(10, 50)  # as large as the box allows, give or take
    scale = box / max(glyph.shape)
    small = np.clip(scipy.ndimage.zoom(glyph, scale, order=1), 0, 1)
    line = _centre_line(small)
    distance = scipy.ndimage.distance_transform_edt(~line)
    ink = np.clip(CANVAS_PEN / 2 + 0.5 - distance, 0, 1)
    canvas = np.zeros((CANVAS_SIDE, CANVAS_SIDE))
    top = (CANVAS_SIDE - ink.shape[0]) // 2 + rng.integers(-8, 9)
    left = (CANVAS_SIDE - ink.shape[1]) // 2 + rng.integers(-8, 9)
    top, left = np.clip(top, 0, CANVAS_SIDE - ink.shape[0]), np.clip(left, 0, CANVAS_SIDE - ink.shape[1])
    canvas[top:top + ink.shape[0], left:left + ink.shape[1]] = ink
    rgba = np.zeros((CANVAS_SIDE, CANVAS_SIDE, 4), np.uint8)
    rgba[..., 3] = np.rint(canvas * 255).astype(np.uint8)
    return rgba


def font_digits(kinds=("fonts", "photos", "canvas")) -> list[Sample]:
    samples = []
    for name, path in sorted(font_files().items()):
        part = "held_out" if held_out_font(name) else "tune"
        for digit in range(10):
            for pen in (0.0, 0.04):
                glyph = _render_glyph(path, digit, pen)
                if glyph is None:
                    continue
                rng = np.random.default_rng(_stable_seed(name, digit, pen))
                if "fonts" in kinds:
                    samples.append(Sample("fonts", name, digit, part, grey=_scan(glyph, rng), extra={"pen": pen}))
                if "photos" in kinds:
                    samples.append(Sample("photos", name, digit, part, data=_photo(glyph, rng), extra={"pen": pen}))
                if "canvas" in kinds and pen == 0.0:
                    samples.append(Sample("canvas", name, digit, part, rgba=_canvas(glyph, rng)))
    return samples


def all_samples() -> list[Sample]:
    return optdigits() + font_digits()
