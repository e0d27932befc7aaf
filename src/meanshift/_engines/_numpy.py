"""The NumPy reference engine: exact, chunked, vectorised over seeds.

This engine is the test oracle for every other engine, so it stays simple: distances are
computed from coordinate differences (no ``|a|^2 + |b|^2 - 2ab`` cancellation), all
arithmetic is float64, and memory is bounded by processing blocks of seeds x data of at
most ``block_elements`` numbers; no n x n matrix is ever formed.
"""

from __future__ import annotations

import numpy as np

from .._kernels import Kernel
from ._base import Engine

__all__ = ["NumpyEngine"]


class NumpyEngine(Engine):
    """Reference engine (float64, exact sums, blocks of ``block_elements`` numbers)."""

    name = "numpy"

    def __init__(self, block_elements: int = 2**22, **options):
        self.block_elements = int(block_elements)

    def _blocks(self, n_rows: int, n_cols: int, d: int):
        cols = max(1, min(n_cols, self.block_elements // max(1, d) // 64))
        rows = max(1, min(n_rows, self.block_elements // max(1, d * cols)))
        for r0 in range(0, n_rows, rows):
            for c0 in range(0, n_cols, cols):
                yield slice(r0, r0 + rows), slice(c0, c0 + cols)

    def _sq_dist(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        diff = a[:, None, :] - b[None, :, :]
        return np.einsum("ijk,ijk->ij", diff, diff)

    def partial_sums(self, positions, data, weights, bandwidth, kernel: Kernel):
        positions = np.asarray(positions, dtype=np.float64)
        data = np.asarray(data, dtype=np.float64)
        k, d = positions.shape
        num = np.zeros((k, d))
        den = np.zeros(k)
        inv_h2 = 1.0 / (float(bandwidth) ** 2)
        for rs, cs in self._blocks(k, data.shape[0], d):
            w = kernel.profile(self._sq_dist(positions[rs], data[cs]) * inv_h2)
            if weights is not None:
                w = w * weights[cs][None, :]
            num[rs] += w @ data[cs]
            den[rs] += w.sum(axis=1)
        return num, den

    def nearest(self, X, centers):
        X = np.asarray(X, dtype=np.float64)
        centers = np.asarray(centers, dtype=np.float64)
        n = X.shape[0]
        idx = np.empty(n, dtype=np.int64)
        dist = np.empty(n)
        rows = max(1, self.block_elements // max(1, centers.shape[0] * X.shape[1]))
        for r0 in range(0, n, rows):
            d2 = self._sq_dist(X[r0 : r0 + rows], centers)
            j = np.argmin(d2, axis=1)
            idx[r0 : r0 + rows] = j
            dist[r0 : r0 + rows] = np.sqrt(d2[np.arange(j.size), j])
        return idx, dist
