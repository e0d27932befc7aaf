"""Neighbour pruning for the compiled engines: which data points a position can see.

Every kernel weight is zero (or, for the truncated gaussian, below a stated bound) beyond
a *cutoff radius* ``r`` from the position.  Two structures find the points within ``r``:

* **Cell lists** (a spatial grid, :func:`build_grid`): the data are binned on a grid
  over at most three axes (the three with the widest spread, so the grid also prunes in
  more than three dimensions: a distance in a subspace never exceeds the full distance)
  and sorted by cell.  A query visits the cells within ``span`` of its own, in
  ``(2 * span + 1) ** (g - 1)`` rows that are contiguous runs of the sorted data, each
  row clipped to the part that meets the query's ball (:func:`choose_span` picks the
  span).  The cell side is ``r / span`` (a hair wider, against rounding), enlarged when
  needed so that there are at most ``max_cells`` cells (memory O(n + cells)).
* **Tiles with bounding balls** (:func:`tile_order`, above three dimensions, where a
  grid on three axes would not prune): the data are ordered by a k-d bisection (split
  at the median of the widest feature) into tiles of at most ``TILE_POINTS`` points; a
  query walks the bisection tree and skips every node whose bounding ball (centre,
  radius) is farther than ``r`` from it, so it costs O(log n) plus the tiles it reads
  (not one test per tile: that grew with the square of n).  Inside a tile the distance
  sums stop early, by blocks of 8 features, once every point of the tile is out of reach.
* **Brute force** in up to three dimensions when a grid would not prune (the cutoff is
  comparable to the data's extent along every axis): every point is visited in one
  vectorised pass.

:func:`choose_index` picks between them from the expected pruning and says why; the
compiled engine logs the choice.

The gaussian has unbounded support; the compiled engines truncate it at
``r = gaussian_radius * h`` (default 7).  Each point left out has weight at most
``exp(-gaussian_radius**2 / 2)`` (2.3e-11 at 7) relative to a point at the position
itself, so the mean moves by at most
``(W / den) * gaussian_radius * h * exp(-gaussian_radius**2 / 2)`` where ``W`` is the total
sample weight and ``den`` the weight seen: below ``1e-7 h`` wherever the position sees
at least 0.1 % of the data.  The NumPy reference engine never truncates.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ..._arrays import column_bounds
from ..._compile import njit

__all__ = ["Grid", "Index", "as_data", "build_grid", "choose_index", "choose_span",
           "cutoff_radius", "tile_order", "GAUSSIAN_RADIUS", "TILE_POINTS"]

#: Default truncation radius of the gaussian, in bandwidths (see module notes).
GAUSSIAN_RADIUS = 7.0
#: Most points in a tile of :func:`tile_order`.
TILE_POINTS = 128
#: Cells per radius at least along the last grid axis (a query's rows run along it).
ROW_CELLS = 4


class Grid(NamedTuple):
    """Cell lists over up to three axes (padded to three; unused axes have one cell).

    Attributes
    ----------
    axes : ndarray of shape (3,), int64
        Data column of each grid axis (-1: unused axis).
    lo : ndarray of shape (3,), float64
        Lower corner of the grid.
    inv_cell : ndarray of shape (3,), float64
        One over the cell side along each axis (the last axis, along which a query's
        rows of cells run, may have finer cells: they clip a row to its ball more
        closely at no extra cost per row).
    dims : ndarray of shape (3,), int64
        Number of cells along each axis.
    span : ndarray of shape (3,), int64
        Cells to visit on each side of a query's own cell, along each axis.
    starts : ndarray of shape (n_cells + 1,), int64
        Points of cell ``c`` are ``order[starts[c]:starts[c + 1]]``.
    order : ndarray of shape (n,), int64
        Data rows sorted by cell (stable, so ties keep the input order).
    """

    axes: np.ndarray
    lo: np.ndarray
    inv_cell: np.ndarray
    dims: np.ndarray
    span: np.ndarray
    starts: np.ndarray
    order: np.ndarray


def cutoff_radius(kernel, bandwidth, gaussian_radius=GAUSSIAN_RADIUS):
    """Distance beyond which the kernel's weight is (treated as) zero."""
    support = kernel.support if np.isfinite(kernel.support) else gaussian_radius
    return float(support) * float(bandwidth)


def _grid_axes(data, radius, n_axes=3):
    if data.shape[0]:
        lo, hi = column_bounds(data)
        extent = hi.astype(np.float64) - lo
    else:
        extent = np.zeros(data.shape[1])
    axes = np.argsort(-extent, kind="stable")[: min(n_axes, data.shape[1])]
    return np.sort(axes), extent


def choose_index(n_points, data, radius, *, min_points=64):
    """``("grid", "tiles" or "brute", reason)`` for finding neighbours within ``radius``.

    The grid is chosen when there are at least ``min_points`` points and the expected
    fraction of the data a query visits is at most one half: the rows of cells are
    clipped to the query's ball, so about the ball's share of its bounding box,
    ``prod(min(1, 2 r / extent))`` over the ``g`` grid axes times ``(1, pi / 4,
    pi / 6)`` for ``g = (1, 2, 3)``.  Otherwise, above three dimensions, tiles with
    bounding balls; else every point.
    """
    if n_points < min_points:
        return "brute", f"{n_points} points (< {min_points})"
    if not np.isfinite(radius):
        return "brute", "unbounded kernel support"
    axes, extent = _grid_axes(data, radius)
    ball = (1.0, np.pi / 4.0, np.pi / 6.0)[axes.size - 1]
    frac = ball * float(np.prod(np.minimum(1.0, 2.0 * radius / np.maximum(extent[axes], 1e-300))))
    if frac <= 0.5:
        return "grid", f"cell lists on axes {axes.tolist()}, visiting ~{frac:.2g} of the data"
    if data.shape[1] > 3:
        return "tiles", (f"a grid would visit ~{frac:.2g} of the data; k-d tiles of at most "
                         f"{TILE_POINTS} points with bounding balls")
    return "brute", f"a grid would visit ~{frac:.2g} of the data"


def tile_order(data, leaf=TILE_POINTS):
    """``(order, nodes)``: a permutation of the rows of ``data`` that puts near points
    together, and the k-d tree over it: ``nodes`` (int64, 4 per node, flat) holds each
    node's run ``order[start:stop]`` and its children ``(start, stop, left, right)``
    (-1 for a leaf, a *tile* of at most ``leaf`` points), in preorder, left first.

    k-d bisection: a run of more than ``leaf`` points is split at the median of its
    widest feature (``np.argpartition``, deterministic), recursively.  The leaves, in
    preorder, are consecutive runs of ``order``.
    """
    data = np.asarray(data)
    n = data.shape[0]
    order = np.arange(n)
    nodes: list[list[int]] = []
    stack = [(0, n, -1, 2)]  # (start, stop, parent, slot in the parent's row)
    while stack:
        a, b, parent, slot = stack.pop()
        node = len(nodes)
        nodes.append([a, b, -1, -1])
        if parent >= 0:
            nodes[parent][slot] = node
        if b - a <= leaf:
            continue
        rows = order[a:b]
        pts = data[rows]
        lo, hi = column_bounds(pts)
        axis = int(np.argmax(hi.astype(np.float64) - lo))
        mid = (b - a) // 2
        order[a:b] = rows[np.argpartition(pts[:, axis], mid)]
        stack.append((a + mid, b, node, 3))
        stack.append((a, a + mid, node, 2))
    return order, np.array(nodes, dtype=np.int64).reshape(-1)


def choose_span(data, radius, *, whole_cells=False):
    """Cells per cutoff radius for :func:`build_grid`.

    Finer cells let a query's rows hug its ball (and, with ``whole_cells``, leave only
    the points of the cells on the ball's boundary to test one by one) but cost a visit
    each.  Tuned by hand on 2-D blobs of 10^4 to 10^6 points: the best span grows as the
    square root of the occupancy of a grid of one cell per radius: the span is chosen
    so that occupied cells hold about 80 points each (200 without whole cells), at most
    8 (4) cells per radius.
    """
    data = np.asarray(data)
    n = data.shape[0]
    if n == 0 or not np.isfinite(radius) or radius <= 0:
        return 1
    axes, extent = _grid_axes(data, radius)
    dims = np.floor(extent[axes] / radius).astype(np.int64) + 1
    if float(np.prod(dims.astype(np.float64))) > 4.0 * n + 4096:
        return 1  # sparse data: one cell per radius already holds few points
    lo = column_bounds(data[:, axes])[0].astype(np.float64)
    occupied = np.count_nonzero(np.bincount(_cell_ids(data, axes, lo, 1.0 / radius, dims)))
    target, top = (80.0, 8) if whole_cells else (200.0, 4)
    span = int((n / max(occupied, 1) / target) ** (1.0 / axes.size))
    return max(1, min(span, top))


def _cell_ids(data, axes, lo, inv_cell, dims):
    """Row-major number of the grid cell of every row of ``data`` (grid axes ``axes``
    with lower corner ``lo``, cell sides ``1 / inv_cell`` (one, or one per axis) and
    ``dims`` cells)."""
    ids = np.zeros(data.shape[0], dtype=np.int64)
    inv = np.broadcast_to(np.asarray(inv_cell, dtype=np.float64), (len(axes),))
    for ax, low, m, i_c in zip(axes, lo, dims, inv, strict=True):
        c = np.floor((data[:, ax] - low) * i_c).astype(np.int64)
        np.clip(c, 0, m - 1, out=c)
        ids = ids * m + c
    return ids


def build_grid(data, radius, *, span=1, fine=1, max_cells=None):
    """Cell lists of ``data`` for queries of radius ``radius`` (see module notes):
    ``span`` cells per radius along the grid axes, ``span * fine`` along the last (the
    axis of a query's rows)."""
    data = np.asarray(data)
    n, d = data.shape
    axes, extent = _grid_axes(data, radius)
    g = axes.size
    if max_cells is None:
        max_cells = max(4 * n, 4096)
    # A hair wider than radius / span, so that ``span`` cells on each side cover the
    # radius with a margin (1e-6 of a cell) against rounding of the cell numbers.
    per = np.full(g, float(span))
    per[-1] *= fine
    cell = float(radius) / per * (1.0 + 1e-6)
    ext = extent[axes].astype(np.float64)
    while True:
        dims_g = np.floor(ext / cell).astype(np.int64) + 1
        if float(np.prod(dims_g.astype(np.float64))) <= max_cells:
            break
        cell *= 1.25
    inv_cell = 1.0 / cell
    spans = np.maximum(1, np.ceil(float(radius) * inv_cell * (1.0 + 1e-9))).astype(np.int64)
    lo_g = column_bounds(data[:, axes])[0].astype(np.float64) if n else np.zeros(g)
    axes3 = np.full(3, -1, dtype=np.int64)
    lo3 = np.zeros(3)
    dims3 = np.ones(3, dtype=np.int64)
    inv3 = np.ones(3)
    span3 = np.ones(3, dtype=np.int64)
    axes3[3 - g:] = axes
    lo3[3 - g:] = lo_g
    dims3[3 - g:] = dims_g
    inv3[3 - g:] = inv_cell
    span3[3 - g:] = spans
    ids = _cell_ids(data, axes, lo_g, inv_cell, dims_g)
    order = np.argsort(ids, kind="stable")
    counts = np.bincount(ids, minlength=int(np.prod(dims3)))
    starts = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    return Grid(axes3, lo3, inv3, dims3, span3, starts, order)


def as_data(a):
    """float32 stays float32, everything else becomes float64; C-contiguous."""
    a = np.asarray(a)
    dtype = np.float32 if a.dtype == np.float32 else np.float64
    return np.ascontiguousarray(a, dtype=dtype)


def _cell_sums(cols, w, has_w, starts):
    """Total weight and weighted coordinate sums of every cell, the points added in
    order (``np.bincount`` adds its weights in input order: the same numbers as a loop,
    without a compiled function to wait for on a first run)."""
    n_cells = starts.shape[0] - 1
    cell_of = np.repeat(np.arange(n_cells), np.diff(starts))
    wt = w if has_w else np.ones(cols.shape[1])
    cw = np.bincount(cell_of, weights=wt, minlength=n_cells)
    cs = np.empty((n_cells, cols.shape[0]))
    for k in range(cols.shape[0]):
        cs[:, k] = np.bincount(cell_of, weights=wt * cols[k].astype(np.float64),
                               minlength=n_cells)
    return cw, cs


@njit(cache=True)
def _node_balls(cols, nodes):
    """Centre (mean) and radius of the points of every node of the tile tree."""
    d = cols.shape[0]
    n_nodes = nodes.shape[0] // 4
    centres = np.zeros((n_nodes, d))
    radii = np.zeros(n_nodes)
    for t in range(n_nodes):
        a = nodes[4 * t]
        b = nodes[4 * t + 1]
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


class Index:
    """The data prepared for neighbour queries at one cutoff radius.

    The points are kept feature by feature (``cols``, shape ``(d, n)``): the loops
    over points then read contiguous rows and vectorise.  With ``cell_sums``, every
    cell's weight and coordinate sums are precomputed, so that the cells entirely
    inside a query's ball count as wholes (flat kernel, whose weight is constant there;
    only when the grid covers every feature)."""

    #: Indexes built in this process (the tests count them: one per fit).
    built = 0

    #: The trailing arguments of the compiled loops: the index kind (0 brute force,
    #: 1 grid, 2 tiles), then the grid or tile arrays and the whole-cell sums.
    grid: tuple[Any, ...]

    def __init__(self, data, weights, radius, cell_sums=False):
        Index.built += 1
        data = as_data(data)
        n, d = data.shape
        self.kind, self.why = choose_index(n, data, radius)
        self.has_w = weights is not None
        w = np.ones(0) if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
        no_cells = (np.zeros(1), np.zeros((1, d)), False)
        unused_grid = (np.full(3, -1, np.int64), np.zeros(3), np.ones(3), np.ones(3, np.int64),
                       np.ones(3, np.int64))
        if self.kind == "grid":
            cell_sums = cell_sums and d <= 3
            span = choose_span(data, radius, whole_cells=cell_sums)
            g = build_grid(data, radius, span=span, fine=max(1, ROW_CELLS // span))
            self.why += f", {g.span[0]} cells per radius ({g.span[2]} along the rows)"
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
            order, nodes = tile_order(data, TILE_POINTS)
            self.cols = np.ascontiguousarray(data[order].T)
            centres, radii = _node_balls(self.cols, nodes)
            self.grid = (2, *unused_grid, nodes, radii, centres, False)
        else:
            order = None
            self.cols = np.ascontiguousarray(data.T)
            self.grid = (0, *unused_grid, np.zeros(2, np.int64), *no_cells)
        self.w = w[order] if self.has_w and order is not None else w

    @property
    def arrays(self) -> tuple[np.ndarray, np.ndarray, bool]:
        return (self.cols, self.w, self.has_w)


