"""Merge stage: turn the seeds' end points into cluster centres.

The rule is scikit-learn's: sort the end points by density (highest first; ties by
coordinates, lexicographically descending), then walk the list keeping a point and
suppressing every later point within ``radius`` of a kept one ("within" by the boundary
rule of :mod:`meanshift._kernels`).  The end points are first rounded (:func:`snap`) to
about 1.5e-8 radii, so that the ulps by which engines differ cannot change the outcome.
The order of the input rows does not matter; the result depends only on the set of
(mode, density) pairs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
from scipy.spatial import cKDTree

from .._arrays import PRODUCT_MIN_FEATURES, Products, greedy_within, sq_dist, unique_rows
from .._compile import njit
from .._kernels import reach2

__all__ = ["merge_modes", "snap", "SNAP_BITS"]

#: End points are rounded to multiples of ``radius / 2**SNAP_BITS`` before they are
#: merged (about 1.5e-8 radii: far below the 1e-3 bandwidths to which a climb converges).
SNAP_BITS = 26
#: From this many values on, the rounding is one compiled pass (10^4 x 64 end points:
#: NumPy's six passes cost about 1.2 ms, an ad-hoc profile); below, NumPy's (the same
#: numbers).
SNAP_COMPILED = 2**16


def snap(points, radius):
    """``points`` rounded to multiples of ``min(radius, M) * 2**-SNAP_BITS``, with ``M``
    the points' largest magnitude (a radius far beyond the data does not coarsen them).

    Two engines that add the same numbers in another order (threads, SIMD lanes, cells,
    GPU blocks) reach end points an ulp apart; rounded, they are the same numbers, so
    that duplicates, the density order's ties and the boundary decisions of the merge
    come out the same in every engine and for any order of the rows."""
    points = np.asarray(points, dtype=np.float64)
    # The magnitude as a power of two (from frexp): not moved by an ulp of the points.
    top = float(np.abs(points).max()) if points.size else 0.0
    top = math.ldexp(1.0, math.frexp(top)[1]) if np.isfinite(top) and top > 0 else 0.0
    grid = min(float(radius), top) * 2.0**-SNAP_BITS
    if not (np.isfinite(grid) and grid > 0):
        return points
    if points.size < SNAP_COMPILED:  # NumPy's passes: nothing to compile on a first fit
        with np.errstate(over="ignore", invalid="ignore"):
            out = np.rint(points / grid) * grid
        return np.where(np.isfinite(out), out, points)
    out = np.empty_like(points)
    _snap(np.ascontiguousarray(points), grid, out)
    return out


@njit(cache=True, nogil=True)
def _snap(points, grid, out):
    """:func:`snap`'s rounding in one pass; far from the origin (``|x| > radius *
    2**26``) the grid is finer than the floats, and an overflow keeps the point."""
    for i in range(points.shape[0]):
        for k in range(points.shape[1]):
            v = np.rint(points[i, k] / grid) * grid
            out[i, k] = v if np.isfinite(v) else points[i, k]


#: Candidates queried together while their neighbour lists stay short (few modes close
#: together, e.g. a tiny bandwidth); one at a time when they are long.
_BATCH = 1024
_SHORT = 32
#: Few candidates (n^2 d at most this) in more than 3 dimensions, where a tree prunes
#: little: the compiled walk over all pairs (digits, 230 candidates in 64-D: 0.28
#: ms against 5.6 for the tree).  In up to 3 dimensions the tree (a first fit there
#: need not compile the walk).
_ALL_PAIRS = 2**26


def _next_free(owner, i):
    """The first candidate from ``i`` on that no kept one suppressed (``len(owner)``
    when none): looked for in runs of doubling length, so that a long suppressed run
    costs a few vector steps."""
    n = owner.shape[0]
    run = 64
    while i < n:
        free = owner[i : i + run] < 0
        k = int(free.argmax())
        if free[k]:
            return i + k
        i += run
        run *= 2
    return n


class _ByProducts:
    """The candidates within ``query_radius`` of some of them, a superset, by blocks of
    matrix products widened by their error bound (:class:`meanshift._arrays.Products`):
    ``near(rows)`` gives each row's list, as a tree's ``query_ball_point`` does.  In
    many dimensions a k-d tree visits most candidates anyway (``python
    benchmarks/bench_highd.py --case modes``: 10^4 end points in 64-D merged into 9574
    centres in 8.26 s by the tree, 0.53 s by products)."""

    def __init__(self, cand, query_radius):
        self.cand = cand
        self.products = Products(cand)
        self.q2 = query_radius * query_radius * (1.0 + 1e-9)

    def __call__(self, rows):
        lists: list[np.ndarray] = []
        for _, t, e in self.products.blocks(self.cand[rows]):
            lists.extend(np.flatnonzero(row) for row in t <= (self.q2 + e)[:, None])
        return lists


#: With a progress callback, the merge's walk reports about this often (seconds).
PROGRESS_SECONDS = 0.25


def _suppress(cand, radius, callback=None):
    """The greedy walk over candidates in order: ``owner[j]`` is the first kept
    candidate within ``radius`` of ``j`` (``j`` itself when it is kept).

    A tree or, in many dimensions, matrix products (:class:`_ByProducts`, where a tree
    prunes little) find neighbours a little beyond the radius; the boundary rule of
    :mod:`meanshift._kernels` decides (their own tests would round differently).  While
    the neighbour lists are short, a batch of candidates is asked at once (the lists of
    those suppressed on the way are not used); when they grow, one candidate at a time,
    so that memory stays bounded.  ``callback`` gets the walk's progress as stage
    "merge" (candidates passed, of all)."""
    from .._engines import report

    n = len(cand)
    owner = np.full(n, -1, dtype=np.int64)
    r2 = reach2(radius)
    report(callback, "merge", 0, n)
    if cand.shape[1] > 3 and n * n * cand.shape[1] <= _ALL_PAIRS:
        greedy_within(np.ascontiguousarray(cand), r2, owner)
        report(callback, "merge", n, n)
        return owner
    query_radius = radius * (1 + 1e-6)
    near: Callable[[np.ndarray], list]
    if cand.shape[1] >= PRODUCT_MIN_FEATURES:
        near = _ByProducts(cand, query_radius)
    else:
        tree = cKDTree(cand)
        near = lambda rows: tree.query_ball_point(cand[rows], query_radius)  # noqa: E731
    i, batch = 0, 1
    last = time.monotonic()
    while i < n:
        if callback is not None and time.monotonic() - last >= PROGRESS_SECONDS:
            report(callback, "merge", i, n)
            last = time.monotonic()
        if batch == 1:
            # One at a time: skip the suppressed ones in runs (a Python step per
            # candidate took half of a 1500-seed fit whose 6 clusters hold them all).
            i = _next_free(owner, i)
            if i >= n:
                break
            block = np.array([i])
        else:
            block = np.flatnonzero(owner[i : i + batch] < 0) + i
        i += batch
        if block.size == 0:
            continue
        lists = near(block)
        seen = 0
        for j, nbrs in zip(block.tolist(), lists, strict=True):
            if owner[j] >= 0:
                continue  # suppressed by a candidate of this same batch
            owner[j] = j
            nbrs = np.asarray(nbrs, dtype=np.int64)
            seen += nbrs.size
            nbrs = nbrs[nbrs > j]
            if nbrs.size:
                nbrs = nbrs[owner[nbrs] < 0]
                inside = nbrs[sq_dist(cand[j : j + 1], cand[nbrs])[0] <= r2]
                owner[inside] = j
        batch = _BATCH if seen <= _SHORT * block.size else 1
    report(callback, "merge", n, n)
    return owner


def merge_modes(modes, density, radius, callback=None):
    """Greedy merge of mode candidates.

    Parameters
    ----------
    modes : ndarray of shape (n_seeds, n_features)
    density : ndarray of shape (n_seeds,)
        Seeds with density 0 (no data in reach) are dropped.
    radius : float
        Candidates within this distance of a kept, denser centre are merged into it.
    callback : callable, optional
        Gets the progress of the walk over the candidates (stage "merge").

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
    center_density : ndarray of shape (n_clusters,)
    seed_cluster : ndarray of shape (n_seeds,), int
        The cluster each seed was merged into (the first kept centre, in density order,
        within ``radius``; -1 for dropped seeds).
    """
    modes = np.asarray(modes, dtype=np.float64)
    density = np.asarray(density, dtype=np.float64)
    alive = np.flatnonzero(density > 0)
    seed_cluster = np.full(modes.shape[0], -1, dtype=np.int64)
    if alive.size == 0:
        return np.empty((0, modes.shape[1])), np.empty(0), seed_cluster
    # Exact duplicates are one candidate (scikit-learn keys its candidates by coordinates).
    cand, inverse = unique_rows(snap(modes[alive], radius))
    cand_density = np.zeros(len(cand))
    np.maximum.at(cand_density, inverse, density[alive])
    # lexsort: last key is primary -> density, then coordinates (all descending).
    keys = [-cand[:, j] for j in range(cand.shape[1] - 1, -1, -1)] + [-cand_density]
    order = np.lexsort(keys)
    cand, cand_density = cand[order], cand_density[order]
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    inverse = rank[inverse]

    owner = _suppress(cand, radius, callback)
    keep = owner == np.arange(len(cand))
    centers, center_density = cand[keep], cand_density[keep]
    # A suppressed candidate belongs to the first kept centre within radius: the one
    # that suppressed it (attach() applies that same rule to any other end point).
    cluster_of = np.cumsum(keep) - 1
    seed_cluster[alive] = cluster_of[owner][inverse]
    return centers, center_density, seed_cluster
