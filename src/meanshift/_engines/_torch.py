"""The PyTorch engine: the whole numeric part of mean shift on a CPU or CUDA device.

The climb is fused on the device: positions, per-seed active masks, convergence tests,
densities and step counts live on the device, and the host only learns, once per step,
how many seeds are still moving.  Every kernel evaluation is done in blocks of at most
``block_elements`` (seed, point) pairs, so no n x n matrix is ever formed; on CUDA the
block size is picked from the free device memory.

Numerics
--------
* ``dtype="float32"`` (default) evaluates distances and kernel weights in single
  precision; the per-block sums are accumulated over blocks, and positions are kept, in
  float64.  In float32 the data are first shifted by an integer origin (the rounded mean),
  which keeps integer-valued data exact and puts far-from-zero data near zero.
  ``dtype="float64"`` reproduces the NumPy reference to rounding.
* Squared distances come from coordinate differences (no cancellation) for
  ``n_features <= exact_max_features`` (default 8) and for the triangular kernel;
  otherwise they come from ``|s|^2 + |x|^2 - 2 s.x`` (one matrix product, clamped at
  zero), whose absolute error in ``u2`` is about ``eps * (|s|^2 + |x|^2) / h^2``.
* ``compile=True`` fuses distances, weights and sums with ``torch.compile`` (one
  compilation per kernel and dimension, whatever the sizes).
* A block's weighted sums are ``W @ [c * X, c]``: one matrix product gives the numerator
  and the denominator together.

The engine takes NumPy arrays or torch tensors (on any device) and, as the contract says,
returns NumPy arrays (the estimator's ``return_tensors`` puts results back on the device).
"""

from __future__ import annotations

import logging
import re

import numpy as np
import torch

from .._kernels import EDGE, Kernel, get_kernel
from ._contract import Bound, ClimbResult, Engine, report
from ._threads import check_n_jobs, torch_threads

__all__ = ["TorchEngine", "resolve_device"]

logger = logging.getLogger("meanshift")

_DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def resolve_device(device="auto"):
    """The torch device to run on and why; "auto" is CUDA when torch sees a GPU, else the
    CPU.  Imports torch (only the torch engine calls it).

    Parameters
    ----------
    device : {"auto", "cpu", "cuda", "cuda:N"} or torch.device, default="auto"

    Returns
    -------
    device : torch.device
    reason : str
    """
    import torch

    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str) or not _DEVICE_RE.match(device):
        raise ValueError(
            "The 'device' parameter must be 'auto', 'cpu', 'cuda' or 'cuda:N' (N a GPU "
            f"index); got {device!r}."
        )
    if device == "auto":
        if torch.cuda.is_available():
            dev, why = torch.device("cuda", torch.cuda.current_device()), "CUDA is available"
        else:
            dev, why = torch.device("cpu"), "torch sees no CUDA GPU"
        logger.info("device=auto resolved to %s (%s)", dev, why)
        return dev, f"auto: {why}"
    dev = torch.device(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"The 'device' parameter is {device!r} but torch {torch.__version__} sees no "
                "CUDA GPU. Use device='cpu' or device='auto'."
            )
        index = torch.cuda.current_device() if dev.index is None else dev.index
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"The 'device' parameter is {device!r} but torch sees only "
                f"{torch.cuda.device_count()} CUDA GPU(s)."
            )
        dev = torch.device("cuda", index)
    return dev, "requested"


_DTYPES = {"float32": torch.float32, "float64": torch.float64}

_COMPILED: dict = {}
# Data points per reduction group of the fused block: the data are cut into groups of
# this many points (zero-weight padding), and every (position, group) pair is one
# reduction, so that even a few positions keep a GPU busy.
_GROUP = 4096


def _fused_block(kernel_name: str, d: int):
    """A compiled function ``(P, XT3, Xa3, inv_h2) -> (m, G, d + 1)`` sums.

    ``P`` is (m, d), ``XT3`` (d, G, L) the data by coordinate and group, ``Xa3``
    (d + 1, G, L) the weighted coordinates and weights, ``inv_h2`` a 0-d tensor (a
    Python float would be specialised: one compilation per bandwidth).  Distances,
    weights and sums are fused by ``torch.compile`` (on the CPU, Inductor still writes
    the weights of a block once; the caller bounds blocks by ``block_elements``).
    """
    key = (kernel_name, d)
    if key not in _COMPILED:
        profile = get_kernel(kernel_name).torch
        if profile is None:  # TorchEngine._bind refuses such kernels first
            raise ValueError(f"Kernel {kernel_name!r} has no torch form.")

        def block(P, XT3, Xa3, inv_h2):
            u2 = (P[:, 0, None, None] - XT3[0][None]) ** 2
            for j in range(1, d):
                u2 = u2 + (P[:, j, None, None] - XT3[j][None]) ** 2
            w = profile(u2 * inv_h2)
            return torch.stack([(w * Xa3[j][None]).sum(-1) for j in range(d + 1)], dim=-1)

        compiled = torch.compile(block, dynamic=True)

        def call(*args):
            # Without duck shapes, sizes that happen to be equal (rows, groups, d + 1)
            # are not assumed equal, which would compile again when they differ.
            # The config module builds ``patch`` at import (torch's stubs do not show it).
            cfg = torch.fx.experimental._config
            with cfg.patch(use_duck_shape=False):  # type: ignore[attr-defined]
                return compiled(*args)

        _COMPILED[key] = call
    return _COMPILED[key]


class TorchEngine(Engine):
    """Mean shift on a torch device (CPU or CUDA), in float32 (default) or float64.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda", "cuda:N"} or torch.device, default="auto"
        Where to compute; "auto" is the current CUDA GPU when there is one, else the CPU.
    dtype : {"float32", "float64"} or torch.dtype, default="float32"
        Precision of the distance and kernel evaluations (sums and positions are kept in
        float64).
    block_elements : int, default=None
        Most (seed, point) pairs evaluated at once.  None: about a quarter of the free
        device memory on CUDA (at most 2**28 pairs), 2**22 on the CPU.
    compile : bool, default=False
        Fuse distances, weights and sums with ``torch.compile`` (Triton on CUDA, C++ on
        the CPU), in blocks of at most ``block_elements`` pairs.
        The first call per kernel and dimension compiles (seconds: 4.4 s on 2 CPU cores); used for
        ``n_features <= exact_max_features`` and at least 8192 data points.
    exact_max_features : int, default=8
        Up to this many features, squared distances come from coordinate differences;
        above it, from one matrix product.
    n_jobs : int, default=None
        CPU threads for torch on the CPU device (:mod:`meanshift._engines._threads`:
        None is torch's current setting, -1 all cores, -2 all but one, k > 0 that many).
        Sums are torch's matrix products, whose order of additions depends on the
        thread count: another count may change the last bits of the centres (about
        1e-15 relative), not the clusters (the boundary rule of
        :mod:`meanshift._kernels` and the rounding of end points before the merge
        absorb it; tested).  For bit-identical repeats keep ``n_jobs`` fixed.
    """

    name = "torch"
    kernel_form = "torch"

    def __init__(self, device="auto", dtype="float32", block_elements=None, compile=False,
                 exact_max_features=8, n_jobs=None):
        self.device, self.device_reason = resolve_device(device)
        if isinstance(dtype, torch.dtype):
            dtype = str(dtype).replace("torch.", "")
        if dtype not in _DTYPES:
            raise ValueError(
                f"The 'dtype' parameter must be one of {sorted(_DTYPES)}; got {dtype!r}."
            )
        self.dtype = _DTYPES[dtype]
        if block_elements is not None and int(block_elements) < 1:
            raise ValueError(
                f"The 'block_elements' parameter must be a positive int or None; got "
                f"{block_elements!r}."
            )
        self.block_elements = None if block_elements is None else int(block_elements)
        self.exact_max_features = int(exact_max_features)
        self.compile = bool(compile)
        self.n_jobs = check_n_jobs(n_jobs)
        logger.debug("torch engine: device=%s (%s), dtype=%s", self.device,
                    self.device_reason, dtype)

    # -- conversions ---------------------------------------------------------------------
    def _tensor64(self, a):
        """``a`` (NumPy array, array-like or tensor) as a float64 tensor on the device."""
        if isinstance(a, torch.Tensor):
            return a.detach().to(device=self.device, dtype=torch.float64)
        a = np.ascontiguousarray(a, dtype=np.float64)
        return torch.from_numpy(a).to(self.device)

    def _weights(self, weights, n):
        if weights is None:
            return None
        return self._tensor64(weights).reshape(n)

    @staticmethod
    def _numpy(t):
        return t.detach().to("cpu", torch.float64).numpy()

    def _origin(self, data64):
        """Shift applied to every coordinate before the cast to the compute dtype."""
        if self.dtype == torch.float64 or data64.shape[0] == 0:
            return torch.zeros(data64.shape[1], dtype=torch.float64, device=self.device)
        return torch.round(data64.mean(dim=0))

    # -- blocks --------------------------------------------------------------------------
    def _budget(self):
        """(seed, point) pairs per block."""
        if self.block_elements is not None:
            return self.block_elements
        if self.device.type == "cuda":
            free, _ = torch.cuda.mem_get_info(self.device)
            free += torch.cuda.memory_reserved(self.device) - torch.cuda.memory_allocated(
                self.device
            )
            # A block needs the distances and one temporary of the same size.
            pairs = int(free * 0.25) // (2 * torch.finfo(self.dtype).bits // 8)
            return max(2**16, min(pairs, 2**28))
        return 2**22

    def _threads(self):
        """Context: torch's CPU threads set by ``n_jobs`` for the duration of a call."""
        return torch_threads(self.n_jobs, self.device.type)

    class _Data:
        """The data on the device, prepared once: compute-dtype coordinates (shifted by
        ``origin``), their transpose, squared norms, and ``[c * X, c]``."""

        def __init__(self, engine, data, weights, kernel=None):
            d64 = engine._tensor64(data)
            if d64.ndim != 2:
                raise ValueError(f"data must be 2-D; got shape {tuple(d64.shape)}.")
            self.n, self.d = d64.shape
            self.origin = engine._origin(d64)
            X = (d64 - self.origin).to(engine.dtype)
            self.X = X
            self.XT = X.T.contiguous()
            # The triangular weight 1 - sqrt(u2) is steep at u2 = 0, where the matrix
            # product's absolute error would show: always exact for it.
            self.exact = self.d <= engine.exact_max_features or (
                kernel is not None and kernel.name == "triangular"
            )
            self.sq = None if self.exact else (X * X).sum(dim=1)
            c = engine._weights(weights, self.n)
            ones = torch.ones((self.n, 1), dtype=engine.dtype, device=engine.device)
            if c is None:
                self.Xa = torch.cat([X, ones], dim=1)
            else:
                cc = c.to(engine.dtype)[:, None]
                self.Xa = torch.cat([X * cc, cc], dim=1)
            # Fused only from two full groups on: the group length is then always
            # _GROUP and only the number of groups varies (no recompilation).
            self.fused = (engine.compile and self.exact and self.n >= 2 * _GROUP
                          and self.d <= engine.exact_max_features)
            if self.fused:
                # Groups of _GROUP points; the padding has weight 0 and adds nothing.
                L = _GROUP
                G = -(-self.n // L)
                pad = G * L - self.n
                pad_ = torch.nn.functional.pad
                # Fresh tensors, not views: a view's base is guarded too, and differs.
                dense = torch.contiguous_format
                self.XT3 = pad_(self.XT, (0, pad)).reshape(self.d, G, L).clone(
                    memory_format=dense)
                self.Xa3 = pad_(self.Xa.T, (0, pad)).reshape(self.d + 1, G, L).clone(
                    memory_format=dense)

    def _sq_dist(self, P, D, c0, c1, Psq=None):
        """Squared distances between positions ``P`` (compute dtype, shifted) and the data
        rows ``c0:c1``."""
        if D.exact:
            out = torch.sub(P[:, 0:1], D.XT[0:1, c0:c1]).square_()
            for j in range(1, D.d):
                t = torch.sub(P[:, j : j + 1], D.XT[j : j + 1, c0:c1])
                out.addcmul_(t, t)
            return out
        if Psq is None:
            Psq = (P * P).sum(dim=1)
        out = torch.addmm(Psq[:, None] + D.sq[None, c0:c1], P, D.XT[:, c0:c1],
                          beta=1.0, alpha=-2.0)
        return out.clamp_min_(0.0)

    def _sums(self, P64, D, bandwidth, kernel):
        """float64 ``(num, den)`` of positions ``P64`` (float64, shifted) over all data."""
        profile = kernel.torch
        m = P64.shape[0]
        num = torch.zeros((m, D.d + 1), dtype=torch.float64, device=self.device)
        if m == 0 or D.n == 0:
            return num[:, :-1], num[:, -1]
        P = P64.to(self.dtype)
        Psq = None if D.exact else (P * P).sum(dim=1)
        inv_h2 = 1.0 / float(bandwidth) ** 2
        budget = self._budget()
        if D.fused:
            block = _fused_block(kernel.name, D.d)
            # A 0-d tensor, not a float: a Python float would compile once per bandwidth.
            inv_h2_t = torch.tensor(inv_h2, dtype=self.dtype, device=self.device)
            # Rows as if the block were written out: the compiler may keep (it does on
            # the CPU) one (rows, G, L) buffer, so the memory stays bounded either way.
            G, L = D.XT3.shape[1:]
            rows = max(2, min(m, budget // (G * L)))  # 2: see below
            for r0 in range(0, m, rows):
                r1 = min(m, r0 + rows)
                # A fresh tensor (not a view), and never one row: a dimension of size 1
                # would be specialised and compiled again.
                Pr = P[r0:r1].clone() if r1 - r0 > 1 else torch.cat([P[r0:r1], P[r0:r1]])
                part = block(Pr, D.XT3, D.Xa3, inv_h2_t)
                num[r0:r1] = part[: r1 - r0].to(torch.float64).sum(dim=1)
            return num[:, :-1], num[:, -1]
        rows = max(1, min(m, budget // D.n))
        cols = max(1, min(D.n, budget // rows))
        for r0 in range(0, m, rows):
            r1 = min(m, r0 + rows)
            Pr = P[r0:r1]
            Pq = None if Psq is None else Psq[r0:r1]
            for c0 in range(0, D.n, cols):
                c1 = min(D.n, c0 + cols)
                W = profile(self._sq_dist(Pr, D, c0, c1, Pq).mul_(inv_h2))
                num[r0:r1] += (W @ D.Xa[c0:c1]).to(torch.float64)
        return num[:, :-1], num[:, -1]

    # -- the contract --------------------------------------------------------------------
    def _bind(self, data, weights, bandwidth, kernel: Kernel):
        return _TorchBound(self, data, weights, bandwidth, kernel)

    def nearest(self, X, centers):
        with self._threads():
            C = self._Data(self, centers, None)
            Xd = self._tensor64(X).reshape(-1, C.d)
            n, k = Xd.shape[0], C.n
            idx = torch.empty(n, dtype=torch.int64, device=self.device)
            dist = torch.empty(n, dtype=torch.float64, device=self.device)
            if k == 0:
                raise ValueError("nearest() needs at least one centre; got none.")
            rows = max(1, self._budget() // k)
            C64 = self._tensor64(centers).reshape(k, C.d)
            for r0 in range(0, n, rows):
                X64 = Xd[r0 : r0 + rows]
                d2 = self._sq_dist((X64 - C.origin).to(self.dtype), C, 0, k)
                # Ties (within the boundary rule's slack) go to the lowest index.
                best = d2.min(dim=1, keepdim=True).values
                j = (d2 <= best * EDGE).to(torch.uint8).argmax(dim=1)
                idx[r0 : r0 + rows] = j
                # The distance to the chosen centre, again in float64 from coordinates.
                dist[r0 : r0 + rows] = (X64 - C64[j]).square_().sum(dim=1).sqrt_()
            return idx.cpu().numpy(), dist.cpu().numpy()


def _on_sphere(new, old, origin):
    """Positions ``new`` (relative to ``origin``) projected onto the unit sphere; a mean
    of length zero keeps the ``old`` position (as :func:`sphere_step`)."""
    absolute = new + origin
    norm = absolute.square().sum(dim=1, keepdim=True).sqrt_()
    ok = norm > 0
    return torch.where(ok, absolute / torch.where(ok, norm, 1.0) - origin, old)


class _TorchBound(Bound):
    """The data of one fit on the device (uploaded once, in the compute dtype)."""

    engine: TorchEngine

    def __init__(self, engine, data, weights, bandwidth, kernel):
        super().__init__(engine, data, weights, bandwidth, kernel)
        with engine._threads():
            self.D = engine._Data(engine, data, weights, kernel)

    @property
    def n_features(self) -> int:
        return int(self.D.d)

    def partial_sums(self, positions):
        eng, D = self.engine, self.D
        with eng._threads():
            P = eng._tensor64(positions).reshape(-1, D.d) - D.origin
            num, den = eng._sums(P, D, self.bandwidth, self.kernel)
            num = num + den[:, None] * D.origin
            return eng._numpy(num), eng._numpy(den)

    def climb(self, seeds, *, tol, max_iter, record_history=False, callback=None):
        """Standard mean shift, fused on the device (see :meth:`Bound.climb`).

        Every step evaluates only the seeds still moving (an index of active seeds,
        compacted after each step); converged and dead seeds keep their last position.
        """
        eng, D = self.engine, self.D
        with eng._threads():
            modes = eng._tensor64(seeds).reshape(-1, D.d) - D.origin
            modes = modes.clone()
            k = modes.shape[0]
            dev = eng.device
            n_iter = torch.zeros(k, dtype=torch.int64, device=dev)
            converged = torch.zeros(k, dtype=torch.bool, device=dev)
            density = torch.zeros(k, dtype=torch.float64, device=dev)
            history = [modes.clone()] if record_history else None
            active = torch.arange(k, device=dev)
            stop = float(tol) * self.bandwidth
            for _ in range(int(max_iter)):
                if active.numel() == 0:
                    break
                P = modes[active]
                num, den = eng._sums(P, D, self.bandwidth, self.kernel)
                alive = den > 0
                new = torch.where(alive[:, None], num / torch.where(alive, den, 1.0)[:, None], P)
                if self.sphere:
                    new = _on_sphere(new, P, D.origin)
                shift = (new - P).square_().sum(dim=1).sqrt_()
                modes[active] = new
                density[active] = den
                n_iter[active] += alive
                done = alive & (shift <= stop)
                converged[active[done]] = True
                active = active[alive & ~done]  # the one host sync of the step
                if history is not None:
                    history.append(modes.clone())
                report(callback, "climb", k - int(active.numel()), k)
            report(callback, "climb", k, k)
            out = modes + D.origin
            hist = None if history is None else [eng._numpy(h + D.origin) for h in history]
            return ClimbResult(eng._numpy(out), n_iter.cpu().numpy(),
                               converged.cpu().numpy(), eng._numpy(density), hist)

    def blur_step(self):
        """One blurring step ``X <- W @ X / W.sum(1)`` of the bound data on the device."""
        eng, D = self.engine, self.D
        with eng._threads():
            P = eng._tensor64(self.data).reshape(D.n, D.d) - D.origin
            num, den = eng._sums(P, D, self.bandwidth, self.kernel)
            alive = den > 0
            new = torch.where(alive[:, None], num / torch.where(alive, den, 1.0)[:, None], P)
            if self.sphere:
                new = _on_sphere(new, P, D.origin)
            out = eng._numpy(new + D.origin)
            # Points that did not move keep their exact input coordinates.
            dead = ~alive.cpu().numpy()
            if dead.any():
                out[dead] = np.asarray(eng._numpy(eng._tensor64(self.data)))[dead]
            return out
