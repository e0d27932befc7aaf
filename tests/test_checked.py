"""The checked pipeline (bin seeds checked against a sample of every-point climbs)
against the every-point ``"standard"`` fit, and when ``"auto"`` picks it."""

import logging

import numpy as np
import pytest
from scipy.spatial import cKDTree
from sklearn.exceptions import ConvergenceWarning

from meanshift import MeanShift
from meanshift._pipeline import checked as _checked
from meanshift._resolve import resolve_algorithm
from meanshift._stages.seeding import bin_seeds, cell_means
from meanshift.datasets import make_blobs


def _blobs(n=6000, d=5, seed=0):
    X, _, _ = make_blobs(n, d, centers=6, cluster_std=1.0, random_state=seed)
    return X


def _same_clusters(a, b, h):
    """The same labels, and every centre within 0.01 h of the other fit's."""
    assert len(a.cluster_centers_) == len(b.cluster_centers_)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    dist, _ = cKDTree(b.cluster_centers_).query(a.cluster_centers_)
    assert dist.max() <= 0.01 * h


@pytest.mark.parametrize("kernel", ["flat", "gaussian", "epanechnikov"])
@pytest.mark.parametrize("engine", ["numba", "numpy"])
def test_checked_finds_the_every_point_clusters(kernel, engine, caplog):
    X = _blobs()
    h = 3.0
    with caplog.at_level(logging.INFO, logger="meanshift"):
        fast = MeanShift(bandwidth=h, kernel=kernel, engine=engine,
                         algorithm="checked").fit(X)
    exact = MeanShift(bandwidth=h, kernel=kernel, engine=engine,
                      algorithm="standard").fit(X)
    _same_clusters(fast, exact, h)
    # It climbed from the bin means, far fewer seeds than points, and said so.
    seeds = cell_means(X, None, h)
    np.testing.assert_array_equal(fast.seeds_, seeds)
    assert len(seeds) <= _checked.SEED_SHARE * len(X)
    assert "all 1024 sampled every-point climbs ended within" in caplog.text


def test_an_isolated_point_is_its_own_cluster_as_with_every_point_a_seed():
    # A bin centre can be out of reach of a lone point in many dimensions (its bin's
    # diagonal is sqrt(d) bandwidths); the bin's mean is the point itself.
    X = _blobs(4000, 8)
    lone = X.max(axis=0) + np.array([3.0] * 8) * 0.9
    X = np.vstack([X, lone])
    h = 3.0
    fast = MeanShift(bandwidth=h, algorithm="checked").fit(X)
    exact = MeanShift(bandwidth=h, algorithm="standard").fit(X)
    _same_clusters(fast, exact, h)
    assert np.linalg.norm(fast.cluster_centers_ - lone, axis=1).min() < 1e-6
    # Seeds at the bin centres (scikit-learn's bin seeding) miss it, and the blobs' own
    # stragglers.
    centres, _ = bin_seeds(X, h)
    binned = MeanShift(bandwidth=h, seeds=centres).fit(X)
    assert np.linalg.norm(binned.cluster_centers_ - lone, axis=1).min() > h
    assert len(binned.cluster_centers_) < len(exact.cluster_centers_)


def test_weights_count_as_with_every_point_a_seed():
    X = _blobs(5000, 4, seed=1)
    w = np.random.default_rng(0).uniform(0, 3, len(X))
    w[::7] = 0.0
    h = 3.0
    fast = MeanShift(bandwidth=h, algorithm="checked").fit(X, sample_weight=w)
    exact = MeanShift(bandwidth=h, algorithm="standard").fit(X, sample_weight=w)
    _same_clusters(fast, exact, h)
    # Weights move the seeds: they are the bins' weighted means.
    np.testing.assert_allclose(fast.seeds_, cell_means(X, w, h))


def test_a_failed_check_runs_every_point(caplog):
    # One step per climb: the every-point end points lie all over the data, not at the
    # bin seeds' centres, so the check fails and every point climbs.
    X = _blobs(3000, 4)
    with caplog.at_level(logging.INFO, logger="meanshift"), pytest.warns(
            ConvergenceWarning):
        fast = MeanShift(bandwidth=3.0, algorithm="checked", max_iter=1).fit(X)
    with pytest.warns(ConvergenceWarning):
        exact = MeanShift(bandwidth=3.0, algorithm="standard", max_iter=1).fit(X)
    assert "sampled every-point climbs ended more than" in caplog.text
    np.testing.assert_array_equal(fast.cluster_centers_, exact.cluster_centers_)
    np.testing.assert_array_equal(fast.labels_, exact.labels_)
    np.testing.assert_array_equal(fast.seeds_, X)


def test_the_check_decides(monkeypatch, caplog):
    # A check radius of 0 rejects any end point not exactly on a centre.
    monkeypatch.setattr(_checked, "CHECK_RADIUS", 0.0)
    X = _blobs(3000, 4)
    with caplog.at_level(logging.INFO, logger="meanshift"):
        fast = MeanShift(bandwidth=3.0, algorithm="checked").fit(X)
    assert "every point climbs" in caplog.text
    assert len(fast.seeds_) == len(X)


def test_bins_that_do_not_cut_the_seeds_mean_every_point(caplog):
    # Continuous data in 20-D at a small bandwidth: nearly a bin per point.
    X = np.random.default_rng(0).normal(size=(3000, 20))
    with caplog.at_level(logging.INFO, logger="meanshift"):
        fast = MeanShift(bandwidth=2.0, algorithm="checked").fit(X)
    exact = MeanShift(bandwidth=2.0, algorithm="standard").fit(X)
    assert "every point climbs" in caplog.text
    np.testing.assert_array_equal(fast.cluster_centers_, exact.cluster_centers_)
    np.testing.assert_array_equal(fast.labels_, exact.labels_)


def test_given_seeds_and_cosine_directions(caplog):
    X = _blobs(4000, 6)
    seeds = X[::50]
    a = MeanShift(bandwidth=3.0, algorithm="checked", seeds=seeds).fit(X)
    b = MeanShift(bandwidth=3.0, algorithm="standard", seeds=seeds).fit(X)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    # Directions: the bins' means (inside the sphere) are projected onto it, like every
    # step; the check passes at this bandwidth (at 0.05 it sends every point to climb).
    D = X - X.mean(axis=0)
    with caplog.at_level(logging.INFO, logger="meanshift"):
        fast = MeanShift(bandwidth=0.2, metric="cosine", algorithm="checked").fit(D)
    exact = MeanShift(bandwidth=0.2, metric="cosine", algorithm="standard").fit(D)
    assert "sampled every-point climbs ended within" in caplog.text
    assert len(fast.seeds_) < len(D) // 8
    np.testing.assert_array_equal(fast.labels_, exact.labels_)
    np.testing.assert_allclose(np.linalg.norm(fast.seeds_, axis=1), 1.0)


def test_check_progress_is_its_own_stage():
    X = _blobs(3000, 4)
    seen = []
    MeanShift(bandwidth=3.0, algorithm="checked", callback=seen.append).fit(X)
    stages = [p.stage for p in seen]
    assert "check" in stages and stages[-1] == "check"
    assert [p for p in seen if p.stage == "check"][-1][1:] == (1024, 1024)


def test_auto_picks_checked_only_for_every_point_seeds_in_many_dimensions(caplog):
    assert resolve_algorithm("auto", 10**5, 8)[0] == "checked"
    assert resolve_algorithm("auto", 10**5, 2)[0] == "compressed"
    assert resolve_algorithm("auto", 10**4, 8)[0] == "standard"
    assert resolve_algorithm("auto", 10**5, 8, every_point=False)[0] == "standard"
    X = _blobs(50_000, 4)
    with caplog.at_level(logging.INFO, logger="meanshift"):
        assert MeanShift(bandwidth=3.0).fit(X).algorithm_ == "checked"
    assert "algorithm=checked" in caplog.text
    for params in ({"label_by": "mode"}, {"bin_seeding": True}, {"seeds": X[:10]}):
        ms = MeanShift(bandwidth=3.0, **params).fit(X)
        assert ms.algorithm_ == "standard", params


def test_a_small_merge_radius_is_checked_too():
    # The gaussian's end points of one mode lie within about tol * h of each other: with
    # a merge radius below that, every point a seed gives many centres, and the check
    # (within the merge radius) sends the fit to every point instead of keeping the few
    # centres of the bin seeds.
    X = _blobs(3000, 4)
    kw = {"bandwidth": 3.0, "kernel": "gaussian", "merge_radius": 3e-4}
    fast = MeanShift(algorithm="checked", **kw).fit(X)
    exact = MeanShift(algorithm="standard", **kw).fit(X)
    assert len(exact.cluster_centers_) > 6
    np.testing.assert_array_equal(fast.cluster_centers_, exact.cluster_centers_)


def test_dask_rows_keep_their_rule():
    # Asked for on a dask array, "checked" follows the dask rule of every-point seeding
    # (bins above 10 000 rows), so it is the standard fit.  ("auto" never picks it for
    # dask input: resolve_algorithm's every_point is False for lazy rows.)
    da = pytest.importorskip("dask.array")
    X = _blobs(12_000, 4)
    D = da.from_array(X, chunks=4000)
    standard = MeanShift(bandwidth=3.0, algorithm="standard").fit(D)
    asked = MeanShift(bandwidth=3.0, algorithm="checked").fit(D)
    assert asked.algorithm_ == "checked"
    np.testing.assert_array_equal(asked.cluster_centers_, standard.cluster_centers_)
