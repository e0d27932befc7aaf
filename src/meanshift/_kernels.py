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

The boundary rule.  Whether a point lies inside the support decides the flat kernel's
answer outright, and on lattice data (integer features, pixel coordinates, multiples of
0.1) many points lie *exactly* one bandwidth away, where rounding would otherwise decide:
``0.3 - 0.2`` is a hair below ``0.1`` and ``0.2000000000000001 - 0.1`` a hair above, a mean
summed in another order moves by an ulp, a fused multiply-add rounds once instead of twice.
One rule decides it, in every engine and stage (climb, merge, labels, orphans, images):

    a point is within reach ``r`` of a position when  ``|x - s|**2 <= r**2 * EDGE``,

``EDGE = 1 + 2**-30`` (``u2 <= EDGE`` in normalised units).  The ball is closed, and the
slack of about 1e-9 in ``u2`` absorbs the rounding of every engine (float64 distances and
means are off by about 1e-15 relative), so a point at exactly one bandwidth counts as
inside however it was computed, and the answer is the one exact arithmetic gives:
scikit-learn's wherever its own arithmetic is exact (e.g. a lattice of spacing 0.25 or
1), and on a decimal lattice the answer scikit-learn gives on the same lattice scaled to
integers.  (Only a point between 1 and 1 + 5e-10 bandwidths away, which continuous data
essentially never have, is decided differently from a plain ``<=``.)  Nearest-centre ties
follow the same rule: among the centres within ``EDGE`` of the nearest (in squared
distance), the first one.  Image segmentation, which computes in float32, uses
``EDGE32 = 1 + 2**-16`` for the same purpose.  The torch engine in float32 decides at
float32 precision (its rounding is larger than the slack); in float64 it follows the rule.

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
from numba import types
from numba.extending import intrinsic

from ._compile import njit

__all__ = ["Kernel", "KERNELS", "get_kernel", "compiled_weight", "fast_exp", "EDGE", "EDGE32",
           "reach2"]

#: Slack of the boundary rule (see the module notes): within reach ``r`` means
#: ``d2 <= r * r * EDGE``.
EDGE = 1.0 + 2.0**-30
#: The same for computations in float32.
EDGE32 = 1.0 + 2.0**-16


def reach2(radius: float) -> float:
    """The squared distance up to which a point is within ``radius`` (boundary rule)."""
    radius = float(radius)
    return radius * radius * EDGE


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
    return (u2 <= EDGE).astype(u2.dtype)


def _flat_torch(u2):
    return (u2 <= EDGE).to(u2.dtype)


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
    # Clamped: the cutoff's slack (EDGE) lets u2 exceed 1 by a hair.
    return max(one - u2, 0.0 * one)


# -- triangular ------------------------------------------------------------------------
def _triangular_numpy(u2):
    return np.maximum(1.0 - np.sqrt(u2), 0.0)


def _triangular_torch(u2):
    return u2.sqrt_().neg_().add_(1.0).clamp_min_(0.0)


@njit(cache=True, inline="always")
def _triangular_compiled(u2, one):
    return max(one - math.sqrt(u2), 0.0 * one)


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
