"""A new user's first minutes (issue 12): no cache needed, live progress in a terminal,
a command line that loses nothing."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "meanshift"

_FIT = """
import warnings
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    from meanshift import MeanShift
    from meanshift.datasets import six_blobs
    X, _, _ = six_blobs()
    m = MeanShift(bandwidth=4.0).fit(X)
notes = [str(w.message) for w in caught if "compiled code" in str(w.message)]
print(len(m.cluster_centers_), len(notes))
print(notes[0] if notes else "")
"""


def _blocked(path):
    """A path no folder can be made under (a file stands where a folder would go)."""
    path.write_text("not a folder")
    return path / "cache"


def _installed_copy(tmp_path):
    """The package copied as an installed, read-only one would be: a file named
    ``__pycache__`` in every folder, so nothing can be cached next to the sources."""
    site = tmp_path / "site"
    shutil.copytree(SRC, site / "meanshift",
                    ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    for folder in [site / "meanshift", *(p for p in (site / "meanshift").rglob("*")
                                         if p.is_dir())]:
        (folder / "__pycache__").write_text("read-only")
    return site


@pytest.mark.parametrize("temp_usable", [True, False])
def test_a_fit_works_where_no_cache_can_be_written(tmp_path, temp_usable):
    site = _installed_copy(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_CACHE")}
    env.update(PYTHONPATH=str(site), HOME=str(_blocked(tmp_path / "home")),
               XDG_CACHE_HOME=str(_blocked(tmp_path / "xdg")))
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env["TMPDIR"] = str(tmp)
    prelude = "" if temp_usable else (
        # (Python would fall back to /tmp, writable here: block the temporary folder.)
        f"import tempfile; tempfile.tempdir = {str(_blocked(tmp_path / 'tmpfile'))!r}\n")
    out = subprocess.run([sys.executable, "-c", prelude + _FIT], env=env,
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    first, note = out.stdout.splitlines()[:2]
    assert first == "6 1"  # six clusters; the note said once
    if temp_usable:
        assert "caching it in" in note and "NUMBA_CACHE_DIR" in note
        assert any(tmp.rglob("*.nbi"))  # the compiled code went there
    else:
        assert "compiling without a cache" in note


def test_auto_falls_back_to_numpy_when_the_compiled_engine_cannot_run(monkeypatch):
    import warnings

    import numpy as np

    from meanshift import MeanShift, _engines
    from meanshift._warnings import MeanShiftWarning

    def broken(name):
        if name == "numba":
            raise RuntimeError("LLVM cannot compile for this CPU")
        return original(name)

    original = _engines._engine_class
    monkeypatch.setattr(_engines, "_engine_class", broken)
    X = np.random.default_rng(0).normal(size=(200, 2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = MeanShift(bandwidth=1.0).fit(X)
    assert model.engine_ == "numpy"
    said = [str(w.message) for w in caught if issubclass(w.category, MeanShiftWarning)]
    assert any("'numba' engine cannot run here" in m and "LLVM cannot compile" in m
               for m in said)
