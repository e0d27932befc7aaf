"""meanshift: exact, fast mean shift clustering for NumPy, GPUs and clusters."""

from ._bandwidth import auto_bandwidth, estimate_bandwidth
from ._estimator import MeanShift, mean_shift
from ._kernels import KERNELS

__all__ = ["MeanShift", "mean_shift", "estimate_bandwidth", "auto_bandwidth", "KERNELS"]
__version__ = "0.1.0"
