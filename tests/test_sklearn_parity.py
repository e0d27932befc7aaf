"""With kernel="flat" our centres and labels must be scikit-learn's (issue 2)."""

import functools

import numpy as np
import pytest
from sklearn.cluster import MeanShift as SkMeanShift
from sklearn.cluster import estimate_bandwidth as sk_estimate_bandwidth
from sklearn.datasets import load_iris, load_wine

from meanshift import MeanShift, estimate_bandwidth, mean_shift
from meanshift.datasets import make_blobs, six_blobs


def _datasets():
    X6, _, _ = six_blobs()
    Xb, _, _ = make_blobs(500, 2, centers=5, random_state=3)
    Xh, _, _ = make_blobs(400, 5, centers=3, random_state=4)
    iris = load_iris().data
    wine = load_wine().data[:, :4]
    rng = np.random.default_rng(5)
    Xu = rng.uniform(-1, 1, size=(300, 2))  # no cluster structure: many plateaus
    return {
        "six_blobs": (X6, 4.0),
        "blobs_2d": (Xb, 2.0),
        "blobs_5d": (Xh, 3.0),
        "iris": (iris, 0.9),
        "wine4": (wine, 12.0),
        "uniform": (Xu, 0.3),
    }


DATA = _datasets()


@functools.cache
def _sk_fit(name, bin_seeding, cluster_all):
    X, h = DATA[name]
    return SkMeanShift(bandwidth=h, bin_seeding=bin_seeding, cluster_all=cluster_all).fit(X)


@pytest.mark.parametrize("engine", ["numpy", "auto"])
@pytest.mark.parametrize("name", sorted(DATA))
@pytest.mark.parametrize("bin_seeding", [False, True])
@pytest.mark.parametrize("cluster_all", [True, False])
def test_flat_kernel_equals_sklearn(name, bin_seeding, cluster_all, engine):
    X, h = DATA[name]
    params = dict(bandwidth=h, bin_seeding=bin_seeding, cluster_all=cluster_all)
    sk = _sk_fit(name, bin_seeding, cluster_all)
    ours = MeanShift(kernel="flat", engine=engine, **params).fit(X)
    assert ours.cluster_centers_.shape == sk.cluster_centers_.shape
    np.testing.assert_allclose(ours.cluster_centers_, sk.cluster_centers_, rtol=0, atol=1e-6 * h)
    np.testing.assert_array_equal(ours.labels_, sk.labels_)
    if cluster_all:
        np.testing.assert_array_equal(ours.predict(X[:50]), sk.predict(X[:50]))
    else:
        # scikit-learn's predict ignores cluster_all; ours agrees with labels_ instead.
        np.testing.assert_array_equal(ours.predict(X), ours.labels_)


def test_given_seeds_equal_sklearn():
    X, h = DATA["blobs_2d"]
    seeds = X[::7]
    sk = SkMeanShift(bandwidth=h, seeds=seeds).fit(X)
    ours = MeanShift(bandwidth=h, seeds=seeds, engine="numpy").fit(X)
    np.testing.assert_allclose(ours.cluster_centers_, sk.cluster_centers_, atol=1e-6 * h)
    np.testing.assert_array_equal(ours.labels_, sk.labels_)


def test_bandwidth_none_is_sklearn_estimate():
    X, _ = DATA["six_blobs"]
    sk = SkMeanShift().fit(X)
    ours = MeanShift(bandwidth=None, engine="numpy").fit(X)
    assert ours.bandwidth_ == pytest.approx(sk_estimate_bandwidth(X))
    np.testing.assert_array_equal(ours.labels_, sk.labels_)


def test_function_twin_matches_estimator():
    X, h = DATA["iris"]
    centers, labels = mean_shift(X, bandwidth=h, engine="numpy")
    est = MeanShift(bandwidth=h, engine="numpy").fit(X)
    np.testing.assert_array_equal(centers, est.cluster_centers_)
    np.testing.assert_array_equal(labels, est.labels_)


@pytest.mark.parametrize("quantile", [0.1, 0.3, 0.5])
def test_estimate_bandwidth_equals_sklearn(quantile):
    X, _ = DATA["six_blobs"]
    ours = estimate_bandwidth(X, quantile=quantile, random_state=3)
    sk = sk_estimate_bandwidth(X, quantile=quantile, random_state=3)
    assert ours == pytest.approx(sk, rel=1e-12)


@pytest.mark.parametrize("quantile", [0.1, 0.3, 0.5])
def test_estimate_bandwidth_with_n_samples_is_keyed_by_content(quantile):
    # scikit-learn draws the n_samples rows by position, so a permutation of the rows
    # changes its answer; ours draws them by a hash of their contents (the same rows in
    # any order give the same answer), an estimate of the same quantity.
    X, _ = DATA["six_blobs"]
    ours = estimate_bandwidth(X, quantile=quantile, n_samples=200, random_state=3)
    perm = np.random.default_rng(0).permutation(len(X))
    assert estimate_bandwidth(X[perm], quantile=quantile, n_samples=200,
                              random_state=3) == ours
    sk = sk_estimate_bandwidth(X, quantile=quantile, n_samples=200, random_state=3)
    assert ours == pytest.approx(sk, rel=0.1)
