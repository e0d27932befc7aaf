"""Shared benchmark harness: time, peak memory and quality of one run, and tables.

Peak memory is the peak resident set size of this process during the call, sampled by a
background thread (it sees NumPy, Numba and torch allocations alike), minus the resident
size before the call.  The sampler wakes every 5 ms and takes the GIL, which slows a
short call on two cores: calls under ``QUICK_S`` are timed without it (best of
``QUICK_REPEAT``) and their memory is taken in one more call, sampled.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Measurement", "measure", "alternate", "markdown_table", "rss_bytes"]


def rss_bytes() -> int:
    """Current resident set size of this process in bytes (Linux /proc, else psutil)."""
    try:
        with open(f"/proc/{os.getpid()}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # pragma: no cover - non-Linux
        import psutil

        return psutil.Process().memory_info().rss


@dataclass
class Measurement:
    name: str
    seconds: float
    peak_bytes: int
    result: object = None
    extra: dict = field(default_factory=dict)


#: ``measure(repeat="auto")``: calls faster than this are repeated (best of
#: QUICK_REPEAT, timed without the memory sampler, then one sampled call for the
#: memory), so that short timings are not one sample of a noisy machine; applied to
#: every method alike.
QUICK_S = 1.0
QUICK_REPEAT = 5


def alternate(runs, repeat, once_above_s=60.0) -> dict:
    """``runs``: name -> callable.  Every run in turn, ``repeat`` rounds, the best
    :class:`Measurement` of each (a run slower than ``once_above_s`` is not repeated):
    ours and a peer timed side by side under the same load."""
    best: dict = {}
    for _ in range(repeat):
        for name, fn in runs.items():
            if name in best and best[name].seconds > once_above_s:
                continue
            m = measure(name, fn, repeat=1)
            if name not in best or m.seconds < best[name].seconds:
                best[name] = m
    return best


def measure(name, fn, *args, repeat="auto", **kwargs) -> Measurement:
    """Run ``fn(*args, **kwargs)`` ``repeat`` times (``"auto"``: once, or, when that run
    takes under ``QUICK_S``, ``QUICK_REPEAT`` more times without the memory sampler and
    once more with it); best wall time and peak extra RSS."""
    best = np.inf
    peak = 0
    result = None
    runs = 1 if repeat == "auto" else int(repeat)
    i = 0
    while i < runs:
        i += 1
        elapsed, top, result = _run(fn, args, kwargs, sampled=True)
        best = min(best, elapsed)
        peak = max(peak, top)
        if repeat == "auto" and i == 1 and elapsed < QUICK_S:
            for _ in range(QUICK_REPEAT):
                best = min(best, _run(fn, args, kwargs, sampled=False)[0])
    return Measurement(name, best, peak, result)


def _run(fn, args, kwargs, sampled: bool):
    """``(seconds, peak extra RSS in bytes or 0, result)`` of one call."""
    gc.collect()
    base = rss_bytes()
    top = [base]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            top[0] = max(top[0], rss_bytes())
            time.sleep(0.005)

    t = threading.Thread(target=sample, daemon=True)
    if sampled:
        t.start()
    start = time.perf_counter()
    try:
        result = fn(*args, **kwargs)
    finally:
        elapsed = time.perf_counter() - start
        stop.set()
        if sampled:
            t.join()
    if not sampled:
        return elapsed, 0, result
    top[0] = max(top[0], rss_bytes())
    return elapsed, top[0] - base, result


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    """A Markdown table of ``rows`` (dicts) with the given column order."""

    def fmt(v):
        if isinstance(v, float):
            if v != v:
                return "-"
            return f"{v:.3g}" if abs(v) < 1e4 else f"{v:.3e}"
        return "-" if v is None else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)
