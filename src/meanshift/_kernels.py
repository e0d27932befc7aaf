"""The kernels, each defined once: formula, support, orphan reach, and every engine's form.

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

Each :class:`Kernel` carries three forms of its profile, side by side below:

* ``numpy(u2)``: the reference form (NumPy arrays, exact, zero beyond the support);
* ``torch(u2)``: the same on a torch tensor; it may overwrite ``u2`` (saves a block-sized
  temporary on the device) and is also what ``torch.compile`` fuses;
* ``compiled(u2, one)``: a Numba scalar function, inlined into the compiled loops of the
  Numba engine and of image segmentation.  ``one`` is 1 in the loop's float type (the
  gaussian computes in float64 with :func:`fast_exp`, a branch-free ``exp`` that lets
  the loops vectorise; callers in float32 cast the weight).  It is the profile *inside*
  the support: the loops zero the weight beyond their cutoff (the support, or the
  gaussian's truncation radius) by a select, without a branch.

Compiled loops pick a kernel by its :attr:`Kernel.code` through :func:`compiled_weight`
(called with a literal code, so the choice is resolved at compile time).

Adding a kernel: write its three forms next to the others, add one :class:`Kernel`
entry to :data:`KERNELS` (a new ``code``) and one line to :func:`compiled_weight`; the
shared engine tests (``tests/test_engines.py``) then hold every engine to the NumPy form.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["Kernel", "KERNELS", "get_kernel", "compiled_weight", "fast_exp"]


@intrinsic
def _i64_as_f64(typingctx, x):
    """The bits of an int64 read as a float64 (LLVM bitcast)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return sig, codegen


_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10


@njit(cache=True, inline="always")
def fast_exp(u):
    """``exp(u)`` for ``u <= 0`` in straight-line float64 arithmetic, so that loops
    calling it vectorise (no SIMD libm is assumed).  ``u = k ln 2 + f`` with
    ``|f| <= ln(2) / 2``; ``exp(f)`` by a degree-10 polynomial fitted to the relative
    error; ``2**k`` built in the exponent bits.  Relative error below 2e-15 (tested
    against ``np.exp``); for ``u < -700`` it returns 0 (NumPy's ``exp`` reaches 0 below
    about -745): a seed that only has data that far away sees none."""
    low = u < -700.0
    u = max(u, -700.0)
    kf = math.floor(u * _LOG2E + 0.5)
    f = u - kf * _LN2_HI - kf * _LN2_LO
    p = 2.7422990787351524e-07
    p = p * f + 2.7635274453802833e-06
    p = p * f + 2.480210052362082e-05
    p = p * f + 0.00019841184492881838
    p = p * f + 0.0013888888329416519
    p = p * f + 0.008333333371494556
    p = p * f + 0.041666666668984643
    p = p * f + 0.16666666666609853
    p = p * f + 0.49999999999997086
    p = p * f + 1.0
    p = p * f + 1.0
    # numba's stubs keep the intrinsic's typing-context argument, which the call drops.
    return 0.0 if low else p * _i64_as_f64((np.int64(kf) + 1023) << 52)  # type: ignore[call-arg]


# -- flat ------------------------------------------------------------------------------
def _flat_numpy(u2):
    return (u2 <= 1.0).astype(u2.dtype)


def _flat_torch(u2):
    return (u2 <= 1.0).to(u2.dtype)


@njit(cache=True, inline="always")
def _flat_compiled(u2, one):
    return one


# -- gaussian --------------------------------------------------------------------------
def _gaussian_numpy(u2):
    return np.exp(-0.5 * u2)


def _gaussian_torch(u2):
    return u2.mul_(-0.5).exp_()


@njit(cache=True, inline="always")
def _gaussian_compiled(u2, one):
    return fast_exp(-0.5 * np.float64(u2))


# -- epanechnikov ----------------------------------------------------------------------
def _epanechnikov_numpy(u2):
    return np.maximum(1.0 - u2, 0.0)


def _epanechnikov_torch(u2):
    return u2.neg_().add_(1.0).clamp_min_(0.0)


@njit(cache=True, inline="always")
def _epanechnikov_compiled(u2, one):
    return one - u2


# -- triangular ------------------------------------------------------------------------
def _triangular_numpy(u2):
    return np.maximum(1.0 - np.sqrt(u2), 0.0)


def _triangular_torch(u2):
    return u2.sqrt_().neg_().add_(1.0).clamp_min_(0.0)


@njit(cache=True, inline="always")
def _triangular_compiled(u2, one):
    return one - math.sqrt(u2)


@njit(cache=True, inline="always")
def compiled_weight(code, u2, one):
    """The profile of kernel ``code`` at ``u2`` inside its support (Numba, inlined).

    Call it with a literal ``code`` (or from a function compiled per code) so that the
    branch below is resolved at compile time."""
    if code == 0:
        return _flat_compiled(u2, one)
    if code == 1:
        return _gaussian_compiled(u2, one)
    if code == 2:
        return _epanechnikov_compiled(u2, one)
    return _triangular_compiled(u2, one)


@dataclass(frozen=True)
class Kernel:
    """A mean shift weight profile and its forms for every engine.

    Attributes
    ----------
    name : str
        Registry name.
    code : int
        Small integer by which compiled loops select the profile.
    support : float
        Radius, in units of the bandwidth, beyond which the weight is exactly zero
        (``inf`` for the gaussian).
    reach : float
        Radius, in units of the bandwidth, beyond which a point counts as an orphan when
        ``cluster_all=False``: the support for compact kernels, 3 for the gaussian.
    formula : str
        The profile as text, for documentation and error messages.
    numpy : callable
        ``numpy(u2) -> weights`` on a NumPy array of squared normalised distances.
    torch : callable or None
        The same on a torch tensor (may overwrite its argument).
    compiled : numba dispatcher or None
        ``compiled(u2, one)``, the profile inside the support, for compiled loops.
        (A kernel without these forms runs on the NumPy reference engine only.)
    """

    name: str
    code: int
    support: float
    reach: float
    formula: str
    numpy: Callable[[np.ndarray], np.ndarray]
    torch: Callable[[Any], Any] | None = None
    compiled: Any = None

    def profile(self, u2: np.ndarray) -> np.ndarray:
        """The reference (NumPy) profile."""
        return self.numpy(u2)

    def __call__(self, u2: np.ndarray) -> np.ndarray:
        return self.numpy(u2)


KERNELS: dict[str, Kernel] = {
    k.name: k
    for k in (
        Kernel("flat", 0, 1.0, 1.0, "1 if u <= 1 else 0",
               _flat_numpy, _flat_torch, _flat_compiled),
        Kernel("gaussian", 1, np.inf, 3.0, "exp(-u**2 / 2)",
               _gaussian_numpy, _gaussian_torch, _gaussian_compiled),
        Kernel("epanechnikov", 2, 1.0, 1.0, "max(1 - u**2, 0)",
               _epanechnikov_numpy, _epanechnikov_torch, _epanechnikov_compiled),
        Kernel("triangular", 3, 1.0, 1.0, "max(1 - u, 0)",
               _triangular_numpy, _triangular_torch, _triangular_compiled),
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
