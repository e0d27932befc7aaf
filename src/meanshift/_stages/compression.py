"""Compression stage: weighted bin means on a fine grid.

Points are binned by ``floor(x / bin_size)`` on a grid anchored at the origin, so the
statistics of disjoint chunks of the data add up (``combine``): this is how the
compressed path streams and how the cluster engine scales out.  A bin is summarised by
its total weight and weighted coordinate sum; its mean is a sufficient statistic of the
points in it up to the bin's extent (every point is within ``sqrt(d) * bin_size`` of its
bin mean).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import _arrays
from .._arrays import column_bounds
from .._data._memory import raise_if_invalid

__all__ = ["BinStats", "bin_stats", "combine", "bin_means", "bin_index", "column_bounds",
           "unique_rows", "compress", "chunk_bins", "add_chunk_bins", "bin_rows",
           "BIN_FRACTION"]

#: Bin side in bandwidths of the compressed algorithm, in memory and streamed on dask.
BIN_FRACTION = 1.0 / 16.0
#: Rows binned at a time inside a chunk (the temporaries are ~80 bytes a row).
SUB_ROWS = 2**17


class BinStats(NamedTuple):
    keys: np.ndarray  # (m, d) int64 grid cell of each bin, sorted lexicographically
    weight: np.ndarray  # (m,) total sample weight in the bin
    xsum: np.ndarray  # (m, d) weighted sum of the coordinates in the bin


def bin_index(X, bin_size):
    """Integer grid cell of each row of X."""
    return np.floor(np.asarray(X, dtype=np.float64) / bin_size).astype(np.int64)


def _linear_keys(keys):
    """Row-major numbering of the grid cells of ``keys`` relative to their minimum, or
    None when the bounding box of the cells has more than 2**62 of them.  The numbering
    preserves lexicographic order, so sorting it sorts the keys."""
    if keys.shape[1] == 0:
        return np.zeros(keys.shape[0], dtype=np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    lo, hi = column_bounds(keys)
    dims = hi - lo + 1
    if float(np.prod(dims.astype(np.float64))) > 2.0**62:
        return None
    lin = np.zeros(keys.shape[0], dtype=np.int64)
    for j in range(keys.shape[1]):
        lin *= dims[j]
        lin += keys[:, j] - lo[j]
    return lin, lo, dims


def _unravel(lin, lo, dims):
    out = np.empty((lin.size, dims.size), dtype=np.int64)
    rest = lin.copy()
    for j in range(dims.size - 1, -1, -1):
        out[:, j] = rest % dims[j] + lo[j]
        rest //= dims[j]
    return out


def unique_rows(keys):
    """``(uniq, inverse)`` of the rows of an int64 array, as
    ``np.unique(keys, axis=0, return_inverse=True)`` gives them (rows sorted
    lexicographically) at a fraction of its cost: cells are numbered along one integer
    axis (a dense count when the cells' bounding box is small, a 1-D sort otherwise; a
    lexsort of the rows when the box is too large to number)."""
    lin = _linear_keys(keys) if keys.shape[0] else None
    if lin is None:
        return _arrays.unique_rows(keys)
    lin, lo, dims = lin
    n_cells = float(np.prod(dims.astype(np.float64)))
    if n_cells <= 4 * keys.shape[0] + 1024:
        present = np.bincount(lin, minlength=int(n_cells)) > 0
        cells = np.flatnonzero(present)
        rank = np.cumsum(present) - 1
        inverse = rank[lin]
    else:
        cells, inverse = np.unique(lin, return_inverse=True)
    return _unravel(cells, lo, dims), inverse.reshape(-1)


def _reduce(keys, weight, xsum):
    """Sum ``weight`` and ``xsum`` over equal rows of ``keys``; bins sorted
    lexicographically."""
    uniq, inverse = unique_rows(keys)
    w = np.bincount(inverse, weights=weight, minlength=len(uniq))
    s = np.stack(
        [
            np.bincount(inverse, weights=xsum[:, j], minlength=len(uniq))
            for j in range(xsum.shape[1])
        ],
        axis=1,
    ) if xsum.shape[1] else np.zeros((len(uniq), 0))
    return BinStats(uniq, w, s)


def bin_stats(X, sample_weight, bin_size):
    """Bin statistics of one chunk of data."""
    X = np.asarray(X, dtype=np.float64)
    if sample_weight is None:
        return _reduce(bin_index(X, bin_size), np.ones(X.shape[0]), X)
    w = np.asarray(sample_weight, np.float64)
    return _reduce(bin_index(X, bin_size), w, X * w[:, None])


def combine(*stats):
    """Add up the statistics of disjoint chunks (same bin size)."""
    nonempty = [s for s in stats if len(s.keys)]
    if not nonempty:
        raise ValueError("combine() needs at least one non-empty BinStats.")
    if len(nonempty) == 1:
        return nonempty[0]
    return _reduce(
        np.concatenate([s.keys for s in nonempty]),
        np.concatenate([s.weight for s in nonempty]),
        np.concatenate([s.xsum for s in nonempty]),
    )


def bin_means(stats):
    """(means, weights) of the non-empty bins: the compressed data set."""
    keep = stats.weight > 0
    return stats.xsum[keep] / stats.weight[keep, None], stats.weight[keep]


def chunk_bins(chunk, wchunk, bin_size):
    """Bin statistics of one chunk of rows, and its input checks: ``(stats, finite,
    weight_summary)`` (runs on a worker for dask input)."""
    chunk = np.asarray(chunk, dtype=np.float64)
    finite = bool(np.isfinite(chunk).all())
    summary = None if wchunk is None else (
        bool(np.isfinite(wchunk).all()), float(wchunk.min()), float(wchunk.sum()))
    if not finite or (summary is not None and not summary[0]) or chunk.shape[0] == 0:
        d = chunk.shape[1]
        stats = BinStats(np.empty((0, d), np.int64), np.empty(0), np.empty((0, d)))
    else:  # sub-blocks bound the temporaries (~10 numbers a row) whatever the chunk size
        stats = combine(*[
            bin_stats(chunk[r : r + SUB_ROWS], None if wchunk is None else
                      wchunk[r : r + SUB_ROWS], bin_size)
            for r in range(0, len(chunk), SUB_ROWS)
        ])
    return stats, finite, summary


def add_chunk_bins(*parts):
    """Add up the results of :func:`chunk_bins` of disjoint chunks."""
    stats = [p[0] for p in parts if len(p[0].keys)]
    summaries = [p[2] for p in parts]
    summary = None if summaries[0] is None else (
        all(s[0] for s in summaries), min(s[1] for s in summaries),
        sum(s[2] for s in summaries))
    return (combine(*stats) if stats else parts[0][0]), all(p[1] for p in parts), summary


def compress(rows, bin_size, callback=None):
    """The bin statistics of all the rows (any input adapter), streamed chunk by chunk
    (memory O(chunk + bins)); raises the input errors the streamed checks find.
    ``callback`` hears ``Progress("stream", chunks done, chunks)``."""
    from .._engines import report

    progress = None if callback is None else (
        lambda done, total: report(callback, "stream", done, total))
    stats, finite, summary = rows.reduce(chunk_bins, add_chunk_bins, float(bin_size),
                                         progress=progress)
    raise_if_invalid(finite, summary)
    return stats


def bin_rows(X, keys, bin_size):
    """Row of ``keys`` (sorted bin keys of :class:`BinStats`) holding each row of X, or
    None when the cells' bounding box is too large to number on one int64 axis."""
    lo, hi = column_bounds(keys)
    dims = hi - lo + 1
    if float(np.prod(dims.astype(np.float64))) > 2.0**62:
        return None
    stride = np.ones(keys.shape[1], dtype=np.int64)
    for j in range(keys.shape[1] - 2, -1, -1):
        stride[j] = stride[j + 1] * dims[j + 1]
    lin_keys = (keys - lo) @ stride
    return np.searchsorted(lin_keys, (bin_index(X, bin_size) - lo) @ stride)
