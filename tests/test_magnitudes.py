"""Extreme magnitudes: data, bandwidths and weights near the ends of the float64 range.

A fit runs on the data divided by a power of two that brings their largest magnitude
near 1 (exact: no rounding), so data scaled by ``2**k`` give exactly the scaled answer,
and data near the float64 limits neither overflow nor underflow.  What cannot be
computed (a bandwidth below the data's resolution, weights whose total overflows, a
range bandwidth that overflows the float32 image climb) is refused with a message that
names the parameter and the usable range.  No RuntimeWarning leaks from a supported input.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from meanshift import MeanShift, auto_bandwidth, estimate_bandwidth, mean_shift
from meanshift.datasets import make_blobs


@pytest.fixture(scope="module")
def blobs():
    X, _, _ = make_blobs(300, 2, centers=3, random_state=0)
    return X


def _fit(X, sample_weight=None, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning may leak
        return MeanShift(**kw).fit(X, sample_weight=sample_weight)


@pytest.mark.parametrize("k", [-1000, -700, -100, 0, 100, 700, 1000])
@pytest.mark.parametrize("bandwidth", [None, "auto", 2.0])
def test_scaling_by_a_power_of_two_is_exact(blobs, k, bandwidth):
    s = 2.0**k
    ref = _fit(blobs, bandwidth=bandwidth)
    h = bandwidth if not isinstance(bandwidth, float) else bandwidth * s
    got = _fit(blobs * s, bandwidth=h)
    np.testing.assert_array_equal(got.cluster_centers_, ref.cluster_centers_ * s)
    np.testing.assert_array_equal(got.labels_, ref.labels_)
    assert got.bandwidth_ == ref.bandwidth_ * s
    np.testing.assert_array_equal(got.predict(blobs[:20] * s), ref.predict(blobs[:20]))


@pytest.mark.parametrize("s", [1e160, 1e-250, 1e307, 1e-300])
@pytest.mark.parametrize("kernel", ["flat", "gaussian"])
def test_data_near_the_float_limits(blobs, s, kernel):
    ref = _fit(blobs, kernel=kernel)
    got = _fit(blobs * s, kernel=kernel)
    assert np.isfinite(got.bandwidth_)
    np.testing.assert_allclose(got.bandwidth_, ref.bandwidth_ * s, rtol=1e-9)
    np.testing.assert_allclose(got.cluster_centers_, ref.cluster_centers_ * s, rtol=1e-9)
    np.testing.assert_array_equal(got.labels_, ref.labels_)


def test_denormal_data_are_fitted(blobs):
    got = _fit(blobs * 1e-310)
    assert len(got.cluster_centers_) == 3
    assert got.bandwidth_ > 0


def test_a_huge_bandwidth_gives_one_cluster_at_the_mean(blobs):
    for h in [1e300, np.finfo(float).max]:
        m = _fit(blobs, bandwidth=h)
        assert m.bandwidth_ == h
        # (end points are rounded to 2**-26 of the data's magnitude before the merge)
        np.testing.assert_allclose(m.cluster_centers_, [blobs.mean(axis=0)], rtol=0,
                                   atol=2.0**-26 * np.abs(blobs).max())
        assert (m.labels_ == 0).all()


@pytest.mark.parametrize(("X_scale", "h"), [(1.0, 1e-300), (1e200, 1.0), (1.0, 1e-13)])
def test_a_bandwidth_below_the_datas_resolution_is_refused(blobs, X_scale, h):
    with pytest.raises(ValueError, match=r"'bandwidth' parameter is too small.*at least"):
        MeanShift(bandwidth=h).fit(blobs * X_scale)


def test_data_far_from_the_origin_name_the_fix(blobs):
    with pytest.raises(ValueError, match="centre the data"):
        MeanShift(bandwidth=1.0).fit(blobs + 1e200)
    m = _fit(blobs + 1e6, bandwidth=2.0)  # within reach: fine
    assert len(m.cluster_centers_) == len(_fit(blobs, bandwidth=2.0).cluster_centers_)


def test_a_per_feature_bandwidth_below_resolution_is_refused(blobs):
    with pytest.raises(ValueError, match="bandwidth per feature is too small"):
        MeanShift(bandwidth=[1e-300, 1.0]).fit(blobs)


def test_huge_weights_are_refused_by_name(blobs):
    with pytest.raises(ValueError, match="sample_weight is too large.*add up to"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            MeanShift(bandwidth=2.0).fit(blobs, sample_weight=np.full(len(blobs), 1e308))


@pytest.mark.parametrize("c", [1e-300, 1e300])
def test_weights_of_any_scale_give_the_unweighted_answer(blobs, c):
    ref = _fit(blobs, bandwidth=2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = MeanShift(bandwidth=2.0).fit(blobs, sample_weight=np.full(len(blobs), c))
    np.testing.assert_allclose(got.cluster_centers_, ref.cluster_centers_, rtol=1e-12)
    np.testing.assert_array_equal(got.labels_, ref.labels_)


@pytest.mark.parametrize("s", [1e-250, 1e250, 2.0**-900])
def test_bandwidth_estimators_scale(blobs, s):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(estimate_bandwidth(blobs * s), estimate_bandwidth(blobs) * s,
                                   rtol=1e-9)
        np.testing.assert_allclose(auto_bandwidth(blobs * s), auto_bandwidth(blobs) * s,
                                   rtol=1e-9)


def test_the_function_form_scales_too(blobs):
    c, labels = mean_shift(blobs * 1e-280, bandwidth=2e-280)
    c0, labels0 = mean_shift(blobs, bandwidth=2.0)
    np.testing.assert_allclose(c, c0 * 1e-280, rtol=1e-9)
    np.testing.assert_array_equal(labels, labels0)


def test_dask_input_scales_like_numpy(blobs):
    da = pytest.importorskip("dask.array")
    X = blobs * 1e-250
    ref = _fit(X)
    got = MeanShift().fit(da.from_array(X, chunks=100))
    np.testing.assert_allclose(got.cluster_centers_, ref.cluster_centers_, rtol=1e-12)
    assert got.bandwidth_ == ref.bandwidth_


def test_image_range_bandwidth_below_float32_reach_is_refused():
    from meanshift.image import segment

    img = (np.random.default_rng(0).random((12, 12, 3)) * 255).astype(np.uint8)
    with pytest.raises(ValueError, match="'range_bandwidth' parameter is too small"):
        segment(img, spatial_bandwidth=3, range_bandwidth=1e-40)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert segment(img, spatial_bandwidth=3, range_bandwidth=1e300).labels.max() == 0


@given(st.integers(-1000, 1000), st.integers(0, 2**16),
       st.sampled_from(["flat", "gaussian", "epanechnikov", "triangular"]))
def test_power_of_two_scaling_is_exact_property(k, seed, kernel):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(60, 2)) + rng.integers(0, 3, 60)[:, None] * 4.0
    s = 2.0**k
    ref = _fit(X, bandwidth=1.5, kernel=kernel)
    got = _fit(X * s, bandwidth=1.5 * s, kernel=kernel)
    np.testing.assert_array_equal(got.cluster_centers_, ref.cluster_centers_ * s)
    np.testing.assert_array_equal(got.labels_, ref.labels_)
