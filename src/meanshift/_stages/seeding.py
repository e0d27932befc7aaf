"""Seeding stage: where the climbs start.

:func:`make_seeds` reads the rows through their input adapter (:mod:`meanshift._data`),
so NumPy and dask input seed alike: bins are counted chunk by chunk, a random sample of
rows is taken from wherever they are.  It returns the seeds and, when the seeds are data
rows, which rows they are (so that ``label_by="mode"`` can reuse their climbs).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
from sklearn.utils import check_random_state

from .._arrays import row_hashes
from .._warnings import MeanShiftWarning
from .compression import unique_rows

__all__ = ["bin_seeds", "cell_count", "cell_counts", "cell_means", "add_cell_counts",
           "make_seeds", "NoSeedError", "Seeds", "check_seed_array"]


class NoSeedError(ValueError):
    """Raised when a seeding strategy leaves no seed at all."""


def bin_seeds(X, bin_size, min_bin_freq=1, sample_weight=None, at="centre", unit=1.0):
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
    uniq, freq, inverse = _cells(X, sample_weight, bin_size)
    keep = _kept_bins(freq, bin_size, min_bin_freq, unit)
    if keep is None:
        return _weighted_rows(X, sample_weight), True
    if at == "mean":
        means, total = _means(X, sample_weight, inverse, len(uniq))
        return means[keep & (total > 0)], False
    return uniq[keep].astype(np.float32) * np.float32(bin_size), False


def _cells(X, sample_weight, bin_size):
    """``(cells, freq, inverse)``: the distinct bins ``round(x / bin_size)`` of the rows
    of X (sorted), their weighted counts, and each row's bin."""
    cells = np.round(np.asarray(X, dtype=np.float64) / bin_size)
    if np.all(np.abs(cells) < 2.0**62):
        uniq, inverse = unique_rows(cells.astype(np.int64))
    else:
        uniq, inverse = np.unique(cells, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
    freq: np.ndarray  # float64 (NumPy's stubs type every bincount as integer)
    if sample_weight is None:
        freq = np.bincount(inverse, minlength=len(uniq)).astype(np.float64)
    else:
        freq = np.bincount(inverse, weights=sample_weight, minlength=len(uniq))
    return uniq.astype(np.float64), freq, inverse


def _means(X, sample_weight, inverse, n_cells):
    """``(means, total)``: the weighted mean of each cell's rows (``inverse``: each row's
    cell) and the cell's total weight; a cell of weight 0 has mean 0."""
    w = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    total = np.bincount(inverse, weights=w, minlength=n_cells)
    sums = np.stack([np.bincount(inverse, weights=w * X[:, j], minlength=n_cells)
                     for j in range(X.shape[1])], axis=1)
    return sums / np.where(total > 0, total, 1.0)[:, None], total


def cell_means(X, sample_weight, bin_size):
    """The weighted means of the rows of X in each bin ``round(x / bin_size)`` that
    carries weight, in lexicographic order of the bins (so independent of the order of
    the rows, up to the order of the sums)."""
    uniq, _, inverse = _cells(X, sample_weight, bin_size)
    means, total = _means(np.asarray(X, dtype=np.float64), sample_weight, inverse, len(uniq))
    return means[total > 0]


def cell_count(X, bin_size):
    """How many distinct bins ``round(x / bin_size)`` the rows of X fall in, counted by
    64-bit hashes of the bins (a collision could only lower the count): a compiled pass,
    where sorting the bins themselves takes seconds in many dimensions (10^5 x 128:
    1.9 s)."""
    cells = np.round(np.asarray(X, dtype=np.float64) / bin_size)
    return int(np.unique(row_hashes(cells)).size)


def cell_counts(X, sample_weight, bin_size):
    """``(cells, freq)`` of one chunk of rows (see :func:`_cells`)."""
    return _cells(X, sample_weight, bin_size)[:2]


def add_cell_counts(*parts):
    """Add up the :func:`cell_counts` of disjoint chunks."""
    nonempty = [p for p in parts if len(p[0])]
    if len(nonempty) == 1:
        return nonempty[0]
    cells = np.concatenate([p[0] for p in nonempty])
    uniq, inverse = np.unique(cells, axis=0, return_inverse=True)
    freq = np.bincount(inverse.reshape(-1), weights=np.concatenate([p[1] for p in nonempty]),
                       minlength=len(uniq))
    return uniq, freq


def _kept_bins(freq, bin_size, min_bin_freq, unit=1.0):
    """Mask of the bins that seed, or None when every point has a bin of its own
    (scikit-learn then seeds from every point, with a warning).  ``unit``: the data's
    units per unit of ``bin_size`` (messages give the bin size in the data's units)."""
    shown = bin_size * unit
    keep = freq >= min_bin_freq
    if not keep.any():
        raise NoSeedError(
            f"bin_seeding with bin size {shown:g} (the bandwidth) and "
            f"min_bin_freq={min_bin_freq} left no seed: the fullest bin holds "
            f"{freq.max():g} points. Lower min_bin_freq to at most {freq.max():g}, "
            "increase the bandwidth, or turn bin_seeding off."
        )
    # "Every point has a bin of its own", counting points with their weights, so that
    # weights and repeated rows agree.
    if keep.sum() == freq.sum():
        warnings.warn(
            f"Binning data failed with bin size {shown:g}: every point has a bin of "
            "its own, so the data points are used as seeds. Use a larger bandwidth or "
            "turn bin_seeding off.",
            MeanShiftWarning,
            stacklevel=3,
        )
        return None
    return keep


def _weighted_rows(X, sample_weight):
    """The rows that carry mass (a zero-weight point is no seed)."""
    return X if sample_weight is None else X[sample_weight > 0]


class Seeds(NamedTuple):
    """Where the climbs start: ``array`` (n_seeds, n_features); ``rows``, the data rows
    the seeds are (or None); ``kind``: "all", "bins", "sample" or "given"."""

    array: np.ndarray
    rows: np.ndarray | None
    kind: str


def _bin_seeds_of_rows(rows, bandwidth, min_bin_freq, unit=1.0):
    """Bin seeding on rows of any adapter: bins counted chunk by chunk."""
    if rows.n == 0:
        raise NoSeedError("bin seeding got no data points.")
    cells, freq = rows.reduce(cell_counts, add_cell_counts, bandwidth)
    keep = _kept_bins(freq, bandwidth, min_bin_freq, unit)
    if keep is None:
        return None
    return cells[keep].astype(np.float32) * np.float32(bandwidth)


def make_seeds(rows, *, seeds, bin_seeding, min_bin_freq, bandwidth, random_state,
               unit=1.0) -> Seeds:
    """Resolve the seeding strategy into an array of seeds.

    Points with zero sample weight carry no mass and never seed.

    Parameters
    ----------
    rows : rows of an input adapter (:mod:`meanshift._data`)
    seeds : None, "all", "bins", int or array-like of shape (n_seeds, n_features)
        None means "bins" when ``bin_seeding`` else "all" (scikit-learn's meaning);
        an int draws that many distinct rows at random (``random_state``).
    """
    n, d = rows.n, rows.d
    if seeds is None:
        seeds = "bins" if bin_seeding else "all"
    if isinstance(seeds, str):
        if seeds == "bins":
            out = _bin_seeds_of_rows(rows, bandwidth, min_bin_freq, unit)
            if out is not None:
                return Seeds(out, None, "bins")
            seeds = "all"
        if seeds == "all":
            X, w = rows.values()
            idx = np.arange(n) if w is None else np.flatnonzero(w > 0)
            return Seeds(X[idx], idx, "all")
        raise ValueError(
            "The 'seeds' parameter must be None, 'all', 'bins', a positive int or an "
            f"array of shape (n_seeds, {d}); got {seeds!r}."
        )
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"The 'seeds' parameter as an int must be >= 1; got {seeds}.")
        w = rows.weights()
        idx = np.arange(n) if w is None else np.flatnonzero(w > 0)
        if seeds >= idx.size:
            return Seeds(rows.take(idx)[0], idx, "all")
        rng = check_random_state(random_state)
        idx = np.sort(rng.choice(idx, size=int(seeds), replace=False))
        return Seeds(rows.take(idx)[0], idx, "sample")
    return Seeds(check_seed_array(seeds, d), None, "given")


def check_seed_array(seeds, n_features):
    """Given seeds as a float64 array of shape (n_seeds, n_features); clear errors."""
    arr = np.asarray(seeds)
    if (arr.dtype.kind not in "biuf" or arr.ndim != 2 or arr.shape[1] != n_features
            or arr.shape[0] == 0):
        raise ValueError(
            "The 'seeds' parameter as an array must be numeric with shape "
            f"(n_seeds >= 1, {n_features}); got dtype {arr.dtype} and shape {arr.shape}."
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError("The 'seeds' parameter contains NaN or infinity.")
    return arr.astype(np.float64)
