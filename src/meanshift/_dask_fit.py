"""Fitting and predicting on dask input (``engine="dask"``): data larger than one machine.

:class:`meanshift.MeanShift` hands dask arrays and dataframes (and NumPy input with
``engine="dask"``) to :func:`fit_dask` and :func:`predict_dask`.  Nothing here computes the
whole data set in one place:

* **Validation** without a separate pass: NaN/infinity in X and the checks on
  ``sample_weight`` are reduced in the same pass that persists the data (standard) or
  streams its bins (compressed).
* **Bandwidth** ``"auto"``/None from a random sample of rows (the same 600 rows that the
  in-memory fit samples, so ``"auto"`` gives the same bandwidth without sample weights).
* **standard**: the data are persisted once (in the workers' memory), seeds are made from
  a sample or from grid bins counted chunk by chunk, and the seeds climb with
  :class:`~meanshift._engines._dask.DaskEngine`: every step is one tree-reduced map-reduce
  of the chunks' kernel sums.  Exact: the same modes as the in-memory fit.
* **compressed**: one streaming pass turns every chunk into grid-bin statistics
  (:func:`meanshift._compress.bin_stats`, bins of ``bandwidth * BIN_FRACTION``, the
  in-memory compressed algorithm's ``1/16``),
  which add up in a tree; the data are never held in memory, so 10^8 points read from
  Zarr, Parquet or a memmap cluster with memory flat in n.  The weighted bin means then
  climb in memory with the fast CPU engine (every point is within
  ``sqrt(d) * bandwidth * BIN_FRACTION`` of its bin mean).
* **Merge** in memory (the modes are few); **labels** stay lazy: a dask array computed
  block by block with the nearest-centre rule (``label_by="nearest"``), as dask-ml does.
"""

from __future__ import annotations

import logging
import os

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_feature_names, _check_n_features, validate_data

from ._compress import BIN_FRACTION, BinStats, bin_means, bin_stats, combine
from ._kernels import get_kernel
from ._pipeline import label_points, run_standard
from ._resolve import resolve_bandwidth, resolve_dask_algorithm, resolve_dask_seeds
from ._seeding import bin_seeds, make_seeds

__all__ = ["fit_dask", "predict_dask", "is_dask", "DASK_ALGORITHMS"]

logger = logging.getLogger("meanshift")

# Algorithms the dask path runs.
DASK_ALGORITHMS = ("standard", "compressed")
# Grid bins per bandwidth of the compressed path.  Even, so that the bins nest in the
# bandwidth-sized cells of bin seeding (whose edges are at (k + 1/2) * bandwidth).
# Rows drawn for "auto" (auto_bandwidth's own sample size) and None (estimate_bandwidth).
_AUTO_SAMPLE = 600
_ESTIMATE_SAMPLE = 2000
# Rows per chunk when NumPy input is wrapped for engine="dask".
_NUMPY_CHUNK_ROWS = 250_000
# Rows binned at a time inside a chunk task (the temporaries are ~80 bytes a row).
_SUB_ROWS = 2**17
# Persist the data when it takes at most this fraction of the scheduler's memory.
_PERSIST_FRACTION = 0.5


def _da():
    try:
        import dask
        import dask.array as da
    except ImportError as exc:
        raise ImportError(
            f'Dask input needs dask ({exc}). Install it with: pip install "meanshift[dask]".'
        ) from exc
    return dask, da


def is_dask(obj) -> bool:
    """True for dask arrays, dataframes and series, checked without importing dask."""
    return type(obj).__module__.startswith("dask")


# -- input --------------------------------------------------------------------------------
def _as_dask_array(X, *, model, reset):
    """X as a float64 dask array chunked by rows only; checks features like scikit-learn."""
    dask, da = _da()
    if hasattr(X, "to_dask_array"):  # dask DataFrame (Parquet, CSV, ...)
        _check_feature_names(model, X._meta, reset=reset)
        X = X.to_dask_array(lengths=True)
    else:
        _check_feature_names(model, X._meta if is_dask(X) else np.empty((0, 0)), reset=reset)
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2-D dask array of shape (n_samples, n_features); got {X.ndim} "
            f"dimension(s), shape {X.shape}."
        )
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must be numeric; got a dask array of dtype {X.dtype}.")
    if any(np.isnan(c) for c in X.chunks[0]):
        X = X.compute_chunk_sizes()
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X must have at least one sample and one feature; got shape {X.shape}.")
    _check_n_features(model, X, reset=reset)
    if X.dtype != np.float64:
        X = X.astype(np.float64)
    if X.numblocks[1] != 1:
        X = X.rechunk({1: -1})
    return X


def _as_dask_weights(sample_weight, X):
    if sample_weight is None:
        return None
    _, da = _da()
    if hasattr(sample_weight, "to_dask_array"):
        sample_weight = sample_weight.to_dask_array(lengths=True)
    if not is_dask(sample_weight):
        sample_weight = np.asarray(sample_weight)
        if sample_weight.dtype.kind not in "biuf":
            raise ValueError(f"sample_weight must be numeric; got dtype {sample_weight.dtype}.")
    if sample_weight.ndim == 2 and sample_weight.shape[1] == 1:
        sample_weight = sample_weight.reshape(-1) if is_dask(sample_weight) else sample_weight[:, 0]
    if sample_weight.ndim != 1 or sample_weight.shape[0] != X.shape[0]:
        raise ValueError(
            f"sample_weight must have shape ({X.shape[0]},), one weight per sample; got "
            f"shape {sample_weight.shape}."
        )
    if is_dask(sample_weight):
        if sample_weight.dtype.kind not in "biuf":
            raise ValueError(f"sample_weight must be numeric; got dtype {sample_weight.dtype}.")
        return sample_weight.astype(np.float64).rechunk((X.chunks[0],))
    return da.from_array(sample_weight.astype(np.float64), chunks=(X.chunks[0],))


def _check_input_summary(x_finite, w_summary):
    """Raise the estimator's errors from the reduced checks (no full array in memory)."""
    if not x_finite:
        raise ValueError("Input X contains NaN or infinity.")
    if w_summary is None:
        return
    finite, wmin, wsum = w_summary
    if not finite:
        raise ValueError("sample_weight must be finite; it contains NaN or infinity.")
    if wmin < 0:
        raise ValueError(f"sample_weight must be non-negative; got a minimum of {wmin:g}.")
    if not wsum > 0:
        raise ValueError("sample_weight must have a positive sum; all weights are zero.")


def _weight_summary(w):
    return None if w is None else (np.isfinite(w).all(), w.min(), w.sum())


def _on_cluster() -> bool:
    """True when dask computes on a distributed cluster (a Client is the scheduler)."""
    from dask.base import get_scheduler

    return type(getattr(get_scheduler(), "__self__", None)).__name__ == "Client"


def _scheduler_threads() -> int:
    """Threads of the current scheduler: the cluster's workers, or dask's local pool."""
    try:
        from distributed import get_client

        return int(sum(w.get("nthreads", 1) for w in get_client().scheduler_info()["workers"].values()))
    except (ImportError, ValueError):
        import dask

        return int(dask.config.get("num_workers", None) or os.cpu_count() or 1)


def _scheduler_memory() -> float:
    """Bytes of memory of the current scheduler: the cluster's workers, or this machine."""
    try:
        from distributed import get_client

        info = get_client().scheduler_info()
        return float(sum(w.get("memory_limit", 0) or 0 for w in info["workers"].values()))
    except (ImportError, ValueError):
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


# -- bandwidth and seeds ------------------------------------------------------------------
def _bandwidth_sample(X, w, bandwidth, random_state):
    """Rows for the bandwidth rule, drawn as the in-memory fit draws them."""
    n = X.shape[0]
    size = _AUTO_SAMPLE if isinstance(bandwidth, str) and w is None else _ESTIMATE_SAMPLE
    if n <= size:
        return X, w
    rows = check_random_state(random_state).choice(n, size, replace=False)
    return X[rows], None if w is None else w[rows]


def _resolve_bandwidth(model, S, wS, kernel, cpu):
    if not np.all(np.isfinite(S)):
        raise ValueError("Input X contains NaN or infinity.")
    if wS is not None and not (np.all(np.isfinite(wS)) and np.all(wS >= 0) and wS.sum() > 0):
        wS = None  # the full checks raise the precise error in the data pass
    return resolve_bandwidth(
        model.bandwidth, S, sample_weight=wS, kernel=kernel, engine=cpu,
        random_state=model.random_state, n_jobs=model.n_jobs,
    )


def _cell_counts(chunk, wchunk, bin_size):
    """Bin seeding's cells (``round(x / bin_size)``) of one chunk and their weight."""
    cells = np.round(np.asarray(chunk, dtype=np.float64) / bin_size)
    uniq, inverse = np.unique(cells, axis=0, return_inverse=True)
    freq = np.bincount(inverse.reshape(-1), weights=wchunk, minlength=len(uniq))
    return uniq, freq.astype(np.float64)


def _add_cell_counts(*parts):
    cells = np.concatenate([p[0] for p in parts])
    uniq, inverse = np.unique(cells, axis=0, return_inverse=True)
    freq = np.bincount(inverse.reshape(-1), weights=np.concatenate([p[1] for p in parts]),
                       minlength=len(uniq))
    return uniq, freq


def _dask_bin_seeds(X, w, bin_size, min_bin_freq):
    """:func:`meanshift._seeding.bin_seeds` with the bins counted chunk by chunk.

    Returns the seeds, or None when every point has a bin of its own (the caller then
    uses every point, with scikit-learn's warning)."""
    dask, _ = _da()
    from ._engines._dask import row_blocks, tree_reduce

    _, blocks = row_blocks(X, w)
    task = dask.delayed(_cell_counts, pure=True)
    cells, freq = tree_reduce([task(c, wc, bin_size) for c, wc in blocks], _add_cell_counts).compute()
    if (freq >= min_bin_freq).all() and len(cells) < X.shape[0]:
        return cells.astype(np.float32) * np.float32(bin_size)  # bin_seeds' rule, all kept
    # bin_seeds on one point per cell, weighted by the cell's count: its threshold, errors
    # and fallback (which, here, means every point has a bin of its own).
    seeds, fell_back = bin_seeds(cells * bin_size, bin_size, min_bin_freq, freq)
    return None if fell_back else seeds


def _seed_array(model, spec, X, w, h, d):
    """The seeds of the standard dask fit as an array (X is the scaled dask array)."""
    n = X.shape[0]
    if isinstance(spec, str):
        if spec == "bins":
            seeds = _dask_bin_seeds(X, w, h, model.min_bin_freq)
            if seeds is not None:
                return seeds
        return X.compute()  # "all", or bins that fell back to all points
    if isinstance(spec, (int, np.integer)):
        # make_seeds' own draw of rows, on a 0-column stand-in for X.
        _, rows, _ = make_seeds(
            np.empty((n, 0)), seeds=spec, bin_seeding=False, min_bin_freq=1, bandwidth=h,
            random_state=model.random_state, sample_weight=None,
        )
        return X[rows].compute() if len(rows) < n else X.compute()
    return spec


def _user_seeds(model, d):
    """The ``seeds`` parameter, arrays validated and scaled like the in-memory fit."""
    seeds = model.seeds
    if seeds is None or isinstance(seeds, (str, int, np.integer)):
        return seeds
    arr, _, _ = make_seeds(
        np.empty((0, d)), seeds=seeds, bin_seeding=False, min_bin_freq=1, bandwidth=1.0,
        random_state=None, sample_weight=None,
    )
    return model._scale(arr)


# -- the two algorithms -------------------------------------------------------------------
def _persist_and_check(model, X, w):
    """Standard algorithm: persist the data once, then check them (and draw the bandwidth
    sample) in one pass over the persisted chunks."""
    dask, da = _da()

    memory = _scheduler_memory()
    if X.nbytes <= _PERSIST_FRACTION * memory:
        X, w = (dask.persist(X)[0], None) if w is None else dask.persist(X, w)
    else:
        logger.warning(
            "meanshift: the data (%.3g GB) exceed half of the scheduler's memory (%.3g GB) "
            "and are re-read at every step; algorithm='compressed' streams them once.",
            X.nbytes / 1e9, memory / 1e9,
        )
    needs_sample = model.bandwidth is None or isinstance(model.bandwidth, str)
    S, wS = _bandwidth_sample(X, w, model.bandwidth, model.random_state) if needs_sample else (None, None)
    x_finite, w_summary, S, wS = dask.compute(da.isfinite(X).all(), _weight_summary(w), S, wS)
    _check_input_summary(x_finite, w_summary)
    return X, w, S, wS


def _chunk_bins(chunk, wchunk, bin_size):
    """Bin statistics of one chunk, and its input checks (runs on a worker)."""
    chunk = np.asarray(chunk, dtype=np.float64)
    finite = bool(np.isfinite(chunk).all())
    summary = None if wchunk is None else (
        bool(np.isfinite(wchunk).all()), float(wchunk.min()), float(wchunk.sum()))
    if not finite or (summary is not None and not summary[0]):
        d = chunk.shape[1]
        stats = BinStats(np.empty((0, d), np.int64), np.empty(0), np.empty((0, d)))
    else:  # sub-blocks bound the temporaries (~10 numbers a row) whatever the chunk size
        stats = combine(*[
            bin_stats(chunk[r : r + _SUB_ROWS], None if wchunk is None else
                            wchunk[r : r + _SUB_ROWS], bin_size)
            for r in range(0, len(chunk), _SUB_ROWS)
        ])
    return stats, finite, summary


def _add_chunk_bins(*parts):
    stats = [p[0] for p in parts if len(p[0].keys)]
    summaries = [p[2] for p in parts]
    summary = None if summaries[0] is None else (
        all(s[0] for s in summaries), min(s[1] for s in summaries), sum(s[2] for s in summaries))
    return (combine(*stats) if stats else parts[0][0]), all(p[1] for p in parts), summary


def stream_bins(X, w, bin_size):
    """One streaming pass: the grid-bin statistics of all of X, added up chunk by chunk.

    Returns ``(stats, x_finite, weight_summary)``; memory is a few chunks plus the bins.
    """
    dask, _ = _da()
    from ._engines._dask import row_blocks, tree_reduce

    _, blocks = row_blocks(X, w)
    task = dask.delayed(_chunk_bins, pure=True)
    # Rounds of a few chunks per thread, added to a running total that stays where it was
    # computed: at most one round of chunk results is alive at a time, whatever n is
    # (one graph over all chunks lets the schedulers run ahead and hold many).
    # On a cluster every round's total is kept until the end (on the workers; they are
    # small): if a worker dies, a lost total is recomputed from the one before it.
    batch = max(8, 4 * _scheduler_threads())
    keep = _on_cluster()
    totals = []
    for start in range(0, len(blocks), batch):
        parts = [task(c, wc, bin_size) for c, wc in blocks[start : start + batch]]
        total = dask.persist(tree_reduce(parts + totals[-1:], _add_chunk_bins))[0]
        totals = totals + [total] if keep else [total]
    return totals[-1].compute()


# -- labels -------------------------------------------------------------------------------
def _label_block(block, centers, reach, merge_radius, label_by, cluster_all, data, options,
                 engine_name):
    from ._engines._dask import _cpu_engine

    return label_points(
        np.asarray(block, dtype=np.float64), None, engine=_cpu_engine(engine_name),
        centers=centers, reach=reach, merge_radius=merge_radius, label_by=label_by,
        cluster_all=cluster_all, climb_args={"data": data, "options": options},
    )


def _lazy_labels(model, X, centers, engine):
    """Labels of the (scaled) dask array X, block by block; a lazy dask array.

    With ``label_by="mode"`` every point climbs; when the fit data are a dask array
    (standard algorithm) that climb is a map-reduce and the labels are computed."""
    options = dict(bandwidth=model._h, kernel=model._kernel, tol=model.tol, max_iter=model.max_iter)
    if model.label_by == "mode" and is_dask(model._fit_X):
        return label_points(
            X, None, engine=engine, centers=centers, reach=model._kernel.reach * model._h,
            merge_radius=model._merge_radius, label_by="mode", cluster_all=model.cluster_all,
            climb_args={"data": (model._fit_X, model._fit_w), "options": options},
        )
    data = (model._fit_X, model._fit_w) if model.label_by == "mode" else None
    return X.map_blocks(
        _label_block, centers, model._kernel.reach * model._h, model._merge_radius,
        model.label_by, model.cluster_all, data, options, engine.cpu_engine,
        drop_axis=1, dtype=np.int64,
    )


def _block_counts(labels, k):
    return np.bincount(labels[labels >= 0], minlength=k)[None, :]


def _lazy_sizes(labels, k):
    return labels.map_blocks(
        _block_counts, k, chunks=((1,) * labels.numblocks[0], (k,)), new_axis=1, dtype=np.int64
    ).sum(axis=0)


# -- public entry points ------------------------------------------------------------------
def fit_dask(model, X, sample_weight=None):
    """Fit ``model`` (a :class:`MeanShift`) on dask input, or on NumPy input with
    ``engine="dask"``; see the module notes.  Labels of dask input stay lazy."""
    dask, da = _da()
    from ._engines._dask import DaskEngine

    if model.engine not in ("auto", "dask"):
        raise ValueError(
            f"Dask input runs on engine='dask' (or 'auto'); got engine={model.engine!r}. "
            "Pass engine='dask', or compute X into memory first (X.compute())."
        )
    from_numpy = not is_dask(X)
    if from_numpy:
        from ._estimator import _check_sample_weight

        Xn = validate_data(model, X, dtype=[np.float64, np.float32])
        wn = _check_sample_weight(sample_weight, Xn.shape[0])
        X = da.from_array(np.asarray(Xn, dtype=np.float64), chunks=(_NUMPY_CHUNK_ROWS, -1))
        sample_weight = wn
    else:
        X = _as_dask_array(X, model=model, reset=True)
    w = _as_dask_weights(sample_weight, X)
    n, d = X.shape
    model._check_bandwidth_array(d)
    kernel = get_kernel(model.kernel)
    engine = DaskEngine(n_jobs=model.n_jobs)
    cpu = engine.cpu
    model.engine_ = "dask"
    model.algorithm_, algorithm_why = resolve_dask_algorithm(model.algorithm, n, d)
    if model.algorithm_ not in DASK_ALGORITHMS:
        raise ValueError(
            f"The 'algorithm' parameter for dask input must be 'auto' or one of "
            f"{list(DASK_ALGORITHMS)}; got {model.algorithm!r}."
        )
    given = model.bandwidth is not None and not isinstance(model.bandwidth, str)
    if given and np.ndim(model.bandwidth) > 0:
        model._feature_scale = np.asarray(model.bandwidth, dtype=np.float64)
        X = X / model._feature_scale
    else:
        model._feature_scale = None

    if model.algorithm_ == "standard":
        X, w, S, wS = _persist_and_check(model, X, w)
    elif not given:
        S, wS = dask.compute(*_bandwidth_sample(X, w, model.bandwidth, model.random_state))
    if given:
        model.bandwidth_, bandwidth_why = resolve_bandwidth(
            model.bandwidth, None, sample_weight=None, kernel=kernel, engine=cpu,
            random_state=model.random_state, n_jobs=model.n_jobs)
    else:
        model.bandwidth_, bandwidth_why = _resolve_bandwidth(model, S, wS, kernel, cpu)
    h = 1.0 if model._feature_scale is not None else float(model.bandwidth_)
    model._merge_radius = h if model.merge_radius is None else float(model.merge_radius)
    seed_spec, seed_why = resolve_dask_seeds(model.seeds, model.bin_seeding, n, model.algorithm_)
    if seed_spec is model.seeds:
        seed_spec = _user_seeds(model, d)
    logger.info(
        "MeanShift: engine=dask (%s chunks, CPU engine %s), algorithm=%s (%s), "
        "bandwidth=%s (%s), seeds=%s (%s), kernel=%s",
        X.numblocks[0], engine.cpu_engine, model.algorithm_, algorithm_why,
        np.round(model.bandwidth_, 6), bandwidth_why,
        seed_spec if isinstance(seed_spec, (str, int)) else "given", seed_why, kernel.name,
    )
    common = dict(kernel=kernel, bandwidth=h, tol=model.tol, max_iter=model.max_iter,
                  bin_seeding=False, min_bin_freq=model.min_bin_freq,
                  random_state=model.random_state, merge_radius=model._merge_radius,
                  label_by="nearest", cluster_all=True, record_history=model.record_history)
    if model.algorithm_ == "standard":
        seeds = _seed_array(model, seed_spec, X, w, h, d)
        # The climb is the map-reduce; run_standard's labels are a lazy dask array.
        result = run_standard(X, w, engine=engine, seeds=seeds, **common)
        model._fit_X, model._fit_w = X, w
    else:
        bin_size = h * BIN_FRACTION
        stats, x_finite, w_summary = stream_bins(X, w, bin_size)
        _check_input_summary(x_finite, w_summary)
        means, weights = bin_means(stats)
        logger.info("MeanShift: %d points streamed into %d grid bins of size %.3g",
                    n, len(means), bin_size)
        if isinstance(seed_spec, (int, np.integer)):
            seed_spec = _seed_array(model, seed_spec, X, w, h, d)
        # Exact weighted mean shift of the bin means, in memory, on the CPU engine.
        result = run_standard(means, weights, engine=cpu, seeds=seed_spec, **common)
        model._fit_X, model._fit_w = means, weights
    model._kernel, model._h = kernel, h
    centers = result.centers
    labels = _lazy_labels(model, X, centers, engine)
    sizes = _lazy_sizes(labels, len(centers)) if is_dask(labels) else np.bincount(
        labels[labels >= 0], minlength=len(centers))
    if from_numpy:
        labels, sizes = dask.compute(labels, sizes)
    unscale = (lambda a: a) if model._feature_scale is None else (lambda a: a * model._feature_scale)
    model.cluster_centers_ = model._centers = unscale(centers)
    model.device_ = "cpu"
    model.labels_ = labels
    model.cluster_sizes_ = sizes
    model._store_climb(result, unscale, stacklevel=4)
    return model


def predict_dask(model, X):
    """Labels of the rows of a dask array or dataframe: a lazy dask array."""
    from ._engines._dask import DaskEngine

    X = _as_dask_array(X, model=model, reset=False)
    Xs = model._scale(X)
    return _lazy_labels(model, Xs, model._scale(model.cluster_centers_), DaskEngine())
