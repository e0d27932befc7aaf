"""Every ``"auto"`` choice is made here, once, for every input: the engine, the device,
the algorithm, the bandwidth and the seeding, each with its reason.  :func:`make_plan`
returns the :class:`~meanshift._pipeline.Plan` of a fit and logs it at INFO; the
estimator stores the decisions (``engine_``, ``device_``, ``algorithm_``,
``bandwidth_``).

One rule for every container: the same data and parameters give the same plan for a
NumPy array, a torch tensor or a dask array, with one stated exception: every point as
a seed (``seeds=None`` without bin seeding, the standard and basin algorithms) needs
every point in memory on one machine, so a dask array of more than
``DASK_ALL_SEEDS_MAX`` rows is seeded from bins instead (logged).
"""

from __future__ import annotations

import logging
import warnings

import numpy as np

from ._arrays import is_dask, is_tensor
from ._engines import ENGINES, UNUSABLE, engine_available, get_engine
from ._kernels import get_kernel
from ._pipeline import Plan
from ._stages.bandwidth import choose_bandwidth
from ._warnings import MeanShiftWarning

__all__ = ["resolve_engine", "resolve_algorithm", "resolve_seeds", "make_plan",
           "AUTO_ENGINE_ORDER", "COMPRESS_MIN_SAMPLES", "COMPRESS_MAX_FEATURES",
           "DASK_ALL_SEEDS_MAX"]

logger = logging.getLogger("meanshift")

# Preference order of engine="auto" for in-memory NumPy input.
AUTO_ENGINE_ORDER = ["numba", "numpy"]
#: algorithm="auto" compresses at least this many samples in at most COMPRESS_MAX_FEATURES.
COMPRESS_MIN_SAMPLES = 50_000
COMPRESS_MAX_FEATURES = 3
#: seeds=None climbs from every row of a dask array only up to this many rows.
DASK_ALL_SEEDS_MAX = 10_000


def resolve_engine(engine, X=None, device="auto", lazy=None):
    """Name of the engine to use and why (a ``device`` other than "auto" asks for torch;
    ``lazy``: the rows are a dask array, by default when X is one)."""
    lazy = is_dask(X) if lazy is None else lazy
    if lazy and engine not in ("auto", "dask"):
        raise ValueError(
            f"Dask input runs on engine='dask' (or 'auto'); got engine={engine!r}. "
            "Pass engine='dask', or compute X into memory first (X.compute())."
        )
    if engine != "auto":
        return engine, "requested"
    if lazy and "dask" in ENGINES:
        return "dask", "input is a dask array"
    if is_tensor(X) and "torch" in ENGINES:
        return "torch", "input is a torch tensor"
    if device != "auto" and "torch" in ENGINES:
        return "torch", f"device={device!r} requested"
    for name in AUTO_ENGINE_ORDER:
        if name in ENGINES and engine_available(name):
            return name, "fastest available"
        if name in UNUSABLE:
            warnings.warn(f"The {name!r} engine cannot run here ({UNUSABLE[name]}); "
                          "engine='auto' uses the NumPy reference engine instead (slower, "
                          "same answers).", MeanShiftWarning, stacklevel=5)
    return "numpy", "fallback"


def resolve_algorithm(algorithm, n_samples, n_features, every_point=True):
    """Name of the algorithm to use and why.

    ``"auto"`` picks ``"compressed"`` (mean shift on weighted bin means, see
    :mod:`meanshift._pipeline.compressed`) for at least ``COMPRESS_MIN_SAMPLES`` samples
    in at most ``COMPRESS_MAX_FEATURES`` dimensions, where bins of a fraction of the
    bandwidth hold many points each; in more dimensions, ``"checked"`` (bin seeds checked
    against a sample of every-point climbs, :mod:`meanshift._pipeline.checked`) for as
    many samples when ``every_point``: every point would be a seed (no ``seeds``, no bin
    seeding), points are labelled by the nearest centre and the rows are in memory;
    otherwise exact ``"standard"`` mean shift.
    """
    if algorithm != "auto":
        return algorithm, "requested"
    if n_samples >= COMPRESS_MIN_SAMPLES and n_features <= COMPRESS_MAX_FEATURES:
        return "compressed", (f"{n_samples} samples >= {COMPRESS_MIN_SAMPLES} in "
                              f"{n_features} <= {COMPRESS_MAX_FEATURES} dimensions")
    if n_samples >= COMPRESS_MIN_SAMPLES and every_point:
        return "checked", (f"{n_samples} samples >= {COMPRESS_MIN_SAMPLES}, every point a "
                           "seed: bin seeds checked against a sample of every-point climbs")
    if n_features > COMPRESS_MAX_FEATURES:
        return "standard", f"{n_features} dimensions > {COMPRESS_MAX_FEATURES}: exact"
    return "standard", f"{n_samples} samples < {COMPRESS_MIN_SAMPLES}: exact"


def resolve_seeds(seeds, bin_seeding, rows, algorithm):
    """The seeding spec and why (the one exception of the module notes)."""
    if seeds is not None:
        return seeds, "requested"
    if bin_seeding:
        return "bins", "bin_seeding=True"
    if rows.lazy and algorithm in ("standard", "basin", "checked") and rows.n > DASK_ALL_SEEDS_MAX:
        return "bins", (f"dask input of {rows.n} > {DASK_ALL_SEEDS_MAX} rows: bin seeding "
                        "(every point as a seed needs them all in memory)")
    return None, "every point (scikit-learn's default)"


def _engine(model, name, device):
    """The engine instance, with the estimator's ``engine_options`` and ``n_jobs``."""
    options = dict(model.engine_options or {})
    if "n_jobs" in options and model.n_jobs is not None and options["n_jobs"] != model.n_jobs:
        raise ValueError(
            f"n_jobs is given twice with different values: n_jobs={model.n_jobs!r} and "
            f"engine_options={{'n_jobs': {options['n_jobs']!r}}}; give it once."
        )
    options.setdefault("n_jobs", model.n_jobs)
    if name == "torch":
        options["device"] = device
    elif model.device != "auto":
        raise ValueError(
            f"The 'device' parameter applies to the 'torch' engine only; got "
            f"device={model.device!r} with engine={name!r}. Use engine='torch' (or "
            "'auto') or leave device='auto'."
        )
    return get_engine(name, **options)


def make_plan(model, rows, X_in, scale, callback=None):
    """``(plan, decisions)`` of a fit of ``model`` on ``rows`` (``X_in``: the input as
    given, for its type and device; ``callback``: the fit's progress callback).
    ``decisions`` holds what the estimator stores."""
    kernel = get_kernel(model.kernel)
    engine_name, engine_why = resolve_engine(model.engine, X_in, model.device, rows.lazy)
    device = model.device
    if device == "auto" and is_tensor(X_in) and X_in.device.type != "cpu":
        device = str(X_in.device)
    engine = _engine(model, engine_name, device)
    every_point = (model.seeds is None and not model.bin_seeding and not rows.lazy
                   and model.label_by == "nearest")
    algorithm, algorithm_why = resolve_algorithm(model.algorithm, rows.n, rows.d,
                                                 every_point)
    rows.prepare(persist_data=algorithm in ("standard", "basin", "checked"))
    bandwidth, bandwidth_why = choose_bandwidth(
        model.bandwidth, rows, kernel=kernel, engine=engine,
        random_state=model.random_state, n_jobs=model.n_jobs, callback=callback,
        metric=scale.metric)
    # The rows are in the fit's units (scale: per-feature bandwidths, a power of two).
    h, bandwidth = scale.fit_bandwidth(model.bandwidth, bandwidth)
    seeds, seeds_why = resolve_seeds(model.seeds, model.bin_seeding, rows, algorithm)
    if seeds is not None and not isinstance(seeds, (str, int, np.integer)):
        from ._stages.seeding import check_seed_array

        # Given in the data's form (latitude, longitude for the globe).
        seeds = scale.into(check_seed_array(seeds, model.n_features_in_))
    device_ = str(getattr(engine, "device", "cpu"))
    logger.info(
        "MeanShift: engine=%s (%s) on %s, algorithm=%s (%s), bandwidth=%s (%s), "
        "seeds=%s (%s), kernel=%s, metric=%s", engine_name, engine_why, device_, algorithm,
        algorithm_why, np.array2string(np.asarray(bandwidth), precision=6), bandwidth_why,
        seeds if seeds is None or isinstance(seeds, (str, int)) else "given", seeds_why,
        kernel.name, scale.metric.name,
    )
    plan = Plan(
        algorithm=algorithm, engine=engine, kernel=kernel, bandwidth=h, tol=model.tol,
        max_iter=model.max_iter, seeds=seeds, bin_seeding=model.bin_seeding,
        min_bin_freq=model.min_bin_freq, random_state=model.random_state,
        merge_radius=h if model.merge_radius is None else scale.fit_distance(
            model.merge_radius),
        label_by=model.label_by, cluster_all=model.cluster_all,
        record_history=model.record_history, callback=callback, unit=scale.power,
        sphere=scale.metric.sphere,
    )
    decisions = dict(engine_=engine_name, device_=device_, algorithm_=algorithm,
                     bandwidth_=bandwidth)
    return plan, decisions
