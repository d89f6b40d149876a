"""Tests for ann.data.preprocess: real MNIST digits, enlarged and saved as a user would, must come back as MNIST;
the steps that bring a foreign digit nearer MNIST's look (stroke width, shadows, specks, slant)."""

import dataclasses
import gzip
import io
import struct
import zlib

import imageio.v3 as iio
import numpy as np
import pytest
import scipy.ndimage

from ann.data import decode, prepare, preprocess
from ann.data.decode import ImageError, NoDigitError

N_DIGITS = 20


@pytest.fixture(scope="module")
def mnist_digits(mnist_dir) -> np.ndarray:
    """The first real MNIST test digits, (N_DIGITS, 28, 28) uint8, ink bright on 0."""
    with gzip.open(mnist_dir / "t10k-images-idx3-ubyte.gz") as f:
        pixels = np.frombuffer(f.read(16 + N_DIGITS * 784), dtype=np.uint8, offset=16)
    return pixels.reshape(N_DIGITS, 28, 28)


def as_paper(digit: np.ndarray) -> np.ndarray:
    """A digit as a user's scan: dark ink on white, 7x larger (196x196), off-centre on a 240x293 page."""
    big = np.kron(digit.astype(np.float64), np.ones((7, 7)))
    page = np.zeros((240, 293))
    page[31 : 31 + 196, 57 : 57 + 196] = big
    return (255 - page).astype(np.uint8)


def png_bytes(pixels: np.ndarray) -> bytes:
    return iio.imwrite("<bytes>", pixels, extension=".png")


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel().astype(float), b.ravel().astype(float))[0, 1])


def best_aligned_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation allowing a one-pixel misalignment: MNIST centres by whole pixels, so a centre of mass
    near a half pixel may round either way."""
    return max(
        correlation(np.roll(a, (dy, dx), axis=(0, 1)), b) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
    )


def centre_of_mass(image: np.ndarray) -> np.ndarray:
    return np.array(scipy.ndimage.center_of_mass(image.astype(float)))


# --------------------------------------------------------------------------- real MNIST round trip


def test_enlarged_mnist_png_comes_back_as_the_original(mnist_digits, tmp_path):
    """MNIST's own steps (polarity, background, crop, 20x20, centre of mass) give MNIST's digit back."""
    plain = []
    for k, digit in enumerate(mnist_digits):
        path = tmp_path / f"digit_{k}.png"
        iio.imwrite(path, as_paper(digit))
        x, image = prepare.prepare(path, preprocess=preprocess.PLAIN_PREPROCESS)

        assert image.shape == (28, 28) and image.dtype == np.uint8
        assert x.shape == (1, 784) and x.dtype == np.float32
        np.testing.assert_allclose(x[0], image.ravel() / 255 * 0.99 + 0.01, rtol=1e-6)
        # Same size, same place, same strokes (MNIST's own rounding of the centre may differ by 1 px).
        assert best_aligned_correlation(image, digit) > 0.95, k
        # Centred by mass like MNIST itself (whose digits are all within 0.5 px of (14, 14)).
        assert np.all(np.abs(centre_of_mass(image) - 14.0) < 0.75), k
        plain.append(correlation(image, digit))
    assert np.median(plain) > 0.95


def test_jpg_gives_nearly_the_same_digit(mnist_digits, tmp_path):
    for k, digit in enumerate(mnist_digits[:8]):
        path = tmp_path / f"digit_{k}.jpg"
        iio.imwrite(path, as_paper(digit), extension=".jpg", quality=85)
        _, from_jpg = prepare.prepare(path)
        _, from_png = prepare.prepare(png_bytes(as_paper(digit)))
        assert correlation(from_jpg, from_png) > 0.95, k
        assert best_aligned_correlation(from_jpg, digit) > 0.9, k


def test_path_bytes_and_file_like_agree(mnist_digits, tmp_path):
    data = png_bytes(as_paper(mnist_digits[0]))
    path = tmp_path / "digit.png"
    path.write_bytes(data)
    stream = io.BytesIO(data)
    stream.seek(5)
    with open(path, "rb") as opened:
        results = [prepare.prepare(s)[1] for s in (path, str(path), data, stream, opened)]
    for result in results[1:]:
        np.testing.assert_array_equal(result, results[0])
    assert stream.tell() == 5  # read through getvalue(): the caller's position is left alone


def test_light_on_dark_gives_the_same_result_as_dark_on_light(mnist_digits):
    for digit in mnist_digits[:5]:
        dark_on_light = as_paper(digit)
        light_on_dark = 255 - dark_on_light
        expected = preprocess.to_mnist(dark_on_light)
        np.testing.assert_array_equal(preprocess.to_mnist(light_on_dark), expected)
        np.testing.assert_array_equal(preprocess.to_mnist(dark_on_light, invert=True), expected)
        np.testing.assert_array_equal(preprocess.to_mnist(light_on_dark, invert=False), expected)


def test_a_28x28_mnist_digit_is_left_essentially_unchanged(mnist_digits):
    for digit in mnist_digits[:10]:
        assert best_aligned_correlation(preprocess.to_mnist(digit, preprocess=preprocess.PLAIN_PREPROCESS), digit) > 0.95
    # With every step, a digit whose strokes are thicker than MNIST's median is thinned a little; the rest
    # come back as they were.
    kept = [best_aligned_correlation(preprocess.to_mnist(digit), digit) for digit in mnist_digits]
    assert min(kept) > 0.8 and np.median(kept) > 0.95


def test_photo_of_grey_paper_loses_its_background(mnist_digits):
    digit = mnist_digits[0]
    clean = preprocess.to_mnist(as_paper(digit))
    rng = np.random.default_rng(0)
    # Dim grey paper (150, with texture) and dark grey ink (~40): darker than 128 everywhere.
    ink = 1.0 - as_paper(digit) / 255.0
    page = 150.0 - (150.0 - 40.0) * ink + rng.normal(0, 4, size=ink.shape)
    page = np.clip(page, 0, 255)
    photo = preprocess.to_mnist(page)
    # The paper became 0: no texture around the digit, which fills the same 20x20 box as the clean scan
    # (the stroke step may leave a faint fringe where it thickened the strokes by a fraction of a pixel).
    assert np.count_nonzero(photo > 25) <= 1.2 * np.count_nonzero(clean > 25)
    assert correlation(photo, clean) > 0.95


# --------------------------------------------------------------------------- transparency and canvases


def test_rgba_with_transparency_is_composited(mnist_digits):
    digit = mnist_digits[1]
    ink = 255 - as_paper(digit)  # 0 where nothing is drawn
    expected = prepare.prepare(png_bytes(as_paper(digit)))[1]

    black_strokes = np.zeros(ink.shape + (4,), dtype=np.uint8)
    black_strokes[..., 3] = ink
    np.testing.assert_array_equal(prepare.prepare(png_bytes(black_strokes))[1], expected)

    white_strokes = np.full(ink.shape + (4,), 255, dtype=np.uint8)
    white_strokes[..., 3] = ink  # white on transparent must not vanish onto a white background
    np.testing.assert_array_equal(prepare.prepare(png_bytes(white_strokes))[1], expected)


def test_canvas_alpha_is_the_ink_whatever_the_stroke_colour(mnist_digits):
    ink = 255 - as_paper(mnist_digits[2])
    canvas = np.zeros(ink.shape + (4,), dtype=np.uint8)
    canvas[..., 0] = 200  # red-ish strokes
    canvas[..., 3] = ink
    canvas[ink == 0, :3] = 0  # the canvas leaves undrawn pixels (0, 0, 0, 0)
    np.testing.assert_array_equal(decode.canvas_to_grey(canvas), ink.astype(float))
    np.testing.assert_array_equal(prepare.prepare(canvas)[1], preprocess.to_mnist(ink))


def test_canvas_with_opaque_background_uses_luminance(mnist_digits):
    ink = 255 - as_paper(mnist_digits[3])
    canvas = np.zeros(ink.shape + (4,), dtype=np.uint8)
    canvas[..., :3] = ink[..., None]  # white strokes on an opaque black background
    canvas[..., 3] = 255
    np.testing.assert_allclose(decode.canvas_to_grey(canvas), ink, atol=1e-9)
    np.testing.assert_array_equal(prepare.prepare(canvas)[1], preprocess.to_mnist(ink))


# --------------------------------------------------------------------------- geometry


@pytest.mark.parametrize("shape, expected_box", [((100, 10), (20, 2)), ((12, 60), (4, 20))])
def test_aspect_ratio_is_kept_and_longer_side_is_20(shape, expected_box):
    grey = np.zeros((200, 200))
    grey[50 : 50 + shape[0], 70 : 70 + shape[1]] = 255
    image = preprocess.to_mnist(grey, preprocess=preprocess.PLAIN_PREPROCESS)  # a solid bar, not strokes
    rows = np.flatnonzero(image.max(axis=1) >= 128)
    cols = np.flatnonzero(image.max(axis=0) >= 128)
    assert (rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) == expected_box
    assert np.all(np.abs(centre_of_mass(image) - 14.0) <= 0.5)


def test_small_images_are_enlarged_to_20():
    grey = np.zeros((9, 9))
    grey[2:7, 3:6] = 255  # a 5x3 blob
    image = preprocess.to_mnist(grey, preprocess=preprocess.PLAIN_PREPROCESS)
    rows = np.flatnonzero(image.max(axis=1) > 0)
    assert rows[-1] - rows[0] + 1 == 20


# --------------------------------------------------------------------------- nothing to recognise


def test_blank_image_raises_no_digit(tmp_path):
    path = tmp_path / "blank.png"
    iio.imwrite(path, np.full((100, 80), 255, dtype=np.uint8))
    with pytest.raises(NoDigitError, match="no digit found: the image is empty — draw or upload a digit"):
        prepare.prepare(path)


def test_empty_canvas_raises_no_digit_and_is_blank():
    canvas = np.zeros((280, 280, 4), dtype=np.uint8)
    with pytest.raises(NoDigitError, match="no digit found"):
        prepare.prepare(canvas)
    assert prepare.is_blank(canvas)
    assert prepare.is_blank(None)  # a canvas not drawn yet (AppTest gives image_data None)


def test_faint_noise_is_not_a_digit():
    rng = np.random.default_rng(1)
    grey = 200 + rng.uniform(-4, 4, size=(50, 50))  # within 10/255 of the background
    with pytest.raises(NoDigitError):
        preprocess.to_mnist(grey)
    assert prepare.is_blank(grey)


def test_is_blank_false_for_a_digit(mnist_digits):
    assert not prepare.is_blank(mnist_digits[0])
    assert not prepare.is_blank(as_paper(mnist_digits[0]))


def test_single_dot_is_a_speck_not_a_digit():
    # Decision: fewer than 4 ink pixels is a speck (a stray click, dust), reported as NoDigitError;
    # from 4 pixels on, the blob is treated as a (poor) digit and scaled up.
    dot = np.zeros((28, 28), dtype=np.uint8)
    dot[10, 10] = 255
    with pytest.raises(NoDigitError, match="speck"):
        preprocess.to_mnist(dot)
    assert prepare.is_blank(dot)
    square = np.zeros((28, 28), dtype=np.uint8)
    square[10:12, 10:12] = 255
    image = preprocess.to_mnist(square)
    assert image.max() == 255 and np.count_nonzero(image) >= 100


# --------------------------------------------------------------------------- bad input


def test_non_image_bytes_raise_image_error(tmp_path):
    with pytest.raises(ImageError, match=r"not an image \(PNG or JPG expected\)"):
        prepare.prepare(b"this is certainly not a PNG")
    path = tmp_path / "notes.png"
    path.write_text("hello")
    with pytest.raises(ImageError, match=r"notes\.png is not an image"):
        decode.load_image(path)
    with pytest.raises(ImageError, match="empty"):
        decode.load_image(b"")
    with pytest.raises(ImageError, match="no such file"):
        decode.load_image(tmp_path / "missing.png")


def test_too_large_images_raise_image_error():
    # Over MAX_IMAGE_PIXELS: refused from the header alone (a PNG whose IHDR claims 8001x8000, no pixels).
    header = b"\x89PNG\r\n\x1a\n" + struct.pack(">L", 13) + b"IHDR" + struct.pack(">2L5B", 8001, 8000, 8, 0, 0, 0, 0)
    bomb = header + struct.pack(">L", zlib.crc32(header[12:])) + b"\0\0\0\0IEND\xaeB`\x82"
    with pytest.raises(ImageError, match=r"refused: 8001x8000 is 64\.0 megapixels \(the limit here is 64\)"):
        decode.load_image(bomb)
    with pytest.raises(ImageError, match=r"too large: 20\.0 MB \(the limit is 20 MB\)"):
        decode.load_image(b"\x89PNG" + bytes(decode.MAX_IMAGE_BYTES))


def test_long_thin_and_large_images_are_reduced_not_refused():
    """The old 4000-pixel side limit is gone: a 4001x8 strip is read, reduced to the decoded size."""
    tall = np.full((4001, 8), 255, dtype=np.uint8)
    tall[1000:3000, 2:6] = 0
    grey = decode.load_image(png_bytes(tall))
    assert grey.shape == (1001, 2) and max(grey.shape) <= decode.DECODED_LONG_SIDE
    assert preprocess.to_mnist(grey).max() == 255


def test_bad_arrays_raise_clear_errors():
    with pytest.raises(ImageError, match=r"reshape a flattened 28x28 image"):
        preprocess.to_mnist(np.zeros(784))
    with pytest.raises(ImageError, match=r"0\.\.255"):
        preprocess.to_mnist(np.full((5, 5), 300.0))
    with pytest.raises(ImageError, match=r"\(height, width, 4\)"):
        decode.canvas_to_grey(np.zeros((10, 10, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="invert must be"):
        preprocess.to_mnist(np.zeros((5, 5)), invert="yes")
    with pytest.raises(TypeError, match="path, bytes or a file-like"):
        decode.load_image(12345)
    assert issubclass(NoDigitError, ImageError) and issubclass(ImageError, ValueError)


def test_inputs_are_not_mutated(mnist_digits):
    grey = as_paper(mnist_digits[4])
    ink = 255 - grey
    canvas = np.zeros(grey.shape + (4,), dtype=np.uint8)
    canvas[..., 3] = ink
    float_grey = grey.astype(np.float64)
    arrays = [grey, canvas, float_grey, mnist_digits[4]]
    before = [a.copy() for a in arrays]
    preprocess.to_mnist(grey)
    preprocess.to_mnist(float_grey)
    prepare.prepare(canvas)
    decode.canvas_to_grey(canvas)
    prepare.is_blank(canvas)
    prepare.prepare(mnist_digits[4])
    for array, copy in zip(arrays, before):
        np.testing.assert_array_equal(array, copy)


def test_sixteen_bit_png_is_scaled_to_0_255(mnist_digits):
    paper16 = as_paper(mnist_digits[5]).astype(np.uint16) * 257
    grey = decode.load_image(png_bytes(paper16))
    np.testing.assert_allclose(grey, as_paper(mnist_digits[5]), atol=1e-9)


# --------------------------------------------------------------------------- the steps towards MNIST's look


def _line_drawing(width: float, side: int = 120) -> np.ndarray:
    """An L and a diagonal (strokes of ``width`` px along known centre lines), ink 0..1."""
    line = np.zeros((side, side), bool)
    line[20:100, 30] = True
    line[99, 30:90] = True
    for k in range(60):
        line[20 + k, 40 + k] = True
    return preprocess.draw_centre_line(line, width)


def test_skeleton_is_one_pixel_wide_and_keeps_the_shape():
    ring = np.zeros((60, 60), bool)
    rows, cols = np.indices(ring.shape)
    radius = np.hypot(rows - 30, cols - 30)
    ring[(radius > 14) & (radius < 22)] = True  # a thick 0
    thin = preprocess.skeleton(ring)
    assert thin.sum() < 0.2 * ring.sum() and np.all(ring[thin])
    assert np.all(np.abs(radius[thin] - 18) <= 2)  # along the middle of the stroke
    labels, parts = scipy.ndimage.label(~thin)
    assert parts == 2  # still a closed loop: inside and outside apart
    block = np.zeros((8, 8), bool)
    block[3:5, 3:5] = True  # thinning would erase it: one pixel stays
    assert preprocess.skeleton(block).sum() == 1


@pytest.mark.parametrize("width", [2.0, 4.5, 8.0, 12.5])
def test_stroke_width_measures_a_drawn_width(width):
    assert preprocess.stroke_width(_line_drawing(width)) == pytest.approx(width, abs=0.4)


def test_mnist_stroke_range_is_mnist_s_own(mnist_dir):
    """MNIST_STROKE_WIDTH holds MNIST's measured widths (bench/real_handwriting.py --measure-mnist on the
    training set); 300 test digits through the same steps give about the same median."""
    with gzip.open(mnist_dir / "t10k-images-idx3-ubyte.gz") as f:
        digits = np.frombuffer(f.read(16 + 300 * 784), dtype=np.uint8, offset=16).reshape(300, 28, 28)
    widths = []
    for digit in digits:
        work = preprocess._fit(preprocess._crop_to_ink(digit.astype(float)), preprocess.BOX_SIDE * preprocess.WORK_SCALE)
        widths.append(preprocess.stroke_width(work) / preprocess.WORK_SCALE)
    low, median, high = preprocess.MNIST_STROKE_WIDTH
    assert np.median(widths) == pytest.approx(median, abs=0.2)
    assert 0.03 < np.mean(np.array(widths) < low) < 0.2 and 0.03 < np.mean(np.array(widths) > high) < 0.2


def test_thick_and_thin_pens_come_out_with_mnist_s_strokes(mnist_digits):
    """The same digit written with a thick felt pen and a fine one: strokes brought into MNIST's range."""
    low, high = preprocess.STROKE_RANGE
    for digit in mnist_digits[:6]:
        big = np.kron(digit.astype(float), np.ones((8, 8)))  # 224x224: MNIST's ~2.2 px strokes are ~18 px
        thick = scipy.ndimage.grey_dilation(big, size=(15, 15))
        thin = (big > 200) * 255.0
        thin = 255.0 * preprocess.skeleton(thin > 0)
        thin = scipy.ndimage.grey_dilation(thin, size=(3, 3))
        for pen in (thick, thin):
            plain = preprocess.to_mnist(pen, preprocess=preprocess.PLAIN_PREPROCESS)
            fixed = preprocess.to_mnist(pen)
            width = preprocess.stroke_width(preprocess._fit(preprocess._crop_to_ink(fixed.astype(float)), 80)) / 4
            assert low - 0.35 <= width <= high + 0.35
            plain_width = preprocess.stroke_width(preprocess._fit(preprocess._crop_to_ink(plain.astype(float)), 80)) / 4
            assert not low - 0.35 <= plain_width <= high + 0.35  # without the step they were outside


def shadowed_page(digit: np.ndarray, border_in_shadow: bool) -> np.ndarray:
    """A photo of a digit on paper (300x400) with a soft shadow over part of it, ink dark."""
    ink = np.zeros((300, 400))
    ink[60:228, 140:308] = np.kron(digit / 255.0, np.ones((6, 6)))
    rows, cols = np.indices(ink.shape)
    edge = 1.0 / (1.0 + np.exp(-(cols - rows * 0.5 - 150) / 12.0))  # 0 on the left, 1 on the right
    light = 0.45 + 0.55 * (1.0 - edge if border_in_shadow else edge)
    return np.clip((215.0 - 175.0 * ink) * light, 0, 255)


@pytest.mark.parametrize("border_in_shadow", [False, True])
def test_a_shadow_across_the_page_is_not_ink(mnist_digits, border_in_shadow):
    digit = mnist_digits[0]
    clean = preprocess.to_mnist(as_paper(digit))
    page = shadowed_page(digit, border_in_shadow)
    assert preprocess.background(page, dark_ink=True).shape == page.shape
    assert correlation(preprocess.to_mnist(page), clean) > 0.9
    # One background level for the whole page, as MNIST's steps alone use: the shadow becomes "ink".
    assert correlation(preprocess.to_mnist(page, preprocess=preprocess.PLAIN_PREPROCESS), clean) < 0.6


def test_specks_away_from_the_digit_are_removed(mnist_digits):
    digit = mnist_digits[1]
    page = as_paper(digit).astype(float)
    for row, col in ((5, 5), (230, 10), (8, 280), (225, 285), (120, 15)):
        page[row : row + 3, col : col + 3] = 30  # dust and pen dots near the corners and an edge
    clean = preprocess.to_mnist(as_paper(digit))
    assert correlation(preprocess.to_mnist(page), clean) > 0.95
    kept = preprocess.to_mnist(page, preprocess=dataclasses.replace(preprocess.DEFAULT_PREPROCESS, despeckle=False))
    assert correlation(kept, clean) < 0.5  # cropped to the specks, the digit shrank
    # A digit in two pieces (the strokes of a 4 that do not meet) keeps both.
    two = np.zeros((100, 100))
    two[10:60, 20:26] = 255
    two[40:46, 20:80] = 255
    two[20:95, 60:66] = 255
    two[40:46, 56:60] = 0  # the bar stops short of the stem
    np.testing.assert_array_equal(preprocess.despeckle(two), two)


def test_slant_and_shear_agree():
    grey = np.zeros((80, 80))
    for r in range(10, 70):  # a stroke leaning right: its column falls as the row rises
        grey[r, int(55 - 0.4 * r) : int(55 - 0.4 * r) + 6] = 255
    measured = preprocess.slant(grey)
    assert measured == pytest.approx(-0.4, abs=0.05)
    assert preprocess.slant(preprocess.shear(grey, measured)) == pytest.approx(0.0, abs=0.05)


def test_mnist_steps_show_each_stage_and_end_in_to_mnist(mnist_digits):
    page = shadowed_page(mnist_digits[2], border_in_shadow=False)
    page[10:13, 10:13] = 0
    steps = preprocess.mnist_steps(page)
    assert [s.name for s in steps] == ["grey", "ink", "despeckled", "crop", "stroke", "mnist"]
    assert all(s.note and s.image.ndim == 2 for s in steps)
    np.testing.assert_array_equal(steps[-1].image, preprocess.to_mnist(page))
    assert "specks removed" in steps[2].note and steps[1].image[10:13, 10:13].min() > 0
    assert steps[2].image[10:13, 10:13].max() == 0
    x, image, same = prepare.prepare_steps(page)
    np.testing.assert_array_equal(image, preprocess.to_mnist(page))
    assert [s.name for s in same] == [s.name for s in steps]
    deslanted = preprocess.mnist_steps(page, preprocess=preprocess.Preprocess(deslant=True))
    assert "deslanted" in [s.name for s in deslanted]
    with pytest.raises(TypeError, match="Preprocess"):
        preprocess.to_mnist(page, preprocess={"stroke": False})


def test_a_model_trained_on_every_stroke_width_keeps_the_drawn_width():
    from ann.config import TrainConfig

    assert preprocess.preprocess_for(None) == preprocess.DEFAULT_PREPROCESS
    assert preprocess.preprocess_for(TrainConfig()) == preprocess.DEFAULT_PREPROCESS
    taught = preprocess.preprocess_for(TrainConfig(augment="random", thickness=1.5))
    assert taught == dataclasses.replace(preprocess.DEFAULT_PREPROCESS, stroke=False)
    thick = np.zeros((120, 120))
    thick[20:100, 50:70] = 255  # a felt-pen 1
    assert "stroke" not in [s.name for s in preprocess.mnist_steps(thick, preprocess=taught)]
