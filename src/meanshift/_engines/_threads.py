"""One meaning of ``n_jobs`` for every engine and for image segmentation.

=========  ==================================================================
``n_jobs``  threads
=========  ==================================================================
None       the default: the runtime's current setting
           (``numba.get_num_threads()``, ``torch.get_num_threads()``), which is
           every core unless you changed it
-1         every thread available (Numba: ``NUMBA_NUM_THREADS``; torch: the
           cores of this process)
-k         all but ``k - 1`` (``-2``: all but one), at least one
k > 0      ``k`` threads (at most the number available)
0          an error; so are booleans and non-integers
=========  ==================================================================

Results never depend on ``n_jobs``: the compiled loops sum in a fixed order.

Thread safety.  The compiled engines run serial, GIL-free compiled loops over ranges of
seeds (or pixels) on Python threads (:func:`run_ranges`); they never enter a Numba
parallel region, so Numba's ``workqueue`` threading layer (its fallback where no OpenMP
or TBB runtime is installed), which aborts the process when two Python threads enter
parallel regions at once, cannot be hit by concurrent fits or dask's threaded
scheduler.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from numbers import Integral

__all__ = ["scratch", "check_n_jobs", "effective_threads", "torch_threads", "compiled_threads",
           "run_ranges"]


def check_n_jobs(n_jobs):
    """``n_jobs`` unchanged when valid (see module notes), else a ValueError naming it."""
    if n_jobs is None:
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, Integral) or n_jobs == 0:
        raise ValueError(
            "The 'n_jobs' parameter must be None (the current setting), -1 (every "
            "thread), -k (all but k - 1) or a positive number of threads; got "
            f"{n_jobs!r}."
        )
    return int(n_jobs)


def effective_threads(n_jobs, available: int, current: int | None = None) -> int:
    """Threads to use out of ``available`` (``current``: the runtime's setting) under
    the rule of the module notes."""
    n_jobs = check_n_jobs(n_jobs)
    available = max(1, int(available))
    if n_jobs is None:
        return available if current is None else max(1, int(current))
    if n_jobs < 0:
        return max(1, available + 1 + n_jobs)
    return min(n_jobs, available)


@contextmanager
def torch_threads(n_jobs, device_type: str = "cpu") -> Iterator[int]:
    """torch's CPU thread count set for the block (restored after); yields it.  On a
    GPU device only the host threads are affected, so nothing changes there."""
    import torch

    old = torch.get_num_threads()
    n = effective_threads(n_jobs, _cores(), old)
    if device_type != "cpu" or n == old:
        yield n
        return
    torch.set_num_threads(n)
    try:
        yield n
    finally:
        torch.set_num_threads(old)


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


def compiled_threads(n_jobs) -> int:
    """Threads for the compiled engines under the rule of the module notes (None: Numba's
    current setting, ``numba.set_num_threads``)."""
    import numba

    return effective_threads(n_jobs, numba.config.NUMBA_NUM_THREADS,  # type: ignore[attr-defined]
                             numba.get_num_threads())


_POOL: dict = {}
_POOL_LOCK = threading.Lock()


class _Scratch(threading.local):
    """Each thread's scratch arrays, by name (see :func:`scratch`)."""

    def __init__(self):
        self.arrays: dict = {}


_SCRATCH = _Scratch()


def scratch(name: str, shape, dtype):
    """A C-contiguous array of ``shape`` and ``dtype`` (contents undefined) kept by the
    calling thread under ``name`` and reused by its next call with that name (which
    overwrites it): the blocks of the matrix-product paths need temporaries of a few
    MiB, and a fresh one per block is returned to the system when freed and faults its
    pages in again (an ad-hoc timing: a 128 x 1797 float32 product took 0.82 ms instead
    of 0.34 beside one such array).  Kept while the thread lives: the helpers' pool is
    the process's."""
    import numpy as np

    dtype = np.dtype(dtype)
    need = 1
    for k in shape:
        need *= int(k)
    buf = _SCRATCH.arrays.get(name)
    if buf is None or buf.dtype != dtype or buf.size < need:
        buf = _SCRATCH.arrays[name] = np.empty(max(need, 1), dtype=dtype)
    return buf[:need].reshape(shape)


def _helpers(count: int):
    """The process's pool of helper threads, with at least ``count`` workers: made once
    and reused by every call (a new pool per call cost 0.9 ms; the fully automatic fit
    of 10^6 rows makes about 30 calls and took 0.256 s with them, 0.188 s without); a
    new one after a fork, whose child has none of the parent's threads, or for more
    threads (the old pool is dropped, not shut down: a call that holds it still submits
    to it, and its threads exit once it is collected)."""
    import concurrent.futures as cf
    import os

    with _POOL_LOCK:
        pool = _POOL.get("pool")
        if pool is None or _POOL["pid"] != os.getpid() or _POOL["size"] < count:
            pool = cf.ThreadPoolExecutor(max_workers=count, thread_name_prefix="meanshift")
            _POOL.update(pool=pool, pid=os.getpid(), size=count)
        return pool


def run_ranges(fn, n, n_jobs, *, on_progress=None, seconds=0.25):
    """``fn(a, b)`` over ``[0, n)`` split into ranges, on ``compiled_threads(n_jobs)``
    threads: the calling thread and helpers of a pool kept by the process (``fn`` is a
    compiled function that releases the GIL, so they run in parallel; each range is
    independent, so the result does not depend on the split).

    The ranges are small enough that threads finish together (dynamic scheduling: each
    thread takes the next range from a shared counter when done), and
    ``on_progress(done)`` is called from the calling thread when its first range
    finishes, then at most every ``seconds`` while ranges finish, and at the end (it
    may raise to cancel: the ranges not started are dropped; so are they when ``fn``
    raises).  No Numba threading layer is involved, so concurrent fits from several
    Python threads are safe whatever layer is present: a helper busy with another fit
    only means the calling thread takes more of the ranges.
    """
    import concurrent.futures as cf
    import itertools
    import time

    if n <= 0:
        return
    threads = compiled_threads(n_jobs)
    size = max(1, min(4096, -(-n // (threads * 16))))
    ranges = [(a, min(n, a + size)) for a in range(0, n, size)]
    if threads == 1 or len(ranges) == 1:
        last = -float("inf")
        for a, b in ranges:
            fn(a, b)
            if on_progress is not None and (b == n or time.perf_counter() - last >= seconds):
                on_progress(b)
                last = time.perf_counter()
        return

    order = itertools.count()  # next() on a count is atomic under the GIL
    lock = threading.Lock()
    state = {"done": 0, "stop": False}

    def work():
        while not state["stop"]:
            i = next(order)
            if i >= len(ranges):
                return
            a, b = ranges[i]
            try:
                fn(a, b)
            except BaseException:
                state["stop"] = True
                raise
            with lock:
                state["done"] += b - a

    last = -float("inf")

    def report(final=False):
        nonlocal last
        if on_progress is not None and (final or time.perf_counter() - last >= seconds):
            on_progress(n if final else state["done"])
            last = time.perf_counter()

    pool = _helpers(threads - 1)
    helpers = [pool.submit(work) for _ in range(threads - 1)]
    try:
        while not state["stop"]:
            i = next(order)
            if i >= len(ranges):
                break
            a, b = ranges[i]
            fn(a, b)
            with lock:
                state["done"] += b - a
            report()
        pending = set(helpers)
        while pending:
            finished, pending = cf.wait(pending, timeout=seconds,
                                        return_when=cf.FIRST_EXCEPTION)
            for fut in finished:
                fut.result()
            if pending:
                report()
        report(final=True)
    except BaseException:
        state["stop"] = True
        cf.wait(helpers)
        raise
