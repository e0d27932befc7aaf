"""The progress display: what ``MeanShift(progress=True)``, ``segment(progress=True)``
and the command line show while a fit runs.

It is a progress callback (:class:`meanshift.Progress` in, nothing out) that draws one
line on a stream (standard error by default): the stage ("bandwidth", "stream", "climb",
"merge", "labels", "blur"), what is done of a total that means something (trial
bandwidths of the search, chunks of rows compressed, seeds that stopped climbing of all
seeds, end points the merge passed, blurring steps; pixels for image segmentation), and
the time so far.  It uses tqdm when it is
installed (a bar, also in notebooks), else a plain line rewritten in place.

* **Never backwards**: each stage is a bar of its own; within a stage the count only
  grows.
* **Alive**: a background thread redraws the line every ``refresh`` seconds, so the time
  ticks even while the engine works on one long batch (or compiles).
* **First compile**: while it is shown, the first time Numba compiles in this process
  (a fresh install: tens of seconds) a one-line note says so, above the line.
* **Clean**: :meth:`close` erases the line, so that what is printed next starts on a
  clean line; nothing at all is drawn for fits shorter than ``delay`` seconds.
"""

from __future__ import annotations

import sys
import threading
import time

__all__ = ["ProgressDisplay", "COMPILE_NOTE"]

COMPILE_NOTE = ("meanshift: compiling for this machine (first run only, a few seconds; "
                "later runs load it from the cache)")

#: Whether the compile note was shown in this process.
_NOTED = {"compile": False}


class _Line:
    """A plain progress line (no tqdm): ``\\r`` + text, padded over the previous one."""

    def __init__(self, file):
        self.file = file
        self.width = 0

    def draw(self, text):
        pad = max(self.width - len(text), 0)
        self.file.write("\r" + text + " " * pad)
        self.file.flush()
        self.width = len(text)

    def write(self, text):
        self.clear()
        self.file.write(text + "\n")
        self.file.flush()

    def clear(self):
        if self.width:
            self.file.write("\r" + " " * self.width + "\r")
            self.file.flush()
            self.width = 0


class ProgressDisplay:
    """A progress callback drawing one line on ``file`` (see module notes).

    Parameters
    ----------
    file : text stream, default=sys.stderr
    delay : float, default=0.5
        Nothing is drawn before the fit has run this long.
    refresh : float, default=0.5
        Seconds between redraws while nothing is reported.
    use_tqdm : bool or None, default=None
        None: tqdm when it imports.
    """

    def __init__(self, file=None, *, delay=0.5, refresh=0.5, use_tqdm=None):
        self.file = sys.stderr if file is None else file
        self.delay = float(delay)
        self.refresh = float(refresh)
        self._tqdm = _tqdm_class() if use_tqdm in (None, True) else None
        self._lock = threading.RLock()
        self._start = time.perf_counter()
        self._stage: str | None = None
        self._done = 0
        self._total = 0
        self._bar = None
        self._line = None if self._tqdm is not None else _Line(self.file)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, daemon=True,
                                        name="meanshift-progress")
        self._listener = _CompileListener(self)
        self._listener.install()
        self._thread.start()

    # -- the callback ----------------------------------------------------------------------
    def __call__(self, progress):
        with self._lock:
            if progress.stage != self._stage:
                self._close_bar()
                self._stage, self._done, self._total = progress.stage, 0, progress.total
            self._total = max(progress.total, 1)
            self._done = max(self._done, min(progress.done, self._total))
            self._draw()

    def note(self, text):
        """A line of text above the progress line."""
        with self._lock:
            if self._bar is not None:
                self._bar.write(text, file=self.file)
            elif self._line is not None:
                self._line.write(text)
            else:
                self.file.write(text + "\n")
                self.file.flush()

    def close(self):
        """Stop redrawing and erase the line."""
        self._stop.set()
        self._listener.remove()
        with self._lock:
            self._close_bar()
            if self._line is not None:
                self._line.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- drawing -----------------------------------------------------------------------------
    def _visible(self):
        return time.perf_counter() - self._start >= self.delay

    def _draw(self):
        if self._stage is None or not self._visible():
            return
        desc = f"mean shift: {self._stage}"
        if self._tqdm is not None:
            if self._bar is None:
                # ``initial``: what was done before the line became visible is not
                # counted in the rate.
                self._bar = self._tqdm(total=self._total, desc=desc, file=self.file,
                                       leave=False, dynamic_ncols=True, mininterval=0.0,
                                       initial=self._done)
            if self._bar.total != self._total:
                self._bar.total = self._total
            self._bar.n = self._done
            self._bar.refresh()
        elif self._line is not None:
            elapsed = time.perf_counter() - self._start
            pct = 100.0 * self._done / self._total
            self._line.draw(f"{desc} {self._done}/{self._total} ({pct:.0f}%) "
                            f"{elapsed:.0f} s")

    def _close_bar(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _tick(self):
        while not self._stop.wait(self.refresh):
            with self._lock:
                if not self._stop.is_set():
                    self._draw()


def _tqdm_class():
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


class _CompileListener:
    """Shows :data:`COMPILE_NOTE` through the display the first time Numba compiles in
    this process (Numba announces compilations, not loads from its cache)."""

    def __init__(self, display):
        self.display = display
        self.listener = None

    def install(self):
        try:
            from numba.core import event
        except ImportError:  # pragma: no cover - numba is a dependency
            return
        display = self.display

        class Listener(event.Listener):
            def on_start(self, ev):
                if not _NOTED["compile"]:
                    _NOTED["compile"] = True
                    display.note(COMPILE_NOTE)

            def on_end(self, ev):
                pass

        self.listener = Listener()
        event.register("numba:compile", self.listener)

    def remove(self):
        if self.listener is not None:
            from numba.core import event

            event.unregister("numba:compile", self.listener)
            self.listener = None
