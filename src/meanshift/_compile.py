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

Stale code.  Numba keys a cached function by the contents of its own source file only,
so a compiled function that calls (and inlines) a compiled helper of another module
kept the helper's old code after the helper changed (a development hazard: an edited
kernel weight or hash would be ignored until the cache was deleted).  For the package's
own files the key also covers every package file that defines compiled code
(:func:`compiled_sources_digest`), so any change to any of them recompiles what depends
on it.  Installed copies never change; this matters when the sources are edited.
"""

from __future__ import annotations

import functools
import getpass
import hashlib
import os
import tempfile
import types
import warnings
from pathlib import Path

import numba
from numba.core import config as numba_config

from ._warnings import MeanShiftWarning

__all__ = ["njit", "cache_note", "temp_cache_dir", "compiled_sources_digest", "with_constants"]

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


def with_constants(func, qualname: str, **constants):
    """A copy of ``func`` whose globals ``constants`` (names to integers) have these
    values, named ``qualname`` (its compiled code is cached on disk under that name).

    Numba freezes global integers as constants (literal types), so the copy compiled
    with :func:`njit` resolves every dispatch on them at compile time, with no wrapper
    function in between: a wrapper is a compiled layer of its own, which re-optimises
    what it links in (removing the engine's wrappers and one dispatch layer took the
    first gaussian 2-D fit from 3.5 to 2.3 s, ``benchmarks/results_cold_start.md``)."""
    copy = types.FunctionType(func.__code__, dict(func.__globals__, **constants),
                              func.__name__, func.__defaults__, func.__closure__)
    copy.__qualname__ = qualname
    copy.__doc__ = func.__doc__
    copy.__module__ = func.__module__
    return copy


@functools.cache
def compiled_sources_digest(root: str) -> bytes:
    """sha256 over the ``.py`` files under ``root`` that define compiled code (they
    mention ``njit`` or ``overload``), in path order: any edit to one changes it."""
    digest = hashlib.sha256()
    for path in sorted(Path(root).rglob("*.py")):
        text = path.read_bytes()
        if b"njit" in text or b"overload" in text:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + text)
    return digest.digest()


def _stamp_with_dependencies() -> bool:
    """Make Numba's cache key of the package's compiled functions cover every compiled
    source of the package (module notes).  False where Numba's internals differ (the
    plain per-file key stays)."""
    try:
        from numba.core import caching

        mixin = caching._SourceFileBackedLocatorMixin
        original = mixin.get_source_stamp
    except (ImportError, AttributeError):
        return False
    if getattr(original, "_meanshift", False):
        return True
    root = os.path.dirname(os.path.abspath(__file__))

    def get_source_stamp(self):
        stamp = original(self)
        path = os.path.abspath(getattr(self, "_py_file", "") or "")
        if not path.startswith(root + os.sep):
            return stamp
        return hashlib.sha256(repr(stamp).encode() + compiled_sources_digest(root)).digest()

    get_source_stamp._meanshift = True  # type: ignore[attr-defined]
    mixin.get_source_stamp = get_source_stamp  # type: ignore[method-assign]
    return True


STAMPED = _stamp_with_dependencies()
