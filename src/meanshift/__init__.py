"""meanshift: exact, fast mean shift clustering for NumPy, GPUs and clusters."""

from ._engines import FitCancelled, Progress
from ._estimator import MeanShift, mean_shift
from ._kernels import KERNELS
from ._stages.bandwidth import auto_bandwidth, estimate_bandwidth

__all__ = ["MeanShift", "mean_shift", "estimate_bandwidth", "auto_bandwidth", "KERNELS",
           "Progress", "FitCancelled"]
__version__ = "0.1.0"
