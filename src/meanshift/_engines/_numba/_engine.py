"""The Numba CPU engine: fused, parallel, pruned mean shift loops.

* **Fused climb.**  Each seed climbs to convergence inside one compiled loop: a
  converged seed simply stops, so later steps only pay for the seeds still moving, and
  no seeds x data matrix is ever formed.
* **Shared paths.**  With the flat kernel and many seeds, a seed whose step lands, bit
  for bit, on a position an earlier climb stepped from takes that climb's outcome
  (:mod:`._paths`): the plain climb's result exactly, and on pixel colours about three
  quarters of the steps saved.  Seeds climb in waves for that; where sharing does not
  pay (continuous data), the rest climb in one wave after the first few.
* **Parallel by ranges.**  The compiled loops run over a range of seeds (or rows) and
  release the GIL; :func:`meanshift._engines._threads.run_ranges` spreads the ranges
  over ``n_jobs`` Python threads.  No Numba parallel region (``prange``) is involved:
  they compile several times slower, and a thread-unsafe threading layer (workqueue)
  could not be entered from several fits at once.
* **Compiled for the call.**  The loops get the kernel and the index kind as constants
  (:func:`_specialised`), and the dispatch on them is an ``overload`` resolved at compile
  time, so a first fit compiles one kernel loop and one query, not every combination
  (``benchmarks/bench_cold_start.py`` measures the first run of a fresh install).
* **Pruned neighbours.**  A seed only visits the data within the kernel's cutoff radius
  (the support of the compact kernels; ``gaussian_radius`` bandwidths for the gaussian,
  see :mod:`meanshift._engines._numba._index` for the bound on the weight left out),
  found with cell lists (rows of cells clipped to the ball; for the flat kernel on dense
  data, the cells entirely inside the ball add precomputed sums), a k-d tree of tiles
  with bounding balls above three dimensions, or a full pass; :func:`choose_index` picks
  which and the engine logs it (``last_index``).
* **Many features.**  From 16 features on, where an index would still visit half of
  all pairs, the kernel sums go by blocks of BLAS products (:mod:`._matmul`), over the
  tiles of a cover of the data that can reach each block (:mod:`._tiles`; from 32
  features, 16 for the flat kernel, these are chosen over an index on separated
  clusters, and the flat kernel adds a tile wholly within reach by its sums), or over
  neighbour lists
  (:mod:`._lists`) where neighbourhoods are small.  The binding runs with the BLAS on
  one thread (its spinning threads would slow the climb's).
* **Vectorised.**  The data are stored feature by feature, and the loops over points
  have no branches (a point beyond the cutoff gets weight zero by a select) and the
  kernels' compiled forms inline (the gaussian with the polynomial
  :func:`meanshift._kernels.fast_exp`), so LLVM turns them into SIMD code
  (:mod:`._points`, :mod:`._queries`).
* **Deterministic.**  Every seed's sums run over its neighbours in a fixed order (data
  sorted by grid cell or tile, SIMD lanes combined in a fixed way), so results do not
  depend on the number of threads (``n_jobs``).
* **Dtypes.**  float32 data are kept as float32 (half the memory traffic); every
  distance and sum is computed in float64 from those values, so the answer is the one
  the reference computes on the same float32 numbers.
* **The boundary rule.**  A point is within the flat kernel's reach when
  ``d2 <= h**2 * EDGE`` (:mod:`meanshift._kernels`), as in every engine.
* **Prepared once.**  :meth:`NumbaEngine.bind` builds the neighbour index of a fit's
  data once; every query of the fit (climbs, partial sums, blurring) reuses it.
* **Progress.**  With a progress callback, the climb reports as ranges of seeds finish,
  about every ``PROGRESS_SECONDS`` (0.25 s).

Compiled functions are cached on disk (``cache=True``); the first call in a fresh
process loads them instead of compiling.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np

from ..._arrays import PRODUCT_MIN_FEATURES, nearest_centres
from ..._compile import njit, with_constants
from ..._kernels import EDGE, Kernel, reach2
from .._contract import Bound, ClimbResult, Engine, report
from .._threads import check_n_jobs, compiled_threads, run_ranges
from ._index import GAUSSIAN_RADIUS, TILE_POINTS, Index, as_data, cutoff_radius
from ._lists import NeighbourLists
from ._matmul import BLAS_MIN_FEATURES, BlasSums, _one_blas_thread, blas_usable
from ._paths import MIN_SEEDS as SHARE_MIN_SEEDS
from ._paths import climb_in_waves, no_sharing, probe
from ._queries import position_sums

__all__ = ["NumbaEngine"]

logger = logging.getLogger(__name__)


# The kernel's code and the index kind of the two loops below: constants that
# :func:`_specialised` sets in each compiled copy (these values are never compiled).
_CODE = -1
_MODE = -1


def _partial_sums(a, b, positions, num, den, pairs, cols, w, has_w, inv_h2, r2, axes, lo,
                  inv_cell, dims, span, starts, cell_w, cell_s, use_cells):
    """Kernel sums of ``positions[a:b]`` into ``num``, ``den``, ``pairs`` (one range of
    a :func:`~meanshift._engines._threads.run_ranges` split); compiled per kernel and
    index kind by :func:`_specialised`."""
    d = positions.shape[1]
    s = np.empty(d)
    acc = np.empty(d)
    scratch = np.empty((2, TILE_POINTS if d > 3 else 0))
    for j in range(a, b):
        for k in range(d):
            s[k] = positions[j, k]
        den[j], pairs[j] = position_sums(s, acc, cols, w, has_w, _CODE, inv_h2, r2, _MODE,
                                         axes, lo, inv_cell, dims, span, starts, cell_w,
                                         cell_s, use_cells, scratch)
        for k in range(d):
            num[j, k] = acc[k]


def _climb(a, b, order, seeds, modes, n_iter, converged, density, pairs, keys, ebits, erem,
           buf, own, hit, s, bits, cols, w, has_w, inv_h2, r2, stop, max_iter, sphere, axes,
           lo, inv_cell, dims, span, starts, cell_w, cell_s, use_cells):
    """Seeds ``order[a:b]`` climb to convergence (shift <= stop) or max_iter steps;
    results into the output arrays.  ``sphere``: every step's mean is projected onto the
    unit sphere (a mean of length zero keeps the position, as ``sphere_step``).

    Shared paths (:mod:`._paths`; none when ``keys`` is empty): after a step that does
    not stop it, a seed whose position is recorded in the table (``keys``, ``ebits``,
    ``erem``) stops and notes the entry in ``hit[j]`` (the caller gives it that climb's
    outcome); with ``buf`` of nonzero width, seed ``order[j]`` records the first
    positions it steps from (at most that width) in ``buf[j]`` and their number in
    ``own[j]``.  ``s``: scratch for the position, ``bits``: its 64-bit words (a view
    made by the caller: a view made here costs most of a second of compile time)."""
    d = seeds.shape[1]
    num = np.empty(d)
    scratch = np.empty((2, TILE_POINTS if d > 3 else 0))
    share = keys.shape[0] > 0
    record = buf.shape[1] > 0
    for j in range(a, b):
        q = order[j]
        for k in range(d):
            s[k] = seeds[q, k]
        visited = 0
        n_iter[q] = 0
        converged[q] = False
        density[q] = 0.0
        hit[j] = -1
        own[j] = 0
        if share:
            e = probe(keys, ebits, bits)
            if e >= 0 and erem[e] <= max_iter:
                hit[j] = e
        for _ in range(max_iter if hit[j] < 0 else 0):
            if record and own[j] < buf.shape[1]:  # the first positions of its climb
                for k in range(d):
                    buf[j, own[j], k] = s[k]
                own[j] += 1
            den, v = position_sums(s, num, cols, w, has_w, _CODE, inv_h2, r2, _MODE, axes,
                                   lo, inv_cell, dims, span, starts, cell_w, cell_s,
                                   use_cells, scratch)
            visited += v
            density[q] = den
            if not den > 0.0:
                break
            n_iter[q] += 1
            for k in range(d):
                num[k] = num[k] / den
            if sphere:
                norm2 = 0.0
                for k in range(d):
                    norm2 += num[k] * num[k]
                norm = math.sqrt(norm2)
                for k in range(d):
                    num[k] = num[k] / norm if norm > 0.0 else s[k]
            shift2 = 0.0
            for k in range(d):
                t = num[k] - s[k]
                shift2 += t * t
                s[k] = num[k]
            if math.sqrt(shift2) <= stop:
                converged[q] = True
                break
            if share:
                e = probe(keys, ebits, bits)
                if e >= 0 and n_iter[q] + erem[e] <= max_iter:
                    hit[j] = e
                    break
        for k in range(d):
            modes[q, k] = s[k]
        pairs[q] = visited


_SPECIALISED: dict[tuple[int, int], tuple[Any, Any]] = {}


def _specialised(code, mode):
    """``(climb, sums)``: :func:`_climb` and :func:`_partial_sums` compiled for kernel
    ``code`` (plus 4 above three dimensions) and index kind ``mode``: copies whose
    globals ``_CODE`` and ``_MODE`` hold these values
    (:func:`meanshift._compile.with_constants`), so the kernel's and the index kind's
    dispatch (:func:`meanshift._engines._numba._queries.position_sums`,
    :func:`meanshift._engines._numba._points.range_sums`) is resolved at compile time and
    a fit compiles one kernel loop and one query, not four and three."""
    key = (int(code), int(mode))
    if key not in _SPECIALISED:
        _SPECIALISED[key] = (
            njit(cache=True, nogil=True)(with_constants(
                _climb, f"climb_kernel{key[0]}_index{key[1]}", _CODE=key[0], _MODE=key[1])),
            njit(cache=True, nogil=True)(with_constants(
                _partial_sums, f"sums_kernel{key[0]}_index{key[1]}", _CODE=key[0],
                _MODE=key[1])))
    return _SPECIALISED[key]


@njit(cache=True, nogil=True)
def _nearest(a, b, X, centers, idx, dist):
    """Nearest centre of rows ``a:b`` (ties within EDGE to the lowest index: the
    boundary rule of :mod:`meanshift._kernels`) and its distance: each distance once,
    kept in a buffer for the tie scan."""
    d = X.shape[1]
    m = centers.shape[0]
    d2 = np.empty(m)
    for i in range(a, b):
        best = np.inf
        for j in range(m):
            s = 0.0
            for k in range(d):
                t = X[i, k] - centers[j, k]
                s += t * t
            d2[j] = s
            best = min(best, s)
        tie = best * EDGE
        arg = 0
        while d2[arg] > tie:
            arg += 1
        idx[i] = arg
        dist[i] = math.sqrt(d2[arg])


#: Points x centres above which ``nearest`` goes through a k-d tree of the centres (the
#: compiled all-pairs loop is faster below).
TREE_NEAREST_PAIRS = 2**26
#: With a progress callback, the fused climb reports about this often (seconds).
PROGRESS_SECONDS = 0.25
#: matmul="auto" takes the matrix products (from BLAS_MIN_FEATURES features on) when
#: the neighbour index visits at least this share of all pairs: measured for
#: PILOT_SEEDS rows on an index of PILOT_ROWS rows spread over the data.  With nothing
#: pruned, products run 1.5-3.4x the index's pair rate for the flat kernel and 1.8-7.7x
#: for the gaussian at 16 to 384 features (``benchmarks/results_highd.md``, 04:22; the
#: flat kernel's were 1.1-1.4x before its sums needed no second product): they win from
#: a visited share of about 0.3-0.7 (flat) or 0.13-0.55 (gaussian).  Not re-tuned since
#: the flat kernel's products got faster: below 0.5 they may now win for it too.
MATMUL_MIN_SHARE = 0.5
#: Below that, a compact kernel still takes the products when a cover of the data by
#: tiles (:mod:`._tiles`) cuts them to at most this many times the index's share (a
#: product's pair costs less than the index's: see the note above).
TILE_PAIR_RATIO = 2.0
#: ... from this many features on, and where at least this share of the tiles' pairs
#: lie within reach (else neighbourhoods are small, there are many modes, and the
#: index's fused climb, whose seeds share paths, does better).  ``python
#: benchmarks/bench_highd.py --case choice`` (00:36): tiles 1.45x and 3.61x the index
#: where taken (32-D and 128-D blobs), 0.93-0.99x where the index is kept (its bind
#: also builds the rejected cover).
TILE_MIN_FEATURES = 32
TILE_MIN_FILL = 0.25
#: The flat kernel's products need no second product (:mod:`._matmul`), so from
#: BLAS_MIN_FEATURES on it takes them (with tiles) wherever they multiply at most this
#: many times the pairs the index visits and at least FLAT_MIN_FILL of those pairs lie
#: within reach (below, nearly every point is its own mode and the index's climb, whose
#: seeds share paths, does better).  ``python benchmarks/bench_highd.py --case choice``
#: times the blobs of 16 to 64 features this was set on: tiled / index share 0.17-0.8
#: with fills of 2-82 %: products 1.2-2.7x faster than the index (20000 x 64-D, 20
#: blobs, fill 2 %: 2.59 -> 0.96 s in a first ad-hoc run); fills of 0.15-0.24 % (6000 x
#: 32-D at bandwidth 3, 10000 x 32-D at 4.8, thousands of modes): 0.93x and 1.07x.
FLAT_PAIR_RATIO = 1.5
FLAT_MIN_FILL = 0.01
PILOT_SEEDS = 64
PILOT_ROWS = 8192
SMALL_ROWS = 4096


class _NumbaBound(Bound):
    """The data of one fit with their neighbour index (built once)."""

    engine: NumbaEngine
    compiled_steps = True
    #: (seeds that followed a shared path, waves) of the last climb; None: no sharing.
    shared_paths: tuple[int, int] | None = None
    #: The neighbour lists of the last climb on the matrix-product path, if any.
    _lists: NeighbourLists | None = None
    #: Whether lists pay for the climb about to start (its seeds' pilot), or None.
    _lists_pay: bool | None = None

    def __init__(self, engine, data, weights, bandwidth, kernel):
        super().__init__(engine, data, weights, bandwidth, kernel)
        self.blas = None
        # The BLAS on one thread while binding: its threads spin for a while after a
        # threaded product and slow the climb's threads that follow.
        with _one_blas_thread():
            self._choose(engine, data, weights, bandwidth, kernel)

    def _choose(self, engine, data, weights, bandwidth, kernel):
        """The path of the kernel sums: matrix products (with tiles) or an index."""
        usable, why = engine._matmul_usable(data, bandwidth)
        if usable and engine.matmul == "always":
            self._use_matmul(data, weights, "matmul='always', " + why)
            return
        self.radius = cutoff_radius(kernel, bandwidth, engine.gaussian_radius)
        if usable and engine.matmul == "auto":
            d = np.shape(data)[1]
            blas = tiled = fill = None
            if (np.isfinite(kernel.support) and (d >= TILE_MIN_FEATURES or kernel.code == 0)
                    and engine.tiles == "auto" and np.shape(data)[0] > SMALL_ROWS):
                blas = BlasSums(data, weights, self.bandwidth, kernel, engine.n_jobs)
                tiled = blas.use_tiles()
                fill = blas.tiles.fill if blas.tiles is not None else 0.0
                # No index visits fewer pairs than lie within reach: where the tiles win
                # against that bound, the index's pilot is not needed.
                if self._tiles_win(blas, d, tiled, fill, fill * tiled):
                    self._use_matmul(data, weights, (
                        f"{d} features: tiles of the data cut the products to "
                        f"{tiled:.0%} of all pairs, {fill:.0%} of them within reach (no "
                        f"index visits fewer), {why}"), blas)
                    return
            share = self._visited_share(data)
            if share >= MATMUL_MIN_SHARE:
                self._use_matmul(data, weights, (
                    f"{d} features >= {BLAS_MIN_FEATURES} and an index "
                    f"would visit {share:.0%} of all pairs, {why}"), blas)
                return
            if blas is not None and self._tiles_win(blas, d, tiled, fill, share):
                self._use_matmul(data, weights, (
                    f"{d} features: tiles of the data cut the products to "
                    f"{tiled:.0%} of all pairs ({fill:.0%} of them within reach), an "
                    f"index would visit {share:.0%}, {why}"), blas)
                return
        self.index = Index(data, weights, self.radius, cell_sums=kernel.code == 0)
        if engine.last_index != (self.index.kind, self.index.why):
            logger.debug("numba engine: neighbours by %s (%s)", self.index.kind,
                         self.index.why)
        engine.last_index = (self.index.kind, self.index.why)
        self._prepare_loops()

    @staticmethod
    def _tiles_win(blas, d, tiled, fill, share) -> bool:
        """Whether products over the tiles (``tiled``: the share of all pairs they
        multiply, ``fill`` of them within reach) beat an index that visits ``share`` of
        all pairs (the rules of TILE_PAIR_RATIO and FLAT_PAIR_RATIO)."""
        return bool((d >= TILE_MIN_FEATURES and tiled <= TILE_PAIR_RATIO * share
                     and fill >= TILE_MIN_FILL)
                    or (blas.flat32 and tiled <= FLAT_PAIR_RATIO * share
                        and fill >= FLAT_MIN_FILL))

    def _visited_share(self, data):
        """The share of all pairs the neighbour index would visit, measured on an index
        of at most PILOT_ROWS rows spread over the data, for PILOT_SEEDS of them
        (deterministic: it depends on the data only).  At most SMALL_ROWS rows: 1
        (every pair is cheap, and building an index costs more than it saves)."""
        n = int(np.shape(data)[0])
        if n <= SMALL_ROWS:
            return 1.0
        sub = np.asarray(data[:: max(1, n // PILOT_ROWS)][:PILOT_ROWS])
        index = Index(sub, None, self.radius, cell_sums=False)
        if index.kind == "brute":
            return 1.0
        probe = _NumbaBound.__new__(_NumbaBound)
        probe.engine, probe.data, probe.kernel = self.engine, sub, self.kernel
        probe.bandwidth, probe.radius, probe.index, probe.blas = (
            self.bandwidth, self.radius, index, None)
        probe._prepare_loops()
        pilot = sub[:: max(1, len(sub) // PILOT_SEEDS)][:PILOT_SEEDS]
        probe.partial_sums(pilot)
        return self.engine.pairs / max(1, len(pilot) * len(sub))

    def _use_matmul(self, data, weights, why, blas=None):
        if blas is None:
            blas = BlasSums(data, weights, self.bandwidth, self.kernel, self.engine.n_jobs,
                            tiles=self.engine.tiles == "auto")
        self.blas = blas
        if self.engine.last_index != ("matmul", why):
            logger.info("numba engine: kernel sums by matrix products (%s)", why)
        self.engine.last_index = ("matmul", why)

    def _prepare_loops(self):
        """The compiled loops for the index and the kernel, and their arguments."""
        mode, *grid = self.index.grid
        # The loops' code: the kernel's, plus 4 above three dimensions (see range_sums).
        code = self.kernel.code + (4 if np.shape(self.data)[1] > 3 else 0)
        self._climb, self._sums = _specialised(code, mode)
        self._args = (*self.index.arrays, 1.0 / self.bandwidth**2, reach2(self.radius))
        self._grid = tuple(grid)

    def partial_sums(self, positions):
        if self.blas is not None:
            num, den = self.blas.sums(positions)
            self.engine.pairs = self.blas.pairs
            return num, den
        positions = np.ascontiguousarray(positions, dtype=np.float64)
        k, d = positions.shape
        num, den, pairs = np.zeros((k, d)), np.zeros(k), np.zeros(k, dtype=np.int64)
        run_ranges(lambda a, b: self._sums(a, b, positions, num, den, pairs, *self._args,
                                           *self._grid), k, self.engine.n_jobs)
        self.engine.pairs = int(pairs.sum())
        return num, den

    def steps(self, n_seeds):
        """On the matrix-product path with a compact kernel, neighbour lists with a skin
        (:mod:`._lists`; the engine's ``neighbour_lists`` option); else the plain
        partial sums."""
        if (self.blas is None or not self.blas.compact
                or self.engine.neighbour_lists == "never"):
            return super().steps(n_seeds)
        lists = self._lists = NeighbourLists(self.blas, n_seeds, self.engine.n_jobs,
                                             on=self._lists_pay)
        self._lists_pay = None

        def sums(ids, positions):
            out = lists(ids, positions)
            self.engine.pairs = lists.pairs
            return out

        return sums

    def _list_batch(self, seeds) -> int:
        """Seeds per batch of a climb by neighbour lists (:meth:`NeighbourLists.batch`),
        0 without lists.  Its pilot's decision is kept for the climb's first
        :meth:`steps` (the same positions: one pilot, not two)."""
        if (self.blas is None or not self.blas.compact
                or self.engine.neighbour_lists == "never"):
            return 0
        batch = NeighbourLists(self.blas, 0, self.engine.n_jobs).batch(seeds)
        self._lists_pay = batch > 0
        return batch

    def _climb_in_batches(self, seeds, batch, tol, max_iter, callback):
        """The seeds climb ``batch`` at a time (each seed's climb is its own: the same
        result as all at once); after each batch, the next is sized to the longest list
        seen so far, with a quarter more room.  The progress counts the seeds of all
        batches."""
        n = len(seeds)
        parts = []
        a = 0
        while a < n:
            def shifted(p, a=a):
                return None if callback is None else callback(
                    p._replace(done=a + p.done, total=n))

            logger.debug("numba engine: seeds %d-%d of %d climb as a batch (their "
                         "neighbour lists within the memory limit)", a, min(n, a + batch), n)
            parts.append(super().climb(seeds[a:a + batch], tol=tol, max_iter=max_iter,
                                       callback=shifted))
            a += batch
            lists = self._lists
            if lists is not None and lists.widest:
                batch = min(batch, lists.fitting(1.25 * lists.widest))
        return ClimbResult(np.concatenate([r.modes for r in parts]),
                           np.concatenate([r.n_iter for r in parts]),
                           np.concatenate([r.converged for r in parts]),
                           np.concatenate([r.density for r in parts]), None)

    def climb(self, seeds, *, tol, max_iter, record_history=False, callback=None):
        if record_history or self.blas is not None:
            # Positions after every step are needed, or every step is a matrix product:
            # the step-by-step loop; with neighbour lists, in batches whose lists fit.
            batch = 0 if record_history else self._list_batch(seeds)
            if 0 < batch < len(seeds):
                return self._climb_in_batches(seeds, batch, tol, max_iter, callback)
            return super().climb(seeds, tol=tol, max_iter=max_iter,
                                 record_history=record_history, callback=callback)
        seeds = np.ascontiguousarray(seeds, dtype=np.float64)
        n, d = seeds.shape
        modes = np.empty((n, d))
        n_iter = np.zeros(n, dtype=np.int64)
        converged = np.zeros(n, dtype=np.bool_)
        density = np.zeros(n)
        pairs = np.zeros(n, dtype=np.int64)
        stop = float(tol) * self.bandwidth
        max_iter = int(max_iter)

        def climb(wave, start, lookup, buf, own, hit):
            """The seeds ``wave`` climb (``start``: seeds done before, for the progress),
            in ranges spread over the threads; the progress (seeds whose climb is over,
            of all) is reported as ranges finish, about every PROGRESS_SECONDS."""
            def climb_range(i, k):
                s = np.empty(d)  # the position and its 64-bit words, per range
                self._climb(i, k, wave, seeds, modes, n_iter, converged, density, pairs,
                            *lookup, buf, own, hit, s, s.view(np.int64), *self._args, stop,
                            max_iter, bool(self.sphere), *self._grid)

            run_ranges(climb_range, len(wave), self.engine.n_jobs,
                       on_progress=None if callback is None else (
                           lambda done: report(callback, "climb", start + done, n)),
                       seconds=PROGRESS_SECONDS)

        if self._shares_paths(n):
            followed, waves = climb_in_waves(climb, n, d, max_iter, modes, n_iter,
                                             converged, density)
            self.shared_paths = (followed, waves)
            logger.debug("numba engine: %d of %d seeds followed a shared path (%d waves)",
                         followed, n, waves)
        else:
            self.shared_paths = None
            climb(np.arange(n, dtype=np.int64), 0, *no_sharing(n, d))
        self.engine.pairs = int(pairs.sum())
        return ClimbResult(modes, n_iter, converged, density, None)

    def _shares_paths(self, n_seeds):
        """Whether the climb shares paths (:mod:`._paths`): the engine's ``share_paths``
        option; "auto" for the flat kernel (whose steps repeat positions bit for bit)
        and at least ``SHARE_MIN_SEEDS`` seeds."""
        option = self.engine.share_paths
        if option == "auto":
            return self.kernel.code == 0 and n_seeds >= SHARE_MIN_SEEDS
        return option == "always"


class NumbaEngine(Engine):
    """Compiled, parallel CPU engine (see module notes).

    Parameters
    ----------
    n_jobs : int or None, default=None
        Threads (see :mod:`meanshift._engines._threads`: None Numba's current setting,
        -1 all of Numba's, -2 all but one, k > 0 that many).  Results do not depend on it.
    gaussian_radius : float, default=7.0
        Truncation radius of the gaussian kernel, in bandwidths.
    matmul : {"auto", "always", "never"}, default="auto"
        Kernel sums by blocks of matrix products (:mod:`meanshift._engines._numba._matmul`):
        "auto" from ``BLAS_MIN_FEATURES`` (16) features on when the neighbour index
        would visit at least half of all pairs (a pilot of 64 rows on an index of at
        most 8192 rows spread over the data decides; logged at INFO), and for data of
        at most 4096 rows; "always" wherever every weight stays within 1e-11 of the reference's.
    share_paths : {"auto", "always", "never"}, default="auto"
        A seed that steps onto a position another seed's climb stepped from follows that
        climb's outcome (:mod:`meanshift._engines._numba._paths`: exact, the plain
        climb's results bit for bit).  "auto" for the flat kernel and at least 2048
        seeds, where positions repeat; "never" climbs every seed on its own.
    tiles : {"auto", "never"}, default="auto"
        On the matrix-product path with a compact kernel, a cover of the data by 64
        tiles lets each block of positions multiply only the tiles within its reach,
        and the flat kernel adds a tile that lies wholly within reach by its sums
        (:mod:`meanshift._engines._numba._tiles`: the same weights).  "auto" keeps the
        cover where it cuts the products to at most 70 % of all pairs, and from 32
        features takes the products with tiles over an index where they multiply at
        most twice the pairs the index visits and a quarter of them lie within reach
        (the flat kernel: from 16 features, at most 1.5x and 1 % within reach; where
        the pairs within reach alone, which every index visits, make that so, the
        index's pilot is skipped); "never" multiplies by all of the data.
    neighbour_lists : {"auto", "never"}, default="auto"
        On the matrix-product path with a compact kernel, each seed of a climb steps
        over a list of the points near it, remade when it moves a quarter bandwidth
        (:mod:`meanshift._engines._numba._lists`: the same sums); "auto" keeps the lists
        while they hold at most a tenth of the data; "never" multiplies by all of it
        at every step.
    """

    name = "numba"
    kernel_form = "compiled"

    def __init__(self, n_jobs=None, gaussian_radius=GAUSSIAN_RADIUS, matmul="auto",
                 share_paths="auto", neighbour_lists="auto", tiles="auto"):
        for name, value in (("matmul", matmul), ("share_paths", share_paths)):
            if value not in ("auto", "always", "never"):
                raise ValueError(f"The {name!r} option must be 'auto', 'always' or 'never'; "
                                 f"got {value!r}.")
        for name, value in (("neighbour_lists", neighbour_lists), ("tiles", tiles)):
            if value not in ("auto", "never"):
                raise ValueError(f"The {name!r} option must be 'auto' or 'never'; got "
                                 f"{value!r}.")
        self.tiles = tiles
        self.matmul = matmul
        self.share_paths = share_paths
        self.neighbour_lists = neighbour_lists
        self.n_jobs = check_n_jobs(n_jobs)
        if isinstance(gaussian_radius, bool) or not float(gaussian_radius) > 0:
            raise ValueError("The 'gaussian_radius' option must be a positive number of "
                             f"bandwidths; got {gaussian_radius!r}.")
        self.gaussian_radius = float(gaussian_radius)
        self.last_index = None
        self.pairs = 0  # pair evaluations of the last call (benchmarks report rates)

    def _bind(self, data, weights, bandwidth, kernel: Kernel):
        return _NumbaBound(self, data, weights, bandwidth, kernel)

    def _matmul_usable(self, data, bandwidth):
        """``(usable, why)``: may the kernel sums go by matrix products (the option, the
        features, the bound on the weights' error)?"""
        d = int(np.shape(data)[1])
        if self.matmul == "never" or (self.matmul == "auto" and d < BLAS_MIN_FEATURES):
            return False, ""
        return blas_usable(data, bandwidth)

    def nearest(self, X, centers):
        X = as_data(X)
        centers = np.ascontiguousarray(centers, dtype=np.float64)
        if centers.shape[0] == 0:
            raise ValueError("nearest() needs at least one centre.")
        if centers.shape[0] > 64 and (X.shape[0] * centers.shape[0] > TREE_NEAREST_PAIRS
                                      or X.shape[1] >= PRODUCT_MIN_FEATURES):
            # Many centres (a tiny bandwidth): a k-d tree of them, not all pairs, or in
            # many features matrix products (``_arrays.nearest_centres``).
            workers = compiled_threads(self.n_jobs)  # the engine's thread rule
            idx, d2 = nearest_centres(np.asarray(X, dtype=np.float64), centers,
                                      workers=workers)
            return idx, np.sqrt(d2)
        n = X.shape[0]
        idx, dist = np.empty(n, dtype=np.int64), np.empty(n)
        run_ranges(lambda a, b: _nearest(a, b, X, centers, idx, dist), n, self.n_jobs)
        return idx, dist
