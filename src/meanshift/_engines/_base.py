"""The engine contract shared by every place mean shift can run.

An engine turns the pipeline's numeric work into arrays.  Every engine subclasses
:class:`Engine` and must agree with the NumPy reference engine
(:mod:`meanshift._engines._numpy`) within a stated tolerance; the shared tests in
``tests/test_engines.py`` hold every registered engine to that.

The primitive is :meth:`Engine.partial_sums`: for a set of positions ``S`` it returns the
kernel-weighted sums ``num[j] = sum_i c_i w(|x_i - s_j|^2 / h^2) x_i`` and
``den[j] = sum_i c_i w(...)``.  Sums over disjoint chunks of the data add up, which is
what the chunked, streaming and cluster engines rely on.  :meth:`Engine.climb` is the
standard mean shift loop built on it; engines override it when they can fuse the loop.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._kernels import Kernel

__all__ = ["ClimbResult", "Engine", "shift_step"]


class ClimbResult(NamedTuple):
    """What :meth:`Engine.climb` returns.

    Attributes
    ----------
    modes : ndarray of shape (n_seeds, n_features), float64
        Where each seed stopped.
    n_iter : ndarray of shape (n_seeds,), int64
        Number of mean shift steps each seed took (the step that found convergence counts).
    converged : ndarray of shape (n_seeds,), bool
        True where the last step moved the seed by at most ``tol * bandwidth``.
    density : ndarray of shape (n_seeds,), float64
        ``sum_i c_i w(u2_i)`` at the position the seed's last step started from (the
        denominator of that step; for the flat kernel, the weighted number of points within
        the bandwidth).  Zero means the seed had no data inside the kernel's support: the
        seed is dead and the pipeline drops it.
    history : list of ndarray or None
        With ``record_history=True``, the positions of all seeds before the first step
        and after every step: ``history[t]`` has shape (n_seeds, n_features).
    """

    modes: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    density: np.ndarray
    history: list | None = None


def shift_step(engine, modes, active, data, weights, bandwidth, kernel, density, n_iter, stop):
    """One mean shift step of the seeds ``active``, in place.

    Moves ``modes[active]`` to their kernel-weighted means, stores the step's denominator
    in ``density`` and counts the step in ``n_iter``; dead seeds (nothing within the
    kernel's support) keep their position.  Returns ``(alive, done, new)`` over
    ``active``: had data in reach, moved by at most ``stop``, new positions.
    """
    num, den = engine.partial_sums(modes[active], data, weights, bandwidth, kernel)
    num, den = np.asarray(num), np.asarray(den)
    alive = den > 0
    new = modes[active].copy()
    new[alive] = num[alive] / den[alive, None]
    shift = np.sqrt(((new - modes[active]) ** 2).sum(axis=1))
    modes[active] = new
    density[active] = den
    n_iter[active] += alive
    return alive, alive & (shift <= stop), new


class Engine:
    """Base class of the engines: the contract and a generic climb loop.

    Subclasses implement :meth:`partial_sums` and :meth:`nearest` and may override
    :meth:`climb` and :meth:`blur_step` with fused versions.  All arrays going in and out
    are NumPy arrays; ``bandwidth`` is a positive float (anisotropic bandwidths are
    handled by the pipeline, which rescales the data before calling an engine).
    """

    name = "base"

    def partial_sums(
        self,
        positions: np.ndarray,
        data: np.ndarray,
        weights: np.ndarray | None,
        bandwidth: float,
        kernel: Kernel,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Kernel-weighted sums of ``data`` around each of ``positions``.

        Returns ``(num, den)`` of shapes (n_positions, n_features) and (n_positions,).
        """
        raise NotImplementedError

    def nearest(self, X: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index of and Euclidean distance to the nearest of ``centers`` for each row of X.

        Ties go to the lowest center index.
        """
        raise NotImplementedError

    def climb(
        self,
        seeds: np.ndarray,
        data: np.ndarray,
        weights: np.ndarray | None,
        *,
        bandwidth: float,
        kernel: Kernel,
        tol: float,
        max_iter: int,
        record_history: bool = False,
        callback=None,
    ) -> ClimbResult:
        """Standard mean shift: move every seed until it stops or ``max_iter`` steps.

        A seed stops (converged) when one step moves it by at most ``tol * bandwidth``;
        converged and dead seeds leave the active set, so later steps only pay for the
        seeds still moving.  ``callback(step, n_active)``, when given, is called after
        every step (progress bars); engines that fuse the loop call it at least once.
        """
        modes = np.array(seeds, dtype=np.float64, copy=True)
        n_seeds = modes.shape[0]
        n_iter = np.zeros(n_seeds, dtype=np.int64)
        converged = np.zeros(n_seeds, dtype=bool)
        density = np.zeros(n_seeds, dtype=np.float64)
        history = [modes.copy()] if record_history else None
        active = np.arange(n_seeds)
        stop = tol * bandwidth
        for step in range(max_iter):
            if active.size == 0:
                break
            alive, done, _ = shift_step(self, modes, active, data, weights, bandwidth, kernel,
                                        density, n_iter, stop)
            converged[active[done]] = True
            active = active[alive & ~done]
            if record_history:
                history.append(modes.copy())
            if callback is not None:
                callback(step + 1, int(active.size))
        return ClimbResult(modes, n_iter, converged, density, history)

    def blur_step(
        self,
        points: np.ndarray,
        weights: np.ndarray | None,
        *,
        bandwidth: float,
        kernel: Kernel,
    ) -> np.ndarray:
        """One blurring mean shift step: every point moves to the kernel-weighted mean of
        the current points (``X <- W @ X / W.sum(1)``).  Points with no neighbour stay."""
        num, den = self.partial_sums(points, points, weights, bandwidth, kernel)
        out = np.array(points, dtype=np.float64, copy=True)
        alive = den > 0
        out[alive] = num[alive] / den[alive, None]
        return out
