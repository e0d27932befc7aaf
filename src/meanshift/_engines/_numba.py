"""The Numba CPU engine: fused, parallel, pruned mean shift loops.

* **Fused climb.**  Each seed climbs to convergence inside one compiled loop
  (``prange`` over seeds): a converged seed simply stops, so later steps only pay for
  the seeds still moving, and no seeds x data matrix is ever formed.
* **Pruned neighbours.**  A seed only visits the data within the kernel's cutoff radius
  (the support of the compact kernels; ``gaussian_radius`` bandwidths for the gaussian,
  see :mod:`meanshift._neighbors` for the bound on the weight left out), found with cell
  lists or by blocked brute force with an early exit; :func:`choose_index` picks which
  and the engine logs it (``last_index``).
* **Deterministic.**  Every seed's sums run serially over its neighbours in a fixed
  order (data sorted by grid cell, ties in input order), so results do not depend on the
  number of threads (``n_jobs``).
* **Dtypes.**  float32 data are kept as float32 (half the memory traffic); every
  distance and sum is computed in float64 from those values, so the answer is the one
  the reference computes on the same float32 numbers.
* **Exact flat boundary.**  A point at distance exactly ``h`` is inside the flat kernel
  (``d2 <= h**2``), as in the reference and scikit-learn.

Compiled functions are cached on disk (``cache=True``); the first call in a fresh
process loads them instead of compiling.
"""

from __future__ import annotations

import logging
import math
from contextlib import contextmanager

import numba
import numpy as np
from numba import njit, prange

from .._kernels import Kernel
from .._neighbors import GAUSSIAN_RADIUS, build_grid, choose_index, cutoff_radius
from ._base import ClimbResult, Engine

__all__ = ["NumbaEngine"]

logger = logging.getLogger(__name__)


@njit(cache=True, inline="always")
def _weight(code, u2):
    """Kernel profile ``w(u2)`` by kernel code (see :mod:`meanshift._kernels`)."""
    if code == 0:
        return 1.0 if u2 <= 1.0 else 0.0
    if code == 1:
        return math.exp(-0.5 * u2)
    if code == 2:
        return 1.0 - u2 if u2 < 1.0 else 0.0
    return 1.0 - math.sqrt(u2) if u2 < 1.0 else 0.0


@njit(cache=True)
def _range_sums(s, num, data, w, has_w, code, inv_h2, r2, start, stop):
    """Add the points ``start:stop`` within ``sqrt(r2)`` of ``s`` to ``num``; returns
    the weight added.  Points are visited in order (deterministic sums); the distance
    is summed from coordinate differences, in float64."""
    d = s.shape[0]
    den = 0.0
    if d == 2:
        s0 = s[0]
        s1 = s[1]
        n0 = 0.0
        n1 = 0.0
        for i in range(start, stop):
            x0 = np.float64(data[i, 0])
            x1 = np.float64(data[i, 1])
            t0 = x0 - s0
            t1 = x1 - s1
            d2 = t0 * t0 + t1 * t1
            if d2 <= r2:
                wt = _weight(code, d2 * inv_h2)
                if has_w:
                    wt *= w[i]
                den += wt
                n0 += wt * x0
                n1 += wt * x1
        num[0] += n0
        num[1] += n1
        return den
    if d == 3:
        s0 = s[0]
        s1 = s[1]
        s2 = s[2]
        n0 = 0.0
        n1 = 0.0
        n2 = 0.0
        for i in range(start, stop):
            x0 = np.float64(data[i, 0])
            x1 = np.float64(data[i, 1])
            x2 = np.float64(data[i, 2])
            t0 = x0 - s0
            t1 = x1 - s1
            t2 = x2 - s2
            d2 = t0 * t0 + t1 * t1 + t2 * t2
            if d2 <= r2:
                wt = _weight(code, d2 * inv_h2)
                if has_w:
                    wt *= w[i]
                den += wt
                n0 += wt * x0
                n1 += wt * x1
                n2 += wt * x2
        num[0] += n0
        num[1] += n1
        num[2] += n2
        return den
    for i in range(start, stop):
        d2 = 0.0
        k0 = 0
        while k0 < d:
            k1 = min(k0 + 8, d)
            for k in range(k0, k1):
                t = data[i, k] - s[k]
                d2 += t * t
            if d2 > r2:
                break
            k0 = k1
        if d2 <= r2:
            wt = _weight(code, d2 * inv_h2)
            if has_w:
                wt *= w[i]
            den += wt
            for k in range(d):
                num[k] += wt * data[i, k]
    return den


@njit(cache=True)
def _sums_brute(s, num, data, w, has_w, code, inv_h2, r2):
    for k in range(num.shape[0]):
        num[k] = 0.0
    return _range_sums(s, num, data, w, has_w, code, inv_h2, r2, 0, data.shape[0]), data.shape[0]


@njit(cache=True)
def _cell_range(x, lo, inv_cell, dim, span):
    """Cells [a, b] (inclusive) of one grid axis within ``span`` of coordinate x; a > b
    when there are none."""
    cf = (x - lo) * inv_cell
    if cf < -span - 1.0 or cf > dim + span + 1.0:
        return 1, 0
    c = int(math.floor(cf))
    a = max(c - span, 0)
    b = min(c + span, dim - 1)
    return a, b


@njit(cache=True)
def _sums_grid(s, num, data, w, has_w, code, inv_h2, r2, axes, lo, inv_cell, dims, span,
               starts):
    """Sums around ``s`` over the points in the cells within ``span`` of its cell
    (``data`` sorted by cell)."""
    for k in range(num.shape[0]):
        num[k] = 0.0
    den = 0.0
    visited = 0
    a0, b0 = 0, 0
    a1, b1 = 0, 0
    if axes[0] >= 0:
        a0, b0 = _cell_range(s[axes[0]], lo[0], inv_cell, dims[0], span)
    if axes[1] >= 0:
        a1, b1 = _cell_range(s[axes[1]], lo[1], inv_cell, dims[1], span)
    a2, b2 = _cell_range(s[axes[2]], lo[2], inv_cell, dims[2], span)
    if a0 > b0 or a1 > b1 or a2 > b2:
        return 0.0, 0
    for c0 in range(a0, b0 + 1):
        for c1 in range(a1, b1 + 1):
            row = (c0 * dims[1] + c1) * dims[2]
            start = starts[row + a2]
            stop = starts[row + b2 + 1]
            visited += stop - start
            den += _range_sums(s, num, data, w, has_w, code, inv_h2, r2, start, stop)
    return den, visited


@njit(cache=True)
def _sums(s, num, data, w, has_w, code, inv_h2, r2, use_grid, axes, lo, inv_cell, dims,
          span, starts):
    if use_grid:
        return _sums_grid(s, num, data, w, has_w, code, inv_h2, r2, axes, lo, inv_cell,
                          dims, span, starts)
    return _sums_brute(s, num, data, w, has_w, code, inv_h2, r2)


@njit(cache=True, parallel=True)
def _partial_sums(positions, data, w, has_w, code, inv_h2, r2, use_grid, axes, lo,
                  inv_cell, dims, span, starts):
    k, d = positions.shape
    num = np.zeros((k, d))
    den = np.zeros(k)
    pairs = np.zeros(k, dtype=np.int64)
    for j in prange(k):
        s = positions[j].copy()
        acc = np.zeros(d)
        den[j], pairs[j] = _sums(s, acc, data, w, has_w, code, inv_h2, r2, use_grid, axes,
                                 lo, inv_cell, dims, span, starts)
        num[j] = acc
    return num, den, pairs


@njit(cache=True, parallel=True)
def _climb(seeds, data, w, has_w, code, inv_h2, r2, stop, max_iter, use_grid, axes, lo,
           inv_cell, dims, span, starts):
    """Every seed climbs to convergence (shift <= stop) or max_iter steps."""
    n_seeds, d = seeds.shape
    modes = np.empty((n_seeds, d))
    n_iter = np.zeros(n_seeds, dtype=np.int64)
    converged = np.zeros(n_seeds, dtype=np.bool_)
    density = np.zeros(n_seeds)
    pairs = np.zeros(n_seeds, dtype=np.int64)
    for j in prange(n_seeds):
        s = np.empty(d)
        for k in range(d):
            s[k] = seeds[j, k]
        num = np.empty(d)
        visited = 0
        for _ in range(max_iter):
            den, v = _sums(s, num, data, w, has_w, code, inv_h2, r2, use_grid, axes, lo,
                           inv_cell, dims, span, starts)
            visited += v
            density[j] = den
            if not den > 0.0:
                break
            n_iter[j] += 1
            shift2 = 0.0
            for k in range(d):
                new = num[k] / den
                t = new - s[k]
                shift2 += t * t
                s[k] = new
            if math.sqrt(shift2) <= stop:
                converged[j] = True
                break
        for k in range(d):
            modes[j, k] = s[k]
        pairs[j] = visited
    return modes, n_iter, converged, density, pairs


@njit(cache=True, parallel=True)
def _nearest(X, centers):
    n, d = X.shape
    m = centers.shape[0]
    idx = np.empty(n, dtype=np.int64)
    dist = np.empty(n)
    for i in prange(n):
        best = np.inf
        arg = 0
        for j in range(m):
            d2 = 0.0
            for k in range(d):
                t = X[i, k] - centers[j, k]
                d2 += t * t
            if d2 < best:
                best = d2
                arg = j
        idx[i] = arg
        dist[i] = math.sqrt(best)
    return idx, dist


def _as_data(a):
    """float32 stays float32, everything else becomes float64; C-contiguous."""
    a = np.asarray(a)
    dtype = np.float32 if a.dtype == np.float32 else np.float64
    return np.ascontiguousarray(a, dtype=dtype)


class _Index:
    """The data prepared for neighbour queries at one cutoff radius."""

    def __init__(self, data, weights, radius):
        data = _as_data(data)
        self.kind, self.why = choose_index(data.shape[0], data, radius)
        self.has_w = weights is not None
        w = np.ones(0) if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
        if self.kind == "grid":
            g = build_grid(data, radius)
            self.data = np.ascontiguousarray(data[g.order])
            self.w = w[g.order] if self.has_w else w
            self.grid = (True, g.axes, g.lo, g.inv_cell, g.dims, g.span, g.starts)
        else:
            self.data, self.w = data, w
            self.grid = (False, np.full(3, -1, np.int64), np.zeros(3), 1.0,
                         np.ones(3, np.int64), 1, np.zeros(2, np.int64))


class NumbaEngine(Engine):
    """Compiled, parallel CPU engine (see module notes).

    Parameters
    ----------
    n_jobs : int or None, default=None
        Threads; None or -1 use all of Numba's threads.  Results do not depend on it.
    gaussian_radius : float, default=7.0
        Truncation radius of the gaussian kernel, in bandwidths.
    """

    name = "numba"

    def __init__(self, n_jobs=None, gaussian_radius=GAUSSIAN_RADIUS, **options):
        self.n_jobs = n_jobs
        self.gaussian_radius = float(gaussian_radius)
        self.last_index = None
        self.pairs = 0  # pair evaluations of the last call (benchmarks report rates)

    @contextmanager
    def _threads(self):
        n = self.n_jobs
        if n is None or n == -1:
            yield
            return
        total = numba.config.NUMBA_NUM_THREADS
        n = total + 1 + n if n < 0 else n
        old = numba.get_num_threads()
        numba.set_num_threads(max(1, min(int(n), total)))
        try:
            yield
        finally:
            numba.set_num_threads(old)

    def _index(self, data, weights, bandwidth, kernel):
        radius = cutoff_radius(kernel, bandwidth, self.gaussian_radius)
        index = _Index(data, weights, radius)
        if self.last_index != (index.kind, index.why):
            logger.debug("numba engine: neighbours by %s (%s)", index.kind, index.why)
        self.last_index = (index.kind, index.why)
        return index, radius

    def partial_sums(self, positions, data, weights, bandwidth, kernel: Kernel):
        positions = np.ascontiguousarray(positions, dtype=np.float64)
        index, radius = self._index(data, weights, bandwidth, kernel)
        with self._threads():
            num, den, pairs = _partial_sums(
                positions, index.data, index.w, index.has_w, kernel.code,
                1.0 / float(bandwidth) ** 2, radius * radius, *index.grid,
            )
        self.pairs = int(pairs.sum())
        return num, den

    def nearest(self, X, centers):
        X = _as_data(X)
        centers = np.ascontiguousarray(centers, dtype=np.float64)
        if centers.shape[0] == 0:
            raise ValueError("nearest() needs at least one centre.")
        with self._threads():
            return _nearest(X, centers)

    def climb(self, seeds, data, weights, *, bandwidth, kernel, tol, max_iter,
              record_history=False, callback=None):
        if record_history:
            # Positions after every step are needed: use the step-by-step loop.
            return super().climb(seeds, data, weights, bandwidth=bandwidth, kernel=kernel,
                                 tol=tol, max_iter=max_iter, record_history=True,
                                 callback=callback)
        seeds = np.ascontiguousarray(seeds, dtype=np.float64)
        index, radius = self._index(data, weights, bandwidth, kernel)
        with self._threads():
            modes, n_iter, converged, density, pairs = _climb(
                seeds, index.data, index.w, index.has_w, kernel.code,
                1.0 / float(bandwidth) ** 2, radius * radius, float(tol) * float(bandwidth),
                int(max_iter), *index.grid,
            )
        self.pairs = int(pairs.sum())
        if callback is not None:
            callback(int(n_iter.max()) if n_iter.size else 0, 0)
        return ClimbResult(modes, n_iter, converged, density, None)
