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

Speed.  The two products run in the BLAS (its threads limited to the engine's
``n_jobs``); everything between them (distances, boundary checks, weights) is one
compiled pass over the block (:func:`_weigh`), spread over the engine's threads by
ranges of rows, with the kernel a compile-time constant (one pass per kernel,
cached on disk).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

from ..._compile import njit
from ..._kernels import EDGE, Kernel, compiled_weight
from .._threads import run_ranges

__all__ = ["BlasSums", "blas_usable", "BLAS_MIN_FEATURES", "MAX_WEIGHT_ERROR"]


@njit(cache=True, nogil=True)
def _weigh_rows(a, b, code, compact, G, psq, xsq, w, has_w, P, X, r0, c0, inv_h2, edge,
                tol, small):
    """Rows ``a:b`` of the block ``G = P_c X_c^T`` become kernel weights, in place
    (module notes: pairs near the support's boundary are recomputed exactly).  Three
    branch-free passes per row, so that the first and the last vectorise."""
    d = X.shape[1]
    c = G.shape[1]
    for i in range(a, b):
        p2 = psq[i]
        near = 0
        for j in range(c):
            u2 = max((p2 + xsq[c0 + j] - 2.0 * G[i, j]) * inv_h2, 0.0)
            G[i, j] = u2
            if compact:
                near += (abs(u2 - edge) <= tol) | (u2 <= small)
        if compact and near > 0:
            for j in range(c):
                if abs(G[i, j] - edge) <= tol or G[i, j] <= small:
                    d2 = 0.0
                    for k in range(d):
                        t = P[r0 + i, k] - X[c0 + j, k]
                        d2 += t * t
                    G[i, j] = d2 * inv_h2
        for j in range(c):
            u2 = G[i, j]
            wt = compiled_weight(code, u2, 1.0)
            if compact:
                wt = wt if u2 <= edge else 0.0
            if has_w:
                wt *= w[c0 + j]
            G[i, j] = wt


_WEIGH: dict[int, Any] = {}


def _weigh(kernel: Kernel):
    """:func:`_weigh_rows` with the kernel's code and whether its support is finite as
    constants (cached per kernel)."""
    code = kernel.code
    if code not in _WEIGH:
        compact = bool(np.isfinite(kernel.support))

        def weigh(a, b, G, psq, xsq, w, has_w, P, X, r0, c0, inv_h2, edge, tol, small):
            _weigh_rows(a, b, code, compact, G, psq, xsq, w, has_w, P, X, r0, c0, inv_h2,
                        edge, tol, small)

        weigh.__qualname__ = f"weigh_kernel{code}"
        _WEIGH[code] = njit(cache=True, nogil=True)(weigh)
    return _WEIGH[code]

#: The Numba engine takes this path from this many features on: the fewest that
#: ``benchmarks/bench_highd.py`` measures (products 1.3x the index's rate for the flat
#: kernel and 1.8x for the gaussian there, nothing pruned); fewer were not tuned.
BLAS_MIN_FEATURES = 16
#: Largest error of a kernel weight (relative to 1) the path may make.
MAX_WEIGHT_ERROR = 1e-11
#: A block of seeds x data (the d2 / weight matrix): rows and columns.
ROWS = 128
COLUMNS = 4096


_CONTROLLER: list[ThreadpoolController] = []


def _one_blas_thread():
    """A context in which the BLAS runs on one thread (the libraries are looked up
    once per process: threadpoolctl's lookup costs milliseconds)."""
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


def _gamma(d: int) -> float:
    return (d + 4) * 2.0**-52


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

    def __init__(self, data, weights, bandwidth: float, kernel: Kernel, n_jobs=None):
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

    def sums(self, positions):
        """``(num, den)`` of every position (see the engine contract)."""
        P = np.ascontiguousarray(positions, dtype=np.float64)
        m, d = P.shape
        n = self.Xc.shape[0]
        num = np.zeros((m, d))
        den = np.zeros(m)
        if m == 0 or n == 0:
            return num, den
        Pc = P - self.origin
        psq = np.einsum("ij,ij->i", Pc, Pc)
        # Blocks of fixed shape, whatever the thread count: a product's rounding may
        # depend on the shape of the block, never on the threads.
        cols = min(n, COLUMNS)
        rows = ROWS
        xmax = float(self.xsq.max())

        def block(r0):
            r1 = min(m, r0 + rows)
            Pb, pb = Pc[r0:r1], psq[r0:r1]
            tol = 2.0 * self.gamma * (float(pb.max()) + xmax) * self.inv_h2
            # The triangular weight 1 - sqrt(u2) is steep near 0: recompute exactly
            # where an error of tol in u2 would move it by more than MAX_WEIGHT_ERROR.
            small = (tol / (2.0 * MAX_WEIGHT_ERROR)) ** 2 if self.kernel.code == 3 else -1.0
            for c0 in range(0, n, cols):
                c1 = min(n, c0 + cols)
                W = Pb @ self.Xc[c0:c1].T
                self.weigh(0, r1 - r0, W, pb, self.xsq, self.w, self.has_w, P, self.X, r0,
                           c0, self.inv_h2, self.edge, tol, small)
                num[r0:r1] += W @ self.Xc[c0:c1]
                den[r0:r1] += W.sum(axis=1)

        starts = list(range(0, m, rows))
        # Threads over blocks of seeds (the products release the GIL), one BLAS thread
        # each: no thread ever waits for another's block.
        with _one_blas_thread():
            run_ranges(lambda a, b: [block(starts[i]) for i in range(a, b)], len(starts),
                       self.n_jobs)
        num += den[:, None] * self.origin
        return num, den
