"""Rows held in memory (NumPy arrays): the adapter every other input is compared with."""

from __future__ import annotations

import numpy as np

from .._arrays import column_bounds, row_hashes

__all__ = ["Rows", "MemoryRows", "raise_if_invalid", "CHUNK_ROWS"]

#: Rows handed to a chunk function at a time by :meth:`MemoryRows.reduce` (bounds the
#: temporaries of streaming stages such as compression).
CHUNK_ROWS = 1 << 19


#: Largest total sample weight (weighted sums of coordinates, at most 2 in the fit's
#: units, must stay finite).
MAX_WEIGHT_SUM = 1e307


def raise_if_invalid(x_finite, weight_summary):
    """The estimator's input errors from reduced checks (no full array in one place):
    ``x_finite`` and ``weight_summary = (finite, min, sum)`` or None."""
    if not x_finite:
        raise ValueError("Input X contains NaN or infinity.")
    if weight_summary is None:
        return
    finite, wmin, wsum = weight_summary
    if not finite:
        raise ValueError("sample_weight must be finite; it contains NaN or infinity.")
    if wmin < 0:
        raise ValueError(f"sample_weight must be non-negative; got a minimum of {wmin:g}.")
    if not wsum > 0:
        raise ValueError("sample_weight must have a positive sum; all weights are zero.")
    if not wsum <= MAX_WEIGHT_SUM:
        raise ValueError(
            f"sample_weight is too large: the weights add up to {wsum:.3g}, beyond the "
            f"{MAX_WEIGHT_SUM:.0e} that float64 sums of weighted coordinates can hold; "
            "divide them by a constant (mean shift depends only on their ratios).")


class Rows:
    """What every input adapter holds: the rows ``X`` and their weights ``w`` (or None)."""

    lazy = False
    from_numpy = False

    def __init__(self, X, w=None):
        self.X = X
        self.w = w

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def d(self) -> int:
        return int(self.X.shape[1])


class MemoryRows(Rows):
    """The rows of X (and their sample weights) as NumPy arrays.

    The pipeline reads its data only through these methods, so that a dask array
    (:class:`meanshift._data._dask.DaskRows`) goes through the same pipeline.
    """

    def arange(self):
        """The row numbers (``sample_indices_`` of a fit on every row)."""
        return np.arange(self.n)

    def scaled(self, scale):
        """The rows divided by ``scale`` per feature (None: unchanged)."""
        return self if scale is None else type(self)(self.X / scale, self.w)

    def embedded(self, metric):
        """The rows as the metric's Euclidean coordinates
        (:mod:`meanshift._stages.metric`)."""
        return self if not metric.sphere else type(self)(metric.embed(self.X), self.w)

    def magnitude(self) -> float:
        """The largest absolute value of X (0 for no rows; NaN is caught elsewhere)."""
        if self.X.size == 0:
            return 0.0
        lo, hi = column_bounds(self.X)
        return float(max(np.abs(lo).max(), np.abs(hi).max()))

    def hashes(self, weights=None):
        """A hash of every row's contents (and weight), see :func:`row_hashes`."""
        return row_hashes(self.X, weights)

    def values(self):
        """``(X, w)`` in memory."""
        return self.X, self.w

    def weights(self):
        """The sample weights in memory, or None."""
        return self.w

    def take(self, idx):
        """``(X[idx], w[idx])`` in memory, in the order of ``idx``."""
        return self.X[idx], None if self.w is None else self.w[idx]

    def subset(self, idx) -> MemoryRows:
        """The rows ``idx`` as rows of their own (in memory)."""
        return MemoryRows(*self.take(idx))

    def reduce(self, fn, combine, *args, progress=None):
        """``combine(*[fn(X_chunk, w_chunk, *args) for every chunk of rows])``;
        ``progress(done, total)`` hears the chunks done."""
        parts = []
        starts = range(0, max(self.n, 1), CHUNK_ROWS)
        for k, r0 in enumerate(starts):
            sl = slice(r0, r0 + CHUNK_ROWS)
            parts.append(fn(self.X[sl], None if self.w is None else self.w[sl], *args))
            if progress is not None:
                progress(k + 1, len(starts))
        return combine(*parts)

    def map_rows(self, fn, *args, dtype=np.int64):
        """``fn(X, *args)``: one value per row (lazy for lazy rows)."""
        return np.asarray(fn(self.X, *args), dtype=dtype)

    def prepare(self, persist_data: bool) -> None:
        """Nothing to do: in-memory rows were validated when they were read."""

    def sizes(self, labels, k):
        """Points per cluster (labels -1 not counted)."""
        labels = np.asarray(labels)
        return np.bincount(labels[labels >= 0], minlength=k)

    def finish(self, labels, sizes):
        """Results as returned to the user."""
        return labels, sizes
