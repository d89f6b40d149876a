"""Data augmentation over a batch: the seed's rotations, shifts and elastic distortions.

Every function takes scaled inputs ``X`` of shape ``(n_samples, 784)`` (pixel/255*0.99 + 0.01, so the
background is 0.01), treats each row as a 28x28 image in row-major order, and returns a new array of the
same shape and dtype. Inputs are never modified. Randomness comes only from the
:class:`numpy.random.Generator` passed in, and it is drawn only for the transforms that are enabled.

Two resampling paths:

- :func:`rotate` with one angle for the whole batch is the seed's
  ``scipy.ndimage.rotate(img, angle, cval=0.01, order=1, reshape=False)``. Order-1 interpolation is linear
  in the pixels and in ``cval``, so scipy itself is used once per angle to build a sparse 784x784 matrix
  ``A`` and a border vector ``b``; a batch is then ``X @ A.T + cval * b``, equal to scipy image by image to
  about 1e-16 in float64.
- Per-sample transforms (angle arrays, :func:`elastic`, :func:`random_distort`) compute, for every output
  pixel of every image, where to read the input, and make one vectorised bilinear gather with the same
  border rule as scipy's ``mode='constant'``: a source point inside ``[0, 27] x [0, 27]`` is interpolated
  from its four neighbours, a point outside (by any amount) gives ``cval``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from ann import blas
from ann.blas import scipy_on_first_use as scipy  # SciPy's modules imported at first use

__all__ = ["rotate", "seed_copies", "shift", "elastic", "random_distort", "thickness", "contrast", "noise",
           "pen_variation"]

IMAGE_SIDE = 28
N_PIXELS = IMAGE_SIDE * IMAGE_SIDE
# scipy.ndimage.rotate turns about the centre of the pixel grid, (28 - 1) / 2 on both axes.
_CENTRE = (IMAGE_SIDE - 1) / 2
# Per-sample work is done this many images at a time: enough for numpy's loops to run at full speed,
# few enough that each float64 coordinate array (0.8 MB) stays in the L2 cache.
_CHUNK = 128
# Elastic fields are drawn and smoothed this many images at a time (float64: 25 MB a block).
_FIELD_BLOCK = 2048

# Row and column of every pixel in row-major order, shape (784,), as floats for coordinate arithmetic.
_PIXEL_ROWS = np.repeat(np.arange(IMAGE_SIDE, dtype=np.float64), IMAGE_SIDE)
_PIXEL_COLS = np.tile(np.arange(IMAGE_SIDE, dtype=np.float64), IMAGE_SIDE)
_PIXEL_ROWS_INT = _PIXEL_ROWS.astype(np.intp)
_PIXEL_COLS_INT = _PIXEL_COLS.astype(np.intp)


# --------------------------------------------------------------------------- input checks


def _check_batch(X) -> np.ndarray:
    """Return ``X`` as an ndarray after checking it is a float batch of shape (n, 784)."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != N_PIXELS:
        raise ValueError(
            f"X has shape {X.shape}; expected (n_samples, {N_PIXELS}), one flattened 28x28 image a row "
            "(reshape a single image with x.reshape(1, 784))"
        )
    if X.dtype not in (np.float32, np.float64):
        raise TypeError(
            f"X has dtype {X.dtype}; augmentation works on scaled float32 or float64 inputs "
            "(convert pixels with ann.inputs.scale_inputs first)"
        )
    return X


def _per_sample(values, n: int, name: str) -> np.ndarray:
    """Broadcast a scalar or an (n,) array to a float64 array of shape (n,), checking it is finite."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    elif arr.shape != (n,):
        raise ValueError(f"{name} has shape {arr.shape}; expected a scalar or an array of shape ({n},)")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite values (NaN or inf); pass finite numbers")
    return arr


def _per_sample_int(values, n: int, name: str) -> np.ndarray:
    """Like :func:`_per_sample` for whole-pixel amounts; returns intp of shape (n,)."""
    arr = _per_sample(values, n, name)
    if not np.all(arr == np.round(arr)):
        raise ValueError(f"{name} must hold whole numbers of pixels, got {arr[arr != np.round(arr)][:3]}")
    return arr.astype(np.intp)


def _check_generator(rng) -> None:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator, got {type(rng).__name__}; "
            "create one with np.random.default_rng(seed)"
        )


def _check_non_negative(value, name: str) -> float:
    value = float(value)
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return value


# --------------------------------------------------------------------------- fixed-angle rotation


@functools.lru_cache(maxsize=64)
def _rotation_operator(degrees: float) -> tuple[scipy.sparse.csr_array, np.ndarray]:
    """The seed's rotation by ``degrees`` as ``(A, b)``: rotated = A @ x + cval * b.

    Returns
    -------
    A : scipy.sparse.csr_array, float64, shape (784, 784)
        Column ``j`` is scipy's rotation of the basis image with a single 1 at pixel ``j`` (cval 0),
        so row ``i`` holds the (at most four) bilinear weights of output pixel ``i``.
    b : ndarray, float64, shape (784,)
        scipy's rotation of an all-zero image with cval 1: 1 where the output pixel reads from
        outside the input, else 0.
    """
    basis = np.eye(N_PIXELS).reshape(N_PIXELS, IMAGE_SIDE, IMAGE_SIDE)
    rotated = scipy.ndimage.rotate(basis, degrees, axes=(1, 2), order=1, reshape=False, cval=0.0)
    A = scipy.sparse.csr_array(rotated.reshape(N_PIXELS, N_PIXELS).T)
    b = scipy.ndimage.rotate(
        np.zeros((IMAGE_SIDE, IMAGE_SIDE)), degrees, order=1, reshape=False, cval=1.0
    ).ravel()
    # The operator is cached and shared between calls: nothing below writes to it.
    b.setflags(write=False)
    return A, b


@functools.lru_cache(maxsize=64)
def _rotation_operator_as(degrees: float, dtype_str: str) -> tuple[scipy.sparse.csr_array, np.ndarray]:
    """:func:`_rotation_operator` cast to ``dtype`` (float32 batches multiply in float32: 2x faster)."""
    A, b = _rotation_operator(degrees)
    dtype = np.dtype(dtype_str)
    if dtype == np.float64:
        return A, b
    b_cast = b.astype(dtype)
    b_cast.setflags(write=False)
    return A.astype(dtype), b_cast


def _rotate_fixed(X: np.ndarray, degrees: float, cval: float) -> np.ndarray:
    out = np.empty_like(X)
    _rotate_into(X, (degrees,), cval, (out,))
    return out


def _rotate_into(X: np.ndarray, angles: tuple[float, ...], cval: float, outs: tuple[np.ndarray, ...]) -> None:
    """Write X rotated by each angle into the matching ``outs`` array (n, 784), which may be strided views."""
    n = X.shape[0]
    # Sparse beats dense here (about 0.26 s against 0.43 s for 60,000 float32 images, 0.42 s against
    # 0.77 s in float64, on 2 cores). scipy's CSR kernel wants the images as columns of a C-order array,
    # and the result comes back that way: two transposing copies (the first shared by all the angles).
    # Their row length is padded so that it is not a multiple of 1 KB: at 1,024 images a chunk (the
    # training loop's), rows 4 KB apart all fall in the same cache sets and the transposing copy took
    # 4.8 ms instead of 0.5 (a 1,024-image rotation 5.7 ms instead of about 1.5).
    width = -(-max(n, 1) // 16) * 16
    if (width * X.dtype.itemsize) % 1024 == 0:
        width += 16
    columns = np.empty((N_PIXELS, width), X.dtype)
    columns[:, :n] = X.T
    columns[:, n:] = 0
    for degrees, out in zip(angles, outs):
        A, b = _rotation_operator_as(degrees, X.dtype.str)
        rotated = A @ columns
        out[...] = rotated[:, :n].T
        out += X.dtype.type(cval) * b


# --------------------------------------------------------------------------- per-sample resampling


def _bilinear(Xc: np.ndarray, src_rows: np.ndarray, src_cols: np.ndarray, cval: float) -> np.ndarray:
    """Sample every image of a chunk at its own source points, scipy ``order=1, mode='constant'`` style.

    Parameters
    ----------
    Xc : ndarray, shape (m, 784), float
        The images, row-major 28x28.
    src_rows, src_cols : ndarray, shape (m, 784), float64
        Where output pixel ``k`` of image ``i`` reads the input, in (row, column) pixel coordinates.
        Used as scratch space: both are overwritten.
    cval : float
        Value for points outside ``[0, 27] x [0, 27]``. scipy's 'constant' mode does not blend such
        points with the border pixels (that is 'grid-constant'); it returns ``cval`` outright, even for
        a point 1e-16 outside (checked against scipy 1.17).

    Returns
    -------
    ndarray, shape (m, 784), dtype of ``Xc``
    """
    m = Xc.shape[0]
    last = IMAGE_SIDE - 1
    # In-place arithmetic throughout: at 128 images a chunk every temporary stays in the L2 cache,
    # which makes this about 3x faster than the same code on chunks of 1,024 images.
    inside = src_rows >= 0
    inside &= src_rows <= last
    inside &= src_cols >= 0
    inside &= src_cols <= last
    np.clip(src_rows, 0, last, out=src_rows)
    np.clip(src_cols, 0, last, out=src_cols)
    # A point on the last row or column takes the neighbour one step back with weight 0 and the
    # far one with weight 1, so all four neighbours exist and the result is still exact there.
    row0 = np.floor(src_rows)
    np.minimum(row0, last - 1, out=row0)
    col0 = np.floor(src_cols)
    np.minimum(col0, last - 1, out=col0)
    src_rows -= row0
    src_cols -= col0
    weight_row = src_rows.astype(Xc.dtype, copy=False)
    weight_col = src_cols.astype(Xc.dtype, copy=False)
    index = row0.astype(np.intp)
    index *= IMAGE_SIDE
    index += col0.astype(np.intp)
    index += (np.arange(m, dtype=np.intp) * N_PIXELS)[:, None]
    flat = Xc.ravel()
    # (1 - t) * a + t * b rather than a + t * (b - a): exact at t = 0 and t = 1, so a zero displacement
    # gives back the input bit for bit.
    one_minus_col = 1 - weight_col
    top = flat[index]
    top *= one_minus_col
    top += flat[index + 1] * weight_col
    index += IMAGE_SIDE
    bottom = flat[index]
    bottom *= one_minus_col
    bottom += flat[index + 1] * weight_col
    top *= 1 - weight_row
    bottom *= weight_row
    top += bottom
    top[~inside] = cval
    return top


def _warp(
    X: np.ndarray,
    cval: float,
    degrees: np.ndarray | None = None,
    shifts: np.ndarray | None = None,
    displacement: Callable[[int], tuple[np.ndarray, np.ndarray]] | None = None,
) -> np.ndarray:
    """Displace, shift, then rotate each image with a single bilinear resampling.

    Output pixel ``p`` of image ``i`` reads the input at ``R_i @ (p + d_i(p) - t_i) + o_i``: the same
    point that ``elastic(shift(rotate(x)))`` would reach, but interpolated once (sharper, faster).

    Parameters
    ----------
    X : ndarray, shape (n, 784), float
    cval : float
        Fill value for points read from outside the image.
    degrees : ndarray, shape (n,), float64, optional
        Anticlockwise angle per image, as in ``scipy.ndimage.rotate``: ``R = [[c, s], [-s, c]]`` with
        ``c, s = cosdg, sindg`` and ``o`` chosen so the centre (13.5, 13.5) stays put.
    shifts : ndarray, shape (n, 2), float64, optional
        ``t_i = (down, right)``: the content moves this many pixels down and to the right.
    displacement : callable, optional
        ``displacement(m) -> (d_rows, d_cols)``, each float64 of shape (m, 784): the elastic field for
        the next ``m`` images. Called once per block of up to 2,048 images, in order, so a seeded
        generator gives reproducible fields.

    Returns
    -------
    ndarray, shape (n, 784), dtype of ``X``
    """
    n = X.shape[0]
    out = np.empty_like(X)
    for block_start in range(0, n, _FIELD_BLOCK):
        block_stop = min(block_start + _FIELD_BLOCK, n)
        if displacement is not None:
            # Fields are drawn and smoothed a block at a time: smoothing is a matrix product, and BLAS
            # calls on 128 images cost more in overhead than in arithmetic.
            block_rows, block_cols = displacement(block_stop - block_start)
        for start in range(block_start, block_stop, _CHUNK):
            stop = min(start + _CHUNK, block_stop)
            m = stop - start
            if displacement is not None:
                rows = _PIXEL_ROWS + block_rows[start - block_start : stop - block_start]
                cols = _PIXEL_COLS + block_cols[start - block_start : stop - block_start]
            else:
                rows = np.broadcast_to(_PIXEL_ROWS, (m, N_PIXELS))
                cols = np.broadcast_to(_PIXEL_COLS, (m, N_PIXELS))
            if shifts is not None:
                rows = rows - shifts[start:stop, 0:1]
                cols = cols - shifts[start:stop, 1:2]
            if degrees is not None:
                angle = degrees[start:stop, None]
                cos, sin = scipy.special.cosdg(angle), scipy.special.sindg(angle)
                # Same arithmetic, in the same order, as scipy: offset = centre - R @ centre and
                # source = (row * R[k, 0] + col * R[k, 1]) + offset[k] (ni_interpolation.c), so each
                # image lands on exactly the source points scipy.ndimage.rotate computes for it.
                offset_rows = _CENTRE - (cos * _CENTRE + sin * _CENTRE)
                offset_cols = _CENTRE - (-sin * _CENTRE + cos * _CENTRE)
                new_rows = rows * cos
                new_rows += cols * sin
                new_rows += offset_rows
                new_cols = rows * -sin
                new_cols += cols * cos
                new_cols += offset_cols
                rows, cols = new_rows, new_cols
            if not rows.flags.writeable:
                rows, cols = rows.copy(), cols.copy()
            out[start:stop] = _bilinear(X[start:stop], rows, cols, cval)
    return out


# --------------------------------------------------------------------------- public API


def rotate(X, degrees, cval: float = 0.01) -> np.ndarray:
    """Rotate every image anticlockwise about its centre, as the seed does with scipy.

    Parameters
    ----------
    X : array_like, shape (n, 784), float32 or float64
        Scaled inputs, one flattened 28x28 image a row.
    degrees : float or array_like of shape (n,)
        One angle for the whole batch (the seed's ``+10`` / ``-10``), or one angle per image.
    cval : float
        Value for the corners the rotation brings in from outside; 0.01 is the scaled background.

    Returns
    -------
    ndarray, shape (n, 784), same dtype as ``X``
        With a scalar angle this equals ``scipy.ndimage.rotate(x.reshape(28, 28), degrees, cval=cval,
        order=1, reshape=False)`` image by image (to about 1e-16 in float64, 1e-7 in float32, where
        scipy rounds a float64 result and this multiplies in float32). With an array of angles it
        matches the same call per image to within 1e-12 in float64 (same source points, bilinear sums
        in a different order).
    """
    X = _check_batch(X)
    if np.ndim(degrees) == 0:
        angle = float(degrees)
        if not np.isfinite(angle):
            raise ValueError(f"degrees must be finite, got {angle}")
        return _rotate_fixed(X, angle, cval)
    return _warp(X, cval, degrees=_per_sample(degrees, X.shape[0], "degrees"))


def seed_copies(X, degrees: float, cval: float = 0.01) -> np.ndarray:
    """Each image, then rotated by ``+degrees``, then by ``-degrees``: the seed's three training samples a record.

    Parameters
    ----------
    X : array_like, shape (n, 784), float32 or float64
    degrees : float

    Returns
    -------
    ndarray, shape (n, 3, 784), same dtype as ``X``
        ``out[i] = (X[i], rotate(X, degrees)[i], rotate(X, -degrees)[i])``, equal to those calls; one array,
        so ``out.reshape(-1, 784)`` is the seed's order of samples without another copy.
    """
    X = _check_batch(X)
    angle = float(degrees)
    if not np.isfinite(angle):
        raise ValueError(f"degrees must be finite, got {angle}")
    out = np.empty((X.shape[0], 3, N_PIXELS), X.dtype)
    out[:, 0] = X
    _rotate_into(X, (angle, -angle), cval, (out[:, 1], out[:, 2]))
    return out


def shift(X, dx, dy, cval: float = 0.01) -> np.ndarray:
    """Translate every image by whole pixels, filling the uncovered border with ``cval``.

    Parameters
    ----------
    X : array_like, shape (n, 784), float32 or float64
        Scaled inputs, one flattened 28x28 image a row.
    dx, dy : int or array_like of int, shape (n,)
        Pixels to move each image right (``dx > 0``) and down (``dy > 0``); negative values move it left
        and up. Content moved past the edge is lost.
    cval : float
        Value for the pixels uncovered by the shift.

    Returns
    -------
    ndarray, shape (n, 784), same dtype as ``X``
        ``out[i, r, c] = X[i, r - dy[i], c - dx[i]]`` where that pixel exists, else ``cval``.
    """
    X = _check_batch(X)
    n = X.shape[0]
    dx = _per_sample_int(dx, n, "dx")
    dy = _per_sample_int(dy, n, "dy")
    out = np.empty_like(X)
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        src_rows = _PIXEL_ROWS_INT - dy[start:stop, None]
        src_cols = _PIXEL_COLS_INT - dx[start:stop, None]
        inside = (src_rows >= 0) & (src_rows < IMAGE_SIDE) & (src_cols >= 0) & (src_cols < IMAGE_SIDE)
        index = np.clip(src_rows, 0, IMAGE_SIDE - 1) * IMAGE_SIDE + np.clip(src_cols, 0, IMAGE_SIDE - 1)
        chunk = np.take_along_axis(X[start:stop], index, axis=1)
        chunk[~inside] = cval
        out[start:stop] = chunk
    return out


@functools.lru_cache(maxsize=16)
def _gaussian_operator(sigma: float) -> np.ndarray:
    """scipy's 1-D gaussian filter (``mode='constant'``, truncate 4) on 28 samples as a 28x28 matrix.

    ``G @ f`` equals ``scipy.ndimage.gaussian_filter1d(f, sigma, mode='constant')``, so smoothing a stack
    of fields is two small matrix products, about 7x faster than ``gaussian_filter`` over the stack.
    """
    G = scipy.ndimage.gaussian_filter1d(np.eye(IMAGE_SIDE), sigma, axis=0, mode="constant")
    G.setflags(write=False)
    return G


def _smooth_fields(fields: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-smooth each 28x28 field of a stack of shape (..., 28, 28), like
    ``scipy.ndimage.gaussian_filter(fields, sigma=(0, ..., 0, sigma, sigma), mode='constant')``."""
    G = _gaussian_operator(sigma).astype(fields.dtype, copy=False)
    shape = fields.shape
    along_cols = (fields.reshape(-1, IMAGE_SIDE) @ G.T).reshape(shape)
    along_cols = np.ascontiguousarray(np.swapaxes(along_cols, -1, -2))
    both = (along_cols.reshape(-1, IMAGE_SIDE) @ G.T).reshape(shape)
    return np.swapaxes(both, -1, -2)


def _elastic_field(rng: np.random.Generator, alpha: float, sigma: float) -> Callable:
    """A ``displacement(m)`` callable for :func:`_warp` drawing Simard-style fields from ``rng``."""

    def displacement(m: int) -> tuple[np.ndarray, np.ndarray]:
        # Uniform in [-1, 1) for the row and column displacement of every pixel, smoothed, then scaled.
        # Always float64, so one seed gives the same distortion for float32 and float64 batches.
        noise = rng.random((m, 2, IMAGE_SIDE, IMAGE_SIDE))
        noise *= 2
        noise -= 1
        field = _smooth_fields(noise, sigma)
        field *= alpha
        field = field.reshape(m, 2, N_PIXELS)
        return field[:, 0], field[:, 1]

    return displacement


def elastic(X, rng: np.random.Generator, alpha: float = 34.0, sigma: float = 4.0, cval: float = 0.01):
    """Elastic distortion of every image (Simard, Steinkraus and Platt, 2003).

    For each image, two random fields uniform in [-1, 1] (row and column displacement of every pixel)
    are smoothed with a gaussian of standard deviation ``sigma`` (``mode='constant'``, so the distortion
    fades towards the border), scaled by ``alpha`` pixels, and the image is resampled bilinearly at the
    displaced points. Small ``sigma`` gives random noise; large ``sigma`` approaches a pure translation.
    Simard used ``sigma = 4`` with ``alpha = 34`` for 28x28 MNIST digits.

    Parameters
    ----------
    X : array_like, shape (n, 784), float32 or float64
        Scaled inputs, one flattened 28x28 image a row.
    rng : numpy.random.Generator
        Source of the fields (not used when ``alpha == 0``).
    alpha : float
        Displacement scale in pixels; 0 returns a copy of ``X``.
    sigma : float
        Smoothness of the fields, in pixels (> 0).
    cval : float
        Value for points displaced from outside the image.

    Returns
    -------
    ndarray, shape (n, 784), same dtype as ``X``
    """
    return random_distort(X, rng, elastic_alpha=alpha, elastic_sigma=sigma, cval=cval)


def random_distort(
    X,
    rng: np.random.Generator,
    max_degrees: float = 0.0,
    max_shift: int = 0,
    elastic_alpha: float = 0.0,
    elastic_sigma: float = 4.0,
    cval: float = 0.01,
) -> np.ndarray:
    """Apply one random transform to each image: rotation, whole-pixel shift and elastic distortion.

    All enabled transforms are composed into the source coordinates and applied with a single bilinear
    resampling (so a digit is blurred once, not three times); the result approximates
    ``elastic(shift(rotate(X)))``. Only enabled transforms draw from ``rng``; with every amount 0 the
    result is a copy of ``X``.

    Parameters
    ----------
    X : array_like, shape (n, 784), float32 or float64
        Scaled inputs, one flattened 28x28 image a row.
    rng : numpy.random.Generator
        Source of all random choices.
    max_degrees : float
        Each image is rotated by an angle drawn uniformly from ``[-max_degrees, max_degrees]``.
    max_shift : int
        Each image moves by whole pixels drawn uniformly from ``-max_shift .. max_shift``, independently
        along each axis.
    elastic_alpha, elastic_sigma : float
        Elastic distortion as in :func:`elastic`; ``elastic_alpha = 0`` turns it off.
    cval : float
        Value for points read from outside the image (0.01 is the scaled background).

    Returns
    -------
    ndarray, shape (n, 784), same dtype as ``X``
    """
    X = _check_batch(X)
    _check_generator(rng)
    max_degrees = _check_non_negative(max_degrees, "max_degrees")
    elastic_alpha = _check_non_negative(elastic_alpha, "elastic_alpha")
    elastic_sigma = float(elastic_sigma)
    if not (np.isfinite(elastic_sigma) and elastic_sigma > 0):
        raise ValueError(f"elastic_sigma must be a finite number > 0, got {elastic_sigma}")
    if isinstance(max_shift, bool) or not float(max_shift).is_integer() or max_shift < 0:
        raise ValueError(f"max_shift must be a whole number of pixels >= 0, got {max_shift!r}")
    max_shift = int(max_shift)

    n = X.shape[0]
    degrees = rng.uniform(-max_degrees, max_degrees, size=n) if max_degrees > 0 else None
    shifts = (
        rng.integers(-max_shift, max_shift + 1, size=(n, 2)).astype(np.float64) if max_shift > 0 else None
    )
    displacement = _elastic_field(rng, elastic_alpha, elastic_sigma) if elastic_alpha > 0 else None
    if degrees is None and shifts is None and displacement is None:
        return X.copy()
    if displacement is None:
        return _warp(X, cval, degrees=degrees, shifts=shifts)
    # The field smoothing is many (m*56, 28) @ (28, 28) products: too small for BLAS threads to pay
    # off; on 2 busy cores one thread was 3.6x faster (1.4 s against 5.2 s for 60,000 fields). Set once
    # for the process (this may run on a thread beside the training loop): see ann.blas.hold_pools_at_one.
    blas.hold_pools_at_one()
    return _warp(X, cval, degrees=degrees, shifts=shifts, displacement=displacement)


# --------------------------------------------------------------------------- stroke, contrast and noise
#
# Handwriting from outside MNIST differs from it in the pen more than in the shape: strokes thicker or
# thinner than MNIST's (a felt pen, a pencil, a finger on a canvas), softer or harder edges (a blurred
# photo, a bilevel scan) and specks. These transforms teach a network those differences. They act on the
# ink, ``X - cval`` (0 on the background), and return ``cval + ink``, clipped to the scaled range.


def _neighbourhood(ink: np.ndarray, reduce) -> np.ndarray:
    """``reduce`` (np.maximum or np.minimum) of each pixel and its four neighbours, (n, 28, 28) images;
    pixels beyond the edge count as background (0)."""
    padded = np.pad(ink, ((0, 0), (1, 1), (1, 1)))
    out = reduce(padded[:, 1:-1, 1:-1], padded[:, :-2, 1:-1])
    reduce(out, padded[:, 2:, 1:-1], out=out)
    reduce(out, padded[:, 1:-1, :-2], out=out)
    reduce(out, padded[:, 1:-1, 2:], out=out)
    return out


def thickness(X, amounts, cval: float = 0.01) -> np.ndarray:
    """Thicken (``amount > 0``) or thin (``amount < 0``) every image's strokes.

    A grey dilation by the 3x3 cross (each pixel takes the strongest ink among itself and its four
    neighbours) widens a bilevel stroke by 2 pixels, one on each side; an erosion (the weakest) narrows it
    by 2. An amount of ``a`` pixels moves ``|a| / 2`` of the way to the dilated (or eroded) image, once per
    whole step of 2: so 1 pixel is half a dilation, 3 pixels one whole and one half. On MNIST's
    anti-aliased strokes the width that :func:`ann.data.preprocess.stroke_width` measures changes by less: +2
    widens them by about 1.15 pixels, +1 by 0.65, -1 narrows them by 0.5 (tests). A thinned image's strongest
    ink is scaled back to what it was (erosion dims it). Thinning by more than about 1 pixel erases MNIST's
    thinnest strokes (1.6 px at the 10th percentile).

    Parameters
    ----------
    X : array_like, shape (n, 784), float32 or float64
        Scaled inputs, one flattened 28x28 image a row.
    amounts : float or array_like of shape (n,)
        Change of stroke width in pixels, per image or for all; from -4 to 4.
    cval : float
        The scaled background (0.01).

    Returns
    -------
    ndarray, shape (n, 784), same dtype as ``X``
    """
    X = _check_batch(X)
    n = X.shape[0]
    amounts = _per_sample(amounts, n, "amounts")
    if np.any(np.abs(amounts) > 4):
        raise ValueError(f"amounts must lie in -4..4 pixels, got {amounts[np.abs(amounts) > 4][:3]}")
    ink = (X - X.dtype.type(cval)).reshape(n, IMAGE_SIDE, IMAGE_SIDE)
    peak = ink.max(axis=(1, 2))
    steps = np.abs(amounts) / 2.0
    for step in range(int(np.ceil(steps.max())) if n else 0):
        share = np.clip(steps - step, 0.0, 1.0).astype(X.dtype)
        for sign, reduce in ((1, np.maximum), (-1, np.minimum)):
            chosen = (np.sign(amounts) == sign) & (share > 0)
            if chosen.any():
                part = ink[chosen]
                moved = _neighbourhood(part, reduce)
                ink[chosen] = part + share[chosen, None, None] * (moved - part)
    # A thinned stroke stays as dark as it was (the pipeline scales the strongest ink to full anyway): its
    # strongest ink is brought back to the image's own.
    thinned = (amounts < 0) & (peak > 0)
    if thinned.any():
        now = ink[thinned].max(axis=(1, 2))
        ink[thinned] *= (peak[thinned] / np.maximum(now, np.finfo(X.dtype).tiny))[:, None, None]
    out = ink.reshape(n, N_PIXELS) + X.dtype.type(cval)
    return np.clip(out, cval, 1.0, out=out)


def contrast(X, gammas, cval: float = 0.01) -> np.ndarray:
    """Raise every image's ink (0..1 of the strongest, 0.99 scaled) to a power: softer or harder edges.

    ``gamma < 1`` lifts the grey edge of a stroke towards full ink (a bilevel scan, a felt pen), ``gamma >
    1`` lowers it (a blurred photo, a pencil); full ink and the background stay as they are.

    Parameters
    ----------
    X : array_like, shape (n, 784), float32 or float64
    gammas : float or array_like of shape (n,), each > 0
    cval : float

    Returns
    -------
    ndarray, shape (n, 784), same dtype as ``X``
    """
    X = _check_batch(X)
    gammas = _per_sample(gammas, X.shape[0], "gammas")
    if np.any(gammas <= 0):
        raise ValueError(f"gammas must be > 0, got {gammas[gammas <= 0][:3]}")
    top = 1.0 - cval
    ink = np.clip((X - X.dtype.type(cval)) / X.dtype.type(top), 0.0, 1.0)
    out = ink ** gammas.astype(X.dtype)[:, None] * X.dtype.type(top) + X.dtype.type(cval)
    return out.astype(X.dtype, copy=False)


def noise(X, rng: np.random.Generator, sigmas, cval: float = 0.01) -> np.ndarray:
    """Add Gaussian noise of standard deviation ``sigmas`` (per image, on the 0..1 scale) to every pixel,
    clipped to the scaled range ``cval .. 1``: speckled paper, sensor noise.

    Parameters
    ----------
    X : array_like, shape (n, 784), float32 or float64
    rng : numpy.random.Generator
    sigmas : float or array_like of shape (n,), each >= 0
    cval : float

    Returns
    -------
    ndarray, shape (n, 784), same dtype as ``X``
    """
    X = _check_batch(X)
    _check_generator(rng)
    sigmas = _per_sample(sigmas, X.shape[0], "sigmas")
    if np.any(sigmas < 0):
        raise ValueError(f"sigmas must be >= 0, got {sigmas[sigmas < 0][:3]}")
    out = X + (rng.standard_normal(X.shape) * sigmas[:, None]).astype(X.dtype)
    return np.clip(out, cval, 1.0, out=out)


def pen_variation(X, rng: np.random.Generator, max_thickness: float = 0.0, max_contrast: float = 0.0,
                  max_noise: float = 0.0, cval: float = 0.01) -> np.ndarray:
    """One random pen per image: stroke width changed by a uniform amount in ``[-max_thickness,
    max_thickness]`` pixels (:func:`thickness`), edges raised to a power ``gamma`` with ``log(gamma)``
    uniform in ``[-log(1 + max_contrast), log(1 + max_contrast)]`` (:func:`contrast`), and Gaussian noise of
    a standard deviation uniform in ``[0, max_noise]`` (:func:`noise`). Only the enabled ones draw from
    ``rng``, in that order; with all three 0 the result is a copy of ``X``.

    Returns
    -------
    ndarray, shape (n, 784), same dtype as ``X``
    """
    X = _check_batch(X)
    _check_generator(rng)
    for value, name in ((max_thickness, "max_thickness"), (max_contrast, "max_contrast"), (max_noise, "max_noise")):
        _check_non_negative(value, name)
    n = X.shape[0]
    out = X.copy()
    if max_thickness > 0:
        out = thickness(out, rng.uniform(-max_thickness, max_thickness, size=n), cval)
    if max_contrast > 0:
        spread = np.log1p(max_contrast)
        out = contrast(out, np.exp(rng.uniform(-spread, spread, size=n)), cval)
    if max_noise > 0:
        out = noise(out, rng, rng.uniform(0.0, max_noise, size=n), cval)
    return out
