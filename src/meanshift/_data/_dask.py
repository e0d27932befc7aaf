"""Rows of a dask array or dataframe: the same pipeline, with nothing of the whole data
set computed in one place unless a step needs it (and then logged).

* :meth:`DaskRows.reduce` streams the chunks through a chunk function (bin statistics,
  bin counts) whose results add up in a tree, in rounds, so that memory stays flat in n.
* :meth:`DaskRows.map_rows` keeps per-row results (labels) lazy: a dask array computed
  block by block.
* :meth:`DaskRows.prepare` persists the data in the workers' memory for algorithms that
  read them at every step (standard, basin) and checks them in the same pass.
* :meth:`DaskRows.values` and :meth:`DaskRows.take` compute rows into memory (a
  sample, the seeds); ``values`` logs that it does.

NumPy input with ``engine="dask"`` is wrapped in chunks of ``NUMPY_CHUNK_ROWS`` rows
and its results are computed before they are returned.
"""

from __future__ import annotations

import logging
import os

import numpy as np
from sklearn.utils.validation import _check_feature_names, _check_n_features

from .._arrays import hash_column, is_dask, row_hashes
from ._memory import Rows, raise_if_invalid

__all__ = ["DaskRows", "as_dask_array", "as_dask_weights", "dask_modules", "is_dask",
           "NUMPY_CHUNK_ROWS"]

logger = logging.getLogger("meanshift")

#: Rows per chunk when NumPy input is wrapped for engine="dask".
NUMPY_CHUNK_ROWS = 250_000


def dask_modules():
    """``(dask, dask.array)``; an ImportError naming the extra when dask is missing."""
    try:
        import dask
        import dask.array as da
    except ImportError as exc:
        raise ImportError(
            f'Dask input needs dask ({exc}). Install it with: pip install "meanshift[dask]".'
        ) from exc
    return dask, da


# The dask engine's helpers, imported when dask input arrives (dask is an optional extra:
# importing this module must not need it).
def tree_reduce(parts, combine, split_every=8):
    from .._engines._dask import tree_reduce as _tree_reduce

    return _tree_reduce(parts, combine, split_every)


def row_blocks(data, weights):
    from .._engines._dask import row_blocks as _row_blocks

    return _row_blocks(data, weights)


def persist(*arrays):
    from .._engines._dask import persist as _persist

    return _persist(*arrays)


def as_dask_array(X, *, model, reset):
    """X as a float64 dask array chunked by rows only; checks features like scikit-learn."""
    _, da = dask_modules()
    if hasattr(X, "to_dask_array"):  # dask DataFrame (Parquet, CSV, ...)
        _check_feature_names(model, X._meta, reset=reset)
        X = X.to_dask_array(lengths=True)
    else:
        _check_feature_names(model, X._meta if is_dask(X) else np.empty((0, 0)), reset=reset)
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2-D dask array of shape (n_samples, n_features); got {X.ndim} "
            f"dimension(s), shape {X.shape}."
        )
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must be numeric; got a dask array of dtype {X.dtype}.")
    if any(np.isnan(c) for c in X.chunks[0]):
        X = X.compute_chunk_sizes()
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X must have at least one sample and one feature; got shape {X.shape}.")
    _check_n_features(model, X, reset=reset)
    if X.dtype != np.float64:
        X = X.astype(np.float64)
    if X.numblocks[1] != 1:
        X = X.rechunk({1: -1})
    return X


def as_dask_weights(sample_weight, X):
    if sample_weight is None:
        return None
    _, da = dask_modules()
    if hasattr(sample_weight, "to_dask_array"):
        sample_weight = sample_weight.to_dask_array(lengths=True)
    if not is_dask(sample_weight):
        sample_weight = np.asarray(sample_weight)
        if sample_weight.dtype.kind not in "biuf":
            raise ValueError(f"sample_weight must be numeric; got dtype {sample_weight.dtype}.")
    if sample_weight.ndim == 2 and sample_weight.shape[1] == 1:
        sample_weight = sample_weight.reshape(-1) if is_dask(sample_weight) else sample_weight[:, 0]
    if sample_weight.ndim != 1 or sample_weight.shape[0] != X.shape[0]:
        raise ValueError(
            f"sample_weight must have shape ({X.shape[0]},), one weight per sample; got "
            f"shape {sample_weight.shape}."
        )
    if is_dask(sample_weight):
        if sample_weight.dtype.kind not in "biuf":
            raise ValueError(f"sample_weight must be numeric; got dtype {sample_weight.dtype}.")
        return sample_weight.astype(np.float64).rechunk((X.chunks[0],))
    return da.from_array(sample_weight.astype(np.float64), chunks=(X.chunks[0],))


def _on_cluster() -> bool:
    """True when dask computes on a distributed cluster (a Client is the scheduler)."""
    from dask.base import get_scheduler

    return type(getattr(get_scheduler(), "__self__", None)).__name__ == "Client"


def _scheduler_threads() -> int:
    """Threads of the current scheduler: the cluster's workers, or dask's local pool."""
    try:
        from distributed import get_client

        workers = get_client().scheduler_info()["workers"]
        return int(sum(w.get("nthreads", 1) for w in workers.values()))
    except (ImportError, ValueError):
        import dask

        return int(dask.config.get("num_workers", None) or os.cpu_count() or 1)


def _weight_summary(w):
    return None if w is None else (np.isfinite(w).all(), w.min(), w.sum())


def _overlay(block, idx, values, block_info=None):
    """``block`` (a run of rows) with the rows of ``idx`` inside it set to ``values``."""
    start, stop = block_info[0]["array-location"][0]
    a, b = np.searchsorted(idx, [start, stop])
    out = np.array(block, copy=True)
    out[idx[a:b] - start] = values[a:b]
    return out


def _block_counts(labels, k):
    return np.bincount(labels[labels >= 0], minlength=k)[None, :]


class DaskRows(Rows):
    """The rows of a dask array (float64, chunked by rows) and their weights."""

    lazy = True

    def __init__(self, X, w=None, *, from_numpy=False):
        super().__init__(X, w)
        self.from_numpy = from_numpy

    def arange(self):
        if self.from_numpy:
            return np.arange(self.n)
        _, da = dask_modules()
        return da.arange(self.n, chunks=self.X.chunks[0])

    def scaled(self, scale):
        if scale is None:
            return self
        return DaskRows(self.X / scale, self.w, from_numpy=self.from_numpy)

    def embedded(self, metric):
        """The rows mapped to the metric's coordinates, chunk by chunk (lazily)."""
        if not metric.sphere:
            return self
        d = metric.embed(np.zeros((0, self.d))).shape[1]
        X = self.X.map_blocks(metric.embed, chunks=(self.X.chunks[0], (d,)), dtype=np.float64)
        return DaskRows(X, self.w, from_numpy=self.from_numpy)

    def magnitude(self) -> float:
        """The largest absolute value of X (one pass over the chunks)."""
        if self.n == 0 or self.d == 0:
            return 0.0
        dask, _ = dask_modules()
        hi, lo = dask.compute(self.X.max(), self.X.min())
        return float(max(abs(hi), abs(lo)))

    def hashes(self, weights=None):
        """A hash of every row's contents (and weight), computed chunk by chunk; the
        same numbers as for the rows in memory."""
        h = np.asarray(self.X.map_blocks(row_hashes, drop_axis=1, dtype=np.uint64).compute())
        return h if weights is None else hash_column(h, weights)

    def values(self):
        """All rows in memory, checked (every path that computes them checks them)."""
        dask, _ = dask_modules()
        logger.info("meanshift: computing the %d x %d dask rows into memory", self.n, self.d)
        X, w = dask.compute(self.X, self.w)
        X, w = np.asarray(X), None if w is None else np.asarray(w)
        raise_if_invalid(bool(np.isfinite(X).all()), _weight_summary(w))
        return X, w

    def weights(self):
        return None if self.w is None else np.asarray(self.w.compute())

    def take(self, idx):
        dask, _ = dask_modules()
        idx = np.asarray(idx)
        X, w = dask.compute(self.X[idx], None if self.w is None else self.w[idx])
        return np.asarray(X), None if w is None else np.asarray(w)

    def subset(self, idx):
        """The rows ``idx`` in memory (``max_samples``), after one checking pass over
        all the rows (the others are labelled later, lazily)."""
        from ._memory import MemoryRows

        self.check()
        return MemoryRows(*self.take(idx))

    def check(self) -> None:
        """One pass over all the rows: finite values, valid weights."""
        dask, da = dask_modules()
        raise_if_invalid(*dask.compute(da.isfinite(self.X).all(), _weight_summary(self.w)))

    def overlay(self, labels, idx, values):
        """Lazy ``labels`` with the rows ``idx`` (sorted) replaced by ``values``."""
        if not is_dask(labels):
            out = np.array(labels, copy=True)
            out[idx] = values
            return out
        return labels.map_blocks(_overlay, np.asarray(idx), np.asarray(values),
                                 dtype=labels.dtype)

    def reduce(self, fn, combine, *args, progress=None):
        """``fn`` on every chunk, results added up by ``combine`` in a tree.

        Rounds of a few chunks per thread are added to a running total that stays where
        it was computed: at most one round of chunk results is alive at a time, whatever
        n is (one graph over all chunks lets the schedulers run ahead and hold many).  On
        a cluster every round's total is kept until the end (on the workers; they are
        small): if a worker dies, a lost total is recomputed from the one before it."""
        dask, _ = dask_modules()
        _, blocks = row_blocks(self.X, self.w)
        task = dask.delayed(fn, pure=True)
        batch = max(8, 4 * _scheduler_threads())
        keep = _on_cluster()
        totals: list = []
        for start in range(0, len(blocks), batch):
            parts = [task(c, wc, *args) for c, wc in blocks[start : start + batch]]
            total = dask.persist(tree_reduce(parts + totals[-1:], combine))[0]
            totals = totals + [total] if keep else [total]
            if progress is not None:  # chunks done of all, as each round is in
                if keep:  # on a cluster persist returns at once: wait for the round
                    from distributed import wait

                    wait(total)
                progress(min(start + batch, len(blocks)), len(blocks))
        return totals[-1].compute()

    def map_rows(self, fn, *args, dtype=np.int64):
        return self.X.map_blocks(fn, *args, drop_axis=1, dtype=dtype)

    def prepare(self, persist_data: bool) -> None:
        """Persist the data (when they fit, see :func:`persist`) and check them in the
        same pass; without ``persist_data`` the checks ride on the streaming pass."""
        if not persist_data:
            return
        self.X, self.w = persist(self.X, self.w)
        self.check()

    def sizes(self, labels, k):
        if not is_dask(labels):
            labels = np.asarray(labels)
            return np.bincount(labels[labels >= 0], minlength=k)
        return labels.map_blocks(
            _block_counts, k, chunks=((1,) * labels.numblocks[0], (k,)), new_axis=1,
            dtype=np.int64,
        ).sum(axis=0)

    def finish(self, labels, sizes):
        if not self.from_numpy:
            return labels, sizes
        dask, _ = dask_modules()
        labels, sizes = dask.compute(labels, sizes)
        return np.asarray(labels), np.asarray(sizes)
