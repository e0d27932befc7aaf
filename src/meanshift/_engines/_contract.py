"""The engine contract shared by every place mean shift can run.

Prepare once, query many
------------------------
An engine (:class:`Engine`) holds its options only.  :meth:`Engine.bind` prepares the
data of one fit once (data, sample weights, bandwidth, kernel: the Numba engine builds
its neighbour index, the torch engine uploads to the device, the dask engine persists
the chunks on the cluster) and returns a :class:`Bound` that answers any number of
queries against it, NumPy in and NumPy out:

* :meth:`Bound.partial_sums` ``(positions) -> (num, den)``: the kernel-weighted sums
  ``num[j] = sum_i c_i w(|x_i - s_j|^2 / h^2) x_i`` and ``den[j] = sum_i c_i w(...)``
  (sums over disjoint chunks of the data add up, which the cluster engine relies on);
* :meth:`Bound.climb` ``(seeds, tol, max_iter, ...) -> ClimbResult``: standard mean
  shift from any seeds (engines fuse the loop where they can);
* :meth:`Bound.steps` ``(n_seeds) -> sums``: the sums of the steps of one climb,
  ``sums(ids, positions) -> (num, den)`` for the seeds ``ids`` (of ``n_seeds``) at
  ``positions``; :meth:`partial_sums` of the positions unless the engine keeps state
  per seed across the steps (the Numba engine's neighbour lists);
* :meth:`Bound.blur_step` ``() -> points``: one blurring step of the bound data.

Bound with ``sphere=True`` (the data are unit vectors: the globe, directions; see
:mod:`meanshift._stages.metric`), every step's kernel-weighted mean is projected back
onto the unit sphere (:func:`sphere_step`), in the climb and in blurring alike; the
partial sums are the same.

:meth:`Engine.nearest` needs no preparation.  The one-shot forms
``engine.partial_sums(positions, data, ...)``, ``engine.climb(seeds, data, ...)`` and
``engine.blur_step(points, ...)`` bind and query in one call, for scripts and tests;
the pipeline always binds once per fit.

Options are explicit keyword arguments of each engine's constructor; the registry
(:func:`meanshift._engines.get_engine`) rejects unknown ones.  ``n_jobs`` means the
same for every engine (:mod:`meanshift._engines._threads`).

Progress and cancellation
-------------------------
Long work calls ``callback(progress)`` with a :class:`Progress` ``(stage, done,
total)``: for the climb, ``done`` seeds of ``total`` have stopped (converged, out of
data, or out of steps); for blurring, ``done`` steps of at most ``total``.  Every engine
calls it during the climb, at least once more when it ends; a callback that returns
``False`` cancels the fit (:class:`FitCancelled`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .._arrays import apply_step
from .._kernels import Kernel

__all__ = ["ClimbResult", "Engine", "Bound", "Progress", "FitCancelled", "report",
           "shift_step", "sphere_step"]


class ClimbResult(NamedTuple):
    """What :meth:`Bound.climb` returns.

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


class Progress(NamedTuple):
    """Where long work stands: ``done`` of ``total`` in ``stage`` ("bandwidth", "stream",
    "climb", "check", "labels", "blur")."""

    stage: str
    done: int
    total: int


class FitCancelled(RuntimeError):
    """Raised when a progress callback returns ``False``."""


Callback = Callable[[Progress], Any]


def report(callback: Callback | None, stage: str, done: int, total: int) -> None:
    """Call ``callback`` (when given) with the progress; raise if it cancels."""
    if callback is not None and callback(Progress(stage, int(done), int(total))) is False:
        raise FitCancelled(f"mean shift cancelled by the progress callback during "
                           f"{stage!r} ({done} of {total} done).")


def sphere_step(new, old):
    """Positions ``new`` (kernel-weighted means) projected onto the unit sphere, in
    place; a mean of length zero (data symmetric about the centre) has no direction and
    keeps the ``old`` position."""
    norm = np.sqrt((new * new).sum(axis=1))
    ok = norm > 0
    new[ok] /= norm[ok, None]
    new[~ok] = old[~ok]
    return new


def shift_step(bound, modes, active, density, n_iter, stop, sums=None):
    """One mean shift step of the seeds ``active``, in place.

    Moves ``modes[active]`` to their kernel-weighted means, stores the step's denominator
    in ``density`` and counts the step in ``n_iter``; dead seeds (nothing within the
    kernel's support) keep their position.  ``sums``: the climb's
    :meth:`Bound.steps` (default: :meth:`Bound.partial_sums`).  Returns
    ``(alive, done, new)`` over ``active``: had data in reach, moved by at most
    ``stop``, new positions.
    """
    old = modes[active]  # one gather of the positions, read below
    if sums is None:
        num, den = bound.partial_sums(old)
    else:
        num, den = sums(active, old)
    num, den = np.asarray(num), np.asarray(den)
    if (bound.compiled_steps and not bound.sphere and num.dtype == den.dtype == modes.dtype
            == density.dtype == np.float64 and n_iter.dtype == np.int64
            and modes.flags.c_contiguous):
        # One compiled pass (the NumPy below: the reference, the sphere, other arrays).
        new = np.empty_like(num)
        alive = np.empty(len(den), dtype=bool)
        done = np.empty(len(den), dtype=bool)
        apply_step(modes, np.asarray(active, dtype=np.int64), num, den, float(stop),
                   density, n_iter, new, alive, done)
        return alive, done, new
    alive = den > 0
    if alive.all():
        new = num / den[:, None]
        if bound.sphere:
            new = sphere_step(new, old)
    else:
        new = old.copy()
        new[alive] = num[alive] / den[alive, None]
        if bound.sphere:
            new[alive] = sphere_step(new[alive], old[alive])
    step = new - old
    shift = np.sqrt(np.einsum("ij,ij->i", step, step))
    modes[active] = new
    density[active] = den
    n_iter[active] += alive
    return alive, alive & (shift <= stop), new


class Bound:
    """Data prepared by an engine for one fit; answers queries for any seeds.

    Subclasses implement :meth:`partial_sums` and may override :meth:`climb` and
    :meth:`blur_step` with fused versions.  ``bandwidth`` is a positive float
    (anisotropic bandwidths are handled by the pipeline, which rescales the data).
    """

    #: True when the data live on a cluster (queries are map-reduces over chunks).
    distributed = False
    #: Steps are projected onto the unit sphere (set by :meth:`Engine.bind`).
    sphere = False
    #: :func:`shift_step` applies the step in one compiled pass (the Numba engine's
    #: step-by-step climbs; the reference keeps NumPy's).
    compiled_steps = False

    def __init__(self, engine: Engine, data, weights, bandwidth: float, kernel: Kernel):
        self.engine = engine
        self.data = data
        self.weights = weights
        self.bandwidth = float(bandwidth)
        self.kernel = kernel

    @property
    def n_features(self) -> int:
        return int(self.data.shape[1])

    def partial_sums(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Kernel-weighted sums of the data around each of ``positions``: ``(num, den)``
        of shapes (n_positions, n_features) and (n_positions,)."""
        raise NotImplementedError

    def steps(self, n_seeds: int) -> Callable[[np.ndarray, np.ndarray],
                                              tuple[np.ndarray, np.ndarray]]:
        """The sums of the steps of one climb of ``n_seeds`` seeds:
        ``sums(ids, positions) -> (num, den)``, the :meth:`partial_sums` of
        ``positions``, the current positions of the seeds ``ids``.  An engine may keep
        state per seed across the steps of the climb (it must give the same sums)."""
        return lambda ids, positions: self.partial_sums(positions)

    def climb(self, seeds: np.ndarray, *, tol: float, max_iter: int,
              record_history: bool = False, callback: Callback | None = None) -> ClimbResult:
        """Standard mean shift: move every seed until it stops or ``max_iter`` steps.

        A seed stops (converged) when one step moves it by at most ``tol * bandwidth``;
        converged and dead seeds leave the active set, so later steps only pay for the
        seeds still moving.  ``callback`` gets a :class:`Progress` after every step.
        """
        modes = np.array(seeds, dtype=np.float64, copy=True)
        n_seeds = modes.shape[0]
        n_iter = np.zeros(n_seeds, dtype=np.int64)
        converged = np.zeros(n_seeds, dtype=bool)
        density = np.zeros(n_seeds, dtype=np.float64)
        history = [modes.copy()] if record_history else None
        active = np.arange(n_seeds)
        stop = tol * self.bandwidth
        sums = self.steps(n_seeds)
        for _ in range(max_iter):
            if active.size == 0:
                break
            alive, done, _ = shift_step(self, modes, active, density, n_iter, stop, sums)
            converged[active[done]] = True
            active = active[alive & ~done]
            if history is not None:
                history.append(modes.copy())
            report(callback, "climb", n_seeds - active.size, n_seeds)
        report(callback, "climb", n_seeds, n_seeds)
        return ClimbResult(modes, n_iter, converged, density, history)

    def blur_step(self) -> np.ndarray:
        """One blurring mean shift step of the bound data: every point moves to the
        kernel-weighted mean of the current points (``X <- W @ X / W.sum(1)``).  Points
        with no neighbour stay."""
        points = np.asarray(self.data, dtype=np.float64)
        num, den = self.partial_sums(points)
        out = np.array(points, dtype=np.float64, copy=True)
        alive = den > 0
        out[alive] = num[alive] / den[alive, None]
        if self.sphere:
            out[alive] = sphere_step(out[alive], points[alive])
        return out


class Engine:
    """Base class of the engines: options, :meth:`bind` and :meth:`nearest`.

    Subclasses take their options as explicit keyword arguments (``n_jobs`` for all),
    implement :meth:`_bind` (returning a :class:`Bound`) and :meth:`nearest`.
    """

    name = "base"

    #: The form of the kernel the engine computes with ("numpy", "torch", "compiled").
    kernel_form = "numpy"

    def bind(self, data, weights, *, bandwidth: float, kernel: Kernel,
             sphere: bool = False) -> Bound:
        """Prepare ``data`` (and sample ``weights``, or None) for queries at this
        bandwidth and kernel; ``sphere``: the data are unit vectors and every step is
        projected onto the sphere (see the module notes)."""
        if getattr(kernel, self.kernel_form) is None:
            raise ValueError(f"The {self.name} engine needs the kernel's {self.kernel_form} "
                             f"form; kernel {kernel.name!r} has none (use engine='numpy').")
        bound = self._bind(data, weights, float(bandwidth), kernel)
        bound.sphere = bool(sphere)
        return bound

    def _bind(self, data, weights, bandwidth: float, kernel: Kernel) -> Bound:
        raise NotImplementedError

    def nearest(self, X: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index of and Euclidean distance to the nearest of ``centers`` for each row of X.

        Ties go to the lowest center index.
        """
        raise NotImplementedError

    # -- one-shot forms: bind, then query (scripts and tests; the pipeline binds once) --
    def partial_sums(self, positions, data, weights, bandwidth, kernel):
        """``bind(data, weights, ...).partial_sums(positions)``."""
        return self.bind(data, weights, bandwidth=bandwidth, kernel=kernel).partial_sums(
            positions)

    def climb(self, seeds, data, weights, *, bandwidth, kernel, tol, max_iter,
              record_history=False, callback=None, sphere=False) -> ClimbResult:
        """``bind(data, weights, ...).climb(seeds, ...)``."""
        return self.bind(data, weights, bandwidth=bandwidth, kernel=kernel,
                         sphere=sphere).climb(
            seeds, tol=tol, max_iter=max_iter, record_history=record_history,
            callback=callback)

    def blur_step(self, points, weights, *, bandwidth, kernel, sphere=False) -> np.ndarray:
        """``bind(points, weights, ...).blur_step()``."""
        return self.bind(points, weights, bandwidth=bandwidth, kernel=kernel,
                         sphere=sphere).blur_step()
