"""The scikit-learn face of the library: :class:`MeanShift` and :func:`mean_shift`.

The estimator only orchestrates: it reads the input into rows (:mod:`meanshift._data`:
NumPy, torch and dask input alike), makes the plan of the fit once (every ``"auto"``
resolved, :mod:`meanshift._resolve`), runs the plan's pipeline
(:mod:`meanshift._pipeline`) on an engine (:mod:`meanshift._engines`), and exposes the
results as fitted attributes.
"""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from ._data import MemoryRows, as_tensor, read_rows, sample_rows
from ._engines import ENGINES
from ._kernels import KERNELS
from ._params import Number as _Number
from ._pipeline import ALGORITHMS, run
from ._resolve import make_plan
from ._stages.bandwidth import fit_scale
from ._stages.labels import label_rows
from ._stages.merge import merge_modes
from ._stages.metric import METRICS, get_metric

__all__ = ["MeanShift", "mean_shift"]

logger = logging.getLogger("meanshift")


@contextmanager
def _unchanged_on_error(model):
    """A fit that fails (or is cancelled) leaves the estimator as it was before it."""
    state = dict(vars(model))
    try:
        yield
    except BaseException:
        vars(model).clear()
        vars(model).update(state)
        raise


@contextmanager
def _progress_display(model):
    """The fit's progress callback: the user's ``callback`` and, with ``progress=True``,
    the display of :mod:`meanshift._progress` (closed, its line erased, at the end)."""
    user = model.callback
    if not model.progress:
        yield user
        return
    from ._progress import ProgressDisplay

    display = ProgressDisplay()

    def both(p):
        display(p)
        return None if user is None else user(p)

    # Warnings of the fit (a seed that did not converge, ...) are shown once the line is
    # erased, not into the middle of it.
    with warnings.catch_warnings(record=True) as caught:
        try:
            yield both
        finally:
            display.close()
    for w in caught:
        warnings.showwarning(w.message, w.category, w.filename, w.lineno, w.file, w.line)


class MeanShift(ClusterMixin, BaseEstimator):
    """Mean shift clustering: every seed climbs the kernel density of the data to a mode.

    A drop-in replacement for :class:`sklearn.cluster.MeanShift`: every scikit-learn
    parameter keeps its meaning, and with ``kernel="flat"`` and a given bandwidth the
    centres and labels are scikit-learn's.  Beyond it: four kernels, an automatic
    bandwidth that finds well-separated clusters, random or given seeds, sample weights,
    labels by the mode each point climbs to, a record of the climb, and fast engines.

    Parameters
    ----------
    bandwidth : float, array-like of shape (n_features,), "auto" or None, default="auto"
        Scale of the kernel: the radius for the compact kernels, the standard deviation
        for the gaussian.  An array gives one bandwidth per feature (the features are
        divided by it).  "auto" picks it by the lifetime of the cluster count in scale
        space (:func:`meanshift.auto_bandwidth`); None uses scikit-learn's
        :func:`estimate_bandwidth` (which tends to oversmooth).
    seeds : None, "all", "bins", int or array-like of shape (n_seeds, n_features), \
default=None
        Where the climbs start.  None is scikit-learn's meaning: "bins" when
        ``bin_seeding`` else "all" (every point).  An int climbs from that many points
        drawn at random (``random_state``); an array gives the seeds.
    bin_seeding : bool, default=False
        Seed from the centres of a grid of bin size ``bandwidth`` (scikit-learn's rule).
    min_bin_freq : int, default=1
        Only bins with at least this many points (sum of weights with sample weights)
        become seeds.
    cluster_all : bool, default=True
        If False, points beyond the kernel's reach of their centre (``label_by="nearest"``)
        or whose climb ended outside every cluster (``label_by="mode"``) get label -1.
        The reach is the bandwidth for compact kernels and 3 bandwidths for the gaussian.
    n_jobs : int, default=None
        Threads of the engine, one meaning for every engine: None (the default) keeps
        the runtime's current setting (every core unless changed with
        ``numba.set_num_threads`` or ``torch.set_num_threads``), -1 every thread
        available, -2 all but one, k > 0 that many; 0 is an error.  Results do not
        depend on it.
    max_iter : int, default=300
        Most mean shift steps per seed.
    kernel : {"flat", "gaussian", "epanechnikov", "triangular"}, default="flat"
        Weight profile of the mean (see :mod:`meanshift._kernels` for the formulas).  The
        default is "flat" so that replacing scikit-learn's import gives the same answer;
        "gaussian" gives a smoother density (and converges more slowly).
    tol : float, default=1e-3
        A seed has converged when one step moves it by at most ``tol * bandwidth``
        (scikit-learn's fixed rule is ``tol=1e-3``).
    label_by : {"nearest", "mode"}, default="nearest"
        "nearest": the nearest cluster centre (scikit-learn).  "mode": the cluster that
        the point's own climb reached (LPCM, MeanShift++); every point climbs.
    algorithm : {"auto", "standard", "compressed", "checked", "basin", "blurring"}, default="auto"
        "standard" mean shift moves seeds over fixed data.  "compressed" runs it on the
        weighted means of bins of side ``bandwidth / 16`` and labels the original points
        (large n in low dimension; each point moves by at most ``sqrt(n_features) / 16``
        bandwidths, see :mod:`meanshift._pipeline.compressed`).  "checked" seeds from
        the weighted mean of every occupied bin of side ``bandwidth``, then climbs 1024
        random points as every-point seeding would; if one of them ends more than
        ``0.1 * bandwidth`` from every centre found, every point climbs ("standard")
        (see :mod:`meanshift._pipeline.checked`).  "auto" picks "compressed" for at
        least 50000 samples in at most 3 features, "checked" for as many samples in more
        features when every point would be a seed (no ``seeds``, no ``bin_seeding``,
        ``label_by="nearest"``, data in memory), else "standard" (stored in
        ``algorithm_``).  "basin"
        is "standard" where a seed stops once it is within ``0.1 * bandwidth`` of a mode
        already found by a pilot seed (the same labels on clustered data, far fewer
        steps; see :mod:`meanshift._pipeline.basin`).
        "blurring" moves the data themselves: every step, every point moves to the
        kernel-weighted mean of the current points (``X <- W @ X / W.sum(1)``, the PyTorch
        walk-through's algorithm, computed in chunks), until the points have collapsed
        into clusters (stopping rule of Carreira-Perpiñán 2006, see
        :mod:`meanshift._pipeline.blurring`).  Each training point is labelled by the cluster it
        collapsed into; ``seeds``, ``bin_seeding`` and ``min_bin_freq`` do not apply.
    engine : {"auto", "numpy", "torch", ...}, default="auto"
        Where to compute; "auto" takes the fastest available (stored in ``engine_``):
        "torch" for torch tensor input or a ``device`` other than "auto".
    device : {"auto", "cpu", "cuda", "cuda:N"}, default="auto"
        Device of the "torch" engine (``pip install "meanshift[gpu]"``); "auto" is the
        input tensor's device, else the GPU when torch sees one, else the CPU (stored in
        ``device_``).  Other engines run on the CPU and accept only "auto".
    engine_options : dict, default=None
        Options of the engine, e.g. ``{"dtype": "float64"}`` for the torch engine
        (float32 by default) or ``{"gaussian_radius": 8.0}`` for the numba engine; each
        engine documents its own, and an option it does not have is an error.
    return_tensors : bool, default=False
        Keep ``cluster_centers_`` and ``labels_`` (and what ``predict`` returns) as torch
        tensors on ``device_`` instead of NumPy arrays.
    merge_radius : float, default=None
        End points within this distance of a denser kept centre merge into it
        (default: the bandwidth, as scikit-learn; in units of the bandwidth per feature
        when the bandwidth is an array).
    random_state : int, RandomState instance or None, default=0
        Seeds the random seed sample and the auto bandwidth's sample.
    record_history : bool, default=False
        Keep every seed's position after every step in ``history_`` (for "blurring",
        every point's position).
    max_samples : int, float or None, default=None
        Fit on a random sample of the rows (``random_state``), as the walk-through's
        sub-sampling: an int is a number of rows, a float in (0, 1] a fraction.  The
        other rows are labelled afterwards by the fitted ``label_by`` rule against the
        sample (their nearest centre, or their own climb on the sample's density).
        None fits on every row.
    callback : callable, default=None
        Progress of the fit: called as ``callback(progress)`` during the climb (every
        engine calls it while seeds climb, and once more at the end) and after every
        blurring step, with ``progress`` a named tuple ``(stage, done, total)``
        (``stage`` "climb": ``done`` seeds of ``total`` have stopped; "blur": steps).
        Returning ``False`` cancels the fit (``meanshift.FitCancelled`` is raised).
        The automatic bandwidth's search reports as stage "bandwidth" (trial bandwidths
        of the grid); ``label_by="mode"`` as "labels", and so do labels by the nearest
        of many centres (rows in parts); the merge of the seeds' ends as "merge"; the
        compressed algorithm's pass
        over the data as "stream" (chunks of rows done, of all); the "checked" algorithm's
        sampled climbs as "check".
    progress : bool, default=False
        Show the fit's progress on standard error while it runs (tqdm when installed,
        else a plain line): one line per stage with a meaningful total, redrawn at least
        every half second, a note the first time this process compiles, erased at the
        end (see :mod:`meanshift._progress`).  Nothing is drawn for fits under half a
        second.  Works with ``callback`` (both are called).
    metric : {"euclidean", "haversine", "cosine"}, default="euclidean"
        Where the data live (:mod:`meanshift._stages.metric`).  "haversine": rows are
        (latitude, longitude) in degrees, distances are great-circle distances in
        kilometres (the bandwidth and ``merge_radius`` too), centres come back as
        (latitude, longitude) with longitudes in [-180, 180); clusters across the 180th
        meridian or over a pole are found whole.  "cosine": rows are directions
        (embeddings; lengths are ignored, a zero row is an error), distances are cosine
        distances ``1 - cos(angle)`` in (0, 2], centres are unit vectors.  Both climb on
        the unit sphere: the kernel of the chord, every step projected back onto the
        sphere (the gaussian kernel is von Mises-Fisher mean shift, concentration
        ``1 / chord(bandwidth)**2``).
    metric_params : dict, default=None
        ``{"radius": r}`` for "haversine": the sphere's radius, in the bandwidth's
        units (default 6371.0088, the Earth's mean radius in km; 3958.76 for miles).

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Modes, densest first (ties: larger coordinates first), in the data's form
        (latitude, longitude for "haversine", unit vectors for "cosine").
    labels_ : ndarray of shape (n_samples,)
        Cluster of each point (-1: orphan, only with ``cluster_all=False``).
    n_iter_ : int
        Largest number of steps any seed took.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined only when X has feature names that are all strings.
    bandwidth_ : float or ndarray
        The bandwidth used.
    cluster_sizes_ : ndarray of shape (n_clusters,)
        Number of points labelled with each cluster.
    cluster_densities_ : ndarray of shape (n_clusters,)
        Kernel-weighted mass around each centre (for the flat kernel, the weighted number
        of points within the bandwidth), the key the merge sorts by.
    n_seeds_, n_converged_ : int
        Seeds climbed, and how many converged within ``max_iter``.
    seeds_, seed_modes_ : ndarray of shape (n_seeds, n_features)
        Where the climbs started and ended.
    history_ : list of ndarray
        With ``record_history=True``: ``history_[t]`` holds the seeds after step t.
    engine_, algorithm_ : str
        The engine and algorithm used ("auto" resolved).
    sample_indices_ : ndarray of shape (n_fitted,)
        The rows the clusters were fitted on (all rows when ``max_samples`` is None).
    device_ : str
        The device computed on ("cpu" for the CPU engines).

    Notes
    -----
    Cost: (seeds) x (data) x (steps) x n_features kernel evaluations for the reference
    engine; memory O(n_samples * n_features + block), never an n x n matrix.
    Determinism: the same data and parameters give the same result, in any row order
    and with any number of threads; merge ties go to the denser, then lexicographically
    larger mode, and label ties to the lower cluster index.
    ``predict`` follows ``cluster_all`` (scikit-learn's predict ignores it), so
    ``predict(X)`` equals ``labels_`` for ``label_by="nearest"``.
    ``max_iter`` bounds the steps; scikit-learn's ``n_iter_`` counts one fewer (it does
    not count the step at which a seed stopped).

    References
    ----------
    Comaniciu & Meer, "Mean shift: a robust approach toward feature space analysis",
    IEEE TPAMI 24(5), 2002.  Cheng, "Mean shift, mode seeking, and clustering", IEEE
    TPAMI 17(8), 1995.

    Examples
    --------
    >>> import numpy as np
    >>> from meanshift import MeanShift
    >>> X = np.array([[1, 1], [2, 1], [1, 0], [4, 7], [3, 5], [3, 6]])
    >>> ms = MeanShift(bandwidth=2).fit(X)
    >>> ms.labels_
    array([1, 1, 1, 0, 0, 0])
    >>> ms.predict([[0, 0], [5, 5]])
    array([1, 0])
    """

    _parameter_constraints: dict = {
        "bandwidth": [_Number(Real, 0, None, closed="neither"), StrOptions({"auto"}),
                      "array-like", None],
        "seeds": [None, StrOptions({"all", "bins"}), _Number(Integral, 1, None, closed="left"),
                  "array-like"],
        "bin_seeding": ["boolean"],
        "min_bin_freq": [_Number(Real, 0, None, closed="neither")],
        "cluster_all": ["boolean"],
        "n_jobs": [_Number(Integral, None, None, closed="neither"), None],
        "max_iter": [_Number(Integral, 1, None, closed="left")],
        "kernel": [StrOptions(set(KERNELS))],
        "tol": [_Number(Real, 0, None, closed="left")],
        "label_by": [StrOptions({"nearest", "mode"})],
        "algorithm": [StrOptions({"auto"} | set(ALGORITHMS))],
        "engine": [StrOptions({"auto"} | set(ENGINES))],
        "device": [str],
        "engine_options": [dict, None],
        "return_tensors": ["boolean"],
        "merge_radius": [_Number(Real, 0, None, closed="neither"), None],
        "random_state": ["random_state"],
        "record_history": ["boolean"],
        "max_samples": [_Number(Integral, 1, None, closed="left"),
                        _Number(Real, 0, 1, closed="right"), None],
        "callback": [callable, None],
        "progress": ["boolean"],
        "metric": [StrOptions(set(METRICS))],
        "metric_params": [dict, None],
    }

    def __init__(
        self,
        *,
        bandwidth="auto",
        seeds=None,
        bin_seeding=False,
        min_bin_freq=1,
        cluster_all=True,
        n_jobs=None,
        max_iter=300,
        kernel="flat",
        tol=1e-3,
        label_by="nearest",
        algorithm="auto",
        engine="auto",
        device="auto",
        engine_options=None,
        return_tensors=False,
        merge_radius=None,
        random_state=0,
        record_history=False,
        max_samples=None,
        callback=None,
        progress=False,
        metric="euclidean",
        metric_params=None,
    ):
        self.bandwidth = bandwidth
        self.seeds = seeds
        self.bin_seeding = bin_seeding
        self.min_bin_freq = min_bin_freq
        self.cluster_all = cluster_all
        self.n_jobs = n_jobs
        self.max_iter = max_iter
        self.kernel = kernel
        self.tol = tol
        self.label_by = label_by
        self.algorithm = algorithm
        self.engine = engine
        self.device = device
        self.engine_options = engine_options
        self.return_tensors = return_tensors
        self.merge_radius = merge_radius
        self.random_state = random_state
        self.record_history = record_history
        self.max_samples = max_samples
        self.callback = callback
        self.progress = progress
        self.metric = metric
        self.metric_params = metric_params

    # -- helpers -----------------------------------------------------------------------
    def _out(self, a):
        """A result as returned to the user: NumPy, or a tensor on ``device_``."""
        return as_tensor(a, self.device_) if self.return_tensors else a

    def _fit_rows(self, rows, sample):
        """The rows the clusters are fitted on: all, or the ``max_samples`` sample."""
        if sample is None:
            return rows
        fit_rows = rows.subset(sample)
        if fit_rows.w is not None and not fit_rows.w.sum() > 0:
            raise ValueError(
                f"The rows drawn by max_samples={self.max_samples!r} all have sample "
                "weight 0; use a larger max_samples or another random_state."
            )
        return fit_rows

    def _label(self, rows, centers, bound=None):
        """Labels of (scaled) rows by the fitted ``label_by`` rule; lazy for dask rows."""
        plan = self._plan

        def bind():
            if bound is not None:
                return bound
            return plan.engine.bind(self._fit_X, self._fit_w, bandwidth=plan.bandwidth,
                                    kernel=plan.kernel, sphere=plan.sphere)

        return label_rows(
            rows, engine=plan.engine, bind=bind, centers=centers,
            reach=plan.kernel.reach * plan.bandwidth, merge_radius=plan.merge_radius,
            label_by=plan.label_by, cluster_all=plan.cluster_all, tol=plan.tol,
            max_iter=plan.max_iter, callback=plan.callback)

    def _held_out_labels(self, rows, sample, result):
        """Labels of every row: the fit's own for the sample, the others by the rule."""
        if sample is None:
            return result.labels
        logger.info("MeanShift: fitted on %d of %d rows (max_samples=%r), labelling the "
                    "rest by label_by=%r", sample.size, rows.n, self.max_samples,
                    self.label_by)
        if rows.lazy:  # the others by the rule, lazily; the fit's own for the sample
            lazy = self._label(rows, result.centers, result.bound)
            return rows.overlay(lazy, sample, result.labels)
        labels = np.empty(rows.n, dtype=np.int64)
        labels[sample] = result.labels
        rest = np.ones(rows.n, dtype=bool)
        rest[sample] = False
        labels[rest] = self._label(MemoryRows(rows.X[rest]), result.centers, result.bound)
        return labels

    def _store(self, result, labels, rows, sample):
        """The fitted attributes, and the convergence warning."""
        unscale = self._unscale
        self.sample_indices_ = sample if sample is not None else rows.arange()
        self._fit_centers = result.centers
        self._centers = unscale(result.centers)
        sizes = rows.sizes(labels, len(result.centers))
        labels, self.cluster_sizes_ = rows.finish(labels, sizes)
        self.cluster_centers_ = self._out(self._centers)
        self.labels_ = labels if rows.lazy and not rows.from_numpy else self._out(labels)
        self.cluster_densities_ = result.center_density
        self.n_iter_ = int(result.n_iter.max()) if result.n_iter.size else 0
        self.seeds_ = unscale(result.seeds)
        self.seed_modes_ = unscale(result.seed_modes)
        self.n_seeds_ = int(result.seeds.shape[0])
        self.n_converged_ = int(result.converged.sum())
        if self.record_history:
            self.history_ = [unscale(h_) for h_ in result.history]
        stuck = int(((~result.converged) & (result.seed_density > 0)).sum())
        if stuck:
            warnings.warn(
                f"{stuck} of {self.n_seeds_} seeds did not converge within "
                f"max_iter={self.max_iter} steps (tol={self.tol:g} x bandwidth). Increase "
                "max_iter or tol.",
                ConvergenceWarning,
                stacklevel=5,  # _store, _fit, fit, scikit-learn's fit wrapper, the caller
            )

    def _scale(self, X):
        """Data in the units the fit ran in (:class:`FitScale`: the metric's coordinates,
        per-feature bandwidths, a power of two)."""
        return self._units.into(X)

    def _unscale(self, X):
        """Positions of the fit back in the data's form."""
        return self._units.out(X)

    def _rows_in(self, rows):
        """Rows as read (validated) in the units the fit runs in."""
        return rows.embedded(self._units.metric).scaled(self._units.divisor)

    # -- fitting -----------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Cluster X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples to cluster (no NaN or infinity): a NumPy array, a torch tensor, or a
            dask array or dataframe (labels then stay a lazy dask array).
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample (a weight of 2 counts the point twice).

        Returns
        -------
        self : MeanShift
        """
        with _unchanged_on_error(self), _progress_display(self) as callback:
            return self._fit(X, sample_weight, callback)

    def _fit(self, X, sample_weight, callback=None):
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
            delattr(self, name)  # nothing of an earlier fit survives (history_, ...)
        rows = read_rows(self, X, sample_weight, engine=self.engine)
        metric = get_metric(self.metric, self.metric_params)
        metric.check(rows.d)
        rows = rows.embedded(metric)  # unit vectors for the globe and directions
        # Exact: per-feature, a power of two (none on the sphere).
        self._units = scale = fit_scale(self.bandwidth, rows, metric)
        rows = rows.scaled(scale.divisor)
        sample = sample_rows(rows.n, self.max_samples, self.random_state)
        fit_rows = self._fit_rows(rows, sample)
        self._plan, decisions = make_plan(self, fit_rows, X, scale, callback)
        for name, value in decisions.items():
            setattr(self, name, value)
        result = run(fit_rows, self._plan)
        # What predict climbs on (label_by="mode"): the data the climbs ran on (the bin
        # means for "compressed"; blurring binds anew every step: its rows).
        bound = result.bound
        self._fit_X, self._fit_w = ((fit_rows.X, fit_rows.w) if bound is None
                                    else (bound.data, bound.weights))
        self._train_X = fit_rows.X  # iter_climb labels the training rows
        labels = self._held_out_labels(rows, sample, result)
        self._store(result, labels, rows, sample)
        return self

    def predict(self, X):
        """Cluster of each new sample, by the fitted ``label_by`` rule.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            A lazy dask array when X is a dask array or dataframe.
        """
        check_is_fitted(self)
        rows = self._rows_in(read_rows(self, X, reset=False))
        labels = self._label(rows, self._fit_centers)
        return labels if rows.lazy else self._out(labels)

    def iter_climb(self):
        """Replay the recorded climb, step by step (needs ``record_history=True``).

        Yields
        ------
        positions : ndarray of shape (n_seeds, n_features)
            Every seed's position after the step.
        centers : ndarray of shape (n_modes, n_features)
            Those positions merged (merge radius as in the fit).
        labels : ndarray of shape (n_samples,)
            Every training point's nearest of those centres.
        """
        check_is_fitted(self)
        if not hasattr(self, "history_"):
            raise ValueError("iter_climb() replays the climb recorded with "
                             "record_history=True; the last fit did not record it (history_).")
        engine = self._plan.engine
        for positions in self.history_:
            Ps = self._scale(positions)
            mass = np.ones(len(Ps))
            centers, _, _ = merge_modes(Ps, mass, self._plan.merge_radius)
            labels, _ = engine.nearest(np.asarray(self._train_X), centers)
            yield positions, self._unscale(centers), labels

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


def mean_shift(
    X,
    *,
    bandwidth="auto",
    seeds=None,
    bin_seeding=False,
    min_bin_freq=1,
    cluster_all=True,
    max_iter=300,
    n_jobs=None,
    sample_weight=None,
    **params,
):
    """Mean shift clustering; the function twin of :class:`MeanShift`.

    Takes the same parameters as :class:`MeanShift` (scikit-learn's first, then
    ``kernel``, ``tol``, ``label_by``, ...) plus ``sample_weight``.

    Returns
    -------
    cluster_centers : ndarray of shape (n_clusters, n_features)
    labels : ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> from meanshift import mean_shift
    >>> centers, labels = mean_shift(np.array([[0.0], [0.1], [5.0], [5.2]]), bandwidth=1)
    >>> labels  # equal densities: the larger coordinates come first
    array([1, 1, 0, 0])
    """
    model = MeanShift(
        bandwidth=bandwidth, seeds=seeds, bin_seeding=bin_seeding, min_bin_freq=min_bin_freq,
        cluster_all=cluster_all, max_iter=max_iter, n_jobs=n_jobs, **params,
    ).fit(X, sample_weight=sample_weight)
    return model.cluster_centers_, model.labels_
