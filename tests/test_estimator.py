"""Features of the estimator beyond scikit-learn's (issue 2)."""

import logging

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from meanshift import KERNELS, MeanShift, auto_bandwidth, mean_shift
from meanshift._kernels import get_kernel
from meanshift.datasets import make_blobs, six_blobs


def test_six_blobs_gaussian_2_5_finds_the_six_clusters(six):
    X, y, centers = six
    model = MeanShift(kernel="gaussian", bandwidth=2.5).fit(X)
    assert len(model.cluster_centers_) == 6
    assert adjusted_rand_score(y, model.labels_) > 0.99
    # Each found centre is near a true centre.
    d = np.linalg.norm(model.cluster_centers_[:, None] - centers[None], axis=2)
    assert d.min(axis=1).max() < 1.0


@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_auto_bandwidth_on_six_blobs(six, kernel):
    X, y, _ = six
    model = MeanShift(kernel=kernel).fit(X)
    assert len(model.cluster_centers_) == 6
    assert adjusted_rand_score(y, model.labels_) > 0.99


@pytest.mark.parametrize(
    "n, d, k, seed",
    [(1000, 2, 3, 0), (2000, 2, 10, 1), (3000, 2, 20, 2), (2000, 8, 10, 4), (2000, 16, 20, 5)],
)
@pytest.mark.parametrize("kernel", ["flat", "gaussian"])
def test_auto_bandwidth_recovers_k(n, d, k, seed, kernel):
    X, y, _ = make_blobs(n, d, centers=k, random_state=seed)
    h = auto_bandwidth(X, kernel=kernel)
    # All points as seeds: with bin seeding, a bin in a cluster's tail holding two points
    # can form a tiny spurious flat-kernel mode (scikit-learn's rule does the same).
    model = MeanShift(bandwidth=h, kernel=kernel).fit(X)
    assert len(model.cluster_centers_) == k
    assert adjusted_rand_score(y, model.labels_) > 0.99


def test_auto_bandwidth_single_blob():
    X, _, _ = make_blobs(1000, 2, centers=1, random_state=0)
    assert len(MeanShift().fit(X).cluster_centers_) == 1


def test_sklearn_rule_oversmooths_where_auto_does_not(six):
    X, y, _ = six
    sk_rule = MeanShift(bandwidth=None).fit(X)
    auto = MeanShift(bandwidth="auto").fit(X)
    assert len(sk_rule.cluster_centers_) < 6 == len(auto.cluster_centers_)


def test_fitted_attributes(six):
    X, y, _ = six
    model = MeanShift(bandwidth=4.0, record_history=True).fit(X)
    k = len(model.cluster_centers_)
    assert model.n_features_in_ == 2
    assert model.bandwidth_ == 4.0
    assert model.cluster_sizes_.sum() == len(X) and model.cluster_sizes_.shape == (k,)
    assert np.all(np.diff(model.cluster_densities_) <= 0)  # densest first
    assert model.n_seeds_ == len(X) == model.n_converged_
    assert model.seeds_.shape == model.seed_modes_.shape == X.shape
    assert model.engine_ in {"numpy", "numba"} and model.algorithm_ == "standard"
    assert len(model.history_) == model.n_iter_ + 1
    np.testing.assert_array_equal(model.history_[0], X)
    np.testing.assert_allclose(model.history_[-1], model.seed_modes_)


def test_feature_names_in():
    pd = pytest.importorskip("pandas")
    X, _, _ = six_blobs()
    df = pd.DataFrame(X, columns=["x", "y"])
    model = MeanShift(bandwidth=4.0).fit(df)
    np.testing.assert_array_equal(model.feature_names_in_, ["x", "y"])


def test_iter_climb_replays_the_climb(six):
    X, _, _ = six
    model = MeanShift(bandwidth=4.0, record_history=True).fit(X)
    steps = list(model.iter_climb())
    assert len(steps) == model.n_iter_ + 1
    positions, centers, labels = steps[0]
    assert labels.shape == (len(X),) and positions.shape == X.shape
    # The last step's merged centres are the fitted centres (as a set).
    last_centers = steps[-1][1]
    assert len(last_centers) == len(model.cluster_centers_)
    with pytest.raises(Exception, match="not fitted|history_"):
        list(MeanShift(bandwidth=4.0).fit(X).iter_climb())


def test_label_by_mode_differs_from_nearest_where_it_should():
    # Two clusters of very different spread: a point of the wide cluster can be nearer
    # the narrow cluster's mode while its own climb goes to the wide mode.
    rng = np.random.default_rng(0)
    narrow = rng.normal([0, 0], 0.3, size=(200, 2))
    wide = rng.normal([6, 0], 2.0, size=(400, 2))
    X = np.concatenate([narrow, wide])
    y = np.repeat([0, 1], [200, 400])
    mode = MeanShift(bandwidth=1.5, kernel="gaussian", label_by="mode").fit(X)
    near = MeanShift(bandwidth=1.5, kernel="gaussian", label_by="nearest").fit(X)
    assert len(mode.cluster_centers_) == len(near.cluster_centers_) == 2
    assert adjusted_rand_score(y, mode.labels_) >= adjusted_rand_score(y, near.labels_)
    assert (mode.labels_ != near.labels_).any()


def test_label_by_mode_with_bin_seeds_climbs_every_point(six):
    X, y, _ = six
    model = MeanShift(bandwidth=4.0, bin_seeding=True, label_by="mode").fit(X)
    assert model.n_seeds_ < len(X)
    assert adjusted_rand_score(y, model.labels_) > 0.99


def test_orphans_with_cluster_all_false():
    X = np.array([[0.0, 0.0], [0.2, 0.0], [0.1, 0.1], [50.0, 50.0]])
    seeds = X[:1]
    for label_by in ("nearest", "mode"):
        model = MeanShift(bandwidth=1.0, seeds=seeds, cluster_all=False, label_by=label_by).fit(X)
        np.testing.assert_array_equal(model.labels_, [0, 0, 0, -1])
        model = MeanShift(bandwidth=1.0, seeds=seeds, cluster_all=True, label_by=label_by).fit(X)
        np.testing.assert_array_equal(model.labels_, [0, 0, 0, 0])


def test_random_seed_sample_is_reproducible(six):
    X, y, _ = six
    a = MeanShift(bandwidth=4.0, seeds=100, random_state=3).fit(X)
    b = MeanShift(bandwidth=4.0, seeds=100, random_state=3).fit(X)
    assert a.n_seeds_ == 100
    np.testing.assert_array_equal(a.seeds_, b.seeds_)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert adjusted_rand_score(y, a.labels_) > 0.99


def test_per_feature_bandwidth_equals_rescaled_data():
    X, _, _ = make_blobs(300, 2, centers=3, random_state=2)
    scale = np.array([1.0, 10.0])
    a = MeanShift(bandwidth=[2.0, 20.0]).fit(X * scale)
    b = MeanShift(bandwidth=2.0).fit(X)
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_ * scale, atol=1e-9)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.predict(X[:20] * scale), b.predict(X[:20]))


def test_sample_weight_zero_removes_point():
    X, _, _ = make_blobs(200, 2, centers=2, random_state=5)
    w = np.ones(len(X))
    w[:50] = 0
    a = MeanShift(bandwidth=3.0).fit(X, sample_weight=w)
    b = MeanShift(bandwidth=3.0).fit(X[50:])
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, atol=1e-9)
    np.testing.assert_array_equal(a.labels_[50:], b.labels_)


def test_decisions_are_logged(six, caplog):
    X, _, _ = six
    with caplog.at_level(logging.INFO, logger="meanshift"):
        MeanShift().fit(X)
    assert "engine=" in caplog.text and "bandwidth=" in caplog.text and "auto (" in caplog.text


def test_deterministic(six):
    X, _, _ = six
    a, b = MeanShift(kernel="gaussian").fit(X), MeanShift(kernel="gaussian").fit(X)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    np.testing.assert_array_equal(a.labels_, b.labels_)


def test_function_twin():
    X, _, _ = six_blobs()
    centers, labels = mean_shift(X, bandwidth=4.0, kernel="triangular")
    assert centers.shape == (6, 2) and labels.shape == (len(X),)


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_kernel_profiles(name):
    k = get_kernel(name)
    u = np.array([0.0, 0.25, 0.81, 1.0, 1.44, 9.0])
    w = k(u)
    assert w[0] == 1.0 and np.all(np.diff(w) <= 0) and np.all(w >= 0)
    if np.isfinite(k.support):
        assert w[-1] == 0.0 and w[-2] == 0.0
    expected = {
        "flat": [1, 1, 1, 1, 0, 0],
        "gaussian": np.exp(-0.5 * u),
        "epanechnikov": np.maximum(1 - u, 0),
        "triangular": np.maximum(1 - np.sqrt(u), 0),
    }[name]
    np.testing.assert_allclose(w, expected)
    with pytest.raises(ValueError, match=r"'kernel' parameter must be one of \['epanechnikov', 'flat', 'gaussian', 'triangular'\]; got 'box'"):
        get_kernel("box")
