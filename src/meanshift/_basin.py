"""Seed reduction by basin absorption (``algorithm="basin"``).

Standard mean shift spends most of its time on seeds that end where another seed already
ended.  The ``"basin"`` algorithm runs the standard pipeline with one change to the climb:

0. Fewer than ``MIN_SEEDS`` (1024) seeds climb as in ``"standard"``.
1. **Pilots.**  Every ``k``-th seed (``k = max(1, n_seeds // max(64, n_seeds // 32))``,
   so at least 64 pilots, about 1 in 32 seeds for many seeds) climbs to convergence as
   usual.  The converged pilots' end points are the *known modes*.
2. **Absorption.**  The other seeds climb step by step; after each step, a seed whose
   position is within ``absorb * h`` (default ``0.1 * h``) of a known mode stops there:
   its end point becomes that mode (the nearest, ties to the lowest index) with that
   mode's density, and it counts as converged.

Rule of thumb behind the radius: within a tenth of a bandwidth of a converged mode a seed
is deep inside that mode's basin of attraction (its own climb would reach a point within
``tol * h`` of the same mode), so the end points it would have produced merge into the
same centre (the merge radius is ``h``).  Centres can differ from the standard
algorithm's by the spread of the end points of one mode (a few ``tol * h`` for smooth
kernels; up to a few hundredths of ``h`` for the flat kernel, whose density is flat-topped)
because an absorbed seed does not contribute its own end point to the density ranking;
the tests check that labels do not change on clustered data.  Use
``algorithm="standard"`` for scikit-learn's exact centres.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from ._engines import ClimbResult
from ._engines._base import shift_step
from ._pipeline import run_standard

__all__ = ["climb_absorbing", "run_basin", "ABSORB"]

#: Absorption radius in bandwidths.
ABSORB = 0.1
#: Below this many seeds the plain climb is faster than the step-by-step absorbing one.
MIN_SEEDS = 1024


def _pilot_rows(n_seeds):
    step = max(1, n_seeds // max(64, n_seeds // 32))
    return np.arange(0, n_seeds, step)


def climb_absorbing(engine, seeds, data, weights, *, bandwidth, kernel, tol, max_iter,
                    absorb=ABSORB, record_history=False, callback=None):
    """:meth:`Engine.climb` with basin absorption (see module notes)."""
    seeds = np.asarray(seeds, dtype=np.float64)
    n = seeds.shape[0]
    opts = dict(bandwidth=bandwidth, kernel=kernel, tol=tol, max_iter=max_iter)
    pilots = _pilot_rows(n)
    if record_history or pilots.size == n or n < MIN_SEEDS:
        return engine.climb(seeds, data, weights, record_history=record_history,
                            callback=callback, **opts)
    first = engine.climb(seeds[pilots], data, weights, **opts)
    modes = seeds.copy()
    n_iter = np.zeros(n, dtype=np.int64)
    converged = np.zeros(n, dtype=bool)
    density = np.zeros(n)
    modes[pilots], n_iter[pilots] = first.modes, first.n_iter
    converged[pilots], density[pilots] = first.converged, first.density
    known = first.converged & (first.density > 0)
    known_modes, known_density = first.modes[known], first.density[known]
    tree = cKDTree(known_modes) if known_modes.size else None
    radius = float(absorb) * float(bandwidth)
    active = np.setdiff1d(np.arange(n), pilots)
    stop = tol * bandwidth
    for step in range(max_iter):
        if active.size == 0:
            break
        alive, done, new = shift_step(engine, modes, active, data, weights, bandwidth, kernel,
                                      density, n_iter, stop)
        if tree is not None:
            dist, j = tree.query(new, distance_upper_bound=radius)
            hit = alive & ~done & np.isfinite(dist)
            rows = active[hit]
            modes[rows] = known_modes[j[hit]]
            density[rows] = known_density[j[hit]]
            done |= hit
        converged[active[done]] = True
        active = active[alive & ~done]
        if callback is not None:
            callback(step + 1, int(active.size))
    return ClimbResult(modes, n_iter, converged, density, None)


class _AbsorbingEngine:
    """An engine whose climb absorbs seeds into known basins; all else delegated."""

    def __init__(self, engine, absorb):
        self._engine = engine
        self._absorb = absorb

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def climb(self, seeds, data, weights, **options):
        return climb_absorbing(self._engine, seeds, data, weights, absorb=self._absorb,
                               **options)


def run_basin(X, w, *, engine, absorb=ABSORB, **params):
    """The standard pipeline with basin absorption in every climb."""
    return run_standard(X, w, engine=_AbsorbingEngine(engine, absorb), **params)
