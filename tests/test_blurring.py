"""Blurring mean shift (algorithm="blurring") and sub-sampling (max_samples)."""

import tracemalloc
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score

from meanshift import MeanShift
from meanshift._data import MemoryRows
from meanshift._engines import ENGINES, engine_available
from meanshift._engines._reference import NumpyEngine
from meanshift._kernels import get_kernel
from meanshift._pipeline import Plan
from meanshift._pipeline.blurring import COLLAPSE, cluster_entropy, run_blurring

ENGINE_NAMES = [name for name in sorted(ENGINES) if name != "dask" and engine_available(name)]
KERNEL_BW = [("gaussian", 2.5), ("triangular", 8.0), ("epanechnikov", 6.0)]


def dense_blur(X, w, h, profile, steps):
    """The walk-through's update, all pairs at once: X <- W @ X / W.sum(1)."""
    out = [X]
    for _ in range(steps):
        d2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1) / h**2
        W = profile(d2) * w[None, :]
        X = W @ X / W.sum(1, keepdims=True)
        out.append(X)
    return out


def two_blobs(sep=7.0, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(0, 1, (200, 2)), rng.normal([sep, 0], 1, (100, 2))])


@pytest.mark.parametrize("kernel,h", KERNEL_BW)
def test_six_blobs_found_and_stops_early(six, kernel, h):
    X, y, centers = six
    m = MeanShift(bandwidth=h, kernel=kernel, algorithm="blurring", engine="numpy").fit(X)
    assert m.algorithm_ == "blurring"
    assert len(m.cluster_centers_) == 6
    assert adjusted_rand_score(y, m.labels_) == 1.0
    # The stopping rule fires long before the walk-through's 100-epoch cap.
    assert m.n_iter_ <= 15
    assert m.n_converged_ == X.shape[0]
    # Centres are where the collapsed blobs stopped: near the true centres.
    d = np.linalg.norm(m.cluster_centers_[:, None] - centers[None], axis=-1).min(axis=1)
    assert d.max() < 0.5


def test_steps_follow_the_dense_walkthrough_update():
    X = two_blobs()
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(X))
    h = 1.5
    kernel = get_kernel("gaussian")
    m = MeanShift(bandwidth=h, kernel="gaussian", algorithm="blurring", engine="numpy",
                  record_history=True).fit(X, sample_weight=w)
    ref = dense_blur(X, w, h, kernel.profile, 2)
    np.testing.assert_array_equal(m.history_[0], X)
    assert len(m.history_) == m.n_iter_ + 1
    # Before anything collapses the steps are exact; merging moves points by < COLLAPSE*h.
    for t in (1, 2):
        np.testing.assert_allclose(m.history_[t], ref[t], atol=COLLAPSE * h, rtol=0)


def test_triangular_ramp_is_the_walkthrough_ramp():
    """(h - d).clamp_min(0) / h, the walk-through's ramp, is our triangular profile."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 2))
    h = 1.2
    m = MeanShift(bandwidth=h, kernel="triangular", algorithm="blurring", engine="numpy",
                  record_history=True).fit(X)
    d = np.linalg.norm(X[:, None] - X[None], axis=-1)
    W = np.clip(h - d, 0, None) / h
    np.testing.assert_allclose(m.history_[1], W @ X / W.sum(1, keepdims=True), atol=COLLAPSE * h)


def test_weights_equal_duplicated_rows():
    X = two_blobs(seed=2)[::3]
    w = np.where(np.arange(len(X)) % 4 == 0, 2.0, 1.0)
    Xd = np.repeat(X, w.astype(int), axis=0)
    kw = dict(bandwidth=1.5, kernel="gaussian", algorithm="blurring", engine="numpy")
    a = MeanShift(**kw).fit(X, sample_weight=w)
    b = MeanShift(**kw).fit(Xd)
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, atol=1e-6)
    np.testing.assert_array_equal(np.repeat(a.labels_, w.astype(int)), b.labels_)
    np.testing.assert_allclose(a.cluster_densities_, b.cluster_densities_, rtol=1e-9)


def test_collapsed_but_drifting_clusters_stop():
    """Gaussian clusters keep drifting towards each other: with a tiny tol, the fixed-point
    rule alone would run until they merge; the collapse rule stops with both."""
    X = two_blobs(sep=6.0)
    m = MeanShift(bandwidth=1.5, kernel="gaussian", algorithm="blurring", engine="numpy",
                  tol=1e-6).fit(X)
    assert len(m.cluster_centers_) == 2
    assert m.n_iter_ < 20
    assert sorted(m.cluster_sizes_) == [99, 201]


def test_entropy_alone_would_stop_too_early():
    """With a compact kernel nothing collapses in the first steps (the cluster-size
    entropy stays log n); the rule must keep going until the points have collapsed."""
    X = two_blobs()
    m = MeanShift(bandwidth=1.5, kernel="triangular", algorithm="blurring", engine="numpy",
                  record_history=True).fit(X)
    first = m.history_[1]
    assert len(np.unique(np.round(first / (COLLAPSE * 1.5)), axis=0)) > 250  # not collapsed
    assert len(m.cluster_centers_) < 10
    assert m.n_iter_ >= 4
    assert cluster_entropy(np.ones(300)) == pytest.approx(np.log(300))


def test_cap_warns():
    X = two_blobs()
    with pytest.warns(ConvergenceWarning, match="did not converge within max_iter=2"):
        MeanShift(bandwidth=1.5, kernel="gaussian", algorithm="blurring", engine="numpy",
                  max_iter=2).fit(X)


def test_labels_contract(six):
    X, y, _ = six
    m = MeanShift(bandwidth=4.0, kernel="flat", algorithm="blurring", engine="numpy").fit(X)
    k = len(m.cluster_centers_)
    assert m.labels_.shape == (X.shape[0],)
    assert set(np.unique(m.labels_)) == set(range(k))
    assert m.cluster_sizes_.sum() == X.shape[0]
    assert np.all(np.diff(m.cluster_densities_) <= 0)  # densest first
    assert adjusted_rand_score(y, m.labels_) > 0.99
    pred = m.predict(m.cluster_centers_)
    np.testing.assert_array_equal(pred, np.arange(k))


def test_never_n_by_n_memory():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(c, 1.0, (2000, 2)) for c in ([0, 0], [10, 0], [0, 10])])
    n = len(X)
    engine = NumpyEngine(block_elements=2**16)
    tracemalloc.start()
    plan = Plan(algorithm="blurring", engine=engine, kernel=get_kernel("gaussian"),
                bandwidth=1.5, tol=1e-3, max_iter=30, merge_radius=1.5)
    res = run_blurring(MemoryRows(X), plan)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(res.centers) == 3
    # An n x n float64 matrix would be 288 MB; the blocks of the engine and of the
    # merge stage are bounded (2**22 numbers) whatever n.
    assert peak < n * n * 8 / 2


@pytest.mark.parametrize("max_samples", [300, 0.2])
@pytest.mark.parametrize("algorithm", ["standard", "blurring"])
def test_max_samples(six, max_samples, algorithm):
    X, y, _ = six
    kw = dict(bandwidth=2.5, kernel="gaussian", algorithm=algorithm, engine="numpy",
              max_samples=max_samples, random_state=4)
    m = MeanShift(**kw).fit(X)
    assert m.sample_indices_.shape == (300,)
    assert np.all(np.diff(m.sample_indices_) > 0)
    assert m.labels_.shape == (1500,)
    assert len(m.cluster_centers_) == 6
    assert adjusted_rand_score(y, m.labels_) == 1.0
    # Same random_state, same sample; the rows left out are labelled like predict does.
    again = MeanShift(**kw).fit(X)
    np.testing.assert_array_equal(again.sample_indices_, m.sample_indices_)
    rest = np.setdiff1d(np.arange(1500), m.sample_indices_)
    np.testing.assert_array_equal(m.predict(X[rest]), m.labels_[rest])


def test_max_samples_label_by_mode_and_weights(six):
    X, y, _ = six
    w = np.random.default_rng(0).uniform(0.5, 1.5, len(X))
    m = MeanShift(bandwidth=2.5, kernel="gaussian", label_by="mode", max_samples=0.3,
                  engine="numpy").fit(X, sample_weight=w)
    assert adjusted_rand_score(y, m.labels_) == 1.0


@pytest.mark.parametrize("bad", [0, -1, 1.5, "half"])
def test_max_samples_validation(bad):
    with pytest.raises(ValueError, match="max_samples"):
        MeanShift(max_samples=bad).fit(np.zeros((5, 2)) + np.arange(5)[:, None])


@pytest.mark.parametrize("name", ENGINE_NAMES)
@pytest.mark.parametrize("kernel,h", KERNEL_BW + [("flat", 4.0)])
def test_engines_agree_with_numpy(six, name, kernel, h):
    X = six[0][::3]
    kw = dict(bandwidth=h, kernel=kernel, algorithm="blurring")
    ref = MeanShift(engine="numpy", **kw).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # e.g. first-call compile notices
        got = MeanShift(engine=name, **kw).fit(X)
    # Centres as a set and labels as a partition: the clusters' densities are nearly
    # tied here, so an engine's documented density tolerance (numba truncates the
    # gaussian) may reorder them.
    order_g = np.lexsort(got.cluster_centers_.T[::-1])
    order_r = np.lexsort(ref.cluster_centers_.T[::-1])
    np.testing.assert_allclose(got.cluster_centers_[order_g], ref.cluster_centers_[order_r],
                               atol=1e-5 * h)
    assert adjusted_rand_score(ref.labels_, got.labels_) == 1.0
    assert got.n_iter_ == ref.n_iter_
