"""Blurring mean shift: the data themselves move.

Every step moves *every point* to the kernel-weighted mean of the current (moving)
points, ``X <- W @ X / W.sum(1)`` as in the PyTorch walk-through, computed by the engine's
chunked :meth:`~meanshift._engines._contract.Bound.blur_step` (never an n x n matrix).
The data move, so they are bound to the engine anew at every step (one index per step).
Blurring needs every point in memory: dask rows are computed first (logged).  The
points contract into tight clusters within a few steps (Cheng, 1995; cubic convergence
for the gaussian, Carreira-Perpiñán, 2006); the clusters then drift slowly towards each
other and, left alone, would all end in one point.  The stopping rule below stops at the
end of that first phase.

Collapsed points are merged (the *accelerated* blurring mean shift of Carreira-Perpiñán,
2006): points that come within ``COLLAPSE * bandwidth`` of each other are replaced by
one point at their weighted mean carrying their summed weight.  Blurring mean shift on
weighted points treats identical points exactly as one point of their total weight, so
this changes the result by at most that radius, and later steps only pay for the
clusters, not for the points.

Stopping rule (after Carreira-Perpiñán, 2006)
---------------------------------------------
With ``e_i`` the length of point ``i``'s last step in units of the bandwidth, the loop
stops after step ``t`` when either

1. every point stopped: ``max_i e_i <= tol`` (a fixed point; this is what happens with
   the compact kernels once clusters are more than a bandwidth apart), or
2. the points have collapsed into clusters: the entropy of the cluster-size histogram
   (the weighted sizes of the groups of collapsed points) did not change in step ``t``
   (no new collapse) *and* every point's step length is steady:
   ``|e_i(t) - e_i(t-1)| <= max(tol, STEADY * e_i(t-1))`` with ``STEADY = 0.05``.  Every
   cluster then moves as one rigid body at a slowly changing speed: the second phase of
   Gaussian blurring mean shift, in which clusters only drift towards each other.

The second condition is what makes the rule fire in floating point; the walk-through's
"stop when no coordinate changes" never does (gaussian clusters keep drifting by tiny
amounts).  The entropy alone is not enough: in the first steps of a compact kernel no
point has collapsed yet and the entropy stays at ``log n`` while the points contract,
but contracting (or accelerating) points change their step lengths by far more than 5%.

References
----------
Cheng, "Mean shift, mode seeking, and clustering", IEEE TPAMI 17(8), 1995.
Carreira-Perpiñán, "Fast nonparametric clustering with Gaussian blurring mean-shift",
ICML 2006.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.spatial import cKDTree

from .._engines._contract import report, sphere_step
from .._stages.labels import labels_from_ends
from .._stages.merge import merge_modes
from ._plan import FitResult, Plan

__all__ = ["run_blurring", "COLLAPSE", "STEADY", "cluster_entropy"]

logger = logging.getLogger(__name__)

#: Points closer than this many bandwidths are "collapsed" into one cluster point.
COLLAPSE = 1e-3
#: Relative change of a point's step length below which its motion counts as steady.
STEADY = 0.05


def cluster_entropy(mass):
    """Entropy (nats) of the histogram of cluster sizes ``mass`` (weights, any scale)."""
    mass = np.asarray(mass, dtype=np.float64)
    p = mass[mass > 0] / mass.sum()
    return float(-(p * np.log(p)).sum())


def _collapse(points, mass, radius, sphere=False):
    """Merge points closer than ``radius`` into their weighted mean (projected onto the
    unit sphere when ``sphere``).

    Returns ``(points, mass, group)`` where ``group[i]`` is the new index of old point i;
    ``(points, mass, None)`` when nothing is that close (the common case, checked with
    one nearest-neighbour query).
    """
    if len(points) < 2:
        return points, mass, None
    dist, _ = cKDTree(points).query(points, k=2)
    if not (dist[:, 1] <= radius).any():
        return points, mass, None
    # merge_modes drops zero-density rows; zero-weight points still belong to a group.
    key = np.where(mass > 0, mass, np.finfo(np.float64).tiny)
    kept, _, group = merge_modes(points, key, radius)
    total = np.bincount(group, weights=mass, minlength=len(kept))
    sums = np.zeros_like(kept)
    np.add.at(sums, group, points * mass[:, None])
    new = kept.copy()
    nz = total > 0
    new[nz] = sums[nz] / total[nz, None]
    if sphere:
        new[nz] = sphere_step(new[nz], kept[nz])
    return new, total, group


def run_blurring(rows, plan: Plan) -> FitResult:
    """Blurring mean shift pipeline (see the module docstring for the stopping rule).

    ``seeds``, ``bin_seeding`` and ``min_bin_freq`` do not apply (every point moves).
    Cluster centres are where the collapsed clusters stopped, merged within
    ``merge_radius`` as in standard mean shift (densest first).  Every training point is
    labelled by the cluster it collapsed into (its own end point's cluster), whatever
    ``label_by``: the centres have drifted with the blurred data, so the centre nearest
    to a point's *original* position need not be its cluster.  ``label_by`` applies to
    new points (``predict``).
    """
    X, w = rows.values()
    engine, kernel, bandwidth = plan.engine, plan.kernel, plan.bandwidth
    tol, max_iter, record_history = plan.tol, plan.max_iter, plan.record_history
    n, d = X.shape
    pts = np.array(X, dtype=np.float64, copy=True)
    mass = np.ones(n) if w is None else np.asarray(w, dtype=np.float64).copy()
    owner = np.arange(n)  # row -> index into pts
    history = [pts[owner].copy()] if record_history else None
    radius = COLLAPSE * bandwidth
    pts, mass, group = _collapse(pts, mass, radius, plan.sphere)  # duplicate input rows
    if group is not None:
        owner = group[owner]
    entropy = cluster_entropy(mass)
    prev_e = None
    converged = False
    steps = 0
    for steps in range(1, max_iter + 1):
        new = engine.bind(pts, mass, bandwidth=bandwidth, kernel=kernel,
                          sphere=plan.sphere).blur_step()
        e = np.sqrt(((new - pts) ** 2).sum(axis=1))[owner] / bandwidth
        pts, mass, group = _collapse(new, mass, radius, plan.sphere)
        if group is not None:
            owner = group[owner]
        new_entropy = cluster_entropy(mass)
        if history is not None:  # record_history
            history.append(pts[owner].copy())
        logger.debug("blurring step %d: %d clusters, largest move %.3g bandwidths, "
                     "entropy %.6f", steps, len(pts), e.max(), new_entropy)
        if e.max() <= tol:
            converged, why = True, "every point stopped"
        elif (prev_e is not None and abs(new_entropy - entropy) < 1e-12
              and np.all(np.abs(e - prev_e) <= np.maximum(tol, STEADY * prev_e))):
            converged, why = True, "points collapsed into clusters"
        entropy, prev_e = new_entropy, e
        report(plan.callback, "blur", max_iter if converged else steps, max_iter)
        if converged:
            logger.info("blurring mean shift stopped after %d steps (%s): %d collapsed "
                        "clusters", steps, why, len(pts))
            break
    final = engine.bind(pts, mass, bandwidth=bandwidth, kernel=kernel, sphere=plan.sphere)
    _, den = final.partial_sums(pts)
    centers, center_density, _ = merge_modes(pts, den, plan.merge_radius)
    ends = pts[owner]
    labels = labels_from_ends(X, ends, den[owner] > 0, engine, centers, plan.merge_radius,
                              plan.cluster_all)
    return FitResult(
        centers, labels, center_density, np.full(n, steps, dtype=np.int64),
        np.full(n, converged), X, ends, den[owner], history, None,
    )
