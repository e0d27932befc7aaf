"""Neighbour lists with a skin: the steps of one climb on the matrix-product path.

With many features and a compact kernel, a seed's step needs only the points within
the support radius ``R``, often a few percent of the data (scikit-learn's digits at
bandwidth 25: 1.4 %), yet every step of :class:`._matmul.BlasSums` multiplies the
seeds by all of the data.  Here each seed keeps a list of *candidates*: the points
within ``R + skin`` of an *anchor*, the position where the list was made (``skin`` =
:data:`SKIN` bandwidths).  While the seed stays within ``skin`` of its anchor, every
point within ``R`` of it is on the list (triangle inequality:
``|x - anchor| <= |x - p| + |p - anchor|``), so its step only visits the list.  A seed
that moves farther gets a new list, made by a float32 matrix product of all such seeds
against all of the data (the products' error is bounded, and the list takes every point
within that bound of ``R + skin``: see :meth:`NeighbourLists._candidates`).  This is
the molecular-dynamics device of Verlet lists.

The step over a list computes each distance from coordinate differences in float32
(vectorised over the features; half the bytes of each row read at random), bounded by
their error: a pair within that bound of the support's boundary is recomputed in the
reference's order (feature by feature), so the support is decided as the reference
decides it (the other kernels weigh the pairs within reach by float64 distances), and
the weighted sums add the points of nonzero weight in index order: the result does not
depend on the lists, the skin or the threads.  Where every value of the data is a
float32 (integer counts, pixels, float32 embeddings), the sums read the same float32
rows as the distances, which the first pass has just brought into the cache.

A climb's steps often land on a position met before, bit for bit (the flat kernel's
climbs from different seeds join: on digits at bandwidth 25, about 9 700 distinct
positions in 16 000 steps).  Their sums are kept in a memo (an open-addressing table
on the positions' bits, as :mod:`._paths` keeps its own; up to :data:`MEMO_BYTES`) and
summed once; since a position's sums do not depend on the lists, the climb is the same.

The lists are used where they pay: when the lists of a pilot of the climb's first
positions hold more than :data:`MAX_SHARE` of the data on average, or when the lists
would take more than :data:`LIST_BYTES`, the climb goes on by plain matrix products.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from ..._arrays import words_hash
from ..._compile import njit
from ..._kernels import compiled_weight
from .._threads import run_ranges, scratch
from ._matmul import COLUMNS, FLAT32_HIGH, FLAT32_LOW, ROWS, BlasSums, _one_blas_thread, d2_exact
from ._paths import probe_from

__all__ = ["NeighbourLists", "SKIN", "MAX_SHARE", "FLAT_LIST_BYTES", "FLAT_LARGE_SHARE",
           "LIST_BYTES", "LIST_ROOM", "MEMO_BYTES"]

logger = logging.getLogger("meanshift")

#: The skin, in bandwidths: a list holds the points within the support radius plus
#: this of its anchor.  On digits at bandwidth 25 (a simulation of the exact climb's
#: paths): 0.25 -> 3.6 lists per seed of 138 points, 0.5 -> 2.5 of 288, 1 -> 1.4 of
#: 1121 (of 1797); fits there, best of 6 alternating: 0.1 -> 93 ms, 0.2 -> 87,
#: 0.25 -> 86, 0.35 -> 91, 0.5 -> 100.
SKIN = 0.25
#: Lists are made when a pilot's hold at most this share of the data on average.  A
#: list's pair costs about 16 ns against 3-6 for a product's (64 features): on 10^4
#: 64-D blobs (lists of 20 % of the data) lists took 1.71 s against 1.28 s without.
MAX_SHARE = 0.1
#: The flat kernel's products need no second product (:func:`._matmul._flat_sparse`),
#: so on data larger than this many bytes, whose list rows are read from memory at
#: random, its lists pay only while a pilot's hold at most FLAT_LARGE_SHARE of the data
#: (of the share of all pairs the products multiply, where a cover of tiles prunes
#: them: 20000 x 64-D blobs, 20 centres, bandwidth 9.05, lists of 2.6 % against tiled
#: products of 5 %: 3.34 s with lists at 07:18, 0.50 s without them at 07:24;
#: ``bench_highd.py --case choice``).
#: ``python benchmarks/bench_highd.py`` (04:09), lists against products: digits (0.9
#: MB, lists of 4 % of the data) 0.057 against 0.077 s; 10^5 x 128 directions (102 MB,
#: 5 %) 1.51 against 1.35 s; 2 x 10^4 x 128, every point a seed (20 MB, 5.5 %) 3.24
#: against 2.91 s.  The 10^5 x 128 directions with 1000 seeds at smaller bandwidths (an
#: ad-hoc script, best of 2, 05:15): lists of 5.0 % 0.97 against 0.91 s, of 4.25 % 1.37
#: against 1.49 s.
FLAT_LIST_BYTES = 2 << 20
FLAT_LARGE_SHARE = 0.04
#: Seeds of that pilot.
PILOT = 64
#: Most memory for the lists of one climb (int32 indices).
LIST_BYTES = 128 << 20
#: Most memory for the sums of the positions met in one climb (its steps often meet a
#: position again, bit for bit: the flat kernel's climbs from different seeds join).
MEMO_BYTES = 32 << 20
#: Seeds climb in batches with room for lists this many times a pilot's mean length
#: (lists near the modes, in the densest data, are the longest).
LIST_ROOM = 4

_FAST = {"reassoc", "nsz", "contract"}


@njit(cache=True, nogil=True, fastmath=_FAST)
def _list_sums(a, b, ids, P, cand, count, X, X32, origin, Xs, tol, tol_x, w, has_w, code,
               inv_h2, edge, rel, num, den, d2s):
    """Kernel sums of the seeds ``ids[a:b]`` at ``P[a:b]`` over their lists (module
    notes) into ``num[t]``, ``den[t]``; ``d2s`` is float32 scratch of a list's length.
    Returns the pairs visited.  Two passes per seed: the squared distances to its list
    in float32 (``X32``: the data less ``origin``, as float32, or in float64 when no
    copy is kept), vectorised over the features; then the sums of the rows ``Xs`` (the
    data's values: ``X``, or ``X32`` where those are exactly the data's, whose rows the
    first pass just read) over the points the distances put within their error bound
    of the support or inside it (``tol * (|p|^2 + R^2) + tol_x``: see
    :class:`NeighbourLists`).  The flat kernel decides the points within ``tol``
    of the boundary from the reference's sum; the other kernels take their weights
    from float64 distances, decided within rounding of the boundary in the same way."""
    d = X.shape[1]
    pc = np.empty(d, dtype=np.float32)
    acc = np.empty(d)  # a local sum (one in the output's row runs slower: aliasing)
    keep = np.empty(d2s.shape[0], dtype=np.int64)
    r2 = edge / inv_h2  # the support's squared radius
    pairs = 0
    for t in range(a, b):
        i = ids[t]
        m = count[i]
        pairs += m
        p = P[t]
        row = cand[i]
        psq = 0.0
        for k in range(d):
            c = p[k] - origin[k]
            psq += c * c
            pc[k] = np.float32(c)
        band = tol * (psq + r2) + tol_x
        hi = r2 + band  # made float32 rounded outwards
        lo = r2 - band
        hi = np.float32(hi + abs(hi) * 2.0**-22)
        lo = np.float32(lo - abs(lo) * 2.0**-22)
        for q in range(m):
            x = X32[row[q]]
            d2 = np.float32(0.0)
            for k in range(d):
                e = np.float32(x[k]) - pc[k]
                d2 += e * e
            d2s[q] = d2
        c = 0  # the points that may be within reach, found without branches
        for q in range(m):
            keep[c] = q
            c += not d2s[q] > hi
        total = 0.0
        for k in range(d):
            acc[k] = 0.0
        for r in range(c):
            q = keep[r]
            j = row[q]
            if code == 0:
                if not d2s[q] < lo and d2_exact(X[j], p) * inv_h2 > edge:
                    continue  # within the band: the reference's sum decides
                wt = 1.0
            else:
                x = X[j]
                u2 = 0.0
                for k in range(d):
                    e = x[k] - p[k]
                    u2 += e * e
                u2 *= inv_h2
                if u2 > edge * (1.0 + rel):
                    continue
                if abs(u2 - edge) <= rel * u2:
                    # Within rounding of the boundary: the reference's sum decides.
                    u2 = d2_exact(x, p) * inv_h2
                    if u2 > edge:
                        continue
                wt = compiled_weight(code, u2, 1.0)
            if has_w:
                wt *= w[j]
            total += wt
            xs = Xs[j]
            for k in range(d):
                acc[k] += wt * np.float64(xs[k])
        for k in range(d):
            num[t, k] = acc[k]
        den[t] = total
    return pairs


@njit(cache=True, nogil=True)
def _collect(G, psq, xsq, limit2, gamma, xmax, cols):
    """``(counts, cols)``: per row of the block ``G = P_c X_c^T`` (float32 products),
    the points whose distance from the product, ``psq + xsq - 2 G`` (in float64), is
    within ``limit2`` plus the products' error bound (as in :mod:`._matmul`): their
    count, and their indices row after row, each row's in order (``cols``: scratch of
    ``G.size``).  Per row, a pass without branches flags the points (it vectorises),
    and a second reads the flags eight at a time, passing over words with none (most:
    a list holds a few percent of the data)."""
    m, n = G.shape
    counts = np.zeros(m, dtype=np.int64)
    flag = np.zeros(-(-n // 8) * 8, dtype=np.uint8)
    words = flag.view(np.uint64)
    xs = xsq[:n]
    at = 0
    for i in range(m):
        # The margin (the products' bound and limit2's) covers this sum's rounding.
        lim = limit2 + 2.0 * gamma * (psq[i] + xmax) - psq[i]
        for j in range(n):
            flag[j] = xs[j] - 2.0 * np.float64(G[i, j]) <= lim
        start = at
        for t in range(words.shape[0]):
            if words[t] != 0:
                for j in range(8 * t, 8 * t + 8):
                    cols[at] = j
                    at += flag[j]
        counts[i] = at - start
    return counts, cols[:at].copy()


@njit(cache=True, nogil=True)
def _stale(P, anchor, ids, keep2, out):
    """Whether each seed ``ids[r]`` at ``P[r]`` moved more than ``sqrt(keep2)`` from its
    list's anchor (a NaN anchor, no list yet, is stale too)."""
    d = P.shape[1]
    for r in range(ids.shape[0]):
        a = anchor[ids[r]]
        s = 0.0
        for k in range(d):
            t = P[r, k] - a[k]
            s += t * t
        out[r] = not s <= keep2


@njit(cache=True, nogil=True)
def _place(cand, count, ids, counts, cols):
    """The lists of the seeds ``ids`` (``counts`` indices each, in ``cols`` one after
    another) into their rows of ``cand``."""
    at = 0
    for r in range(ids.shape[0]):
        i = ids[r]
        c = counts[r]
        for q in range(c):
            cand[i, q] = cols[at + q]
        count[i] = c
        at += c


@njit(cache=True, nogil=True)
def _find(keys, ebits, bits):
    """:func:`._paths.probe` for long rows: a table laid out as the paths' (slots
    holding entry + 1, the entries' 64-bit words) and searched by the same
    :func:`._paths.probe_from`, with the cheaper :func:`meanshift._arrays.words_hash`
    (mixing every word, as the paths' table does, costs most of a 64-word lookup)."""
    mask = np.uint64(keys.shape[0] - 1)
    return probe_from(keys, ebits, bits, np.int64(words_hash(bits) & mask))


@njit(cache=True, nogil=True)
def _claim(keys, ebits, size, ubits, entry, maker):
    """The memo's entry of each row of ``ubits`` (positions' 64-bit words) into
    ``entry``: the entry holding the same words, or a new one from ``size`` on (its
    words stored, ``maker[e - size]`` the row that made it), or -1 when the memo is
    full.  Returns the new size."""
    start = size
    for i in range(ubits.shape[0]):
        e = _find(keys, ebits, ubits[i])
        if e >= 0:
            entry[i] = e
        elif size >= ebits.shape[0]:
            entry[i] = -1
        else:
            for k in range(ubits.shape[1]):
                ebits[size, k] = ubits[i, k]
            keys[-2 - e] = size + 1
            entry[i] = size
            maker[size - start] = i
            size += 1
    return size


@njit(cache=True, nogil=True)
def _recall(entry, rows, fresh, start, n_rows, d_rows, mnum, mden, num, den):
    """A step's sums from the memo (:meth:`_Memo.sums`): the sums computed for ``rows``
    (``n_rows``, ``d_rows``; the first ``fresh`` made the memo's new entries from
    ``start`` on, the rest found no room) into the memo and the output, then every row
    with an entry from it."""
    d = num.shape[1]
    for r in range(rows.shape[0]):
        i = rows[r]
        if r < fresh:
            for k in range(d):
                mnum[start + r, k] = n_rows[r, k]
            mden[start + r] = d_rows[r]
        else:  # no room: the output only
            for k in range(d):
                num[i, k] = n_rows[r, k]
            den[i] = d_rows[r]
    for i in range(entry.shape[0]):
        e = entry[i]
        if e >= 0:
            for k in range(d):
                num[i, k] = mnum[e, k]
            den[i] = mden[e]


class _Memo:
    """The sums of the positions met in one climb (:func:`_claim`: an open-addressing
    table on their bits), at most :data:`MEMO_BYTES`; the arrays
    are touched only as entries fill them."""

    def __init__(self, d: int):
        cap = max(1, MEMO_BYTES // ((2 * d + 1) * 8))
        self.keys = np.zeros(1 << (2 * cap - 1).bit_length(), dtype=np.int64)
        self.P = np.empty((cap, d))
        self.num = np.empty((cap, d))
        self.den = np.empty(cap)
        self.size = 0

    def sums(self, P, compute):
        """``(num, den)`` of the positions ``P``: from the memo, else by
        ``compute(rows)`` (the sums of ``P[rows]``), kept."""
        m = len(P)
        entry = np.empty(m, dtype=np.int64)
        maker = np.empty(m, dtype=np.int64)
        start = self.size
        self.size = _claim(self.keys, self.P.view(np.int64), start, P.view(np.int64),
                           entry, maker)
        fresh = self.size - start
        out = np.flatnonzero(entry < 0)  # no room in the memo
        rows = np.concatenate([maker[:fresh], out])
        num, den = np.empty(P.shape), np.empty(m)
        n_rows, d_rows = compute(rows) if len(rows) else (num[:0], den[:0])
        _recall(entry, rows, fresh, start, n_rows, d_rows, self.num, self.den, num, den)
        return num, den


class NeighbourLists:
    """The step sums of one climb of ``n_seeds`` seeds by neighbour lists (module
    notes); called as ``sums(ids, positions) -> (num, den)``."""

    def __init__(self, blas: BlasSums, n_seeds: int, n_jobs=None, on: bool | None = None):
        self.blas = blas
        self.n_jobs = n_jobs
        self.n_seeds = n_seeds
        d = blas.X.shape[1]
        h = 1.0 / math.sqrt(blas.inv_h2)
        self.reach = math.sqrt(blas.edge) * h  # the support radius in data units
        self.skin = SKIN * h
        self.limit2 = (self.reach + self.skin) ** 2 * (1.0 + 1e-9)
        # A seed keeps its list while it moved at most this (squared) from its anchor.
        self.keep2 = (self.skin * (1.0 - 1e-9)) ** 2
        self.rel = 4.0 * (d + 4) * 2.0**-52  # a reordered sum's error bound, with margin
        # The float32 products that make the lists (see _candidates).
        self.gamma32 = blas.gamma32
        # Lists in use; None until the first step's pilot decides (``on``: a pilot of
        # the same positions decided already, see :meth:`batch`).
        self.on: bool | None = on
        self.pairs = 0
        self.memo: _Memo | None = None
        self.pilot_count = 0.0  # the pilot's points per list, on average
        self.widest = 0  # the longest list asked for
        self.cand = np.empty((0, 0), dtype=np.int32)
        self._started = False

    def _start(self):
        """The lists' arrays, made once the lists are on (a climb whose pilot refuses
        them never makes them)."""
        self._started = True
        blas = self.blas
        X = blas.X
        n, d = X.shape
        self.anchor = np.full((self.n_seeds, d), np.nan)
        self.count = np.zeros(self.n_seeds, dtype=np.int64)
        self.cand = np.empty((self.n_seeds, 0), dtype=np.int32)
        # The float32 distances of a step's first pass are off by at most
        # ``tol * (|p|^2 + |x|^2 + R^2)`` (p and x less the data's origin, R the
        # support's radius): the inputs' rounding to float32, ``u (|x| + |p|)`` per
        # vector, and the float32 sum, ``gamma32`` of it, bounded with a margin of 8
        # for every pair that may lie near the boundary; the largest ``|x|^2`` is
        # folded in once.
        # The rows of the steps' two passes (see _list_sums): data whose values are
        # float32 (digits' counts) as they are, for both; else the centred float32
        # copy (or the centred data, where no copy is kept) and the data.
        xmax = float(blas.xsq.max()) if n else 0.0
        exact = blas.exact32() if n else None
        if exact is not None:
            X32, xmax = exact
            self.rows = (X32, np.zeros(d), X32)
        else:
            self.rows = (blas.float32_rows() if blas.float32_kept() else blas.Xc,
                         blas.origin, X)
        self.tol = 8.0 * blas.gamma32
        if not (FLAT32_LOW <= xmax <= FLAT32_HIGH
                and FLAT32_LOW <= self.reach**2 <= FLAT32_HIGH):
            self.tol = math.inf  # float32 would over- or underflow: no filter
        self.tol_x = self.tol * xmax if xmax > 0 else self.tol
        # Only the flat kernel's steps land on a position again (0/1 weights).
        self.memo = _Memo(d) if blas.kernel.code == 0 else None

    def batch(self, P) -> int:
        """Seeds per batch whose lists fit in :data:`LIST_BYTES` with room for lists
        :data:`LIST_ROOM` times as long as a pilot's at the positions ``P`` (the seeds),
        or 0 when lists do not pay there.  The seeds of one climb are independent, so
        climbing them in batches changes nothing but the memory the lists take (with
        every seed at once, a climb's lists may outgrow the limit and the rest of it run
        by plain products)."""
        if not self._pay(np.ascontiguousarray(P, dtype=np.float64)):
            return 0
        return self.fitting(LIST_ROOM * self.pilot_count)

    def fitting(self, width) -> int:
        """Seeds whose lists of ``width`` points (at most every point) fit in
        :data:`LIST_BYTES`, at least :data:`PILOT`."""
        width = min(self.blas.Xc.shape[0], max(1, int(width)))
        return max(PILOT, LIST_BYTES // (4 * width))

    def __call__(self, ids, positions):
        P = np.ascontiguousarray(positions, dtype=np.float64)
        ids = np.asarray(ids, dtype=np.int64)
        if self.on is None:  # the climb's first step: a pilot decides
            self.on = self._pay(P)
        if self.on and not self._started:
            self._start()
        if not self.on or len(P) == 0 or self.memo is None:
            return self._sums(ids, P)
        # Positions met before in this climb, or twice in this step, are summed once:
        # a step's sums depend on its position only (module notes).
        self.pairs = 0
        return self.memo.sums(P, lambda rows: self._sums(ids[rows], P[rows]))

    def _sums(self, ids, P):
        """The sums of the seeds ``ids`` at ``P`` by their lists (remade where stale),
        or by plain products where lists are off (or stop)."""
        if self.on:
            stale = np.empty(len(ids), dtype=np.bool_)
            _stale(P, self.anchor, ids, self.keep2, stale)
            if stale.any() and not self._rescan(ids[stale], P[stale]):
                self.on = False
                self.cand = np.empty((0, 0), dtype=np.int32)
        if not self.on:  # plain products, over all of the data
            out = self.blas.sums(P)
            self.pairs = self.blas.pairs
            return out
        num = np.zeros(P.shape)
        den = np.zeros(len(ids))
        pairs: list[int] = []  # one count per range (list.append is atomic)
        blas = self.blas
        w = blas.w if blas.has_w else np.ones(0)

        X32, origin, Xs = self.rows

        def one(a, b):
            d2s = np.empty(self.cand.shape[1], dtype=np.float32)
            pairs.append(_list_sums(a, b, ids, P, self.cand, self.count, blas.X, X32,
                                    origin, Xs, self.tol, self.tol_x, w, blas.has_w,
                                    blas.kernel.code,
                                    blas.inv_h2, blas.edge, self.rel, num, den, d2s))

        run_ranges(one, len(ids), self.n_jobs)
        self.pairs = int(sum(pairs))
        return num, den

    def _pay(self, P):
        """Whether lists pay for this climb: the lists of a pilot of at most
        :data:`PILOT` of the first positions, spread over them, hold at most
        :data:`MAX_SHARE` of the data on average (a refusal costs only the pilot's
        product), for the flat kernel on data over :data:`FLAT_LIST_BYTES` at most
        :data:`FLAT_LARGE_SHARE`.  Where a cover of the data by tiles was made, its
        pilot's share within reach, over that limit, refuses them without a pilot."""
        blas = self.blas
        n = blas.Xc.shape[0]
        large = blas.flat32 and blas.X.nbytes > FLAT_LIST_BYTES
        # The flat kernel's products multiply only the tiles within reach, where a cover
        # is kept: its lists must then be shorter than that share of the data too.
        tiled = float(blas.tile_share or 1.0) if blas.tiles is not None else 1.0
        limit = FLAT_LARGE_SHARE * tiled if large else MAX_SHARE
        if blas.tiles is not None and blas.tiles.fill * tiled > limit:
            # A list holds every point within reach of its seed, and the cover's pilot
            # (rows of the data) found more than that within reach.
            logger.debug("numba engine: no neighbour lists (the tiles' pilot finds %.0f%% "
                         "of the data within reach of a point)",
                         100 * blas.tiles.fill * tiled)
            return False
        pilot = P[:: max(1, len(P) // PILOT)][:PILOT] - blas.origin
        psq = np.einsum("ij,ij->i", pilot, pilot)
        with _one_blas_thread():
            counts, _ = self._candidates(pilot, psq)
        self.pilot_count = float(counts.mean())
        share = self.pilot_count / max(n, 1)
        if share > MAX_SHARE:
            logger.debug("numba engine: no neighbour lists (a pilot's would hold %.0f%% of "
                         "the data)", 100 * share)
            return False
        if large and share > limit:
            logger.debug("numba engine: no neighbour lists (a pilot's would hold %.1f%% of "
                         "the data: the flat kernel's products cost less above %.0f%% of "
                         "the share they multiply (%.0f%%) on data over %d MiB)",
                         100 * share, 100 * FLAT_LARGE_SHARE, 100 * tiled,
                         FLAT_LIST_BYTES >> 20)
            return False
        logger.debug("numba engine: neighbour lists with a skin of %g bandwidths (a "
                     "pilot's hold %.0f of %d points on average)", SKIN, counts.mean(), n)
        return True

    def _candidates(self, Pc, psq):
        """``(counts, cols)`` of :func:`_collect` for the centred positions ``Pc``
        against all of the data, by float32 products of at most ``COLUMNS`` points at a
        time (bounded memory); each row's points in index order.

        A list only has to hold every point within ``R + skin`` (it may hold more: the
        steps test each point exactly), so its products can be float32 (twice the
        numbers per SIMD instruction; digits in ``benchmarks/bench_highd.py``: 0.083 s with float64
        products at 20:53, 0.078 s with these at 22:21, the same labels).  Their
        error, inputs rounded to float32 included, is at most ``(d + 3) u |p| |x|``
        with ``u = 2**-24``, so ``d2`` is off by at most ``gamma32 * (|p|^2 + |x|^2)``
        with ``gamma32 = (d + 4) u / (1 - (d + 4) u)``; :func:`_collect` widens the
        radius by twice that.  The float32 copy of the data is kept while it takes at
        most ``_matmul.COPY_BYTES`` (10^5 x 128: 49 MiB), else made chunk by chunk."""
        blas = self.blas
        n = blas.Xc.shape[0]
        xmax = float(blas.xsq.max())
        P32 = Pc.astype(np.float32)
        parts = []
        for c0 in range(0, n, COLUMNS):
            c1 = min(n, c0 + COLUMNS)
            G = np.matmul(P32, blas.float32_rows(slice(c0, c1)).T,
                          out=scratch("lists.G", (len(P32), c1 - c0), np.float32))
            counts, cols = _collect(G, psq, blas.xsq[c0:c1], self.limit2, self.gamma32,
                                    xmax, scratch("lists.cols", (G.size,), np.int32))
            parts.append((counts, cols + np.int32(c0)))
        if len(parts) == 1:
            return parts[0]
        rows = np.concatenate([np.repeat(np.arange(len(Pc)), c) for c, _ in parts])
        cols = np.concatenate([c for _, c in parts])
        order = np.argsort(rows, kind="stable")  # rows together, each row's in order
        return np.bincount(rows, minlength=len(Pc)), cols[order]

    def _rescan(self, ids, P):
        """New lists for the seeds ``ids`` at ``P`` by matrix products; False when they
        would take more than :data:`LIST_BYTES`."""
        blas = self.blas
        Pc = P - blas.origin
        psq = np.einsum("ij,ij->i", Pc, Pc)
        n = blas.Xc.shape[0]
        starts = list(range(0, len(ids), ROWS))
        found: list = [None] * len(starts)

        def block(k):
            r0 = starts[k]
            r1 = min(len(ids), r0 + ROWS)
            found[k] = self._candidates(Pc[r0:r1], psq[r0:r1])

        with _one_blas_thread():
            run_ranges(lambda a, b: [block(k) for k in range(a, b)], len(starts),
                       self.n_jobs)
        counts = np.concatenate([c for c, _ in found])
        widest = int(counts.max())
        self.widest = max(self.widest, widest)
        if widest > self.cand.shape[1]:
            # Room for a quarter more than the widest list so far (at most every point).
            width = min(n, max(widest, (5 * self.cand.shape[1]) // 4, widest + widest // 4))
            if self.cand.shape[0] * width * 4 > LIST_BYTES:
                logger.debug("numba engine: neighbour lists stopped (over %d MiB)",
                             LIST_BYTES >> 20)
                return False
            wider = np.empty((self.cand.shape[0], width), dtype=np.int32)
            wider[:, :self.cand.shape[1]] = self.cand
            self.cand = wider
        _place(self.cand, self.count, ids, counts, np.concatenate([c for _, c in found]))
        self.anchor[ids] = P
        return True
