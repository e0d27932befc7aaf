"""A cover of the data by tiles: the matrix-product path's pruning.

Clustered data in many features (embeddings, image descriptors, the blobs of the
benchmarks) leave most points far outside a seed's support, yet a k-d tree or a grid
on a few axes prunes little there and runs far below the BLAS's rate.  Here the data
are covered once by :data:`TILES` tiles: pivots chosen farthest-first (Gonzalez's
2-approximation of the k-center cover) among at most :data:`SAMPLE` rows spread over
the data, every row in the tile of its nearest pivot, each tile with the radius of its
farthest row.  At a step the positions are grouped the same way (nearest pivot, from
one float32 product with the pivots and the tiles' centroids, widened by its error
bound; the group's radius ``rho`` is its farthest position's; the positions are then
taken in the blocks' order, so that a block is a range) and a group is multiplied only by
the tiles that can reach it: by the triangle inequality a row ``x`` of tile ``t``
within the support radius ``R`` of a position ``p`` of group ``g`` needs
``|c_g - c_t| <= rho + R + r_t``.  Groups that reach the same tiles are cut together
into blocks of ``ROWS`` positions; a block's candidates are gathered into one
contiguous array (once per distinct set of tiles), and the products, the weights and
the boundary rule are those of :class:`._matmul.BlasSums`: the weights are the ones
the plain products compute, pairs left out have weight zero.  For the flat kernel a
tile that lies within a bandwidth of every position of a block (its centroid's
distance plus its spread about it) is added by its sums instead
(:meth:`TileCover.inner_sums`): all of its rows lie within the support.

Every radius is an upper bound (the products' error bound, as in :mod:`._matmul`,
is added before the square root) and the pivot distances are computed from
coordinate differences, with a relative margin on the test, so no point within reach
is ever left out.
"""

from __future__ import annotations

import math

import numpy as np

from ..._compile import njit

__all__ = ["TileCover", "TILES", "SAMPLE", "MAX_SHARE"]

#: Pivots of the cover.
TILES = 64
#: Rows (spread over the data) among which the pivots are chosen.
SAMPLE = 4096
#: The cover is used when the data, as positions, would multiply at most this share of
#: all pairs (else the plain products: the gathers would cost without pruning).
MAX_SHARE = 0.7
#: Rows of the pilot that measures the cover's fill (``TileCover._fill``).
PILOT = 64
#: Relative margin on the triangle-inequality test (the square roots' rounding).
MARGIN = 1e-9


@njit(cache=True, nogil=True, fastmath={"reassoc", "nsz", "contract"})
def _farthest_first(S, k):
    """Indices of at most ``k`` rows of ``S`` chosen farthest-first from row 0 (stops
    early when every row coincides with a pivot); distances from coordinate
    differences, summed in any order (vectorised: the choice of pivots needs no exact
    distances, the tiles' radii are computed afterwards with their error bound)."""
    m, d = S.shape
    best = np.full(m, np.inf)
    piv = np.empty(k, dtype=np.int64)
    j = 0
    count = 0
    for _ in range(k):
        piv[count] = j
        count += 1
        far = -1.0
        nxt = 0
        for i in range(m):
            d2 = 0.0
            for c in range(d):
                t = S[i, c] - S[j, c]
                d2 += t * t
            if d2 < best[i]:
                best[i] = d2
            if best[i] > far:
                far = best[i]
                nxt = i
        if far <= 0.0:
            break
        j = nxt
    return piv[:count]


@njit(cache=True, nogil=True)
def _place(G, psq, csq, midsq, gamma, group, bound2, far2):
    """Per row of the block ``G = P [C; M]^T`` (float32 products of the positions with
    the pivots ``C`` and, in the columns after them, the tiles' centroids ``M``): the
    nearest pivot (``group``), an upper bound of the squared distance to it
    (``bound2``) and, where ``far2`` has columns, upper bounds of the squared distances
    to the centroids: the products' values plus their error bound ``gamma * (|p|^2 +
    |c|^2)``."""
    m = G.shape[0]
    k = csq.shape[0]
    f = far2.shape[1]
    for i in range(m):
        p2 = psq[i]
        arg = 0
        low = np.inf
        for t in range(k):
            v = p2 + csq[t] - 2.0 * np.float64(G[i, t])
            if v < low:
                low = v
                arg = t
        group[i] = arg
        bound2[i] = max(low, 0.0) + gamma * (p2 + csq[arg])
        for t in range(f):
            far2[i, t] = (max(p2 + midsq[t] - 2.0 * np.float64(G[i, k + t]), 0.0)
                          + gamma * (p2 + midsq[t]))


@njit(cache=True, nogil=True)
def _block_max(far2, perm, starts, out):
    """Per block ``e`` (positions ``perm[starts[e]:starts[e + 1]]``), the largest of
    their rows of ``far2``, column by column, into ``out[e]``."""
    k = far2.shape[1]
    for e in range(starts.shape[0] - 1):
        for t in range(k):
            out[e, t] = -np.inf
        for i in range(starts[e], starts[e + 1]):
            r = perm[i]
            for t in range(k):
                out[e, t] = max(out[e, t], far2[r, t])


@njit(cache=True, nogil=True)
def _tile_sums(Xc, order, starts, w, has_w, total, mass, mid, spread2):
    """Per tile (rows ``order[starts[t]:starts[t + 1]]`` of ``Xc``): the weighted sum of
    its rows into ``total``, of their weights into ``mass``, their centroid into ``mid``
    (tiles with rows) and their largest squared distance from it into ``spread2``."""
    d = Xc.shape[1]
    for t in range(starts.shape[0] - 1):
        a, b = starts[t], starts[t + 1]
        if b == a:
            continue
        for k in range(d):
            mid[t, k] = 0.0
        for r in range(a, b):
            x = Xc[order[r]]
            wt = w[order[r]] if has_w else 1.0
            mass[t] += wt
            for k in range(d):
                total[t, k] += wt * x[k]
                mid[t, k] += x[k]
        for k in range(d):
            mid[t, k] /= b - a
        far = 0.0
        for r in range(a, b):
            x = Xc[order[r]]
            d2 = 0.0
            for k in range(d):
                e = x[k] - mid[t, k]
                d2 += e * e
            far = max(far, d2)
        spread2[t] = far


class TileCover:
    """The tiles of the centred data ``Xc`` (module notes): ``order`` (the rows, tile
    after tile), ``starts`` (tile ``t``'s rows are ``order[starts[t]:starts[t+1]]``),
    ``radius`` per tile, the pivots ``C`` and their distances ``between``."""

    def __init__(self, Xc, xsq, reach: float):
        self.reach = reach
        # Twice the float32 products' bound of :meth:`plan` and :meth:`assign` (see
        # ``_matmul._gamma32``).
        u = (Xc.shape[1] + 4) * 2.0**-24
        self.gamma32 = 4.0 * u / (1.0 - u)
        step = max(1, Xc.shape[0] // SAMPLE)
        rows = np.arange(0, Xc.shape[0], step)[:SAMPLE]
        sample = np.ascontiguousarray(Xc[rows])
        piv = _farthest_first(sample, TILES)
        self.C = np.ascontiguousarray(sample[piv])
        self.csq = np.einsum("ij,ij->i", self.C, self.C)
        self.M32 = self.C.astype(np.float32)  # with the centroids after inner_sums
        diff = self.C[:, None, :] - self.C[None, :, :]
        self.between = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
        # First the sample alone: where its tiles do not prune (overlapping clusters,
        # uniform data), the cover stops before the pass over all of the data.
        self._tile(sample, xsq[rows])
        self.share = self._share()
        self.fill = self._fill(sample, xsq[rows])
        if self.share <= MAX_SHARE and len(rows) < Xc.shape[0]:
            self._tile(Xc, xsq)
            self.share = self._share()

    def _tile(self, Xc, xsq):
        """Every row of ``Xc`` into the tile of its nearest pivot; the tiles' radii."""
        k = len(self.C)
        group, bound2 = self.assign(Xc, xsq)
        self.order = np.argsort(group, kind="stable")
        self.starts = np.searchsorted(group[self.order], np.arange(k + 1))
        self.sizes = np.diff(self.starts)
        ranked = bound2[self.order]
        full = self.sizes > 0
        r2 = np.zeros(k)
        r2[full] = np.maximum.reduceat(ranked, self.starts[:-1][full])
        self.radius = np.sqrt(r2)
        self.group, self.bound2 = group, bound2

    def assign(self, Pc, psq):
        """``(group, bound2)`` of the centred positions ``Pc``: their nearest pivot and
        an upper bound of the squared distance to it (one float32 product with its
        error bound, as :meth:`plan`'s)."""
        m = Pc.shape[0]
        group = np.empty(m, dtype=np.int64)
        bound2 = np.empty(m)
        none = np.empty((0, 0))
        k = len(self.C)
        for r0 in range(0, m, 8192):
            r1 = min(m, r0 + 8192)
            _place(Pc[r0:r1].astype(np.float32) @ self.M32[:k].T, psq[r0:r1], self.csq,
                   self.csq, self.gamma32, group[r0:r1], bound2[r0:r1], none)
        return group, bound2

    def tiles_near(self, g: int, rho: float):
        """The tiles a block of group ``g`` with radius ``rho`` can reach (a bool per
        tile)."""
        return self.between[g] <= (rho + self.reach + self.radius) * (1.0 + MARGIN)

    def rows(self, tiles) -> np.ndarray:
        """The rows of the ``tiles`` (a bool mask), tile after tile."""
        runs = [self.order[self.starts[t]:self.starts[t + 1]] for t in np.flatnonzero(tiles)]
        return np.concatenate(runs) if runs else np.zeros(0, dtype=np.int64)

    def _share(self):
        """The share of all pairs the tiled rows would multiply as positions (each
        tile's rows a group of the tile's radius)."""
        n = int(self.sizes.sum())
        return sum(int(self.sizes[g]) * int(self.sizes[self.tiles_near(g, r)].sum())
                   for g, r in enumerate(self.radius)) / max(1, n * n)

    def _fill(self, Xc, xsq):
        """The share of a pilot's candidates within the support radius: :data:`PILOT`
        of the tiled rows ``Xc``, spread over them, each with the tiles it reaches.  Low
        where neighbourhoods are small against the tiles (many modes), where an index's
        fused climb does better."""
        n = Xc.shape[0]
        pilot = np.arange(0, n, max(1, n // PILOT))[:PILOT]
        d2 = xsq[pilot][:, None] + xsq[None, :] - 2.0 * (Xc[pilot] @ Xc.T)
        inside = int(np.count_nonzero(d2 <= self.reach * self.reach))
        total = sum(int(self.sizes[self.tiles_near(int(self.group[i]),
                                                   math.sqrt(float(self.bound2[i])))].sum())
                    for i in pilot)
        return inside / max(1, total)

    def inner_sums(self, Xc, w):
        """For whole-tile sums (the flat kernel): each tile's centroid ``mid``, an upper
        bound ``spread`` of its rows' distance from it, and the (weighted) sum of its
        rows ``total`` and of their weights ``mass``."""
        k, d = self.C.shape
        self.total = np.zeros((k, d))
        self.mass = np.zeros(k)
        self.mid = self.C.copy()  # an empty tile's: never used (it holds no rows)
        spread2 = np.zeros(k)
        _tile_sums(Xc, self.order, self.starts, np.ones(0) if w is None else
                   np.asarray(w, dtype=np.float64), w is not None, self.total, self.mass,
                   self.mid, spread2)
        self.mid_sq = np.einsum("ij,ij->i", self.mid, self.mid)
        self.spread = np.sqrt(spread2) * (1.0 + MARGIN)  # the sums' rounding
        self.M32 = np.concatenate([self.C, self.mid]).astype(np.float32)

    def blocks(self, Pc, psq, rows: int, inside: float | None = None):
        """``[(ids, tiles, whole), ...]``: :meth:`plan`'s blocks of the centred
        positions ``Pc`` with their indices."""
        perm, entries = self.plan(psq, rows, inside, Pc.astype(np.float32))
        return [(perm[a:b], tiles, whole) for a, b, tiles, whole in entries]

    def plan(self, psq, rows: int, inside: float | None, P32):
        """``(perm, [(a, b, tiles, whole), ...])``: the positions in blocks of at most
        ``rows``, block ``(a, b)`` holding the positions ``perm[a:b]``, each block with
        the tiles it reaches: the positions are grouped by nearest pivot, a group
        reaches the tiles its farthest position can, and groups that reach the same
        tiles are cut into blocks together (full blocks run the products at the BLAS's
        rate).  With ``inside`` (a radius; :meth:`inner_sums` made), a reached tile that
        lies within ``inside`` of every position of a block goes to ``whole`` instead
        of ``tiles`` (its rows need no distances).  The positions are given centred,
        as float32 (``P32``), with their squared norms ``psq``: the distances to the
        pivots and centroids come from one float32 product with its error bound."""
        m = psq.shape[0]
        k = len(self.C)
        far = inside is not None
        group = np.empty(m, dtype=np.int64)
        bound2 = np.empty(m)
        far2 = np.empty((m, k if far else 0))
        M32 = self.M32 if far else self.M32[:k]
        for r0 in range(0, m, 8192):
            r1 = min(m, r0 + 8192)
            _place(P32[r0:r1] @ M32.T, psq[r0:r1], self.csq,
                   self.mid_sq if far else self.csq, self.gamma32, group[r0:r1],
                   bound2[r0:r1], far2[r0:r1])
        order = np.argsort(group, kind="stable")
        cuts = np.flatnonzero(np.diff(group[order])) + 1
        sets: dict[bytes, tuple[np.ndarray, list]] = {}
        for part in np.split(order, cuts):
            g = int(group[part[0]])
            tiles = self.tiles_near(g, math.sqrt(float(bound2[part].max())))
            sets.setdefault(tiles.tobytes(), (tiles, []))[1].append(part)
        perm = np.concatenate([np.concatenate(parts) for _, parts in sets.values()]
                              or [np.zeros(0, dtype=np.int64)])
        bounds = []
        at = 0
        for tiles, parts in sets.values():
            size = sum(len(p) for p in parts)
            bounds += [(a, min(at + size, a + rows), tiles) for a in range(at, at + size, rows)]
            at += size
        whole = np.zeros((len(bounds), k), dtype=bool)
        if far and inside is not None and bounds:
            # Per block, each centroid's farthest position (an upper bound).
            far_block = np.empty((len(bounds), k))
            _block_max(far2, perm, np.array([b[0] for b in bounds] + [m]), far_block)
            whole = np.sqrt(far_block) + self.spread <= inside * (1.0 - MARGIN)
        return perm, [(a, b, tiles & ~whole[e], tiles & whole[e])
                      for e, (a, b, tiles) in enumerate(bounds)]
