"""The Dask engine: mean shift as a map-reduce over the chunks of a dask array.

Every mean shift step needs, for each active seed, the kernel sums ``num = sum c_i w_i x_i``
and ``den = sum c_i w_i`` over all the data.  Sums over disjoint chunks add up, so one step
is one map-reduce: each data chunk (rows of the array, all columns) computes the partial
sums of one shard of the seeds with the fast in-memory CPU engine (``"numba"`` when it is
installed, else the NumPy reference), and the partial sums are added up in a tree
(``split_every`` at a time) on the workers; only ``(num, den)`` of the seeds come back.

:meth:`DaskEngine.bind` persists the data once per fit (:meth:`dask.array.Array.persist`,
when they take at most a third of the scheduler's memory), so that every step reads chunks
held in the workers' memory instead of re-reading them from disk.  The climb loop itself
is the shared :meth:`Bound.climb`: converged and dead seeds leave the active set, so
later steps only ship and sum the seeds still moving.  NumPy in and out: lazy results
(labels of a dask array) are the dask input adapter's job (:mod:`meanshift._data`).

Dask runs the graphs on whatever scheduler is current: the ``distributed.Client`` most
recently created (a ``LocalCluster`` or a real cluster), else dask's local threaded
scheduler.  ``dask`` is an optional dependency (``pip install "meanshift[dask]"``).
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import uuid
import weakref
from collections import OrderedDict

import numpy as np

from .._arrays import is_dask
from .._kernels import Kernel, get_kernel
from ._contract import Bound, Engine
from ._threads import check_n_jobs

try:  # dask is an optional extra: importing this module without it is an ImportError
    import dask
    import dask.array as da
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        f'The dask engine needs dask ({exc}). Install it with: pip install "meanshift[dask]".'
    ) from exc

__all__ = ["DaskEngine", "cpu_engine_name", "tree_reduce", "row_blocks",
           "persist"]

logger = logging.getLogger("meanshift")

# Persist the data when they take at most this fraction of the scheduler's memory: during
# a fit every chunk's neighbour index takes about the chunk's size again on its worker.
_PERSIST_FRACTION = 1.0 / 3.0


def cpu_engine_name() -> str:
    """The in-memory engine every chunk task runs: numba when available, else numpy."""
    from . import ENGINES, engine_available

    return "numba" if "numba" in ENGINES and engine_available("numba") else "numpy"


# Many chunk tasks run at once on a worker: the reference engine's temporaries are kept
# to 2**18 numbers (2 MB) a block instead of its default 2**22.
_CPU_OPTIONS = {"numpy": {"block_elements": 2**18}}


@functools.cache
def _cpu_engine(name: str):
    # One engine instance per worker process (and per name): compiled kernels are reused.
    from . import get_engine

    return get_engine(name, **_CPU_OPTIONS.get(name, {}))


# Bound chunks of the current fits, per process: a chunk's neighbour index is built once
# per fit, not at every step (keys: the fit's token, the chunk's dask key).  A fit's
# entries are dropped when its bound data are released (see _release), and at most
# _BOUND_CACHE_SIZE chunks are kept whatever happens.
_BOUND_CACHE: OrderedDict = OrderedDict()
_BOUND_CACHE_SIZE = 256
_BOUND_LOCK = threading.Lock()


def _forget(token):
    """Drop the cached bound chunks of the fit ``token`` in this process."""
    with _BOUND_LOCK:
        for k in [k for k in _BOUND_CACHE if k[0] == token]:
            del _BOUND_CACHE[k]


def _release(token):
    """Drop a fit's cached chunks here and, on a distributed cluster, on every worker."""
    _forget(token)
    try:
        from distributed import get_client

        get_client().run(_forget, token)
    except Exception:  # no client, or it is closing: nothing held there any more
        pass


def _chunk_sums(positions, chunk, wchunk, bandwidth, kernel_name, engine_name, key=None):
    """Partial kernel sums of one shard of positions over one data chunk (runs on a worker).

    ``key`` (the fit's token and the chunk's dask key) caches the chunk's bound data."""
    cache_key = key
    with _BOUND_LOCK:
        bound = _BOUND_CACHE.get(cache_key) if key is not None else None
        if bound is not None:
            _BOUND_CACHE.move_to_end(cache_key)
    if bound is None:
        chunk = np.asarray(chunk, dtype=np.float64)
        w = None if wchunk is None else np.asarray(wchunk, dtype=np.float64)
        bound = _cpu_engine(engine_name).bind(chunk, w, bandwidth=bandwidth,
                                              kernel=get_kernel(kernel_name))
        if key is not None:
            with _BOUND_LOCK:
                _BOUND_CACHE[cache_key] = bound
                while len(_BOUND_CACHE) > _BOUND_CACHE_SIZE:
                    _BOUND_CACHE.popitem(last=False)
    return bound.partial_sums(positions)


def _add_sums(*parts):
    num = parts[0][0].copy()
    den = parts[0][1].copy()
    for n_, d_ in parts[1:]:
        num += n_
        den += d_
    return num, den


def tree_reduce(parts, combine, split_every=8):
    """Reduce a list of delayed values with ``combine(*group)`` in a tree of fan-in
    ``split_every`` (log depth, no single task receiving every chunk's result)."""
    parts = list(parts)
    if not parts:
        raise ValueError("tree_reduce() needs at least one part.")
    fn = dask.delayed(combine, pure=True)
    while len(parts) > 1:
        parts = [
            fn(*parts[i : i + split_every]) if len(parts[i : i + split_every]) > 1 else parts[i]
            for i in range(0, len(parts), split_every)
        ]
    return parts[0]


def row_blocks(data, weights):
    """Delayed (chunk, weight chunk) pairs of a 2-D dask array split by rows only."""
    if data.numblocks[1] != 1:
        data = data.rechunk({1: -1})
    chunks = data.to_delayed().ravel()
    if weights is None:
        return data, [(c, None) for c in chunks]
    if not is_dask(weights):
        weights = da.from_array(np.asarray(weights, dtype=np.float64), chunks=(data.chunks[0],))
    elif weights.chunks[0] != data.chunks[0]:
        weights = weights.rechunk((data.chunks[0],))
    # Weights are 1-D and chunked like the data's rows: one weight chunk per row chunk.
    return data, list(zip(chunks, weights.to_delayed().ravel(), strict=True))


def _scheduler_memory() -> float:
    """Bytes of memory of the current scheduler: the cluster's workers, or this machine."""
    try:
        from distributed import get_client

        info = get_client().scheduler_info()
        return float(sum(w.get("memory_limit", 0) or 0 for w in info["workers"].values()))
    except (ImportError, ValueError):
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


_WARNED: set = set()


def fits_in_memory(*arrays) -> bool:
    """True when the dask arrays take at most ``_PERSIST_FRACTION`` of the scheduler's
    memory (they are then persisted, and their chunks' indexes kept during a fit)."""
    nbytes = sum(a.nbytes for a in arrays if a is not None and is_dask(a))
    return nbytes <= _PERSIST_FRACTION * _scheduler_memory()


def persist(*arrays):
    """The dask arrays (None passes through) persisted in the workers' memory when they
    fit (:func:`fits_in_memory`); else unchanged, with a warning, once per array (every
    step re-reads them)."""
    arrays_ = [a for a in arrays if a is not None and is_dask(a)]
    if not fits_in_memory(*arrays_):
        names = tuple(a.name for a in arrays_)
        if names not in _WARNED:
            _WARNED.add(names)
            logger.warning(
                "meanshift: the data (%.3g GB) exceed a third of the scheduler's memory "
                "(%.3g GB) and are re-read at every step; algorithm='compressed' streams "
                "them once.", sum(a.nbytes for a in arrays_) / 1e9, _scheduler_memory() / 1e9,
            )
        return arrays
    done = iter(dask.persist(*arrays_))
    return tuple(next(done) if a is not None and is_dask(a) else a for a in arrays)


class _DaskBound(Bound):
    """A dask array persisted once; every partial sum is one tree-reduced map-reduce."""

    engine: DaskEngine
    distributed = True

    def __init__(self, engine, data, weights, bandwidth, kernel):
        data, weights = persist(data, weights)
        super().__init__(engine, data, weights, bandwidth, kernel)
        self.data, self.blocks = row_blocks(data, weights)
        self.token = uuid.uuid4().hex
        # Chunk indexes are kept between steps only for data that fit in memory.
        self.cached = fits_in_memory(data, weights)
        weakref.finalize(self, _release, self.token)

    def partial_sums(self, positions):
        eng = self.engine
        positions = np.ascontiguousarray(positions, dtype=np.float64)
        k, d = positions.shape
        if k == 0:
            return np.zeros((0, d)), np.zeros(0)
        shards = [
            dask.delayed(positions[s : s + eng.seed_shard], pure=True)
            for s in range(0, k, eng.seed_shard)
        ]
        task = dask.delayed(_chunk_sums, pure=True)
        sums = [
            tree_reduce(
                [task(shard, c, wc, self.bandwidth, self.kernel.name, eng.cpu_engine,
                      (self.token, str((c.key, None if wc is None else wc.key)))
                      if self.cached else None)
                 for c, wc in self.blocks],
                _add_sums, eng.split_every,
            )
            for shard in shards
        ]
        parts = dask.compute(*sums)
        return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))

    def blur_step(self):
        raise ValueError("Blurring mean shift moves every point: it runs on data in "
                         "memory, not on a dask array.")


class DaskEngine(Engine):
    """Mean shift on a dask array: one tree-reduced map-reduce per step.

    Parameters
    ----------
    cpu_engine : str, default=None
        Engine that each chunk task runs ("numba" when available, else "numpy").
    seed_shard : int, default=2048
        Seeds per task: with more active seeds than this, the seeds are split into shards
        and every (shard, chunk) pair is its own task, so that no task holds a huge
        seeds x chunk problem and the work spreads over more workers.
    split_every : int, default=8
        Fan-in of the tree that adds up the chunks' partial sums.
    n_jobs : int or None, default=None
        Checked like every engine's; parallelism is the dask scheduler's (workers and
        their threads).

    Notes
    -----
    NumPy input is handled in memory by the CPU engine (nothing to distribute).  The
    results equal the CPU engine's up to the order of floating point additions.
    """

    name = "dask"

    def __init__(self, cpu_engine=None, seed_shard=2048, split_every=8, n_jobs=None):
        if cpu_engine is not None and cpu_engine not in ("numba", "numpy"):
            raise ValueError("The 'cpu_engine' option must be None, 'numba' or 'numpy'; "
                             f"got {cpu_engine!r}.")
        self.cpu_engine = cpu_engine or cpu_engine_name()
        self.seed_shard = int(seed_shard)
        self.split_every = int(split_every)
        self.n_jobs = check_n_jobs(n_jobs)

    @property
    def cpu(self) -> Engine:
        """The in-memory engine used for NumPy input and inside every chunk task."""
        return _cpu_engine(self.cpu_engine)

    def _bind(self, data, weights, bandwidth, kernel: Kernel):
        if not is_dask(data):
            return self.cpu.bind(data, weights, bandwidth=bandwidth, kernel=kernel)
        return _DaskBound(self, data, weights, bandwidth, kernel)

    def nearest(self, X, centers):
        """Nearest centre of every row of an in-memory X (the CPU engine's answer)."""
        return self.cpu.nearest(X, centers)
