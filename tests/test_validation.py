"""Every bad input gets a clear error naming the parameter, what is allowed and what was
given (issue 2)."""

import numpy as np
import pytest
from scipy import sparse
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from meanshift import MeanShift, estimate_bandwidth, mean_shift

X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])


def fit(X=X, **params):
    params.setdefault("bandwidth", 1.0)
    params.setdefault("engine", "numpy")
    return MeanShift(**params).fit(X)


@pytest.mark.parametrize(
    "data, match",
    [
        (np.array([[0.0, np.nan]]), "Input X contains NaN"),
        (np.array([[0.0, np.inf]]), "Input X contains infinity"),
        (np.empty((0, 2)), "0 sample"),
        (np.array([1.0, 2.0]), "Expected 2D array, got 1D array"),
        (np.zeros((2, 2, 2)), "Found array with dim 3"),
        (np.array([[1 + 1j, 2.0]]), "Complex data not supported"),
        (np.array([["a", "b"]]), "dtype='numeric' is not compatible with arrays of bytes/strings|could not convert"),
        (np.array([[object(), 1.0]], dtype=object), "float|argument must be"),
    ],
)
def test_bad_X(data, match):
    with pytest.raises((ValueError, TypeError), match=match):
        fit(data)


def test_sparse_X():
    with pytest.raises(TypeError, match="Sparse data was passed .* but dense data is required"):
        fit(sparse.csr_matrix(X))


def test_predict_unfitted():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        MeanShift().predict(X)


def test_predict_wrong_feature_count():
    with pytest.raises(ValueError, match="X has 3 features, but MeanShift is expecting 2 features"):
        fit().predict(np.zeros((2, 3)))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"bandwidth": -1.0}, r"'bandwidth' parameter of MeanShift must be .*Got -1.0"),
        ({"bandwidth": "big"}, r"'bandwidth' parameter of MeanShift must be .*'auto'.*Got 'big'"),
        ({"kernel": "box"}, r"(?=.*'epanechnikov')(?=.*'flat')(?=.*'gaussian')(?=.*'triangular')'kernel' parameter of MeanShift must be a str among .*Got 'box'"),
        ({"label_by": "vote"}, r"(?=.*'mode')(?=.*'nearest')'label_by' parameter of MeanShift must be a str among .*Got 'vote'"),
        ({"max_iter": 0}, r"'max_iter' parameter of MeanShift must be an int in the range \[1, inf\)\. Got 0"),
        ({"tol": -1e-3}, r"'tol' parameter of MeanShift must be a float in the range \[0(\.0)?, inf\)\. Got -0.001"),
        ({"engine": "fortran"}, r"(?=.*'auto')(?=.*'numpy')'engine' parameter of MeanShift must be a str among .*Got 'fortran'"),
        ({"min_bin_freq": 0}, r"'min_bin_freq' parameter of MeanShift must be a float in the range \(0(\.0)?, inf\)\. Got 0"),
        ({"seeds": "corners"}, r"(?=.*'all')(?=.*'bins')'seeds' parameter of MeanShift must be None, a str among .*an int in the range \[1, inf\) or an array-like\. Got 'corners'"),
        ({"seeds": 0}, r"'seeds' parameter of MeanShift must be .*Got 0"),
    ],
)
def test_invalid_parameters(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        fit(**params)


@pytest.mark.parametrize(
    "bandwidth, match",
    [
        ([1.0, 2.0, 3.0], r"'bandwidth' parameter as an array must hold one positive, finite number per feature, shape \(2,\); got \[1.0, 2.0, 3.0\]"),
        ([1.0, 0.0], r"one positive, finite number per feature"),
        ([1.0, np.nan], r"one positive, finite number per feature"),
    ],
)
def test_bad_bandwidth_array(bandwidth, match):
    with pytest.raises(ValueError, match=match):
        fit(bandwidth=bandwidth)


def test_seeds_wrong_width():
    with pytest.raises(ValueError, match=r"'seeds' parameter as an array must be numeric with shape \(n_seeds >= 1, 2\); got dtype float64 and shape \(2, 3\)"):
        fit(seeds=np.zeros((2, 3)))


def test_seeds_far_from_data():
    with pytest.raises(ValueError, match=r"No point was within the kernel's reach of any seed \(bandwidth=1, kernel='flat', 1 seeds\).*larger bandwidth"):
        fit(seeds=[[100.0, 100.0]])


def test_seeds_nan():
    with pytest.raises(ValueError, match="'seeds' parameter contains NaN or infinity"):
        fit(seeds=[[np.nan, 0.0]])


def test_bin_seeding_leaves_no_bin():
    # scikit-learn answers "max() arg is an empty sequence" here.
    with pytest.raises(ValueError, match=r"bin_seeding with bin size 1 \(the bandwidth\) and min_bin_freq=5 left no seed: the fullest bin holds 2 points\. Lower min_bin_freq to at most 2"):
        fit(bin_seeding=True, min_bin_freq=5)


@pytest.mark.parametrize(
    "sw, match",
    [
        ([1.0, -1.0, 1.0, 1.0], "sample_weight must be non-negative; got a minimum of -1"),
        ([1.0, np.nan, 1.0, 1.0], "sample_weight must be finite"),
        ([1.0, np.inf, 1.0, 1.0], "sample_weight must be finite"),
        ([1.0, 1.0], r"sample_weight must have shape \(4,\), one weight per sample; got shape \(2,\)"),
        ([0.0, 0.0, 0.0, 0.0], "sample_weight must have a positive sum"),
        (["a", "b", "c", "d"], "sample_weight must be numeric"),
    ],
)
def test_bad_sample_weight(sw, match):
    with pytest.raises(ValueError, match=match):
        MeanShift(bandwidth=1.0, engine="numpy").fit(X, sample_weight=sw)


def test_estimate_bandwidth_bad_quantile():
    with pytest.raises(ValueError, match=r"'quantile' parameter must be in \[0, 1\]; got 1.5"):
        estimate_bandwidth(X, quantile=1.5)


@pytest.mark.parametrize("kernel", ["flat", "gaussian", "epanechnikov", "triangular"])
@pytest.mark.parametrize("bandwidth", [1.0, "auto", None])
def test_single_sample_and_identical_points(kernel, bandwidth):
    for data in (np.array([[3.0, 4.0]]), np.full((20, 3), 7.0)):
        model = MeanShift(kernel=kernel, bandwidth=bandwidth, engine="numpy").fit(data)
        assert model.cluster_centers_.shape == (1, data.shape[1])
        np.testing.assert_allclose(model.cluster_centers_[0], data[0])
        np.testing.assert_array_equal(model.labels_, np.zeros(len(data), dtype=int))


def test_convergence_warning():
    from sklearn.exceptions import ConvergenceWarning

    rng = np.random.default_rng(0)
    data = rng.normal(size=(200, 2))
    with pytest.warns(ConvergenceWarning, match=r"\d+ of 200 seeds did not converge within max_iter=1 steps"):
        MeanShift(bandwidth=1.0, kernel="gaussian", max_iter=1, engine="numpy").fit(data)


def test_function_twin_validates_too():
    with pytest.raises(InvalidParameterError, match="'kernel' parameter"):
        mean_shift(X, kernel="box")
