"""Compiled neighbour queries: the kernel sums around one position, visiting only the
data within the cutoff (every point, cell lists, or k-d tiles with bounding balls; see
:mod:`meanshift._engines._numba._index` for the structures and how one is chosen)."""

from __future__ import annotations

import math

import numpy as np
from numba import types
from numba.extending import overload

from ..._compile import njit
from ._points import range_sums

__all__ = ["position_sums"]


@njit(cache=True)
def _sums_brute(s, num, cols, w, has_w, code, inv_h2, r2, scratch):
    for k in range(num.shape[0]):
        num[k] = 0.0
    n = cols.shape[1]
    return range_sums(s, num, cols, w, has_w, code, inv_h2, r2, 0, n, scratch), n


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
    cell0 = 1.0 / inv_cell[0]
    cell1 = 1.0 / inv_cell[1]
    pad0 = 1e-7 * cell0
    pad1 = 1e-7 * cell1
    pad = 1e-7 / inv_cell[2]
    r2_out = r2 * (1.0 + 1e-12) + 1e-300  # generous: never skip a point on the boundary
    r2_in = r2 * (1.0 - 1e-9)  # strict: a whole cell is inside only with a margin
    a0, b0 = 0, 0
    a1, b1 = 0, 0
    x0 = 0.0
    x1 = 0.0
    if axes[0] >= 0:
        x0 = s[axes[0]]
        a0, b0 = _cell_range(x0, lo[0], inv_cell[0], dims[0], span[0])
    if axes[1] >= 0:
        x1 = s[axes[1]]
        a1, b1 = _cell_range(x1, lo[1], inv_cell[1], dims[1], span[1])
    x2 = s[axes[2]]
    a2, b2 = _cell_range(x2, lo[2], inv_cell[2], dims[2], span[2])
    if a0 > b0 or a1 > b1 or a2 > b2:
        return 0.0, 0
    d = num.shape[0]
    for c0 in range(a0, b0 + 1):
        n0 = 0.0
        f0 = 0.0
        if axes[0] >= 0:
            n0, f0 = _slab(x0, lo[0], cell0, c0, pad0)
        for c1 in range(a1, b1 + 1):
            n1 = 0.0
            f1 = 0.0
            if axes[1] >= 0:
                n1, f1 = _slab(x1, lo[1], cell1, c1, pad1)
            near2 = n0 * n0 + n1 * n1
            if near2 > r2_out:
                continue
            ext = math.sqrt(r2_out - near2) + pad
            a = max(a2, int(math.floor((x2 - ext - lo[2]) * inv_cell[2])))
            b = min(b2, int(math.floor((x2 + ext - lo[2]) * inv_cell[2])))
            if a > b:
                continue
            row = (c0 * dims[1] + c1) * dims[2]
            fa = b + 1
            fb = b
            far2 = f0 * f0 + f1 * f1
            if use_cells and far2 < r2_in:
                # Cells [fa, fb] of this row lie inside the ball.
                e = math.sqrt(r2_in - far2)
                fa = max(a, int(math.ceil((x2 - e - lo[2]) * inv_cell[2] + 1e-6)))
                fb = min(b, int(math.floor((x2 + e - lo[2]) * inv_cell[2] - 1e-6)) - 1)
                if fa > fb:
                    fa = b + 1
                    fb = b
            start = starts[row + a]
            stop = starts[row + fa]
            visited += stop - start
            den += range_sums(s, num, cols, w, has_w, code, inv_h2, r2, start, stop, scratch)
            if fa <= fb:
                for c in range(row + fa, row + fb + 1):
                    den += cell_w[c]
                    for k in range(d):
                        num[k] += cell_s[c, k]
                visited += fb - fa + 1
                start = starts[row + fb + 1]
                stop = starts[row + b + 1]
                visited += stop - start
                den += range_sums(s, num, cols, w, has_w, code, inv_h2, r2, start, stop,
                                  scratch)
    return den, visited


@njit(cache=True)
def _sums_tiles(s, num, cols, w, has_w, code, inv_h2, r2, nodes, radii, centres, scratch):
    """Sums around ``s`` over the tiles of the k-d tile tree (``nodes``, 4 per node:
    ``start, stop, left, right``, see :func:`meanshift._engines._numba._index.tile_order`)
    whose bounding balls, of centre ``centres[t]`` and radius ``radii[t]``, reach within
    ``sqrt(r2)`` of ``s``: a depth-first walk that skips whole subtrees out of reach.
    The tiles are read in their order in the data (left subtree first), so the sums
    add in a fixed order."""
    for k in range(num.shape[0]):
        num[k] = 0.0
    d = s.shape[0]
    r = math.sqrt(r2) * (1.0 + 1e-9)
    den = 0.0
    visited = 0
    stack = np.empty(128, dtype=np.int64)
    stack[0] = 0
    top = 1
    while top > 0:
        top -= 1
        t = stack[top]
        c2 = 0.0
        for k in range(d):
            u = s[k] - centres[t, k]
            c2 += u * u
        reach = radii[t] + r
        if c2 > reach * reach:
            continue
        left = nodes[4 * t + 2]
        if left < 0:
            a = nodes[4 * t]
            b = nodes[4 * t + 1]
            visited += b - a
            den += range_sums(s, num, cols, w, has_w, code, inv_h2, r2, a, b, scratch)
        else:
            stack[top] = nodes[4 * t + 3]
            stack[top + 1] = left
            top += 2
    return den, visited


# How a query finds its neighbours (``mode``): 0 every point, 1 cell lists, 2 tiles with
# bounding balls.  For tiles, ``starts`` holds the tile tree's nodes, ``cell_w`` their
# radii and ``cell_s`` their centres.
def position_sums(s, num, cols, w, has_w, code, inv_h2, r2, mode, axes, lo, inv_cell, dims,
                  span, starts, cell_w, cell_s, use_cells, scratch):
    """The kernel sums around ``s`` into ``num``: ``(den, points visited)``, by the
    index kind ``mode`` (a compile-time dispatch, see below)."""
    raise NotImplementedError  # pragma: no cover - only called from compiled code


@overload(position_sums, prefer_literal=True, inline="always")
def _position_sums_impl(s, num, cols, w, has_w, code, inv_h2, r2, mode, axes, lo, inv_cell,
                        dims, span, starts, cell_w, cell_s, use_cells, scratch):
    # A literal index kind (the engine's loops pass one) compiles that kind's query
    # only; an ``if mode == ...`` chain would type all three on every first run.  The
    # dispatch is inlined into the caller (Numba's IR): no layer of its own to compile
    # (see meanshift._compile.with_constants).
    m = mode.literal_value if isinstance(mode, types.IntegerLiteral) else -1

    def grid(s, num, cols, w, has_w, code, inv_h2, r2, mode, axes, lo, inv_cell, dims, span,
             starts, cell_w, cell_s, use_cells, scratch):
        return _sums_grid(s, num, cols, w, has_w, code, inv_h2, r2, axes, lo, inv_cell,
                          dims, span, starts, cell_w, cell_s, use_cells, scratch)

    def tiles(s, num, cols, w, has_w, code, inv_h2, r2, mode, axes, lo, inv_cell, dims, span,
              starts, cell_w, cell_s, use_cells, scratch):
        return _sums_tiles(s, num, cols, w, has_w, code, inv_h2, r2, starts, cell_w, cell_s,
                           scratch)

    def brute(s, num, cols, w, has_w, code, inv_h2, r2, mode, axes, lo, inv_cell, dims, span,
              starts, cell_w, cell_s, use_cells, scratch):
        return _sums_brute(s, num, cols, w, has_w, code, inv_h2, r2, scratch)

    def any_mode(s, num, cols, w, has_w, code, inv_h2, r2, mode, axes, lo, inv_cell, dims,
                 span, starts, cell_w, cell_s, use_cells, scratch):
        if mode == 1:
            return _sums_grid(s, num, cols, w, has_w, code, inv_h2, r2, axes, lo, inv_cell,
                              dims, span, starts, cell_w, cell_s, use_cells, scratch)
        if mode == 2:
            return _sums_tiles(s, num, cols, w, has_w, code, inv_h2, r2, starts, cell_w,
                               cell_s, scratch)
        return _sums_brute(s, num, cols, w, has_w, code, inv_h2, r2, scratch)

    return {1: grid, 2: tiles, 0: brute}.get(m, any_mode)
