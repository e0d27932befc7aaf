"""Seed reduction by basin absorption (``algorithm="basin"``): a climb strategy.

Standard mean shift spends most of its time on seeds that end where another seed already
ended.  The ``"basin"`` algorithm runs the standard pipeline with one change to the climb
(:func:`climb_absorbing`, on the data bound once by the engine, like every climb):

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

from .._engines import ClimbResult
from .._engines._contract import report, shift_step
from ._plan import FitResult, Plan
from .standard import run_standard

__all__ = ["climb_absorbing", "run_basin", "ABSORB"]

#: Absorption radius in bandwidths.
ABSORB = 0.1
#: Below this many seeds the plain climb is faster than the step-by-step absorbing one.
MIN_SEEDS = 1024


def _pilot_rows(n_seeds):
    step = max(1, n_seeds // max(64, n_seeds // 32))
    return np.arange(0, n_seeds, step)


def climb_absorbing(bound, seeds, plan: Plan, absorb=ABSORB):
    """The climb of every seed on the bound data, with basin absorption (module notes)."""
    seeds = np.asarray(seeds, dtype=np.float64)
    n = seeds.shape[0]
    tol, max_iter, callback = plan.tol, plan.max_iter, plan.callback
    pilots = _pilot_rows(n)
    if plan.record_history or pilots.size == n or n < MIN_SEEDS:
        return bound.climb(seeds, tol=tol, max_iter=max_iter,
                           record_history=plan.record_history, callback=callback)
    pilot_progress = None if callback is None else (
        lambda p: callback(p._replace(total=n)))  # pilots stop first: done counts up to n
    first = bound.climb(seeds[pilots], tol=tol, max_iter=max_iter, callback=pilot_progress)
    modes = seeds.copy()
    n_iter = np.zeros(n, dtype=np.int64)
    converged = np.zeros(n, dtype=bool)
    density = np.zeros(n)
    modes[pilots], n_iter[pilots] = first.modes, first.n_iter
    converged[pilots], density[pilots] = first.converged, first.density
    known = first.converged & (first.density > 0)
    known_modes, known_density = first.modes[known], first.density[known]
    tree = cKDTree(known_modes) if known_modes.size else None
    radius = float(absorb) * bound.bandwidth
    active = np.setdiff1d(np.arange(n), pilots)
    report(callback, "climb", n - active.size, n)
    stop = tol * bound.bandwidth
    sums = bound.steps(n)
    for _ in range(max_iter):
        if active.size == 0:
            break
        alive, done, new = shift_step(bound, modes, active, density, n_iter, stop, sums)
        if tree is not None:
            dist, j = tree.query(new, distance_upper_bound=radius)
            hit = alive & ~done & np.isfinite(dist)
            rows = active[hit]
            modes[rows] = known_modes[j[hit]]
            density[rows] = known_density[j[hit]]
            done |= hit
        converged[active[done]] = True
        active = active[alive & ~done]
        report(callback, "climb", n - active.size, n)
    report(callback, "climb", n, n)
    return ClimbResult(modes, n_iter, converged, density, None)


def run_basin(rows, plan: Plan) -> FitResult:
    """The standard pipeline with basin absorption as its climb strategy."""
    return run_standard(rows, plan, climb=climb_absorbing)
