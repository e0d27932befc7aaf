"""Seeding stage: where the climbs start.

``make_seeds`` returns the seeds and, when the seeds are data rows, which rows they are
(so that ``label_by="mode"`` can reuse their climbs).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.utils import check_random_state

from ._compress import unique_rows
from ._warnings import MeanShiftWarning

__all__ = ["bin_seeds", "make_seeds", "NoSeedError"]


class NoSeedError(ValueError):
    """Raised when a seeding strategy leaves no seed at all."""


def bin_seeds(X, bin_size, min_bin_freq=1, sample_weight=None, at="centre"):
    """Seeds at the centres of grid bins holding at least ``min_bin_freq`` points.

    Points are binned by ``round(x / bin_size)`` (scikit-learn's rule, with its float32
    bin centres); a bin's frequency is its number of points, or the sum of their sample
    weights when weights are given.  Seeds are returned in lexicographic order of their
    bin, so the result does not depend on the order of the rows.

    ``at="mean"`` places each seed at the weighted mean of its bin's points instead of
    the bin centre (used when every bin centre is out of the data's reach).

    Returns
    -------
    seeds : ndarray of shape (n_seeds, n_features)
    fell_back : bool
        True when every point had a bin of its own, in which case (as scikit-learn does)
        the data points themselves are returned as seeds.
    """
    X = np.asarray(X)
    if X.shape[0] == 0:
        raise NoSeedError("bin seeding got no data points.")
    cells = np.round(X / bin_size)
    if np.all(np.abs(cells) < 2.0**62):
        uniq, inverse = unique_rows(cells.astype(np.int64))
    else:
        uniq, inverse = np.unique(cells, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
    if sample_weight is None:
        freq = np.bincount(inverse, minlength=len(uniq)).astype(np.float64)
    else:
        freq = np.bincount(inverse, weights=sample_weight, minlength=len(uniq))
    keep = freq >= min_bin_freq
    if not keep.any():
        raise NoSeedError(
            f"bin_seeding with bin size {bin_size:g} (the bandwidth) and "
            f"min_bin_freq={min_bin_freq} left no seed: the fullest bin holds "
            f"{freq.max():g} points. Lower min_bin_freq to at most {freq.max():g}, "
            "increase the bandwidth, or turn bin_seeding off."
        )
    # "Every point has a bin of its own", counting points with their weights, so that
    # weights and repeated rows agree.
    if keep.sum() == freq.sum():
        warnings.warn(
            f"Binning data failed with bin size {bin_size:g}: every point has a bin of "
            "its own, so the data points are used as seeds. Use a larger bandwidth or "
            "turn bin_seeding off.",
            MeanShiftWarning,
            stacklevel=3,
        )
        return _weighted_rows(X, sample_weight), True
    if at == "mean":
        w = np.ones(X.shape[0]) if sample_weight is None else sample_weight
        sums = np.stack([np.bincount(inverse, weights=w * X[:, j], minlength=len(uniq))
                         for j in range(X.shape[1])], axis=1)
        total = np.bincount(inverse, weights=w, minlength=len(uniq))
        keep &= total > 0
        return sums[keep] / total[keep, None], False
    seeds = uniq[keep].astype(np.float32) * np.float32(bin_size)
    return seeds, False


def _weighted_rows(X, sample_weight):
    """The rows that carry mass (a zero-weight point is no seed)."""
    return X if sample_weight is None else X[sample_weight > 0]


def make_seeds(X, *, seeds, bin_seeding, min_bin_freq, bandwidth, random_state, sample_weight):
    """Resolve the seeding strategy into an array of seeds.

    Points with zero sample weight carry no mass and never seed.

    Parameters
    ----------
    seeds : None, "all", "bins", int or array-like of shape (n_seeds, n_features)
        None means "bins" when ``bin_seeding`` else "all" (scikit-learn's meaning);
        an int draws that many distinct rows at random (``random_state``).

    Returns
    -------
    seed_array : ndarray of shape (n_seeds, n_features)
    seed_rows : ndarray of int or None
        The data rows the seeds are, when they are data rows.
    kind : str
        "all", "bins", "sample" or "given".
    """
    n = X.shape[0]
    if seeds is None:
        seeds = "bins" if bin_seeding else "all"
    if isinstance(seeds, str):
        rows = np.arange(n) if sample_weight is None else np.flatnonzero(sample_weight > 0)
        if seeds == "all":
            return X[rows], rows, "all"
        if seeds == "bins":
            out, fell_back = bin_seeds(X, bandwidth, min_bin_freq, sample_weight)
            if fell_back:
                return out, rows, "all"
            return out, None, "bins"
        raise ValueError(
            "The 'seeds' parameter must be None, 'all', 'bins', a positive int or an "
            f"array of shape (n_seeds, {X.shape[1]}); got {seeds!r}."
        )
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"The 'seeds' parameter as an int must be >= 1; got {seeds}.")
        rows = np.arange(n) if sample_weight is None else np.flatnonzero(sample_weight > 0)
        if seeds >= rows.size:
            return X[rows], rows, "all"
        rng = check_random_state(random_state)
        rows = np.sort(rng.choice(rows, size=int(seeds), replace=False))
        return X[rows], rows, "sample"
    arr = np.asarray(seeds)
    if arr.dtype.kind not in "biuf" or arr.ndim != 2 or arr.shape[1] != X.shape[1] or arr.shape[0] == 0:
        raise ValueError(
            "The 'seeds' parameter as an array must be numeric with shape "
            f"(n_seeds >= 1, {X.shape[1]}); got dtype {arr.dtype} and shape {arr.shape}."
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError("The 'seeds' parameter contains NaN or infinity.")
    return arr.astype(np.float64), None, "given"
