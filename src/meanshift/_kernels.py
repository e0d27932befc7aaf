"""Kernel registry.

Every kernel is a *weight profile* ``w(u2)`` of the squared normalised distance
``u2 = (|x - s| / h) ** 2``.  One mean shift step moves a seed ``s`` to

    s <- sum_i c_i w(u2_i) x_i / sum_i c_i w(u2_i)

where ``c_i`` are the sample weights.  Mean shift with weight profile ``w`` climbs the
kernel density estimate built with the *shadow* kernel of ``w`` (Cheng, 1995): the
gaussian is its own shadow, the flat weight climbs an Epanechnikov density, and so on.

=============  ===========================  ==========  ==============================
name           w(u2)                        support     meaning of the bandwidth ``h``
=============  ===========================  ==========  ==============================
flat           1 if u2 <= 1 else 0          ``h``       radius of the ball (sklearn)
gaussian       exp(-u2 / 2)                 unbounded   standard deviation
epanechnikov   max(1 - u2, 0)               ``h``       support radius
triangular     max(1 - sqrt(u2), 0)         ``h``       support radius ("ramp")
=============  ===========================  ==========  ==============================

The triangular profile is the walk-through's ramp ``(h - d).clamp_min(0) / h``.
Compiled engines use :attr:`Kernel.code` to select the profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["Kernel", "KERNELS", "get_kernel"]


@dataclass(frozen=True)
class Kernel:
    """A mean shift weight profile.

    Attributes
    ----------
    name : str
        Registry name.
    code : int
        Small integer used by compiled engines to select the profile.
    support : float
        Radius, in units of the bandwidth, beyond which the weight is exactly zero
        (``inf`` for the gaussian).
    reach : float
        Radius, in units of the bandwidth, beyond which a point counts as an orphan when
        ``cluster_all=False``: the support for compact kernels, 3 for the gaussian.
    formula : str
        The profile as text, for documentation and error messages.
    profile : callable
        ``profile(u2) -> weights`` on a NumPy array of squared normalised distances.
    """

    name: str
    code: int
    support: float
    reach: float
    formula: str
    profile: Callable[[np.ndarray], np.ndarray]

    def __call__(self, u2: np.ndarray) -> np.ndarray:
        return self.profile(u2)


def _flat(u2):
    return (u2 <= 1.0).astype(u2.dtype)


def _gaussian(u2):
    return np.exp(-0.5 * u2)


def _epanechnikov(u2):
    return np.maximum(1.0 - u2, 0.0)


def _triangular(u2):
    return np.maximum(1.0 - np.sqrt(u2), 0.0)


KERNELS: dict[str, Kernel] = {
    k.name: k
    for k in (
        Kernel("flat", 0, 1.0, 1.0, "1 if u <= 1 else 0", _flat),
        Kernel("gaussian", 1, np.inf, 3.0, "exp(-u**2 / 2)", _gaussian),
        Kernel("epanechnikov", 2, 1.0, 1.0, "max(1 - u**2, 0)", _epanechnikov),
        Kernel("triangular", 3, 1.0, 1.0, "max(1 - u, 0)", _triangular),
    )
}


def get_kernel(kernel: str | Kernel) -> Kernel:
    """Return the registered :class:`Kernel` named ``kernel``."""
    if isinstance(kernel, Kernel):
        return kernel
    try:
        return KERNELS[kernel]
    except (KeyError, TypeError):
        raise ValueError(
            f"The 'kernel' parameter must be one of {sorted(KERNELS)}; got {kernel!r}."
        ) from None
