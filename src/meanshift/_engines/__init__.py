"""Engine registry: one contract (:class:`Engine`), many places to run.

Engines are registered by name with the module and class that implement them, so that an
optional heavy dependency is imported only when its engine is asked for.  ``"auto"`` is
resolved by :func:`meanshift._resolve.resolve_engine`, never here.
"""

from __future__ import annotations

import importlib

from ._base import ClimbResult, Engine

__all__ = ["ClimbResult", "Engine", "ENGINES", "get_engine", "engine_available"]

# name -> (module, class name, pip extra that provides its dependencies or None)
ENGINES: dict[str, tuple[str, str, str | None]] = {
    "numpy": ("meanshift._engines._numpy", "NumpyEngine", None),
    "numba": ("meanshift._engines._numba", "NumbaEngine", None),
    "torch": ("meanshift._engines._torch", "TorchEngine", "gpu"),
    "dask": ("meanshift._engines._dask", "DaskEngine", "dask"),
}


def engine_available(name: str) -> bool:
    """True when the engine ``name`` is registered and its dependencies import."""
    try:
        _engine_class(name)
    except ImportError:
        return False
    return True


def _engine_class(name: str):
    try:
        module, cls, extra = ENGINES[name]
    except KeyError:
        raise ValueError(
            f"The 'engine' parameter must be 'auto' or one of {sorted(ENGINES)}; "
            f"got {name!r}."
        ) from None
    try:
        return getattr(importlib.import_module(module), cls)
    except ImportError as exc:
        hint = f' Install it with: pip install "meanshift[{extra}]".' if extra else ""
        raise ImportError(f"The {name!r} engine needs a missing package ({exc}).{hint}") from exc


def get_engine(name: str, **options) -> Engine:
    """An instance of the engine ``name``; ``options`` (n_jobs, device, ...) go to it."""
    return _engine_class(name)(**options)
