"""How the package compiles: every compiled function goes through :func:`njit`.

Numba keeps compiled code on disk (``cache=True``) next to the sources (``__pycache__``)
or, where that is read-only (an installed package), in the user's cache folder.  A user
who can write neither (a locked-down server, a container without a home) would see every
import fail with ``RuntimeError: cannot cache function ...: no locator available``.
Here a function whose cache cannot be written is compiled with the cache in a per-user
folder of the temporary directory instead, and where even that is impossible, without a
cache (it then compiles in every process); either way the user is told once, with the
way to choose the folder (``NUMBA_CACHE_DIR``).

The compile events are also where the first-run note hooks in: :func:`compiling` tells
whether this process has compiled anything so far (see :mod:`meanshift.cli`).
"""

from __future__ import annotations

import getpass
import os
import tempfile
import warnings
from pathlib import Path

import numba
from numba.core import config as numba_config

from ._warnings import MeanShiftWarning

__all__ = ["njit", "cache_note", "temp_cache_dir"]

#: What was decided about the cache (None: numba's own folders work), said once.
_STATE: dict[str, str | None] = {"cache": None}


def temp_cache_dir() -> Path:
    """The per-user fallback folder for compiled code."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name (some containers): the uid
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"meanshift-numba-cache-{user}"


def _usable(folder: Path) -> bool:
    """Whether compiled code can be written to ``folder`` (numba's own test)."""
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True


def cache_note() -> str | None:
    """What was done about an unwritable cache in this process (None: nothing needed)."""
    return _STATE["cache"]


def _fallback(exc: Exception) -> bool:
    """Point numba at the temporary folder (True) or give up caching (False); say so
    once."""
    if _STATE["cache"] is None:
        folder = temp_cache_dir()
        if _usable(folder):
            numba_config.CACHE_DIR = str(folder)  # type: ignore[attr-defined]
            note = (
                f"meanshift: compiled code cannot be cached next to the package or in the "
                f"user's cache folder ({exc}); caching it in {folder} instead (set "
                "NUMBA_CACHE_DIR to choose a folder).")
        else:
            note = (
                f"meanshift: no folder can hold compiled code ({exc}); compiling without "
                "a cache, in every process (set NUMBA_CACHE_DIR to a writable folder).")
        _STATE["cache"] = note
        warnings.warn(note, MeanShiftWarning, stacklevel=4)
    return getattr(numba_config, "CACHE_DIR", "") == str(temp_cache_dir())


def _compile(fn, options):
    if options.get("cache"):
        try:
            return numba.njit(**options)(fn)
        except RuntimeError as exc:
            if "cannot cache" not in str(exc):
                raise
            if _fallback(exc):
                try:
                    return numba.njit(**options)(fn)
                except RuntimeError:
                    pass
            options = {**options, "cache": False}
    return numba.njit(**options)(fn)


def njit(*args, **options):
    """``numba.njit`` with the cache fallback above (same arguments)."""
    if len(args) == 1 and callable(args[0]) and not options:
        return _compile(args[0], {})
    if args:
        raise TypeError("njit takes the function, or keyword options only")

    def decorate(fn):
        return _compile(fn, options)

    return decorate
