"""Kernel sums by matrix products: the Numba engine's path for many features.

With many features, a seed's neighbours cannot be pruned (every point is about as far
as every other) and the work is all pairs.  The fastest way through all pairs on a CPU
is the matrix multiply of the BLAS: for a block of seeds ``P`` (m x d) and a block of
the data ``X`` (c x d),

    d2  = |p|^2 + |x|^2 - 2 P X^T          (one GEMM)
    W   = c_i w(d2 / h^2)                  (the kernel, elementwise)
    num += W X,  den += W 1                 (a second GEMM)

Exactness.  The data (and seeds) are centred on the data's mean first, so that the
norms are those of the spread, not of the position.  A dot product of length ``d``
is then off by at most ``GAMMA * (|p|^2 + |x|^2)`` with ``GAMMA = (d + 4) * 2**-52``
(the classical bound ``d u |p||x|`` with a margin), and so is ``d2``:

* the support of the compact kernels is decided as the reference decides it: pairs
  whose ``d2`` lies within that bound of the boundary (``u2 = EDGE``, the rule of
  :mod:`meanshift._kernels`) are recomputed from coordinate differences, added feature
  by feature in the reference's order, from the original (uncentred) rows;
* inside the support the weights move by at most ``L * bound / h**2`` (``L`` the
  profile's slope, at most 1 per unit of ``u2``); :func:`blas_usable` accepts the
  path only where that is below ``MAX_WEIGHT_ERROR`` (1e-11) for every pair.  The
  triangular profile ``1 - sqrt(u2)`` is steeper near 0: pairs that close are
  recomputed exactly too.

The gaussian is not truncated here (every pair is computed anyway).

The flat kernel.  Its weights are 0 or 1 (times the sample weight), so only the
support's decision needs the products, and it takes them in float32 (twice the numbers
per instruction): the products' error, the inputs' rounding to float32 included, is at
most ``gamma32 * (|p|^2 + |x|^2)`` with ``gamma32 = (d + 4) 2**-24 / (1 - (d + 4)
2**-24)``, and the pairs within that bound of the boundary are recomputed exactly, as
above (:func:`_flat_mask`).  Used while the data's squared norms stay within
``FLAT32_LOW .. FLAT32_HIGH`` (far from float32's under- and overflow).  Its sums
need no second product either (:func:`_flat_sparse`): a position adds, in float64,
the rows inside its support, or, where those hold more than half of the block's
weight (a step near a mode, where most of a cluster is within reach), the block's
weighted sum less the rows outside; so a row costs the smaller of the two sets, at
most half of the block (a float64 product of the support where those sides hold over
``SPARSE_SHARE`` of the block's pairs).  The
difference loses no more than a factor of two of relative accuracy, since the rows
inside then weigh at least half of the total; the weights' sum is always added
directly.

Pruning.  Where the data are clustered, a cover by tiles (:mod:`._tiles`) lets each
block of positions multiply only the tiles within its reach, and lets the flat kernel
add a tile wholly within reach by its sums.  Positions that coincide bit for bit (the
flat kernel's seeds meeting on a mode) are computed once.

Speed.  The two products run in the BLAS (its threads limited to the engine's
``n_jobs``); everything between them (distances, boundary checks, weights) is one
compiled pass over the block (:func:`_weigh`), spread over the engine's threads by
ranges of rows, with the kernel a compile-time constant (one pass per kernel,
cached on disk).
"""

from __future__ import annotations

import logging
import math
from functools import partial
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

from ..._arrays import distinct_rows
from ..._compile import njit
from ..._kernels import EDGE, Kernel, compiled_weight
from .._threads import run_ranges, scratch
from ._tiles import MAX_SHARE as TILE_MAX_SHARE
from ._tiles import TileCover

logger = logging.getLogger("meanshift")

__all__ = ["BlasSums", "blas_usable", "BLAS_MIN_FEATURES", "MAX_WEIGHT_ERROR"]


@njit(cache=True, nogil=True)
def d2_exact(x, p):
    """Squared distance added feature by feature, in order (the reference's sum): the
    recomputation of a pair near the support's boundary, on every product path."""
    d2 = 0.0
    for k in range(x.shape[0]):
        t = x[k] - p[k]
        d2 += t * t
    return d2


@njit(cache=True, nogil=True)
def _weigh_rows(a, b, code, compact, G, psq, xsq, w, has_w, P, X, r0, xrow, inv_h2, edge,
                tol, small):
    """Rows ``a:b`` of the block ``G = P_c X_c^T`` become kernel weights, in place
    (module notes: pairs near the support's boundary are recomputed exactly).  Three
    branch-free passes per row, so that the first and the last vectorise.  The columns
    are the data's rows ``xrow``, with their squared norms ``xsq`` and weights ``w``
    (one per column)."""
    c = G.shape[1]
    for i in range(a, b):
        p2 = psq[i]
        near = 0
        for j in range(c):
            u2 = max((p2 + xsq[j] - 2.0 * G[i, j]) * inv_h2, 0.0)
            G[i, j] = u2
            if compact:
                near += (abs(u2 - edge) <= tol) | (u2 <= small)
        if compact and near > 0:
            for j in range(c):
                if abs(G[i, j] - edge) <= tol or G[i, j] <= small:
                    G[i, j] = d2_exact(P[r0 + i], X[xrow[j]]) * inv_h2
        for j in range(c):
            u2 = G[i, j]
            wt = compiled_weight(code, u2, 1.0)
            if compact:
                wt = wt if u2 <= edge else 0.0
            if has_w:
                wt *= w[j]
            G[i, j] = wt


#: The byte pattern of eight mask entries of 2 (:func:`_flat_mask`).
_TWOS = np.uint64(0x0202020202020202)


@njit(cache=True, nogil=True)
def _flat_mask(G, psq, xsq, w, has_w, P, rows, X, xrow, inv_h2, edge, tol, mask, weight):
    """The flat kernel's support in the block ``G`` (float32 products ``P_c X_c^T``,
    ``P_c`` the positions ``P[rows]`` less the origin) into ``mask`` (uint8, 1 inside;
    its rows may be longer than ``G``'s; the columns are the data's rows ``xrow``, with
    their squared norms ``xsq`` and weights ``w``), and each
    row's weight inside into ``weight``: decided from the product, and from coordinate
    differences added in the reference's order for the pairs within ``tol`` of the
    boundary (``tol`` bounds the float32 products' error: module notes).  Returns the
    pairs on the lighter side of each row's split (inside or outside; see
    :func:`_flat_sparse`).  The pass over a row has no branch and no stores that
    depend on earlier pairs (it vectorises); the rare row with pairs near the boundary
    is passed again to find them."""
    m, c = G.shape
    mass = 0.0
    for j in range(c):
        mass += w[j] if has_w else 1.0
    minority = 0
    words = mask.view(np.uint64)
    for i in range(m):
        p2 = psq[i]
        count = 0
        near = 0
        for j in range(c):  # 1 inside, plus 2 within tol of the boundary
            u2 = (p2 + xsq[j] - 2.0 * np.float64(G[i, j])) * inv_h2
            inside = u2 <= edge
            close = abs(u2 - edge) <= tol
            mask[i, j] = np.uint8(inside) | (np.uint8(close) << np.uint8(1))
            count += inside
            near += close
        if near > 0:  # those pairs decided exactly, found eight entries at a time
            for t in range(-(-c // 8)):
                if words[i, t] & _TWOS:
                    for j in range(8 * t, min(c, 8 * t + 8)):
                        if mask[i, j] & 2:
                            inside = np.uint8(d2_exact(P[rows[i]], X[xrow[j]]) * inv_h2
                                              <= edge)
                            count += int(inside) - int(mask[i, j] & 1)
                            mask[i, j] = inside
        total = float(count)
        if has_w:
            total = 0.0
            for j in range(c):
                total += w[j] * mask[i, j]
        weight[i] = total
        minority += c - count if total > 0.5 * mass else count
    return minority


@njit(cache=True, nogil=True)
def _flat_sparse(mask, weight, w, has_w, Xg, total, num, den):
    """The flat kernel's sums of a block from its ``mask`` (:func:`_flat_mask`) added
    to ``num[i]``, ``den[i]`` (the block's rows): a row adds the columns ``Xg`` inside its
    support or, where they weigh more than half of the columns, ``total`` (the
    columns' weighted sum) less the columns outside; the weight is added as counted."""
    m = mask.shape[0]
    c = Xg.shape[0]
    d = Xg.shape[1]
    mass = 0.0
    for j in range(c):
        mass += w[j] if has_w else 1.0
    acc = np.empty(d)
    idx = np.empty(c, dtype=np.int64)
    for i in range(m):
        most = np.uint8(weight[i] > 0.5 * mass)
        q = 0
        for j in range(c):  # the columns on the lighter side
            idx[q] = j
            q += mask[i, j] != most
        for k in range(d):
            acc[k] = 0.0
        if has_w:
            for t in range(q):
                wt = w[idx[t]]
                x = Xg[idx[t]]
                for k in range(d):
                    acc[k] += wt * x[k]
        else:  # four rows to each update of the sum (its loads and stores bound)
            t = 0
            while t + 4 <= q:
                x0, x1, x2, x3 = Xg[idx[t]], Xg[idx[t + 1]], Xg[idx[t + 2]], Xg[idx[t + 3]]
                for k in range(d):
                    acc[k] += (x0[k] + x1[k]) + (x2[k] + x3[k])
                t += 4
            for r in range(t, q):
                x = Xg[idx[r]]
                for k in range(d):
                    acc[k] += x[k]
        for k in range(d):
            num[i, k] += total[k] - acc[k] if most else acc[k]
        den[i] += weight[i]


@njit(cache=True, nogil=True)
def _centred32(P, origin, P32, psq):
    """``P32`` (the positions less ``origin``, as float32) and ``psq`` (their squared
    norms, in float64) in one pass."""
    m, d = P.shape
    for i in range(m):
        s = 0.0
        for k in range(d):
            c = P[i, k] - origin[k]
            s += c * c
            P32[i, k] = np.float32(c)
        psq[i] = s


@njit(cache=True, nogil=True)
def _unpermute(num, den, perm, origin, out, out_den):
    """The sums of the positions taken in the order ``perm`` (about the origin) back in
    the positions' order: ``out[perm[i]] = num[i] + den[i] * origin``."""
    m, d = num.shape
    for i in range(m):
        r = perm[i]
        for k in range(d):
            out[r, k] = num[i, k] + den[i] * origin[k]
        out_den[r] = den[i]


_WEIGH: dict[int, Any] = {}


def _weigh(kernel: Kernel):
    """:func:`_weigh_rows` with the kernel's code and whether its support is finite as
    constants (cached per kernel)."""
    code = kernel.code
    if code not in _WEIGH:
        compact = bool(np.isfinite(kernel.support))

        def weigh(a, b, G, psq, xsq, w, has_w, P, X, r0, xrow, inv_h2, edge, tol, small):
            _weigh_rows(a, b, code, compact, G, psq, xsq, w, has_w, P, X, r0, xrow, inv_h2,
                        edge, tol, small)

        weigh.__qualname__ = f"weigh_kernel{code}"
        _WEIGH[code] = njit(cache=True, nogil=True)(weigh)
    return _WEIGH[code]

#: The Numba engine takes this path from this many features on: the fewest that
#: ``benchmarks/bench_highd.py`` measures (products 1.47x the index's rate for the flat
#: kernel and 1.75x for the gaussian there, nothing pruned, 04:22); fewer were not tuned.
BLAS_MIN_FEATURES = 16
#: Largest error of a kernel weight (relative to 1) the path may make.
MAX_WEIGHT_ERROR = 1e-11
#: A block of seeds x data (the d2 / weight matrix): rows and columns.
ROWS = 128
COLUMNS = 4096
#: Most memory for the gathered columns of the tile sets whose blocks run together.
GATHER_BYTES = 256 << 20
#: The flat kernel's block sums go row by row over the lighter side of each row's
#: split (:func:`_flat_sparse`) when those pairs are at most this share of the block,
#: else by a product: a pair of that walk (a row read from the cache) cost about 5x a
#: product's (a block of 128 x 2000 in 64 features, one thread: 14.6 against 2.9 ns).
SPARSE_SHARE = 0.2
#: Most memory for the float32 copy of the data (the flat kernel's products and the
#: neighbour lists'); above it, copies are made block by block.
COPY_BYTES = 128 << 20
#: The flat kernel's float32 products are used while the data's largest squared norm
#: (about their origin) lies in this range: far from float32's over- and underflow.
FLAT32_LOW = 1e-20
FLAT32_HIGH = 1e30


_CONTROLLER: list[ThreadpoolController] = []


def _one_blas_thread():
    """A context in which the BLAS runs on one thread (the libraries are looked up
    once per process: threadpoolctl's lookup costs milliseconds)."""
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


def _gamma(d: int) -> float:
    return (d + 4) * 2.0**-52


def _gamma32(d: int) -> float:
    """The float32 products' bound (inputs rounded to float32 included): ``d2`` is off
    by at most ``gamma32 * (|p|^2 + |x|^2)``."""
    return (d + 4) * 2.0**-24 / (1.0 - (d + 4) * 2.0**-24)


def _origin(X):
    """``(origin, largest squared norm about it)``: the data's mean where centring on it
    shrinks the largest squared norm (the products' error) at least fourfold, else 0
    (unit vectors spread over the sphere: no copy is needed).  No temporary of X's
    size."""
    xsq = np.einsum("ij,ij->i", X, X)
    if X.shape[0] == 0:
        return np.zeros(X.shape[1]), 0.0
    mean = X.mean(axis=0)
    centred_sq = xsq - 2.0 * (X @ mean) + float(mean @ mean)
    if 4.0 * float(centred_sq.max()) > float(xsq.max()):
        return np.zeros(X.shape[1]), float(xsq.max())
    return mean, float(centred_sq.max())


def blas_usable(data, bandwidth: float) -> tuple[bool, str]:
    """Whether the matrix-product path computes every weight of ``data`` at this
    bandwidth within ``MAX_WEIGHT_ERROR`` (module notes), and why."""
    X = np.asarray(data, dtype=np.float64)
    if X.shape[0] == 0:
        return False, "no data"
    _, norm2 = _origin(X)
    # Seeds are means of the data: within the same ball about the origin.
    err = 4.0 * _gamma(X.shape[1]) * norm2 / float(bandwidth) ** 2
    if err > MAX_WEIGHT_ERROR:
        return False, (f"the bandwidth is too small against the data's spread for "
                       f"products (weight error up to {err:.1g})")
    return True, f"weight error at most {err:.1g}"


class BlasSums:
    """The data of one fit, centred, for :meth:`sums` by blocks of matrix products."""

    def __init__(self, data, weights, bandwidth: float, kernel: Kernel, n_jobs=None,
                 tiles: bool = True):
        self.X = np.ascontiguousarray(data, dtype=np.float64)
        self.origin, _ = _origin(self.X)
        self.Xc = (self.X if not self.origin.any()
                   else np.ascontiguousarray(self.X - self.origin))
        self.xsq = np.einsum("ij,ij->i", self.Xc, self.Xc)
        self.n_jobs = n_jobs
        self.weigh = _weigh(kernel)
        self.w = np.ones(0) if weights is None else np.asarray(weights, dtype=np.float64)
        self.has_w = weights is not None
        self.inv_h2 = 1.0 / float(bandwidth) ** 2
        self.kernel = kernel
        compact = self.compact = bool(np.isfinite(kernel.support))
        # The support's boundary in u2 (the flat kernel's EDGE; 1 for the others, whose
        # weight is 0 there, so the decision cannot move a sum).
        self.edge = EDGE * float(kernel.support) ** 2 if compact else math.inf
        self.gamma = _gamma(self.Xc.shape[1])
        self.tiles: TileCover | None = None
        # None: the cover is not decided yet; 1.0 without one (``tiles=False``: none).
        self.tile_share: float | None = None if tiles else 1.0
        # The flat kernel adds tiles that lie entirely within its support by their sums
        # (a point at most h from a position is within the boundary rule's reach).
        self.inside = float(bandwidth) if kernel.code == 0 else None
        self.pairs = 0  # pairs multiplied by the last call
        # The flat kernel decides its support from float32 products (module notes)
        # where the data's squared norms keep float32 far from over- and underflow.
        xmax = float(self.xsq.max()) if self.Xc.shape[0] else 0.0
        self.flat32 = (kernel.code == 0 and compact and FLAT32_LOW <= xmax <= FLAT32_HIGH)
        self.gamma32 = _gamma32(self.Xc.shape[1])
        self._Xc32: np.ndarray | None = None
        self._exact32: Any = None

    def exact32(self):
        """``(X32, largest squared norm)``: the data as float32 where every value is
        exactly a float32 (integer counts, pixels, float32 embeddings: sums of its
        values in float64 are then those of the data, from half the bytes), else
        None; decided once."""
        if self._exact32 is None:
            X32 = self.X.astype(np.float32)
            self._exact32 = (X32, float(np.einsum("ij,ij->i", self.X, self.X).max())) if (
                self.X.size and np.array_equal(X32, self.X)) else False
        return self._exact32 or None

    def float32_kept(self) -> bool:
        """Whether :meth:`float32_rows` keeps a whole float32 copy of the data."""
        return self.Xc.nbytes // 2 <= COPY_BYTES

    def float32_rows(self, rows=None):
        """The centred data (the rows ``rows``: an index array or a slice) as float32;
        the whole copy is kept while it takes at most :data:`COPY_BYTES`."""
        if self._Xc32 is None and self.float32_kept():
            self._Xc32 = self.Xc.astype(np.float32)
        if rows is None:
            rows = slice(None)
        if self._Xc32 is not None:
            return self._Xc32[rows]
        return self.Xc[rows].astype(np.float32)

    def use_tiles(self) -> float:
        """Cover the data by tiles (:mod:`._tiles`) when the kernel is compact and the
        cover would cut the pairs to at most ``_tiles.MAX_SHARE``; returns the share of
        all pairs the data, as positions, would then multiply (1.0: no cover)."""
        if self.tile_share is None:
            self.tile_share = 1.0
            if self.compact and self.Xc.shape[0] > 0:
                with _one_blas_thread():  # see _tile_sums
                    cover = TileCover(self.Xc, self.xsq,
                                      math.sqrt(self.edge / self.inv_h2))
                if cover.share <= TILE_MAX_SHARE:
                    self.tiles, self.tile_share = cover, cover.share
                    if self.inside is not None:
                        cover.inner_sums(self.Xc, self.w if self.has_w else None)
                logger.debug("numba engine: tiles of the data cut the products to %.0f%% of "
                             "all pairs (%.0f%% of them within reach)%s", 100 * cover.share,
                             100 * cover.fill, "" if self.tiles is not None else
                             f": not used (over {TILE_MAX_SHARE:.0%})")
        return self.tile_share

    def sums(self, positions):
        """``(num, den)`` of every position (see the engine contract).  Positions that
        coincide (a climb's seeds meet, bit for bit, on the flat kernel's modes) are
        computed once."""
        P = np.ascontiguousarray(positions, dtype=np.float64)
        m, d = P.shape
        n = self.Xc.shape[0]
        if m == 0 or n == 0:
            return np.zeros((m, d)), np.zeros(m)
        first, inverse = distinct_rows(P)
        if len(first) < m:
            num, den = self._sums(P[first])
            return num[inverse], den[inverse]
        return self._sums(P)

    def _sums(self, P):
        m, d = P.shape
        n = self.Xc.shape[0]
        xmax = float(self.xsq.max())
        small_ok = self.kernel.code == 3
        self.use_tiles()  # decided on the first call (neighbour lists may need none)
        Pc = P32 = None
        if self.flat32:  # the products need only the positions as float32
            P32 = np.empty((m, d), dtype=np.float32)
            psq = np.empty(m)
            _centred32(P, self.origin, P32, psq)
        else:
            Pc = P - self.origin
            psq = np.einsum("ij,ij->i", Pc, Pc)
        # ``rows``: the positions (rows of P) in the order of the blocks below.
        perm = None
        rows = np.arange(m)
        if self.tiles is not None:
            # The positions in the order of the cover's blocks: a block is a range.
            with _one_blas_thread():
                perm, entries = self.tiles.plan(psq, ROWS, self.inside,
                                                P32 if Pc is None else
                                                Pc.astype(np.float32))
            psq = psq[perm]
            if Pc is None:
                assert P32 is not None
                P32, rows = P32[perm], perm
            else:
                P, Pc = P[perm], Pc[perm]
        num = np.zeros((m, d))
        den = np.zeros(m)

        def add(a, b, cols):
            """The sums of the positions ``a:b`` against the columns ``cols``
            (:meth:`_columns`), added to ``num`` and ``den``."""
            Xg, xrow, xsq, w, Xg32, total = cols
            X = self.X
            pb = psq[a:b]
            if P32 is not None:
                tol = 2.0 * self.gamma32 * (float(pb.max()) + xmax) * self.inv_h2
                G = np.matmul(P32[a:b], Xg32.T,
                              out=scratch("matmul.G", (b - a, len(Xg)), np.float32))
                # Rows of whole 8-byte words (_flat_mask reads them eight at a time).
                mask = scratch("matmul.mask", (b - a, -(-len(Xg) // 8) * 8), np.uint8)
                weight = np.empty(b - a)
                minority = _flat_mask(G, pb, xsq, w, self.has_w, P, rows[a:b], X, xrow,
                                      self.inv_h2, self.edge, tol, mask, weight)
                if minority <= SPARSE_SHARE * G.size:
                    _flat_sparse(mask, weight, w, self.has_w, Xg, total, num[a:b],
                                 den[a:b])
                    return
                mask = mask[:, :len(Xg)]
                W = (mask * w if self.has_w else mask.astype(np.float64))
                num[a:b] += W @ Xg
                den[a:b] += weight
                return
            tol = 2.0 * self.gamma * (float(pb.max()) + xmax) * self.inv_h2
            # The triangular weight 1 - sqrt(u2) is steep near 0: recompute exactly
            # where an error of tol in u2 would move it by more than MAX_WEIGHT_ERROR.
            small = (tol / (2.0 * MAX_WEIGHT_ERROR)) ** 2 if small_ok else -1.0
            assert Pc is not None  # made where the products are float64
            W = np.matmul(Pc[a:b], Xg.T, out=scratch("matmul.W", (b - a, len(Xg)), np.float64))
            self.weigh(0, b - a, W, pb, xsq, w, self.has_w, P[a:b], X, 0, xrow,
                       self.inv_h2, self.edge, tol, small)
            num[a:b] += W @ Xg
            den[a:b] += W.sum(axis=1)

        if perm is not None:
            self._tile_sums(entries, num, den, add)
        else:
            self.pairs = m * n
            # Blocks of fixed shape, whatever the thread count: a product's rounding may
            # depend on the shape of the block, never on the threads.
            chunks = [self._columns(slice(c0, min(n, c0 + COLUMNS)))
                      for c0 in range(0, n, COLUMNS)]
            with _one_blas_thread():
                run_ranges(partial(_blocks, [(r0, min(m, r0 + ROWS), chunks)
                                             for r0 in range(0, m, ROWS)], add),
                           -(-m // ROWS), self.n_jobs)
        if perm is not None:  # back to the positions' order
            out, weights = np.empty_like(num), np.empty_like(den)
            _unpermute(num, den, perm, self.origin, out, weights)
            return out, weights
        num += den[:, None] * self.origin
        return num, den

    def _columns(self, rows):
        """The columns of a block for ``rows`` (a slice: views, or an index array:
        gathered): centred rows, the data's row indices, squared norms, weights,
        float32 centred rows and the weighted sum of the centred rows (the flat
        kernel's)."""
        Xg = self.Xc[rows]
        w = self.w[rows] if self.has_w else self.w
        total = None
        if self.flat32:
            total = (w @ Xg if self.has_w else Xg.sum(axis=0))
        xrow = (np.arange(*rows.indices(self.Xc.shape[0])) if isinstance(rows, slice)
                else rows)
        return (Xg, xrow, self.xsq[rows], w, self.float32_rows(rows) if self.flat32
                else None, total)

    def _tile_sums(self, entries, num, den, add):
        """The sums by the blocks of positions of :meth:`TileCover.plan` (``entries``)
        against the tiles they reach (:mod:`._tiles`): blocks that reach the same tiles
        share one gather of those rows (``COLUMNS`` rows at a time), and the blocks of
        every set gathered go to the threads together (sets are gathered up to
        ``GATHER_BYTES`` at a time); a block takes its set's gathers in order."""
        cover = self.tiles
        assert cover is not None
        sets: dict[bytes, tuple[np.ndarray, list]] = {}
        pairs = 0
        # Every product here on one BLAS thread, the grouping's too: after a threaded
        # product the BLAS's threads spin for a while and slow the blocks' threads.
        with _one_blas_thread():
            for a, b, tiles, whole in entries:
                if whole.any():  # tiles entirely within the flat kernel's support
                    num[a:b] += whole @ cover.total
                    den[a:b] += whole @ cover.mass
                if tiles.any():
                    sets.setdefault(tiles.tobytes(), (tiles, []))[1].append((a, b))
            tasks: list = []
            held = 0
            row_bytes = self.Xc.shape[1] * 12 + 24  # a gathered row: float64, float32, ...

            def flush():
                run_ranges(partial(_blocks, tasks, add), len(tasks), self.n_jobs)
                tasks.clear()

            for tiles, blocks in sets.values():
                rows = cover.rows(tiles)
                pairs += len(rows) * sum(b - a for a, b in blocks)
                if tasks and held + len(rows) * row_bytes > GATHER_BYTES:
                    flush()
                    held = 0
                chunks = [self._columns(rows[c0:c0 + COLUMNS])
                          for c0 in range(0, len(rows), COLUMNS)]
                held += len(rows) * row_bytes
                tasks += [(a, b, chunks) for a, b in blocks]
            if tasks:
                flush()
        self.pairs = pairs


def _blocks(tasks, add, a, b):
    """The blocks ``tasks[a:b]`` of :meth:`BlasSums._sums` (``(first, end, chunks)``: a
    range of positions and the column chunks it meets, in order)."""
    for k in range(a, b):
        r0, r1, chunks = tasks[k]
        for cols in chunks:
            add(r0, r1, cols)
