"""The Numba CPU engine: fused, parallel, pruned mean shift loops.

* **Fused climb.**  Each seed climbs to convergence inside one compiled loop
  (``prange`` over seeds): a converged seed simply stops, so later steps only pay for
  the seeds still moving, and no seeds x data matrix is ever formed.
* **Pruned neighbours.**  A seed only visits the data within the kernel's cutoff radius
  (the support of the compact kernels; ``gaussian_radius`` bandwidths for the gaussian,
  see :mod:`meanshift._neighbors` for the bound on the weight left out), found with cell
  lists (rows of cells clipped to the ball; for the flat kernel on dense data, the cells
  entirely inside the ball add precomputed sums), k-d tiles with bounding balls above
  three dimensions, or a full pass; :func:`choose_index` picks which and the engine
  logs it (``last_index``).
* **Vectorised.**  The data are stored feature by feature, and the loops over points
  have no branches (a point beyond the cutoff gets weight zero by a select) and an
  inline polynomial ``exp`` (:func:`_exp`), so LLVM turns them into SIMD code.
* **Deterministic.**  Every seed's sums run over its neighbours in a fixed order (data
  sorted by grid cell or tile, SIMD lanes combined in a fixed way), so results do not
  depend on the number of threads (``n_jobs``).
* **Dtypes.**  float32 data are kept as float32 (half the memory traffic); every
  distance and sum is computed in float64 from those values, so the answer is the one
  the reference computes on the same float32 numbers.
* **Inclusive flat boundary.**  A point at distance ``h`` is inside the flat kernel
  (``d2 <= h**2``), as in the reference and scikit-learn.  Squared distances may be
  rounded differently from the reference (fused multiply-adds), so a point within an
  ulp of the boundary may fall on either side; points exactly on it in exact arithmetic
  with exactly representable squares (e.g. lattices) are inside, as tested.

Compiled functions are cached on disk (``cache=True``); the first call in a fresh
process loads them instead of compiling.
"""

from __future__ import annotations

import logging
import math
from contextlib import contextmanager

import numba
import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

from .._kernels import Kernel
from .._neighbors import (
    GAUSSIAN_RADIUS, TILE_POINTS, build_grid, choose_index, choose_span, cutoff_radius,
    tile_order,
)
from ._base import ClimbResult, Engine

__all__ = ["NumbaEngine"]

logger = logging.getLogger(__name__)


@intrinsic
def _i64_as_f64(typingctx, x):
    """The bits of an int64 read as a float64 (LLVM bitcast)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return sig, codegen


_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10


@njit(cache=True, inline="always")
def _exp(u):
    """``exp(u)`` for ``u <= 0`` in straight-line arithmetic, so that loops calling it
    vectorise (no SIMD libm is assumed).  ``u = k ln 2 + f`` with ``|f| <= ln(2) / 2``;
    ``exp(f)`` by a degree-10 polynomial fitted to the relative error; ``2**k`` built in
    the exponent bits.  Relative error below 2e-15 (tested against ``np.exp``); for
    ``u < -700`` it returns 0 (NumPy's ``exp`` reaches 0 below about -745): a seed that
    only has data that far away sees none."""
    low = u < -700.0
    u = max(u, -700.0)
    kf = math.floor(u * _LOG2E + 0.5)
    f = u - kf * _LN2_HI - kf * _LN2_LO
    p = 2.7422990787351524e-07
    p = p * f + 2.7635274453802833e-06
    p = p * f + 2.480210052362082e-05
    p = p * f + 0.00019841184492881838
    p = p * f + 0.0013888888329416519
    p = p * f + 0.008333333371494556
    p = p * f + 0.041666666668984643
    p = p * f + 0.16666666666609853
    p = p * f + 0.49999999999997086
    p = p * f + 1.0
    p = p * f + 1.0
    return 0.0 if low else p * _i64_as_f64((np.int64(kf) + 1023) << 52)


# Loops over the points of a range, written without branches so that LLVM vectorises
# them: the weight of a point outside the cutoff is selected to zero.  ``reassoc``
# lets the sums be kept in vector lanes (a fixed order, independent of threads);
# ``contract`` fuses multiplies and adds (the polynomial exp, the distances).
_FAST = {"reassoc", "nsz", "contract"}


@njit(cache=True, inline="always")
def _cut_weight(code, d2, inv_h2, r2):
    """The kernel weight at squared distance ``d2``, zero beyond the cutoff ``r2``,
    without branches (selects), so that the loops calling it vectorise."""
    if code == 0:
        wt = 1.0
    elif code == 1:
        wt = _exp(-0.5 * (d2 * inv_h2))
    elif code == 2:
        wt = 1.0 - d2 * inv_h2
    else:
        wt = 1.0 - math.sqrt(d2 * inv_h2)
    return wt if d2 <= r2 else 0.0


@njit(cache=True, fastmath=_FAST)
def _low_d_sums(code, d, c0, c1, c2, w, has_w, inv_h2, r2, s0, s1, s2):
    """(den, num0, num1, num2) of the points with coordinates ``c0, c1, c2`` in ``d``
    dimensions (for ``d < 3`` pass ``c0`` again for the missing columns: they are read
    as zeros, as are their ``s1``, ``s2``).  ``r2`` is the cutoff: the support for
    the compact kernels.  Compiled once per kernel code (a literal), so that the
    kernel's branch is resolved at compile time."""
    numba.literally(code)
    den = 0.0
    n0 = 0.0
    n1 = 0.0
    n2 = 0.0
    for i in range(c0.shape[0]):
        x0 = np.float64(c0[i])
        x1 = np.float64(c1[i]) if d > 1 else 0.0
        x2 = np.float64(c2[i]) if d > 2 else 0.0
        t0 = x0 - s0
        t1 = x1 - s1
        t2 = x2 - s2
        d2 = t0 * t0 + t1 * t1 + t2 * t2
        wt = _cut_weight(code, d2, inv_h2, r2)
        if has_w:
            wt *= w[i]
        den += wt
        n0 += wt * x0
        n1 += wt * x1
        n2 += wt * x2
    return den, n0, n1, n2


#: Points per tile of the loops above three dimensions (as many as a tile of
#: :func:`meanshift._neighbors.tile_order` holds at most).
_TILE = TILE_POINTS


@njit(cache=True)
def _tile_d2(cols, s, t0, t1, d2, r2):
    """Squared distances from ``s`` of the points ``t0:t1`` (at most ``_TILE``) into
    ``d2``, summed feature by feature in order (vectorised over the points); False as
    soon as, after a block of 8 features, every one exceeds ``r2``."""
    m = t1 - t0
    d = s.shape[0]
    for i in range(m):
        d2[i] = 0.0
    k0 = 0
    while k0 < d:
        k1 = min(k0 + 8, d)
        for k in range(k0, k1):
            sk = s[k]
            row = cols[k, t0:t1]
            for i in range(m):
                t = np.float64(row[i]) - sk
                d2[i] += t * t
        inside = 0
        for i in range(m):
            inside += 1 if d2[i] <= r2 else 0
        if inside == 0:
            return False
        k0 = k1
    return True


@njit(cache=True, fastmath=_FAST)
def _tile_sums(code, cols, w, has_w, inv_h2, r2, t0, t1, d2, wt, num):
    """Add the weighted points ``t0:t1`` (distances in ``d2``) to ``num``; returns
    their weight.  (The distances dominate above three dimensions: one compiled
    version serves every kernel.)"""
    m = t1 - t0
    wv = w[t0:t1] if has_w else w
    den = 0.0
    for i in range(m):
        x = _cut_weight(code, d2[i], inv_h2, r2)
        if has_w:
            x *= wv[i]
        wt[i] = x
        den += x
    for k in range(num.shape[0]):
        row = cols[k, t0:t1]
        acc = 0.0
        for i in range(m):
            acc += wt[i] * np.float64(row[i])
        num[k] += acc
    return den


@njit(cache=True)
def _range_sums(s, num, cols, w, has_w, code, inv_h2, r2, start, stop, scratch):
    """Add the points ``start:stop`` within ``sqrt(r2)`` of ``s`` to ``num``; returns
    the weight added.  Points are read from ``cols`` (one contiguous row per feature)
    by vectorised loops: in up to three dimensions in one pass, above in tiles of
    ``_TILE`` points whose distance sums stop early once every point of the tile is
    out of reach (``scratch``, shape ``(2, _TILE)``, holds a tile's distances and
    weights).  Distances and sums are in float64."""
    d = s.shape[0]
    if stop <= start:
        return 0.0
    if d <= 3:
        wv = w[start:stop] if has_w else w
        c0 = cols[0, start:stop]
        c1 = cols[1, start:stop] if d > 1 else c0
        c2 = cols[2, start:stop] if d > 2 else c0
        s1 = s[1] if d > 1 else 0.0
        s2 = s[2] if d > 2 else 0.0
        s0 = s[0]
        if code == 0:
            den, n0, n1, n2 = _low_d_sums(0, d, c0, c1, c2, wv, has_w, inv_h2, r2, s0, s1, s2)
        elif code == 1:
            den, n0, n1, n2 = _low_d_sums(1, d, c0, c1, c2, wv, has_w, inv_h2, r2, s0, s1, s2)
        elif code == 2:
            den, n0, n1, n2 = _low_d_sums(2, d, c0, c1, c2, wv, has_w, inv_h2, r2, s0, s1, s2)
        else:
            den, n0, n1, n2 = _low_d_sums(3, d, c0, c1, c2, wv, has_w, inv_h2, r2, s0, s1, s2)
        num[0] += n0
        if d > 1:
            num[1] += n1
        if d > 2:
            num[2] += n2
        return den
    d2 = scratch[0]
    wt = scratch[1]
    den = 0.0
    for t0 in range(start, stop, _TILE):
        t1 = min(t0 + _TILE, stop)
        if not _tile_d2(cols, s, t0, t1, d2, r2):
            continue
        den += _tile_sums(code, cols, w, has_w, inv_h2, r2, t0, t1, d2, wt, num)
    return den


@njit(cache=True)
def _sums_brute(s, num, cols, w, has_w, code, inv_h2, r2, scratch):
    for k in range(num.shape[0]):
        num[k] = 0.0
    n = cols.shape[1]
    return _range_sums(s, num, cols, w, has_w, code, inv_h2, r2, 0, n, scratch), n


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


@njit(cache=True, inline="always")
def _slab(x, lo, cell, c, pad):
    """(nearest, farthest) distance from coordinate x to cell c of an axis, the cell
    widened by ``pad`` on each side (points binned by a rounded floor may sit a hair
    outside their cell)."""
    left = lo + c * cell - pad
    right = left + cell + 2.0 * pad
    near = 0.0
    if x < left:
        near = left - x
    elif x > right:
        near = x - right
    far = max(abs(x - left), abs(x - right))
    return near, far


@njit(cache=True)
def _sums_grid(s, num, cols, w, has_w, code, inv_h2, r2, axes, lo, inv_cell, dims, span,
               starts, cell_w, cell_s, use_cells, scratch):
    """Sums around ``s`` over the points in the cells that reach within ``sqrt(r2)`` of
    it (``cols`` sorted by cell).

    The cells are visited in rows along the last grid axis; each row is clipped to the
    part of the ball it can meet.  With ``use_cells`` (flat kernel, grid over every
    feature), the cells of a row that lie entirely inside the ball add their
    precomputed sums (``cell_w``, ``cell_s``) instead of their points: only the points
    of cells that cross the ball's boundary are tested one by one."""
    for k in range(num.shape[0]):
        num[k] = 0.0
    den = 0.0
    visited = 0
    cell = 1.0 / inv_cell
    pad = 1e-7 * cell
    r2_out = r2 * (1.0 + 1e-12) + 1e-300  # generous: never skip a point on the boundary
    r2_in = r2 * (1.0 - 1e-9)  # strict: a whole cell is inside only with a margin
    a0, b0 = 0, 0
    a1, b1 = 0, 0
    x0 = 0.0
    x1 = 0.0
    if axes[0] >= 0:
        x0 = s[axes[0]]
        a0, b0 = _cell_range(x0, lo[0], inv_cell, dims[0], span)
    if axes[1] >= 0:
        x1 = s[axes[1]]
        a1, b1 = _cell_range(x1, lo[1], inv_cell, dims[1], span)
    x2 = s[axes[2]]
    a2, b2 = _cell_range(x2, lo[2], inv_cell, dims[2], span)
    if a0 > b0 or a1 > b1 or a2 > b2:
        return 0.0, 0
    d = num.shape[0]
    for c0 in range(a0, b0 + 1):
        n0 = 0.0
        f0 = 0.0
        if axes[0] >= 0:
            n0, f0 = _slab(x0, lo[0], cell, c0, pad)
        for c1 in range(a1, b1 + 1):
            n1 = 0.0
            f1 = 0.0
            if axes[1] >= 0:
                n1, f1 = _slab(x1, lo[1], cell, c1, pad)
            near2 = n0 * n0 + n1 * n1
            if near2 > r2_out:
                continue
            ext = math.sqrt(r2_out - near2) + pad
            a = max(a2, int(math.floor((x2 - ext - lo[2]) * inv_cell)))
            b = min(b2, int(math.floor((x2 + ext - lo[2]) * inv_cell)))
            if a > b:
                continue
            row = (c0 * dims[1] + c1) * dims[2]
            fa = b + 1
            fb = b
            far2 = f0 * f0 + f1 * f1
            if use_cells and far2 < r2_in:
                # Cells [fa, fb] of this row lie inside the ball.
                e = math.sqrt(r2_in - far2)
                fa = max(a, int(math.ceil((x2 - e - lo[2]) * inv_cell + 1e-6)))
                fb = min(b, int(math.floor((x2 + e - lo[2]) * inv_cell - 1e-6)) - 1)
                if fa > fb:
                    fa = b + 1
                    fb = b
            start = starts[row + a]
            stop = starts[row + fa]
            visited += stop - start
            den += _range_sums(s, num, cols, w, has_w, code, inv_h2, r2, start, stop,
                               scratch)
            if fa <= fb:
                for c in range(row + fa, row + fb + 1):
                    den += cell_w[c]
                    for k in range(d):
                        num[k] += cell_s[c, k]
                visited += fb - fa + 1
                start = starts[row + fb + 1]
                stop = starts[row + b + 1]
                visited += stop - start
                den += _range_sums(s, num, cols, w, has_w, code, inv_h2, r2, start, stop,
                                   scratch)
    return den, visited


@njit(cache=True)
def _cell_sums(cols, w, has_w, starts):
    """Total weight and weighted coordinate sums of every cell (points in order)."""
    n_cells = starts.shape[0] - 1
    d = cols.shape[0]
    cw = np.zeros(n_cells)
    cs = np.zeros((n_cells, d))
    for c in range(n_cells):
        for i in range(starts[c], starts[c + 1]):
            wt = w[i] if has_w else 1.0
            cw[c] += wt
            for k in range(d):
                cs[c, k] += wt * np.float64(cols[k, i])
    return cw, cs


@njit(cache=True)
def _sums_tiles(s, num, cols, w, has_w, code, inv_h2, r2, starts, radii, centres, scratch):
    """Sums around ``s`` over the tiles (runs ``starts[t]:starts[t + 1]`` of the data,
    ordered by :func:`meanshift._neighbors.tile_order`) whose bounding ball, of centre
    ``centres[t]`` and radius ``radii[t]``, reaches within ``sqrt(r2)`` of ``s``."""
    for k in range(num.shape[0]):
        num[k] = 0.0
    d = s.shape[0]
    r = math.sqrt(r2) * (1.0 + 1e-9)
    den = 0.0
    visited = 0
    for t in range(starts.shape[0] - 1):
        c2 = 0.0
        for k in range(d):
            u = s[k] - centres[t, k]
            c2 += u * u
        reach = radii[t] + r
        if c2 > reach * reach:
            continue
        visited += starts[t + 1] - starts[t]
        den += _range_sums(s, num, cols, w, has_w, code, inv_h2, r2, starts[t], starts[t + 1],
                           scratch)
    return den, visited


# How a query finds its neighbours (``mode``): 0 every point, 1 cell lists, 2 tiles with
# bounding balls.  For tiles, ``starts`` holds the tiles' runs, ``cell_w`` their radii
# and ``cell_s`` their centres.
@njit(cache=True)
def _sums(s, num, cols, w, has_w, code, inv_h2, r2, mode, axes, lo, inv_cell, dims,
          span, starts, cell_w, cell_s, use_cells, scratch):
    if mode == 1:
        return _sums_grid(s, num, cols, w, has_w, code, inv_h2, r2, axes, lo, inv_cell,
                          dims, span, starts, cell_w, cell_s, use_cells, scratch)
    if mode == 2:
        return _sums_tiles(s, num, cols, w, has_w, code, inv_h2, r2, starts, cell_w, cell_s,
                           scratch)
    return _sums_brute(s, num, cols, w, has_w, code, inv_h2, r2, scratch)


@njit(cache=True)
def _tile_balls(cols, starts):
    """Centre (mean) and radius of the points of every tile."""
    d = cols.shape[0]
    n_tiles = starts.shape[0] - 1
    centres = np.zeros((n_tiles, d))
    radii = np.zeros(n_tiles)
    for t in range(n_tiles):
        a = starts[t]
        b = starts[t + 1]
        for k in range(d):
            acc = 0.0
            for i in range(a, b):
                acc += np.float64(cols[k, i])
            centres[t, k] = acc / max(b - a, 1)
        far = 0.0
        for i in range(a, b):
            d2 = 0.0
            for k in range(d):
                u = np.float64(cols[k, i]) - centres[t, k]
                d2 += u * u
            far = max(far, d2)
        radii[t] = math.sqrt(far) * (1.0 + 1e-12)
    return centres, radii


@njit(cache=True, parallel=True)
def _partial_sums(positions, cols, w, has_w, code, inv_h2, r2, mode, axes, lo,
                  inv_cell, dims, span, starts, cell_w, cell_s, use_cells):
    k, d = positions.shape
    num = np.zeros((k, d))
    den = np.zeros(k)
    pairs = np.zeros(k, dtype=np.int64)
    for j in prange(k):
        s = positions[j].copy()
        acc = np.zeros(d)
        scratch = np.empty((2, _TILE if d > 3 else 0))
        den[j], pairs[j] = _sums(s, acc, cols, w, has_w, code, inv_h2, r2, mode, axes,
                                 lo, inv_cell, dims, span, starts, cell_w, cell_s,
                                 use_cells, scratch)
        num[j] = acc
    return num, den, pairs


@njit(cache=True, parallel=True)
def _climb(seeds, cols, w, has_w, code, inv_h2, r2, stop, max_iter, mode, axes, lo,
           inv_cell, dims, span, starts, cell_w, cell_s, use_cells):
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
        scratch = np.empty((2, _TILE if d > 3 else 0))
        visited = 0
        for _ in range(max_iter):
            den, v = _sums(s, num, cols, w, has_w, code, inv_h2, r2, mode, axes, lo,
                           inv_cell, dims, span, starts, cell_w, cell_s, use_cells,
                           scratch)
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
    """The data prepared for neighbour queries at one cutoff radius.

    The points are kept feature by feature (``cols``, shape ``(d, n)``): the loops
    over points then read contiguous rows and vectorise.  With ``cell_sums``, every
    cell's weight and coordinate sums are precomputed, so that the cells entirely
    inside a query's ball count as wholes (flat kernel, whose weight is constant there;
    only when the grid covers every feature)."""

    def __init__(self, data, weights, radius, cell_sums=False):
        data = _as_data(data)
        n, d = data.shape
        self.kind, self.why = choose_index(n, data, radius)
        self.has_w = weights is not None
        w = np.ones(0) if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
        no_cells = (np.zeros(1), np.zeros((1, d)), False)
        unused_grid = (np.full(3, -1, np.int64), np.zeros(3), 1.0, np.ones(3, np.int64), 1)
        if self.kind == "grid":
            cell_sums = cell_sums and d <= 3
            span = choose_span(data, radius, whole_cells=cell_sums)
            g = build_grid(data, radius, span=span)
            self.why += f", {g.span} cells per radius"
            order = g.order
            self.cols = np.ascontiguousarray(data[order].T)
            self.grid = (1, g.axes, g.lo, g.inv_cell, g.dims, g.span, g.starts)
            if cell_sums:
                self.why += ", whole cells summed"
                w_sorted = w[order] if self.has_w else w
                self.grid += (*_cell_sums(self.cols, w_sorted, self.has_w, g.starts), True)
            else:
                self.grid += no_cells
        elif self.kind == "tiles":
            order, starts = tile_order(data, TILE_POINTS)
            self.cols = np.ascontiguousarray(data[order].T)
            centres, radii = _tile_balls(self.cols, starts)
            self.grid = (2, *unused_grid, starts, radii, centres, False)
        else:
            order = None
            self.cols = np.ascontiguousarray(data.T)
            self.grid = (0, *unused_grid, np.zeros(2, np.int64), *no_cells)
        self.w = w[order] if self.has_w and order is not None else w

    @property
    def arrays(self):
        return (self.cols, self.w, self.has_w)


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
        index = _Index(data, weights, radius, cell_sums=kernel.code == 0)
        if self.last_index != (index.kind, index.why):
            logger.debug("numba engine: neighbours by %s (%s)", index.kind, index.why)
        self.last_index = (index.kind, index.why)
        return index, radius

    def partial_sums(self, positions, data, weights, bandwidth, kernel: Kernel):
        positions = np.ascontiguousarray(positions, dtype=np.float64)
        index, radius = self._index(data, weights, bandwidth, kernel)
        with self._threads():
            num, den, pairs = _partial_sums(
                positions, *index.arrays, kernel.code,
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
                seeds, *index.arrays, kernel.code,
                1.0 / float(bandwidth) ** 2, radius * radius, float(tol) * float(bandwidth),
                int(max_iter), *index.grid,
            )
        self.pairs = int(pairs.sum())
        if callback is not None:
            callback(int(n_iter.max()) if n_iter.size else 0, 0)
        return ClimbResult(modes, n_iter, converged, density, None)
