"""What a pipeline is given (:class:`Plan`, every choice made) and what it returns
(:class:`FitResult`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np

from .._engines import Engine
from .._kernels import Kernel

__all__ = ["Plan", "FitResult"]


@dataclass(frozen=True)
class Plan:
    """Every decision of a fit, made once (``"auto"`` resolved) before anything runs.

    ``bandwidth`` is in the units the pipeline sees (the data divided by the per-feature
    bandwidths, if given, and by a power of two, see
    :class:`meanshift._stages.bandwidth.FitScale`); ``unit`` is that power of two, so
    that messages can give the bandwidth in the data's units (:attr:`data_bandwidth`);
    ``sphere``: the rows are unit vectors (a sphere metric), every step is projected onto
    the sphere and so are the seeds;
    ``seeds`` is the seeding spec (None, "all", "bins", an int or
    an array in those units).  Printing a plan shows the whole computation.
    """

    algorithm: str
    engine: Engine
    kernel: Kernel
    bandwidth: float
    tol: float = 1e-3
    max_iter: int = 300
    seeds: Any = None
    bin_seeding: bool = False
    min_bin_freq: float = 1
    random_state: Any = 0
    merge_radius: float = 1.0
    label_by: str = "nearest"
    cluster_all: bool = True
    record_history: bool = False
    callback: Any = None
    unit: float = 1.0
    sphere: bool = False

    @property
    def data_bandwidth(self) -> float:
        """The bandwidth in the data's units (in per-feature units for a per-feature
        bandwidth), for messages."""
        return self.bandwidth * self.unit

    def but(self, **changes) -> Plan:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def __repr__(self) -> str:
        seeds = self.seeds if self.seeds is None or isinstance(self.seeds, (str, int)) else (
            f"array{np.shape(self.seeds)}")
        return (f"Plan(algorithm={self.algorithm!r}, engine={self.engine.name!r}, "
                f"kernel={self.kernel.name!r}, bandwidth={self.data_bandwidth:g}, "
                f"seeds={seeds!r}, label_by={self.label_by!r}, tol={self.tol:g}, "
                f"max_iter={self.max_iter})")


class FitResult(NamedTuple):
    centers: np.ndarray
    labels: Any  # ndarray, or a lazy dask array for dask rows
    center_density: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    seeds: np.ndarray
    seed_modes: np.ndarray
    seed_density: np.ndarray
    history: list | None
    bound: Any = None  # the fit data as bound by the engine (labels, predict)
