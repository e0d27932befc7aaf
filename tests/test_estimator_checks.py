"""scikit-learn's own estimator suite over several configurations (issue 2)."""

import warnings

from sklearn.utils.estimator_checks import parametrize_with_checks

from meanshift import MeanShift
from meanshift._warnings import MeanShiftWarning

CONFIGS = [
    MeanShift(bandwidth=2.0, engine="numpy"),
    MeanShift(engine="numpy"),  # bandwidth="auto"
    MeanShift(kernel="gaussian", engine="numpy", max_iter=500),
    MeanShift(bandwidth=2.0, kernel="epanechnikov", label_by="mode", engine="numpy"),
    MeanShift(bandwidth=2.0, kernel="triangular", engine="numpy"),
    MeanShift(bandwidth=2.0, bin_seeding=True, engine="numpy"),
    MeanShift(bandwidth=2.0, seeds=20, cluster_all=False, engine="numpy"),
]


@parametrize_with_checks(CONFIGS)
def test_sklearn_estimator_checks(estimator, check):
    # The checks' tiny data sets make bin seeding fall back (every point in a bin of its
    # own, or every bin centre out of reach); the fallback's warning is informative here,
    # not a failure.  Everywhere else in the suite our warnings are errors.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MeanShiftWarning)
        check(estimator)
