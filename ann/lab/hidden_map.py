"""The hidden layer's map: how a network arranges images in its last hidden layer, drawn in two dimensions.

The last hidden layer is where the network has turned pixels into the features its output layer reads
off. Each image becomes one point in a space of as many dimensions as that layer has nodes (200 for the
seed's network); :func:`fit_pca` (principal component analysis, by SVD) or :func:`tsne` (t-SNE, from
scikit-learn, imported only when asked for) bring those points down to two dimensions. A network that has
learned puts the images of one digit close together and the digits apart.

:func:`procrustes` turns, mirrors, scales and shifts one map onto another: it lets maps made from
different networks (one per epoch of a run, see :mod:`ann.lab.epochs`) be compared point for point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ann.blas import pools_at_one
from ann.blas import scipy_on_first_use as scipy  # SciPy's modules imported at first use
from ann.network import Network
from ann.train import as_inputs

__all__ = ["PCA", "fit_pca", "last_hidden", "procrustes", "tsne"]

TSNE_PCA_DIMENSIONS = 50  # t-SNE starts from this many principal components, as its authors advise
TSNE_ITERATIONS = 1000  # scikit-learn's default: 250 with early exaggeration, then 750


def last_hidden(network: Network, images: np.ndarray, batch: int = 2000) -> np.ndarray:
    """The last hidden layer's activations for a batch of images.

    Parameters
    ----------
    network : Network (not modified)
    images : ndarray (n, 784), uint8 pixels or scaled inputs
    batch : int, images per forward pass

    Returns
    -------
    ndarray (n, n_last_hidden) float64

    Raises
    ------
    ValueError
        The network has no hidden layer, or the images do not fit it.
    """
    if not network.config.hidden_nodes:
        raise ValueError("this network has no hidden layer, so there is no hidden layer to map: train one with "
                         "at least one hidden layer (the seed's has 200 nodes)")
    images = np.asarray(images)
    if images.ndim != 2 or images.shape[1] != network.config.input_nodes:
        raise ValueError(f"images of shape {images.shape} do not fit this network: expected (n, "
                         f"{network.config.input_nodes})")
    size = network.config.hidden_nodes[-1]
    parts = [network.forward(as_inputs(images[s:s + batch], network.dtype))[-2].astype(np.float64)
             for s in range(0, len(images), batch)]
    return np.concatenate(parts) if parts else np.zeros((0, size))


@dataclass(frozen=True)
class PCA:
    """A fitted principal component analysis.

    Attributes
    ----------
    mean : ndarray (d,) float64, the centre of the points it was fitted on
    components : ndarray (k, d) float64, orthonormal rows, the directions of largest spread first; each
        row's largest entry (by size) is positive, so that the same data always give the same picture
    explained_variance_ratio : ndarray (k,) float64, each direction's share of the total variance
    """

    mean: np.ndarray
    components: np.ndarray
    explained_variance_ratio: np.ndarray

    def transform(self, points: np.ndarray) -> np.ndarray:
        """Coordinates of ``points`` (n, d) along the components: (n, k) float64."""
        points = np.asarray(points, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != self.mean.shape[0]:
            raise ValueError(f"points of shape {points.shape} do not fit this PCA, fitted on {self.mean.shape[0]} "
                             "dimensions")
        return (points - self.mean) @ self.components.T


def fit_pca(points: np.ndarray, n_components: int = 2) -> PCA:
    """Principal component analysis by singular value decomposition.

    Parameters
    ----------
    points : ndarray (n, d), n >= 2
    n_components : int, 1..min(n, d)

    Returns
    -------
    PCA
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or len(points) < 2:
        raise ValueError(f"points of shape {points.shape}: PCA needs an (n, d) array of at least 2 points")
    if not np.all(np.isfinite(points)):
        raise ValueError("points hold a value that is not a finite number")
    limit = min(points.shape)
    if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)) \
            or not 1 <= n_components <= limit:
        raise ValueError(f"n_components={n_components!r} is out of range; use 1 to {limit} for {points.shape[0]} "
                         f"points in {points.shape[1]} dimensions")
    mean = points.mean(axis=0)
    _, singular, Vt = np.linalg.svd(points - mean, full_matrices=False)
    components = Vt[:n_components]
    # An eigenvector's sign is arbitrary: fix it, so a map does not flip between two runs of the same data.
    biggest = np.argmax(np.abs(components), axis=1)
    components = components * np.sign(components[np.arange(n_components), biggest])[:, None]
    variance = singular ** 2
    total = variance.sum()
    ratio = variance[:n_components] / total if total > 0 else np.zeros(n_components)
    return PCA(mean=mean, components=components, explained_variance_ratio=ratio)


TsneProgress = Callable[[int, int], None]  # (iterations done, iterations in all)


def _progress_tsne(progress: TsneProgress, **params: Any):
    """scikit-learn's ``TSNE`` whose optimisation reports each iteration to ``progress``.

    ``TSNE`` has no callback. Its optimisation (``_tsne``: 250 iterations with early exaggeration, then
    the rest) is repeated here step for step with scikit-learn's own gradient descent and Barnes-Hut
    gradient, the gradient wrapped to count the calls: the same map, bit for bit (a test checks it against
    ``TSNE`` itself). Where a scikit-learn release has moved these internals, plain ``TSNE`` runs instead
    and reports only its start and end.
    """
    from sklearn.manifold import TSNE  # scikit-learn: heavy (about 1 s), only for a t-SNE map

    try:
        from sklearn.manifold._t_sne import _gradient_descent, _kl_divergence_bh
        from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
    except ImportError:
        return TSNE(**params), False

    class ProgressTSNE(TSNE):
        def _tsne(self, P, degrees_of_freedom, n_samples, X_embedded, neighbors=None, skip_num_points=0):
            total = self.max_iter
            calls = [0]

            def objective(*args, **kwargs):
                result = _kl_divergence_bh(*args, **kwargs)
                calls[0] += 1
                progress(min(calls[0], total), total)
                return result

            exploration = self._EXPLORATION_MAX_ITER
            opt_args = {
                "it": 0, "n_iter_check": self._N_ITER_CHECK, "min_grad_norm": self.min_grad_norm,
                "learning_rate": self.learning_rate_, "verbose": self.verbose,
                "kwargs": {"skip_num_points": skip_num_points, "angle": self.angle, "verbose": self.verbose,
                           "num_threads": _openmp_effective_n_threads()},
                "args": [P, degrees_of_freedom, n_samples, self.n_components],
                "n_iter_without_progress": exploration, "max_iter": exploration, "momentum": 0.5,
            }
            P *= self.early_exaggeration
            params, kl_divergence, it = _gradient_descent(objective, X_embedded.ravel(), **opt_args)
            P /= self.early_exaggeration
            remaining = self.max_iter - exploration
            if it < exploration or remaining > 0:
                opt_args.update(max_iter=self.max_iter, it=it + 1, momentum=0.8,
                                n_iter_without_progress=self.n_iter_without_progress)
                params, kl_divergence, it = _gradient_descent(objective, params, **opt_args)
            self.n_iter_ = it
            self.kl_divergence_ = kl_divergence
            progress(total, total)  # an early stop (no progress, a tiny gradient) ends it here
            return params.reshape(n_samples, self.n_components)

    return ProgressTSNE(**params), True


def tsne(points: np.ndarray, seed: int = 0, perplexity: float = 30.0,
         progress: TsneProgress | None = None) -> np.ndarray:
    """A t-SNE map in two dimensions (scikit-learn's ``TSNE``, Barnes-Hut, PCA start).

    The points are first reduced to their first 50 principal components. t-SNE keeps neighbours together
    but not distances: the size of a cluster and the gaps between clusters mean little. Its thread pool
    (OpenMP) runs under :func:`ann.blas.pools_at_one`, as every pool of ann does: at two threads beside a
    busy second core it took 10x as long as at one. Times on this project's machine are in bench/README.md
    (``bench/honest_waits.py``).

    Parameters
    ----------
    points : ndarray (n, d), n > perplexity * 3 or so
    seed : int, the random state
    perplexity : float, 5..50, roughly how many neighbours each point keeps close
    progress : callable(done, total), optional
        Called after every iteration of the optimisation with the iterations done and the total (1,000),
        from the calling thread; the time before the first call (neighbours, affinities) is a few percent.

    Returns
    -------
    ndarray (n, 2) float64

    Raises
    ------
    ImportError
        scikit-learn is not installed (``pip install scikit-learn``).
    ValueError
        Too few points for the perplexity.
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2:
        raise ValueError(f"points of shape {points.shape}: expected (n, d)")
    if not 5.0 <= perplexity <= 50.0:
        raise ValueError(f"perplexity={perplexity!r} is out of range; use 5 to 50")
    if len(points) <= 3 * perplexity:
        raise ValueError(f"{len(points)} points are too few for t-SNE with perplexity {perplexity:g}; use more "
                         f"than {int(3 * perplexity)} points or a smaller perplexity")
    try:
        import sklearn.manifold  # noqa: F401 -- heavy (about 1 s): only when a t-SNE map is asked for
    except ImportError as exc:  # scikit-learn is in requirements.txt, but ann itself needs only NumPy and SciPy
        raise ImportError("t-SNE needs scikit-learn: pip install 'scikit-learn>=1.4'") from exc
    dims = min(TSNE_PCA_DIMENSIONS, *points.shape)
    reduced = fit_pca(points, dims).transform(points)
    params = {"n_components": 2, "perplexity": perplexity, "init": "pca", "random_state": seed, "n_jobs": 1,
              "max_iter": TSNE_ITERATIONS}
    model, reports = _progress_tsne(progress or (lambda done, total: None), **params)
    with pools_at_one():  # after the import: scikit-learn's OpenMP library is loaded by then
        if progress is not None:
            progress(0, TSNE_ITERATIONS)
        coords = model.fit_transform(reduced)
        if progress is not None and not reports:
            progress(TSNE_ITERATIONS, TSNE_ITERATIONS)
    return coords.astype(np.float64)


def procrustes(source: np.ndarray, target: np.ndarray, scale: bool = True) -> np.ndarray:
    """``source`` turned (or mirrored), scaled and shifted to lie as close as possible to ``target``.

    The orthogonal Procrustes problem: the rotation ``R`` (orthogonal, so a mirror image is allowed), scale
    ``s`` and shift ``t`` minimising ``sum ||s * source_i @ R + t - target_i||^2``, point ``i`` matched to
    point ``i``. The shape of ``source`` is kept; only how it lies on the page changes.

    Parameters
    ----------
    source, target : ndarray (n, d) float, the same points in two maps
    scale : bool, also rescale ``source`` (else only turn and shift it)

    Returns
    -------
    ndarray (n, d) float64
    """
    source = np.asarray(source, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if source.shape != target.shape or source.ndim != 2:
        raise ValueError(f"source {source.shape} and target {target.shape} must be the same points: two arrays "
                         "of shape (n, d)")
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    centred_source, centred_target = source - source_mean, target - target_mean
    rotation, singular_sum = scipy.linalg.orthogonal_procrustes(centred_source, centred_target)
    factor = 1.0
    if scale:
        norm = float(np.sum(centred_source ** 2))
        factor = singular_sum / norm if norm > 0 else 1.0
    return factor * centred_source @ rotation + target_mean
