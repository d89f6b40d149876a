"""Tests for ann.images: real MNIST digits, enlarged and saved as a user would, must come back as MNIST."""

import gzip
import io
import struct
import zlib

import imageio.v3 as iio
import numpy as np
import pytest
import scipy.ndimage

from ann import images
from ann.images import ImageError, NoDigitError

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
    plain = []
    for k, digit in enumerate(mnist_digits):
        path = tmp_path / f"digit_{k}.png"
        iio.imwrite(path, as_paper(digit))
        x, image = images.prepare(path)

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
        _, from_jpg = images.prepare(path)
        _, from_png = images.prepare(png_bytes(as_paper(digit)))
        assert correlation(from_jpg, from_png) > 0.95, k
        assert best_aligned_correlation(from_jpg, digit) > 0.9, k


def test_path_bytes_and_file_like_agree(mnist_digits, tmp_path):
    data = png_bytes(as_paper(mnist_digits[0]))
    path = tmp_path / "digit.png"
    path.write_bytes(data)
    stream = io.BytesIO(data)
    stream.seek(5)
    with open(path, "rb") as opened:
        results = [images.prepare(s)[1] for s in (path, str(path), data, stream, opened)]
    for result in results[1:]:
        np.testing.assert_array_equal(result, results[0])
    assert stream.tell() == 5  # read through getvalue(): the caller's position is left alone


def test_light_on_dark_gives_the_same_result_as_dark_on_light(mnist_digits):
    for digit in mnist_digits[:5]:
        dark_on_light = as_paper(digit)
        light_on_dark = 255 - dark_on_light
        expected = images.to_mnist(dark_on_light)
        np.testing.assert_array_equal(images.to_mnist(light_on_dark), expected)
        np.testing.assert_array_equal(images.to_mnist(dark_on_light, invert=True), expected)
        np.testing.assert_array_equal(images.to_mnist(light_on_dark, invert=False), expected)


def test_a_28x28_mnist_digit_is_left_essentially_unchanged(mnist_digits):
    for digit in mnist_digits[:10]:
        assert best_aligned_correlation(images.to_mnist(digit), digit) > 0.95


def test_photo_of_grey_paper_loses_its_background(mnist_digits):
    digit = mnist_digits[0]
    clean = images.to_mnist(as_paper(digit))
    rng = np.random.default_rng(0)
    # Dim grey paper (150, with texture) and dark grey ink (~40): darker than 128 everywhere.
    ink = 1.0 - as_paper(digit) / 255.0
    page = 150.0 - (150.0 - 40.0) * ink + rng.normal(0, 4, size=ink.shape)
    page = np.clip(page, 0, 255)
    photo = images.to_mnist(page)
    # The paper became 0: no texture around the digit, which fills the same 20x20 box as the clean scan.
    assert np.count_nonzero(photo) <= 1.2 * np.count_nonzero(clean)
    assert correlation(photo, clean) > 0.95


# --------------------------------------------------------------------------- transparency and canvases


def test_rgba_with_transparency_is_composited(mnist_digits):
    digit = mnist_digits[1]
    ink = 255 - as_paper(digit)  # 0 where nothing is drawn
    expected = images.prepare(png_bytes(as_paper(digit)))[1]

    black_strokes = np.zeros(ink.shape + (4,), dtype=np.uint8)
    black_strokes[..., 3] = ink
    np.testing.assert_array_equal(images.prepare(png_bytes(black_strokes))[1], expected)

    white_strokes = np.full(ink.shape + (4,), 255, dtype=np.uint8)
    white_strokes[..., 3] = ink  # white on transparent must not vanish onto a white background
    np.testing.assert_array_equal(images.prepare(png_bytes(white_strokes))[1], expected)


def test_canvas_alpha_is_the_ink_whatever_the_stroke_colour(mnist_digits):
    ink = 255 - as_paper(mnist_digits[2])
    canvas = np.zeros(ink.shape + (4,), dtype=np.uint8)
    canvas[..., 0] = 200  # red-ish strokes
    canvas[..., 3] = ink
    canvas[ink == 0, :3] = 0  # the canvas leaves undrawn pixels (0, 0, 0, 0)
    np.testing.assert_array_equal(images.canvas_to_grey(canvas), ink.astype(float))
    np.testing.assert_array_equal(images.prepare(canvas)[1], images.to_mnist(ink))


def test_canvas_with_opaque_background_uses_luminance(mnist_digits):
    ink = 255 - as_paper(mnist_digits[3])
    canvas = np.zeros(ink.shape + (4,), dtype=np.uint8)
    canvas[..., :3] = ink[..., None]  # white strokes on an opaque black background
    canvas[..., 3] = 255
    np.testing.assert_allclose(images.canvas_to_grey(canvas), ink, atol=1e-9)
    np.testing.assert_array_equal(images.prepare(canvas)[1], images.to_mnist(ink))


# --------------------------------------------------------------------------- geometry


@pytest.mark.parametrize("shape, expected_box", [((100, 10), (20, 2)), ((12, 60), (4, 20))])
def test_aspect_ratio_is_kept_and_longer_side_is_20(shape, expected_box):
    grey = np.zeros((200, 200))
    grey[50 : 50 + shape[0], 70 : 70 + shape[1]] = 255
    image = images.to_mnist(grey)
    rows = np.flatnonzero(image.max(axis=1) >= 128)
    cols = np.flatnonzero(image.max(axis=0) >= 128)
    assert (rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) == expected_box
    assert np.all(np.abs(centre_of_mass(image) - 14.0) <= 0.5)


def test_small_images_are_enlarged_to_20():
    grey = np.zeros((9, 9))
    grey[2:7, 3:6] = 255  # a 5x3 blob
    image = images.to_mnist(grey)
    rows = np.flatnonzero(image.max(axis=1) > 0)
    assert rows[-1] - rows[0] + 1 == 20


# --------------------------------------------------------------------------- nothing to recognise


def test_blank_image_raises_no_digit(tmp_path):
    path = tmp_path / "blank.png"
    iio.imwrite(path, np.full((100, 80), 255, dtype=np.uint8))
    with pytest.raises(NoDigitError, match="no digit found: the image is empty — draw or upload a digit"):
        images.prepare(path)


def test_empty_canvas_raises_no_digit_and_is_blank():
    canvas = np.zeros((280, 280, 4), dtype=np.uint8)
    with pytest.raises(NoDigitError, match="no digit found"):
        images.prepare(canvas)
    assert images.is_blank(canvas)
    assert images.is_blank(None)  # a canvas not drawn yet (AppTest gives image_data None)


def test_faint_noise_is_not_a_digit():
    rng = np.random.default_rng(1)
    grey = 200 + rng.uniform(-4, 4, size=(50, 50))  # within 10/255 of the background
    with pytest.raises(NoDigitError):
        images.to_mnist(grey)
    assert images.is_blank(grey)


def test_is_blank_false_for_a_digit(mnist_digits):
    assert not images.is_blank(mnist_digits[0])
    assert not images.is_blank(as_paper(mnist_digits[0]))


def test_single_dot_is_a_speck_not_a_digit():
    # Decision: fewer than 4 ink pixels is a speck (a stray click, dust), reported as NoDigitError;
    # from 4 pixels on, the blob is treated as a (poor) digit and scaled up.
    dot = np.zeros((28, 28), dtype=np.uint8)
    dot[10, 10] = 255
    with pytest.raises(NoDigitError, match="speck"):
        images.to_mnist(dot)
    assert images.is_blank(dot)
    square = np.zeros((28, 28), dtype=np.uint8)
    square[10:12, 10:12] = 255
    image = images.to_mnist(square)
    assert image.max() == 255 and np.count_nonzero(image) >= 100


# --------------------------------------------------------------------------- bad input


def test_non_image_bytes_raise_image_error(tmp_path):
    with pytest.raises(ImageError, match=r"not an image \(PNG or JPG expected\)"):
        images.prepare(b"this is certainly not a PNG")
    path = tmp_path / "notes.png"
    path.write_text("hello")
    with pytest.raises(ImageError, match=r"notes\.png is not an image"):
        images.load_image(path)
    with pytest.raises(ImageError, match="empty"):
        images.load_image(b"")
    with pytest.raises(ImageError, match="no such file"):
        images.load_image(tmp_path / "missing.png")


def test_too_large_images_raise_image_error():
    # Over MAX_IMAGE_PIXELS: refused from the header alone (a PNG whose IHDR claims 8001x8000, no pixels).
    header = b"\x89PNG\r\n\x1a\n" + struct.pack(">L", 13) + b"IHDR" + struct.pack(">2L5B", 8001, 8000, 8, 0, 0, 0, 0)
    bomb = header + struct.pack(">L", zlib.crc32(header[12:])) + b"\0\0\0\0IEND\xaeB`\x82"
    with pytest.raises(ImageError, match=r"decompression bomb: 8001x8000 is 64\.0 megapixels \(the limit is 64\)"):
        images.load_image(bomb)
    with pytest.raises(ImageError, match=r"too large: 20\.0 MB \(the limit is 20 MB\)"):
        images.load_image(b"\x89PNG" + bytes(images.MAX_IMAGE_BYTES))


def test_long_thin_and_large_images_are_reduced_not_refused():
    """The old 4000-pixel side limit is gone: a 4001x8 strip is read, reduced to the decoded size."""
    tall = np.full((4001, 8), 255, dtype=np.uint8)
    tall[1000:3000, 2:6] = 0
    grey = images.load_image(png_bytes(tall))
    assert grey.shape == (1001, 2) and max(grey.shape) <= images.DECODED_LONG_SIDE
    assert images.to_mnist(grey).max() == 255


def test_bad_arrays_raise_clear_errors():
    with pytest.raises(ImageError, match=r"reshape a flattened 28x28 image"):
        images.to_mnist(np.zeros(784))
    with pytest.raises(ImageError, match=r"0\.\.255"):
        images.to_mnist(np.full((5, 5), 300.0))
    with pytest.raises(ImageError, match=r"\(height, width, 4\)"):
        images.canvas_to_grey(np.zeros((10, 10, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="invert must be"):
        images.to_mnist(np.zeros((5, 5)), invert="yes")
    with pytest.raises(TypeError, match="path, bytes or a file-like"):
        images.load_image(12345)
    assert issubclass(NoDigitError, ImageError) and issubclass(ImageError, ValueError)


def test_inputs_are_not_mutated(mnist_digits):
    grey = as_paper(mnist_digits[4])
    ink = 255 - grey
    canvas = np.zeros(grey.shape + (4,), dtype=np.uint8)
    canvas[..., 3] = ink
    float_grey = grey.astype(np.float64)
    arrays = [grey, canvas, float_grey, mnist_digits[4]]
    before = [a.copy() for a in arrays]
    images.to_mnist(grey)
    images.to_mnist(float_grey)
    images.prepare(canvas)
    images.canvas_to_grey(canvas)
    images.is_blank(canvas)
    images.prepare(mnist_digits[4])
    for array, copy in zip(arrays, before):
        np.testing.assert_array_equal(array, copy)


def test_sixteen_bit_png_is_scaled_to_0_255(mnist_digits):
    paper16 = as_paper(mnist_digits[5]).astype(np.uint16) * 257
    grey = images.load_image(png_bytes(paper16))
    np.testing.assert_allclose(grey, as_paper(mnist_digits[5]), atol=1e-9)
