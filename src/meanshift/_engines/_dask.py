"""The Dask engine: mean shift as a map-reduce over the chunks of a dask array.

Every mean shift step needs, for each active seed, the kernel sums ``num = sum c_i w_i x_i``
and ``den = sum c_i w_i`` over all the data.  Sums over disjoint chunks add up, so one step
is one map-reduce: each data chunk (rows of the array, all columns) computes the partial
sums of one shard of the seeds with the fast in-memory CPU engine (``"numba"`` when it is
installed, else the NumPy reference), and the partial sums are added up in a tree
(``split_every`` at a time) on the workers; only ``(num, den)`` of the seeds come back.

The data should be persisted (:meth:`dask.array.Array.persist`) before the climb, so that
every step reads chunks held in the workers' memory instead of re-reading them from disk:
:mod:`meanshift._dask_fit` does that once per fit.  The climb loop itself is the shared
:meth:`Engine.climb`: converged and dead seeds leave the active set, so later steps only
ship and sum the seeds still moving.

Dask runs the graphs on whatever scheduler is current: the ``distributed.Client`` most
recently created (a ``LocalCluster`` or a real cluster), else dask's local threaded
scheduler.  ``dask`` is an optional dependency (``pip install "meanshift[dask]"``).
"""

from __future__ import annotations

import functools

import numpy as np

from .._kernels import Kernel, get_kernel
from ._base import Engine

try:  # dask is an optional extra: importing this module without it is an ImportError
    import dask
    import dask.array as da
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        f'The dask engine needs dask ({exc}). Install it with: pip install "meanshift[dask]".'
    ) from exc

__all__ = ["DaskEngine", "cpu_engine_name", "is_dask_collection", "tree_reduce"]


def is_dask_collection(obj) -> bool:
    """True for dask arrays, dataframes and series (checked without importing dask)."""
    return type(obj).__module__.startswith("dask")


def cpu_engine_name() -> str:
    """The in-memory engine every chunk task runs: numba when available, else numpy."""
    from . import ENGINES, engine_available

    return "numba" if "numba" in ENGINES and engine_available("numba") else "numpy"


# Many chunk tasks run at once on a worker: the reference engine's temporaries are kept
# to 2**18 numbers (2 MB) a block instead of its default 2**22.
_CPU_OPTIONS = {"numpy": {"block_elements": 2**18}}


@functools.lru_cache(maxsize=None)
def _cpu_engine(name: str):
    # One engine instance per worker process (and per name): compiled kernels are reused.
    from . import get_engine

    return get_engine(name, **_CPU_OPTIONS.get(name, {}))


def _chunk_sums(positions, chunk, wchunk, bandwidth, kernel_name, engine_name):
    """Partial kernel sums of one shard of positions over one data chunk (runs on a worker)."""
    engine = _cpu_engine(engine_name)
    chunk = np.asarray(chunk, dtype=np.float64)
    w = None if wchunk is None else np.asarray(wchunk, dtype=np.float64)
    return engine.partial_sums(positions, chunk, w, bandwidth, get_kernel(kernel_name))


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
    if not is_dask_collection(weights):
        weights = da.from_array(np.asarray(weights, dtype=np.float64), chunks=(data.chunks[0],))
    elif weights.chunks[0] != data.chunks[0]:
        weights = weights.rechunk((data.chunks[0],))
    return data, list(zip(chunks, weights.to_delayed().ravel()))


def _nearest_block(block, centers, engine_name, with_distance):
    idx, dist = _cpu_engine(engine_name).nearest(np.asarray(block, dtype=np.float64), centers)
    return dist if with_distance else idx


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
    n_jobs : ignored
        Parallelism is the dask scheduler's (workers and their threads).

    Notes
    -----
    NumPy input is handled in memory by the CPU engine (nothing to distribute).  The
    results equal the CPU engine's up to the order of floating point additions.
    """

    name = "dask"

    def __init__(self, cpu_engine=None, seed_shard=2048, split_every=8, n_jobs=None, **options):
        self.cpu_engine = cpu_engine or cpu_engine_name()
        self.seed_shard = int(seed_shard)
        self.split_every = int(split_every)

    @property
    def cpu(self) -> Engine:
        """The in-memory engine used for NumPy input and inside every chunk task."""
        return _cpu_engine(self.cpu_engine)

    def partial_sums(self, positions, data, weights, bandwidth, kernel: Kernel):
        positions = np.ascontiguousarray(positions, dtype=np.float64)
        if not is_dask_collection(data):
            return self.cpu.partial_sums(positions, data, weights, bandwidth, kernel)
        k, d = positions.shape
        if k == 0:
            return np.zeros((0, d)), np.zeros(0)
        _, blocks = row_blocks(data, weights)
        shards = [
            dask.delayed(positions[s : s + self.seed_shard], pure=True)
            for s in range(0, k, self.seed_shard)
        ]
        task = dask.delayed(_chunk_sums, pure=True)
        sums = [
            tree_reduce(
                [task(shard, c, wc, float(bandwidth), kernel.name, self.cpu_engine)
                 for c, wc in blocks],
                _add_sums, self.split_every,
            )
            for shard in shards
        ]
        parts = dask.compute(*sums)
        return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))

    def nearest(self, X, centers):
        """Nearest centre of every row; for a dask array, two lazy dask arrays."""
        centers = np.asarray(centers, dtype=np.float64)
        if not is_dask_collection(X):
            return self.cpu.nearest(X, centers)
        if X.numblocks[1] != 1:
            X = X.rechunk({1: -1})
        out = [
            X.map_blocks(_nearest_block, centers, self.cpu_engine, with_dist,
                         drop_axis=1, dtype=np.float64 if with_dist else np.int64)
            for with_dist in (False, True)
        ]
        return out[0], out[1]
