"""Engine registry: one contract (:mod:`._contract`), many places to run.

Engines are registered by name with the module and class that implement them, so that an
optional heavy dependency is imported only when its engine is asked for.  Options are the
explicit keyword arguments of each engine's constructor: :func:`get_engine` rejects any
other name, listing the allowed ones.  ``"auto"`` is resolved by
:func:`meanshift._resolve.resolve_engine`, never here.
"""

from __future__ import annotations

import importlib
import inspect

from ._contract import Bound, ClimbResult, Engine, FitCancelled, Progress, report

__all__ = ["Bound", "ClimbResult", "Engine", "FitCancelled", "Progress", "ENGINES", "report",
           "get_engine", "engine_available", "engine_options", "UNUSABLE"]

# name -> (module, class name, pip extra that provides its dependencies or None)
ENGINES: dict[str, tuple[str, str, str | None]] = {
    "numpy": ("meanshift._engines._reference", "NumpyEngine", None),
    "numba": ("meanshift._engines._numba", "NumbaEngine", None),
    "torch": ("meanshift._engines._torch", "TorchEngine", "gpu"),
    "dask": ("meanshift._engines._dask", "DaskEngine", "dask"),
}


#: Why an engine that imports could not be loaded (name -> message), for "auto".
UNUSABLE: dict[str, str] = {}


def engine_available(name: str) -> bool:
    """True when the engine ``name`` is registered and loads.  A missing package is
    the usual reason for False; any other failure to load (a compiler that cannot run
    here) is kept in :data:`UNUSABLE`, so that "auto" can say why it fell back."""
    try:
        _engine_class(name)
    except ImportError:
        return False
    except Exception as exc:  # the engine's package imports but cannot run here
        UNUSABLE[name] = f"{type(exc).__name__}: {exc}"
        return False
    return True


def _engine_class(name: str):
    try:
        module, cls, extra = ENGINES[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"The 'engine' parameter must be 'auto' or one of {sorted(ENGINES)}; "
            f"got {name!r}."
        ) from None
    try:
        return getattr(importlib.import_module(module), cls)
    except ImportError as exc:
        hint = f' Install it with: pip install "meanshift[{extra}]".' if extra else ""
        raise ImportError(f"The {name!r} engine needs a missing package ({exc}).{hint}") from exc


def engine_options(name: str) -> list[str]:
    """The options (constructor keywords) the engine ``name`` accepts."""
    params = inspect.signature(_engine_class(name).__init__).parameters
    return [p for p in params if p != "self"]


def get_engine(name: str, **options) -> Engine:
    """An instance of the engine ``name`` with ``options`` (n_jobs, device, ...).

    An option the engine does not have is an error naming the ones it has."""
    allowed = engine_options(name)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(
            f"Unknown option(s) {unknown} for the {name!r} engine; its options are "
            f"{allowed} (pass them in engine_options={{...}})."
        )
    return _engine_class(name)(**options)
