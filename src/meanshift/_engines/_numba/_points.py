"""Compiled loops over runs of data points: the kernel sums of one position.

The data are stored feature by feature (``cols``, shape ``(d, n)``), so the loops read
contiguous rows; they have no branches (a point beyond the cutoff gets weight zero by a
select) and call the kernels' compiled forms inline, so LLVM turns them into SIMD code.
Distances and sums are in float64, in a fixed order (results do not depend on threads).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.extending import overload

from ..._compile import njit
from ..._kernels import compiled_weight
from ._index import TILE_POINTS

__all__ = ["range_sums"]

# Loops over the points of a range, written without branches so that LLVM vectorises
# them: the weight of a point outside the cutoff is selected to zero.  ``reassoc``
# lets the sums be kept in vector lanes (a fixed order, independent of threads);
# ``contract`` fuses multiplies and adds (the polynomial exp, the distances).
_FAST = {"reassoc", "nsz", "contract"}


@njit(cache=True, inline="always")
def _cut_weight(code, d2, inv_h2, r2):
    """The kernel weight (:func:`meanshift._kernels.compiled_weight`) at squared
    distance ``d2``, zero beyond the cutoff ``r2``, without branches (a select), so that
    the loops calling it vectorise."""
    wt = compiled_weight(code, d2 * inv_h2, 1.0)
    return wt if d2 <= r2 else 0.0


#: Points per tile of the loops above three dimensions (as many as a tile of
#: :func:`meanshift._engines._numba._index.tile_order` holds at most).
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


@njit(cache=True, fastmath=_FAST)
def _range_low(s, num, cols, w, has_w, code, inv_h2, r2, start, stop):
    """:func:`range_sums` in up to three dimensions: one vectorised pass over the points
    ``start:stop`` (a missing column is read as zeros).  Compiled once per kernel code
    (a literal), so that the kernel's branch is resolved at compile time.

    The loop indexes the whole rows with unsigned indices, without slicing them: a
    slice per run (reference counted) and Numba's wraparound for negative indices
    (which keeps LLVM from vectorising) cost more than the loop on the short runs of a
    grid query."""
    numba.literally(code)
    d = s.shape[0]
    k1 = 1 if d > 1 else 0
    k2 = 2 if d > 2 else 0
    m1 = 1.0 if d > 1 else 0.0
    m2 = 1.0 if d > 2 else 0.0
    c0 = cols[0]
    c1 = cols[k1]
    c2 = cols[k2]
    s0 = s[0]
    s1 = s[k1] * m1
    s2 = s[k2] * m2
    den = 0.0
    n0 = 0.0
    n1 = 0.0
    n2 = 0.0
    # Unsigned indices: Numba then emits no wraparound for negative ones, which would
    # keep LLVM from vectorising the loop.  A missing column is read times zero.
    for i in range(np.uint64(start), np.uint64(stop)):
        x0 = np.float64(c0[i])
        x1 = m1 * np.float64(c1[i])
        x2 = m2 * np.float64(c2[i])
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
    num[0] += n0
    if d > 1:
        num[1] += n1
    if d > 2:
        num[2] += n2
    return den


@njit(cache=True)
def _range_tiles(s, num, cols, w, has_w, code, inv_h2, r2, start, stop, scratch):
    """:func:`range_sums` above three dimensions: tiles of ``_TILE`` points."""
    d2 = scratch[0]
    wt = scratch[1]
    den = 0.0
    for t0 in range(start, stop, _TILE):
        t1 = min(t0 + _TILE, stop)
        if not _tile_d2(cols, s, t0, t1, d2, r2):
            continue
        den += _tile_sums(code, cols, w, has_w, inv_h2, r2, t0, t1, d2, wt, num)
    return den


def range_sums(s, num, cols, w, has_w, code, inv_h2, r2, start, stop, scratch):
    """Add the points ``start:stop`` within ``sqrt(r2)`` of ``s`` to ``num``; returns
    the weight added.  Points are read from ``cols`` (one contiguous row per feature)
    by vectorised loops: in up to three dimensions in one pass, above in tiles of
    ``_TILE`` points whose distance sums stop early once every point of the tile is
    out of reach (``scratch``, shape ``(2, _TILE)``, holds a tile's distances and
    weights).  Distances and sums are in float64.

    ``code`` is the kernel's code, plus 4 above three dimensions (the engine's loops
    pass it as a constant: the loop of that one kernel and dimension class is then the
    only one compiled).  The dispatch is inlined into the caller (Numba's IR), which
    calls the loop directly: no compiled layer in between."""
    raise NotImplementedError  # pragma: no cover - only called from compiled code


@overload(range_sums, prefer_literal=True, inline="always")
def _range_sums_impl(s, num, cols, w, has_w, code, inv_h2, r2, start, stop, scratch):
    if isinstance(code, types.IntegerLiteral):
        kernel = code.literal_value % 4
        if code.literal_value >= 4:
            def tiles(s, num, cols, w, has_w, code, inv_h2, r2, start, stop, scratch):
                if stop <= start:
                    return 0.0
                return _range_tiles(s, num, cols, w, has_w, kernel, inv_h2, r2, start, stop,
                                    scratch)

            return tiles

        def low(s, num, cols, w, has_w, code, inv_h2, r2, start, stop, scratch):
            if stop <= start:
                return 0.0
            return _range_low(s, num, cols, w, has_w, kernel, inv_h2, r2, start, stop)

        return low

    def any_kind(s, num, cols, w, has_w, code, inv_h2, r2, start, stop, scratch):
        if stop <= start:
            return 0.0
        if code >= 4:
            return _range_tiles(s, num, cols, w, has_w, code - 4, inv_h2, r2, start, stop,
                                scratch)
        return _range_low(s, num, cols, w, has_w, code, inv_h2, r2, start, stop)

    return any_kind
