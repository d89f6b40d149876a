"""Tests for ann.augment: agreement with scipy.ndimage.rotate (the seed's call), conventions, purity."""

import gzip

import numpy as np
import pytest
import scipy.ndimage

from ann import augment


def mnist_test_images(mnist_dir, count: int) -> np.ndarray:
    """The first ``count`` real MNIST test images, scaled as the seed does: (count, 784) float64."""
    with gzip.open(mnist_dir / "t10k-images-idx3-ubyte.gz") as f:
        pixels = np.frombuffer(f.read(16 + count * 784), dtype=np.uint8, offset=16)
    return pixels.reshape(count, 784) / 255.0 * 0.99 + 0.01


def seed_rotate(x: np.ndarray, degrees: float, cval: float = 0.01) -> np.ndarray:
    """The seed's rotation of one flattened image, exactly as the blog calls scipy."""
    return scipy.ndimage.rotate(x.reshape(28, 28), degrees, cval=cval, order=1, reshape=False).reshape(784)


@pytest.fixture(scope="module")
def digits(mnist_dir) -> np.ndarray:
    return mnist_test_images(mnist_dir, 40)


@pytest.fixture(scope="module")
def noise() -> np.ndarray:
    # Bright pixels everywhere, including the border, so any difference in border handling shows.
    return np.random.default_rng(3).uniform(0.01, 1.0, size=(40, 784))


# --------------------------------------------------------------------------- rotate


@pytest.mark.parametrize("degrees", [10, -10, 0, 3.7, 45, 90, -135, 180])
@pytest.mark.parametrize("images", ["digits", "noise"])
def test_rotate_fixed_angle_matches_scipy_image_by_image(degrees, images, request):
    X = request.getfixturevalue(images)
    expected = np.stack([seed_rotate(x, degrees) for x in X])
    result = augment.rotate(X, degrees)
    assert result.dtype == np.float64
    assert result.shape == X.shape
    np.testing.assert_allclose(result, expected, rtol=0, atol=1e-12)


def test_rotate_float32_keeps_dtype_and_matches_scipy(digits):
    X = digits.astype(np.float32)
    expected = np.stack([seed_rotate(x, -10) for x in X])
    result = augment.rotate(X, -10)
    assert result.dtype == np.float32
    assert result.flags.c_contiguous
    np.testing.assert_allclose(result, expected, rtol=0, atol=1e-6)


def test_rotate_other_cval_matches_scipy(noise):
    expected = np.stack([seed_rotate(x, 30, cval=-2.5) for x in noise])
    np.testing.assert_allclose(augment.rotate(noise, 30, cval=-2.5), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("images", ["digits", "noise"])
def test_rotate_per_sample_angles_match_scipy(images, request):
    X = request.getfixturevalue(images)
    angles = np.random.default_rng(0).uniform(-180, 180, size=len(X))
    angles[:4] = [0, 90, -10, 10]
    expected = np.stack([seed_rotate(x, a) for x, a in zip(X, angles)])
    result = augment.rotate(X, angles)
    # The gather computes scipy's source points with scipy's arithmetic, so only the order of the
    # bilinear sum differs (measured 1e-14); a border rule mismatch would show up as ~0.5.
    np.testing.assert_allclose(result, expected, rtol=0, atol=1e-10)


def test_rotate_per_sample_float32(digits):
    X = digits.astype(np.float32)
    angles = np.linspace(-15, 15, len(X))
    expected = np.stack([seed_rotate(x, a) for x, a in zip(X, angles)])
    result = augment.rotate(X, angles)
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, expected, rtol=0, atol=1e-6)


def test_rotate_constant_mode_does_not_blend_cval_into_the_border():
    # scipy's 'constant' mode gives cval for any source point outside the grid (no blending with the
    # edge pixels, unlike 'grid-constant'); an all-ones image rotated by 45 degrees shows which is which.
    ones = np.ones((2, 784))
    for result in (augment.rotate(ones, 45.0), augment.rotate(ones, np.array([45.0, 45.0]))):
        expected = seed_rotate(ones[0], 45.0, cval=0.01)
        # Only the two values (up to rounding), nothing in between.
        assert np.all(np.isclose(expected, 0.01) | np.isclose(expected, 1.0))
        assert np.isclose(expected, 0.01).sum() > 100
        np.testing.assert_allclose(result, np.stack([expected, expected]), rtol=0, atol=1e-12)


def test_rotate_single_image_batch(digits):
    result = augment.rotate(digits[:1], 10)
    assert result.shape == (1, 784)
    np.testing.assert_allclose(result[0], seed_rotate(digits[0], 10), rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- shift


def test_shift_moves_a_pixel_right_and_down():
    X = np.full((3, 784), 0.01)
    X[:, 5 * 28 + 7] = 1.0  # a bright pixel at row 5, column 7
    result = augment.shift(X, dx=[2, -3, 0], dy=[-4, 0, 1])
    expected = np.full((3, 28, 28), 0.01)
    expected[0, 1, 9] = 1.0  # 2 right, 4 up
    expected[1, 5, 4] = 1.0  # 3 left
    expected[2, 6, 7] = 1.0  # 1 down
    np.testing.assert_array_equal(result.reshape(3, 28, 28), expected)


def test_shift_fills_uncovered_border_with_cval_and_drops_what_leaves():
    X = np.arange(784, dtype=np.float64).reshape(1, 784)
    result = augment.shift(X, dx=1, dy=2, cval=-1.0).reshape(28, 28)
    image = X.reshape(28, 28)
    assert np.all(result[:2, :] == -1.0)
    assert np.all(result[:, :1] == -1.0)
    np.testing.assert_array_equal(result[2:, 1:], image[:-2, :-1])


def test_shift_zero_is_identity_and_keeps_dtype(digits):
    X = digits.astype(np.float32)
    result = augment.shift(X, np.zeros(len(X), int), np.zeros(len(X), int))
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result, X)


def test_shift_rejects_fractional_pixels(digits):
    with pytest.raises(ValueError, match="whole numbers of pixels"):
        augment.shift(digits, 0.5, 0)


# --------------------------------------------------------------------------- elastic


def test_elastic_keeps_shape_dtype_and_range(digits):
    X = digits.astype(np.float32)
    result = augment.elastic(X, np.random.default_rng(0))
    assert result.shape == X.shape
    assert result.dtype == np.float32
    # Bilinear interpolation only mixes existing values (and cval), so it cannot leave their range.
    assert result.min() >= 0.01 - 1e-6
    assert result.max() <= X.max() + 1e-6
    assert not np.allclose(result, X)
    # Still a digit of about the same amount of ink.
    assert abs(result.sum() - X.sum()) / X.sum() < 0.2


def test_elastic_alpha_zero_is_identity(digits):
    result = augment.elastic(digits, np.random.default_rng(0), alpha=0.0)
    np.testing.assert_array_equal(result, digits)
    assert result is not digits


def test_elastic_tiny_alpha_through_the_gather_is_nearly_identity(digits):
    result = augment.elastic(digits, np.random.default_rng(0), alpha=1e-9)
    np.testing.assert_allclose(result, digits, rtol=0, atol=1e-7)


def test_elastic_is_reproducible_and_seed_dependent(digits):
    a = augment.elastic(digits, np.random.default_rng(5))
    b = augment.elastic(digits, np.random.default_rng(5))
    c = augment.elastic(digits, np.random.default_rng(6))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_elastic_same_fields_for_float32_and_float64(digits):
    a = augment.elastic(digits, np.random.default_rng(5))
    b = augment.elastic(digits.astype(np.float32), np.random.default_rng(5))
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-5)


def test_field_smoothing_equals_scipy_gaussian_filter():
    fields = np.random.default_rng(1).uniform(-1, 1, size=(3, 2, 28, 28))
    expected = scipy.ndimage.gaussian_filter(fields, sigma=(0, 0, 4.0, 4.0), mode="constant")
    np.testing.assert_allclose(augment._smooth_fields(fields, 4.0), expected, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- random_distort


def test_random_distort_all_zero_is_identity(digits):
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    result = augment.random_distort(digits, rng)
    np.testing.assert_array_equal(result, digits)
    assert result is not digits
    assert rng.bit_generator.state == state  # nothing enabled, nothing drawn


def test_random_distort_is_reproducible(digits):
    kwargs = dict(max_degrees=12.0, max_shift=2, elastic_alpha=8.0, elastic_sigma=4.0)
    a = augment.random_distort(digits, np.random.default_rng(9), **kwargs)
    b = augment.random_distort(digits, np.random.default_rng(9), **kwargs)
    c = augment.random_distort(digits, np.random.default_rng(10), **kwargs)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert a.shape == digits.shape and a.dtype == digits.dtype


def test_random_distort_rotation_only_is_rotate_with_the_drawn_angles(digits):
    angles = np.random.default_rng(4).uniform(-15, 15, size=len(digits))
    result = augment.random_distort(digits, np.random.default_rng(4), max_degrees=15)
    np.testing.assert_allclose(result, augment.rotate(digits, angles), rtol=0, atol=1e-12)


def test_random_distort_shift_only_is_shift_with_the_drawn_offsets(digits):
    down, right = np.random.default_rng(4).integers(-3, 4, size=(len(digits), 2)).T
    result = augment.random_distort(digits, np.random.default_rng(4), max_shift=3)
    np.testing.assert_array_equal(result, augment.shift(digits, dx=right, dy=down))


def test_random_distort_composes_rotation_then_shift_in_one_pass(digits):
    rng = np.random.default_rng(2)
    angles = rng.uniform(-10, 10, size=len(digits))
    down, right = rng.integers(-2, 3, size=(len(digits), 2)).T
    result = augment.random_distort(digits, np.random.default_rng(2), max_degrees=10, max_shift=2)
    two_passes = augment.shift(augment.rotate(digits, angles), dx=right, dy=down)
    # Away from the 2-pixel band the shift uncovers, one pass and two passes read the same points.
    inner = (slice(None), slice(2, 26), slice(2, 26))
    np.testing.assert_allclose(
        result.reshape(-1, 28, 28)[inner], two_passes.reshape(-1, 28, 28)[inner], rtol=0, atol=1e-12
    )


def test_random_distort_float32_batch_of_many(digits):
    X = np.tile(digits.astype(np.float32), (10, 1))  # 400 images: several chunks of the gather
    result = augment.random_distort(X, np.random.default_rng(0), 10, 2, 34.0, 4.0)
    assert result.dtype == np.float32 and result.shape == X.shape
    assert np.isfinite(result).all()
    assert 0.01 - 1e-6 <= result.min() and result.max() <= 1.0 + 1e-6


# --------------------------------------------------------------------------- purity and input checks


def test_no_function_mutates_its_input(digits):
    X = digits.astype(np.float32)
    before = X.copy()
    angles = np.linspace(-10, 10, len(X))
    rng = np.random.default_rng(0)
    augment.rotate(X, 10)
    augment.rotate(X, angles)
    augment.shift(X, np.ones(len(X), int), -np.ones(len(X), int))
    augment.elastic(X, rng)
    augment.random_distort(X, rng, 10, 2, 34.0)
    np.testing.assert_array_equal(X, before)
    assert np.array_equal(angles, np.linspace(-10, 10, len(X)))


def test_rejects_bad_shapes_and_dtypes(digits):
    with pytest.raises(ValueError, match=r"expected \(n_samples, 784\)"):
        augment.rotate(digits[0], 10)
    with pytest.raises(TypeError, match="scale_inputs"):
        augment.rotate((digits * 255).astype(np.uint8), 10)
    with pytest.raises(ValueError, match=r"degrees has shape \(3,\)"):
        augment.rotate(digits, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="finite"):
        augment.rotate(digits, float("nan"))


def test_rejects_bad_generator_and_amounts(digits):
    with pytest.raises(TypeError, match="default_rng"):
        augment.elastic(digits, 42)
    with pytest.raises(ValueError, match="max_degrees"):
        augment.random_distort(digits, np.random.default_rng(0), max_degrees=-1)
    with pytest.raises(ValueError, match="max_shift"):
        augment.random_distort(digits, np.random.default_rng(0), max_shift=1.5)
    with pytest.raises(ValueError, match="elastic_sigma"):
        augment.random_distort(digits, np.random.default_rng(0), elastic_alpha=1, elastic_sigma=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_seed_copies_are_the_record_and_its_two_rotations_interleaved(dtype):
    X = np.random.default_rng(3).random((1024, 784)).astype(dtype)  # 1,024: the training loop's chunk
    copies = augment.seed_copies(X, 10.0)
    assert copies.shape == (1024, 3, 784) and copies.dtype == dtype
    np.testing.assert_array_equal(copies[:, 0], X)
    np.testing.assert_array_equal(copies[:, 1], augment.rotate(X, 10.0))
    np.testing.assert_array_equal(copies[:, 2], augment.rotate(X, -10.0))


# --------------------------------------------------------------------------- the pen: thickness, contrast, noise


def _widths(X: np.ndarray) -> np.ndarray:
    from ann.data.preprocess import stroke_width

    return np.array([stroke_width(np.kron(x.reshape(28, 28) - 0.01, np.ones((4, 4)))) / 4 for x in X])


def test_thickness_changes_the_stroke_width_by_its_amount(digits):
    X = digits[:20]
    before = _widths(X)
    # Measured on MNIST's anti-aliased strokes (ann.data.preprocess.stroke_width): +2 px (one whole dilation) widens
    # them by 1.15 px at the median, -1 px narrows them by 0.53.
    for amount, low, high in ((2.0, 0.8, 1.5), (1.0, 0.35, 0.95), (-1.0, -0.8, -0.3)):
        changed = augment.thickness(X, amount)
        assert changed.shape == X.shape and changed.dtype == X.dtype
        assert low < np.median(_widths(changed) - before) < high
        # A thinned stroke keeps its strongest ink (erosion alone would dim it).
        np.testing.assert_allclose(changed.max(axis=1), X.max(axis=1), atol=1e-12)
        assert changed.min() >= 0.01 and changed.max() <= 1.0
    np.testing.assert_array_equal(augment.thickness(X, 0.0), X)
    per_image = augment.thickness(X[:2], [1.0, -1.0])
    np.testing.assert_allclose(per_image[0], augment.thickness(X[:1], 1.0)[0])
    np.testing.assert_allclose(per_image[1], augment.thickness(X[1:2], -1.0)[0])
    with pytest.raises(ValueError, match="-4..4"):
        augment.thickness(X, 5.0)


def test_contrast_moves_the_grey_edges_only(digits):
    X = digits[:10]
    np.testing.assert_allclose(augment.contrast(X, 1.0), X, atol=1e-12)
    harder, softer = augment.contrast(X, 0.5), augment.contrast(X, 2.0)
    edge = (X > 0.2) & (X < 0.8)
    assert np.all(harder[edge] > X[edge]) and np.all(softer[edge] < X[edge])
    full, paper = X >= 1.0, X <= 0.01
    np.testing.assert_allclose(harder[full | paper], X[full | paper], atol=1e-12)
    with pytest.raises(ValueError, match="> 0"):
        augment.contrast(X, 0.0)


def test_noise_is_seeded_and_stays_in_range(digits):
    X = digits[:10].astype(np.float32)
    a = augment.noise(X, np.random.default_rng(1), 0.1)
    np.testing.assert_array_equal(a, augment.noise(X, np.random.default_rng(1), 0.1))
    assert a.dtype == np.float32 and a.min() >= 0.01 and a.max() <= 1.0
    assert 0.03 < np.std(a - X) < 0.1
    np.testing.assert_array_equal(augment.noise(X, np.random.default_rng(1), 0.0), X)


def test_pen_variation_draws_only_what_is_enabled(digits):
    rng = np.random.default_rng(7)
    state = rng.bit_generator.state
    np.testing.assert_array_equal(augment.pen_variation(digits, rng), digits)
    assert rng.bit_generator.state == state  # nothing enabled: nothing drawn
    one = augment.pen_variation(digits, np.random.default_rng(7), 1.5, 0.5, 0.05)
    two = augment.pen_variation(digits, np.random.default_rng(7), 1.5, 0.5, 0.05)
    np.testing.assert_array_equal(one, two)
    assert not np.array_equal(one, digits)
    before = digits.copy()
    augment.pen_variation(digits, rng, 1.5, 0.5, 0.05)
    np.testing.assert_array_equal(digits, before)  # the input is never changed


def test_a_pen_augmented_run_is_the_same_on_one_thread_and_on_two(mnist_dir):
    """The pen is drawn with the rest of each part's distortion, from the part's own generator: same bits at
    any thread count."""
    from ann.config import NetworkConfig, TrainConfig
    from ann.network import Network
    from ann.train import fit

    X = (mnist_test_images(mnist_dir, 1024) * 255).round().astype(np.uint8)
    y = np.arange(1024) % 10
    config = TrainConfig(epochs=2, batch_size=64, augment="random", rotate=0.0, thickness=1.5, contrast=0.5,
                         noise=0.05, shuffle=True, learning_rate=0.05, seed=3)
    runs = []
    for count in (1, 2):
        net = Network(NetworkConfig(hidden_nodes=(64,), activation="relu", loss="cross_entropy",
                                    propagate="delta", bias=True), seed=3)
        runs.append((net, [m["train_loss"] for m in fit(net, X, y, config, threads=count)]))
    (one, loss_one), (two, loss_two) = runs
    assert loss_one == loss_two
    for W, V in zip(one.weights, two.weights):
        np.testing.assert_array_equal(W, V)
