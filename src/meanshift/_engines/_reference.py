"""The NumPy reference engine: exact, chunked, vectorised over seeds.

This engine is the test oracle for every other engine, so it stays simple: distances are
computed from coordinate differences (no ``|a|^2 + |b|^2 - 2ab`` cancellation) and added
feature by feature (:func:`meanshift._arrays.sq_dist`), the support decided by the boundary
rule of :mod:`meanshift._kernels`, all
arithmetic is float64, the kernel is its NumPy form (:attr:`Kernel.numpy`, never
truncated), and memory is bounded by processing blocks of seeds x data of at most
``block_elements`` numbers; no n x n matrix is ever formed.
"""

from __future__ import annotations

import numpy as np

from .._arrays import first_nearest
from .._arrays import sq_dist as _sq_dist
from .._kernels import Kernel
from ._contract import Bound, Engine
from ._threads import check_n_jobs

__all__ = ["NumpyEngine"]


class _NumpyBound(Bound):
    engine: NumpyEngine

    def __init__(self, engine, data, weights, bandwidth, kernel):
        data = np.asarray(data, dtype=np.float64)
        weights = None if weights is None else np.asarray(weights, dtype=np.float64)
        super().__init__(engine, data, weights, bandwidth, kernel)

    def partial_sums(self, positions):
        positions = np.asarray(positions, dtype=np.float64)
        data, weights = self.data, self.weights
        k, d = positions.shape
        num = np.zeros((k, d))
        den = np.zeros(k)
        inv_h2 = 1.0 / self.bandwidth**2
        for rs, cs in self.engine._blocks(k, data.shape[0], d):
            w = self.kernel.numpy(_sq_dist(positions[rs], data[cs]) * inv_h2)
            if weights is not None:
                w = w * weights[cs][None, :]
            num[rs] += w @ data[cs]
            den[rs] += w.sum(axis=1)
        return num, den


class NumpyEngine(Engine):
    """Reference engine (float64, exact sums).

    Parameters
    ----------
    block_elements : int, default=2**22
        Most numbers in one block of seeds x data x features.
    n_jobs : int or None, default=None
        Accepted for the common contract (see :mod:`meanshift._engines._threads`);
        NumPy's own threads (BLAS) do the work.
    """

    name = "numpy"

    def __init__(self, block_elements: int = 2**22, n_jobs=None):
        if isinstance(block_elements, bool) or int(block_elements) < 1:
            raise ValueError(f"The 'block_elements' option must be a positive int; got "
                             f"{block_elements!r}.")
        self.block_elements = int(block_elements)
        self.n_jobs = check_n_jobs(n_jobs)

    def _blocks(self, n_rows: int, n_cols: int, d: int):
        cols = max(1, min(n_cols, self.block_elements // max(1, d) // 64))
        rows = max(1, min(n_rows, self.block_elements // max(1, d * cols)))
        for r0 in range(0, n_rows, rows):
            for c0 in range(0, n_cols, cols):
                yield slice(r0, r0 + rows), slice(c0, c0 + cols)

    def _bind(self, data, weights, bandwidth, kernel: Kernel):
        return _NumpyBound(self, data, weights, bandwidth, kernel)

    def nearest(self, X, centers):
        X = np.asarray(X, dtype=np.float64)
        centers = np.asarray(centers, dtype=np.float64)
        n = X.shape[0]
        idx = np.empty(n, dtype=np.int64)
        dist = np.empty(n)
        rows = max(1, self.block_elements // max(1, centers.shape[0] * X.shape[1]))
        for r0 in range(0, n, rows):
            j, best = first_nearest(_sq_dist(X[r0 : r0 + rows], centers))
            idx[r0 : r0 + rows] = j
            dist[r0 : r0 + rows] = np.sqrt(best)
        return idx, dist
