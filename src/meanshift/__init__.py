"""meanshift: exact, fast mean shift clustering for NumPy, GPUs and clusters.

The names below are imported on first use (PEP 562): ``import meanshift`` alone, and
the command line's ``meanshift --help``, do not pay for scikit-learn, SciPy and Numba
(about 3 s on a 2 GHz core, most of it scikit-learn's own imports).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__all__ = ["MeanShift", "mean_shift", "estimate_bandwidth", "auto_bandwidth", "KERNELS",
           "Progress", "FitCancelled"]
__version__ = "0.1.0"

#: Where each public name lives.
_WHERE = {
    "MeanShift": "._estimator",
    "mean_shift": "._estimator",
    "estimate_bandwidth": "._stages.bandwidth",
    "auto_bandwidth": "._stages.bandwidth",
    "KERNELS": "._kernels",
    "Progress": "._engines",
    "FitCancelled": "._engines",
}

if TYPE_CHECKING:  # the static view: the same names, imported
    from ._engines import FitCancelled, Progress
    from ._estimator import MeanShift, mean_shift
    from ._kernels import KERNELS
    from ._stages.bandwidth import auto_bandwidth, estimate_bandwidth


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name], __name__), name)
        globals()[name] = value  # once: later lookups find it in the module
        return value
    raise AttributeError(f"module 'meanshift' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
