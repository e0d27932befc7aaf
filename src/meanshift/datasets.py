"""Synthetic data sets for examples, tests and benchmarks (generated, never downloaded)."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["six_blobs", "make_blobs"]


def six_blobs(n_per_cluster=250, *, random_state=7):
    """The six gaussian blobs of the PyTorch walk-through.

    Six centres drawn uniformly in [-35, 35]^2, then ``n_per_cluster`` points around each
    from a gaussian with covariance diag(5, 5) (standard deviation sqrt(5) per axis).
    Uniform centres often land on top of each other (with seed 42 two are 3.4 standard
    deviations apart); the default seed, 7, gives six blobs at least 8 standard deviations
    apart, the picture the walk-through shows.

    Returns
    -------
    X : ndarray of shape (6 * n_per_cluster, 2)
    y : ndarray of shape (6 * n_per_cluster,)
        The blob each point came from.
    centers : ndarray of shape (6, 2)

    Examples
    --------
    >>> from meanshift.datasets import six_blobs
    >>> X, y, centers = six_blobs()
    >>> X.shape, centers.shape
    ((1500, 2), (6, 2))
    """
    rng = check_random_state(random_state)
    centers = rng.uniform(-35.0, 35.0, size=(6, 2))
    X = np.concatenate([rng.normal(c, np.sqrt(5.0), size=(n_per_cluster, 2)) for c in centers])
    y = np.repeat(np.arange(6), n_per_cluster)
    return X, y, centers


def make_blobs(
    n_samples=1000,
    n_features=2,
    *,
    centers=3,
    cluster_std=1.0,
    min_separation=8.0,
    box=None,
    weights=None,
    random_state=None,
    dtype=np.float64,
):
    """Isotropic gaussian blobs whose centres are guaranteed to be apart.

    Unlike ``sklearn.datasets.make_blobs``, centres are drawn so that any two are at
    least ``min_separation * cluster_std`` apart: "well separated" is a property of the
    data, not luck.

    Parameters
    ----------
    n_samples : int, default=1000
    n_features : int, default=2
    centers : int or array-like of shape (n_centers, n_features), default=3
    cluster_std : float, default=1.0
    min_separation : float, default=8.0
        Minimum distance between two centres, in units of ``cluster_std``.
    box : float, default=None
        Half-width of the cube the centres are drawn in; by default large enough for the
        centres to fit at the requested separation.
    weights : array-like of shape (n_centers,), default=None
        Share of the samples in each blob (equal by default).
    random_state : int, RandomState instance or None, default=None
    dtype : numpy dtype, default=float64

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    centers : ndarray of shape (n_centers, n_features)
    """
    rng = check_random_state(random_state)
    if np.ndim(centers) == 0:
        k = int(centers)
        if k < 1:
            raise ValueError(f"The 'centers' parameter must be >= 1; got {centers!r}.")
        sep = min_separation * cluster_std
        if box is None:
            # Volume argument: k balls of radius sep/2 fit easily in a cube of this size.
            box = sep * max(1.0, 0.75 * k ** (1.0 / n_features)) * 1.5
        chosen: list[np.ndarray] = []
        for _ in range(100000):
            c = rng.uniform(-box, box, size=n_features)
            if all(np.linalg.norm(c - o) >= sep for o in chosen):
                chosen.append(c)
                if len(chosen) == k:
                    break
        else:  # pragma: no cover - only with an impossible box
            raise ValueError(
                f"Could not place {k} centres {sep:g} apart in a box of half-width {box:g}; "
                "increase 'box' or decrease 'min_separation'."
            )
        centers = np.array(chosen)
    centers = np.asarray(centers, dtype=np.float64)
    k = len(centers)
    p = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, float) / np.sum(weights)
    counts = np.floor(p * n_samples).astype(int)
    counts[: n_samples - counts.sum()] += 1
    y = np.repeat(np.arange(k), counts)
    X = centers[y] + rng.normal(0.0, cluster_std, size=(n_samples, centers.shape[1]))
    perm = rng.permutation(n_samples)
    return X[perm].astype(dtype), y[perm], centers
