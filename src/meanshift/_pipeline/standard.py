"""Standard mean shift: seeds climb the fixed data, end points merge, points are labelled.

The pipeline gets validated, isotropic rows (the estimator has already divided each
feature by its bandwidth when the bandwidth is per feature), reads them through their
input adapter (:mod:`meanshift._data`), binds them to the engine once, and returns a
:class:`~meanshift._pipeline._plan.FitResult`.  ``climb`` is the climb strategy: the
plain climb of the engine, or basin absorption (:mod:`meanshift._pipeline.basin`).
"""

from __future__ import annotations

import warnings

import numpy as np

from .._stages.labels import label_rows, labels_from_ends
from .._stages.merge import merge_modes
from .._stages.metric import project
from .._stages.seeding import bin_seeds, make_seeds
from .._warnings import MeanShiftWarning
from ._plan import FitResult, Plan

__all__ = ["run_standard", "plain_climb"]


def plain_climb(bound, seeds, plan: Plan):
    """Every seed climbs to convergence on the bound data (the engine's climb)."""
    return bound.climb(seeds, tol=plan.tol, max_iter=plan.max_iter,
                       record_history=plan.record_history, callback=plan.callback)


def run_standard(rows, plan: Plan, climb=plain_climb) -> FitResult:
    """Standard mean shift of the rows (see module notes)."""
    h = plan.bandwidth
    seeds = make_seeds(rows, seeds=plan.seeds, bin_seeding=plan.bin_seeding,
                       min_bin_freq=plan.min_bin_freq, bandwidth=h,
                       random_state=plan.random_state, unit=plan.unit)
    bound = plan.engine.bind(rows.X, rows.w, bandwidth=h, kernel=plan.kernel,
                             sphere=plan.sphere)
    seed_array = project(seeds.array) if plan.sphere else seeds.array
    res = climb(bound, seed_array, plan)
    if seeds.kind == "bins" and not np.any(res.density > 0):
        # Every bin centre is out of reach of the data (scikit-learn raises here): seed
        # at the bins' weighted means instead, which are inside the data's hull.
        warnings.warn(
            f"No bin centre is within the kernel's reach of the data (bandwidth="
            f"{plan.data_bandwidth:g}, {len(seed_array)} bins); seeding at the bins' "
            "means instead.",
            MeanShiftWarning, stacklevel=4,
        )
        X, w = rows.values()
        seed_array, _ = bin_seeds(X, h, plan.min_bin_freq, w, at="mean",
                                  unit=plan.unit)
        seed_array = project(seed_array) if plan.sphere else seed_array
        res = climb(bound, seed_array, plan)
    centers, center_density, _ = merge_modes(res.modes, res.density, plan.merge_radius,
                                             plan.callback)
    if len(centers) == 0:
        raise ValueError(
            f"No point was within the kernel's reach of any seed (bandwidth="
            f"{plan.data_bandwidth:g}, kernel={plan.kernel.name!r}, {len(seed_array)} "
            "seeds): every seed is far from all data. Use seeds closer to the data, a "
            "different seeding strategy, or a larger bandwidth."
        )
    reach = plan.kernel.reach * h
    if plan.label_by == "mode" and seeds.rows is not None and len(seeds.rows) == rows.n:
        # Every point climbed as a seed: reuse those climbs for the labels.
        ends = np.empty_like(res.modes)
        ends[seeds.rows] = res.modes
        alive = np.empty(rows.n, dtype=bool)
        alive[seeds.rows] = res.density > 0
        labels = labels_from_ends(rows.values()[0], ends, alive, plan.engine, centers,
                                  plan.merge_radius, plan.cluster_all)
    else:
        labels = label_rows(
            rows, engine=plan.engine, bind=lambda: bound, centers=centers, reach=reach,
            merge_radius=plan.merge_radius, label_by=plan.label_by,
            cluster_all=plan.cluster_all, tol=plan.tol, max_iter=plan.max_iter,
            callback=plan.callback)
    return FitResult(centers, labels, center_density, res.n_iter, res.converged, seed_array,
                     res.modes, res.density, res.history, bound)
