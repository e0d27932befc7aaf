"""A new user's first minutes (issue 12): no cache needed, live progress in a terminal,
a command line that loses nothing."""

import os
import re
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


def _visible_line(written):
    """What a terminal line shows after ``written`` (``\r`` returns to column 0, later
    characters overwrite earlier ones)."""
    line: list[str] = []
    col = 0
    for ch in written:
        if ch == "\r":
            col = 0
            continue
        if col < len(line):
            line[col] = ch
        else:
            line.append(ch)
        col += 1
    return "".join(line)


def _run_in_terminal(argv, cwd, env=None, columns=100):
    """Run ``argv`` with its standard streams on a pseudo-terminal of ``columns``
    columns; returns (exit code, [(seconds, bytes read)])."""
    pty = pytest.importorskip("pty")
    import fcntl
    import struct
    import termios
    import time

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd,
                            env=env, close_fds=True)
    os.close(slave)
    chunks, start = [], time.perf_counter()
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append((time.perf_counter() - start, data))
    proc.wait(timeout=600)
    os.close(master)
    return proc.returncode, chunks


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    import numpy as np

    from meanshift.datasets import make_blobs

    d = tmp_path_factory.mktemp("table")
    X, _, _ = make_blobs(6000, 4, centers=5, random_state=0)
    np.savetxt(d / "points.csv", X, delimiter=",", header="a,b,c,d", comments="",
               fmt="%.5f")
    np.savetxt(d / "noheader.csv", X[:1500], delimiter=",", fmt="%.5f")
    return d


def test_cluster_in_a_terminal_shows_live_progress_and_a_clean_line(table):
    pytest.importorskip("tqdm")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    code, chunks = _run_in_terminal(
        [sys.executable, "-m", "meanshift", "cluster", "points.csv", "--bandwidth", "2",
         "--engine", "numpy", "--tol", "1e-5"], table, env)
    text = b"".join(c for _, c in chunks).decode()
    assert code == 0, text
    # What was read is said before the fit starts, then the progress line is drawn.
    summary = text.index("points.csv: 6000 points x 4 features (a, b, c, d)")
    first_bar = text.index("mean shift: climb")
    assert summary < first_bar
    # Redrawn while it runs (at least once a second): several draws, spread in time.
    draws = [t for t, c in chunks if b"mean shift: climb" in c]
    assert len(draws) >= 3
    assert max(b - a for a, b in zip(draws, draws[1:], strict=False)) <= 1.5
    # Erased before the results: the result line starts on a clean line.
    found = re.search(r"found \d+ clusters", text).start()
    before = text[text.rindex("\n", 0, found) + 1 : found]
    assert _visible_line(before).strip() == "", repr(before[-300:])
    assert "\r" not in text[found:].replace("\r\n", "\n")


def test_nothing_is_drawn_on_a_pipe_or_with_quiet(table):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    piped = subprocess.run([sys.executable, "-m", "meanshift", "cluster", "points.csv",
                            "--bandwidth", "2", "--engine", "numpy"], cwd=table, env=env,
                           capture_output=True, text=True, timeout=600)
    assert piped.returncode == 0 and "\r" not in piped.stdout + piped.stderr
    assert piped.stderr == ""
    code, chunks = _run_in_terminal(
        [sys.executable, "-m", "meanshift", "-q", "cluster", "points.csv", "--bandwidth",
         "2", "--engine", "numpy"], table, env)
    text = b"".join(c for _, c in chunks).decode()
    assert code == 0 and "mean shift:" not in text


def test_a_first_row_of_numbers_is_data(table, capsys):
    from meanshift import cli

    assert cli.main(["cluster", str(table / "noheader.csv"), "--bandwidth", "2", "-q"]) == 0
    out = capsys.readouterr().out
    assert "1500 points x 4 features (x0, x1, x2, x3)" in out
    assert cli.main(["cluster", str(table / "noheader.csv"), "--bandwidth", "2", "-q",
                     "--header"]) == 0
    assert "1499 points" in capsys.readouterr().out  # forced: the first row names columns
    assert cli.main(["cluster", str(table / "points.csv"), "--bandwidth", "2", "-q"]) == 0
    assert "6000 points x 4 features (a, b, c, d)" in capsys.readouterr().out


def test_verbose_and_quiet_anywhere_and_a_version(capsys):
    from meanshift import __version__, cli

    with pytest.raises(SystemExit) as exc:
        cli.build_parser().parse_args(["--version"])
    assert exc.value.code == 0 and f"meanshift {__version__}" in capsys.readouterr().out
    for argv in (["-v", "-q", "demo", "--no-plot"], ["demo", "--no-plot", "-v", "-q"]):
        args = cli.build_parser().parse_args(argv)
        assert args.verbose == 1 and args.quiet is True
    args = cli.build_parser().parse_args(["demo"])
    assert args.verbose == 0 and args.quiet is False


def test_an_estimator_error_names_the_option_and_exits_2(table, capsys):
    from meanshift import cli

    code = cli.main(["cluster", str(table / "points.csv"), "--bandwidth", "1e-300", "-q"])
    err = capsys.readouterr().err
    assert code == 2 and "--bandwidth is too small" in err


def test_the_first_compile_is_announced_in_a_terminal(table, tmp_path):
    pytest.importorskip("tqdm")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path),
               NUMBA_CACHE_DIR=str(tmp_path / "empty-cache"))
    code, chunks = _run_in_terminal(
        [sys.executable, "-m", "meanshift", "cluster", "points.csv", "--bandwidth", "2"],
        table, env)
    text = b"".join(c for _, c in chunks).decode()
    assert code == 0, text
    assert text.count("compiling for this machine (first run only") == 1
    assert text.index("6000 points") < text.index("compiling for this machine")


@pytest.mark.parametrize("speedup", [1, 2])
def test_segment_climb_reports_pixels_as_it_goes(speedup, capsys):
    import numpy as np

    from meanshift.image import _climb, segment

    rng = np.random.default_rng(0)
    img = (rng.random((60, 80, 3)) * 255).astype(np.uint8)
    planes = np.ascontiguousarray((img.reshape(-1, 3) / 8.0).T, dtype=np.float32)
    seen = []
    modes, _ = _climb.climb_pixels3(planes, np.array([1, 60, 80]),
                                    np.array([1.0, 1 / 5, 1 / 5]), 0, 1.0, 0.1, 50,
                                    speedup, 0.5, n_jobs=2, callback=seen.append)
    done = [p.done for p in seen]
    assert {p.stage for p in seen} == {"climb"} and {p.total for p in seen} == {4800}
    assert done == sorted(done) and done[-1] == 4800 and len(done) >= 2
    # The same modes whatever the thread count.
    again, _ = _climb.climb_pixels3(planes, np.array([1, 60, 80]),
                                    np.array([1.0, 1 / 5, 1 / 5]), 0, 1.0, 0.1, 50,
                                    speedup, 0.5, n_jobs=1)
    np.testing.assert_array_equal(modes, again)
    seg = segment(img, spatial_bandwidth=5, range_bandwidth=8, progress=True)
    assert seg.labels.shape == (60, 80)
    with pytest.raises(ValueError, match="'progress' parameter must be True or False"):
        segment(img, spatial_bandwidth=5, range_bandwidth=8, progress="yes")


_COMPILED = """
from numba.core import event
names = []
class L(event.Listener):
    def on_start(self, ev):
        names.append(ev.data["dispatcher"].py_func.__qualname__)
    def on_end(self, ev):
        pass
event.register("numba:compile", L())
import numpy as np
from meanshift import MeanShift
rng = np.random.default_rng(0)
X = rng.normal(size=(2000, 2)) + rng.integers(0, 4, 2000)[:, None] * 6.0
MeanShift(bandwidth=2.0, kernel="gaussian").fit(X)
print(" ".join(names))
"""


def test_a_fit_compiles_only_its_kernel_and_index_kind(tmp_path):
    # A fresh cache: what the first fit compiles is what a new user waits for.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path),
               NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    out = subprocess.run([sys.executable, "-c", _COMPILED], env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    names = out.stdout.split()
    assert names.count("_range_low") == 1  # the gaussian's loop only, not four
    queries = [n for n in names if n in ("_sums_grid", "_sums_tiles", "_sums_brute")]
    assert len(queries) == 1  # the index kind in use only, not three
    assert any(n.startswith("climb_kernel1_index") for n in names)


def test_the_compressed_stream_reports_chunks(monkeypatch):
    da = pytest.importorskip("dask.array")
    import numpy as np

    from meanshift import MeanShift
    from meanshift.datasets import make_blobs

    X, _, _ = make_blobs(60_000, 2, centers=4, random_state=0)
    for data in (X, da.from_array(X, chunks=(5_000, 2))):
        seen = []
        model = MeanShift(bandwidth=1.0, callback=seen.append).fit(data)
        assert model.algorithm_ == "compressed"
        stream = [p for p in seen if p.stage == "stream"]
        assert stream and stream[-1].done == stream[-1].total
        assert [p.done for p in stream] == sorted(p.done for p in stream)
        # The stream comes before the climb of the bin means, each a stage of its own.
        stages = [p.stage for p in seen]
        assert stages.index("climb") > max(i for i, s in enumerate(stages) if s == "stream")
    assert stream[-1].total == 12  # the dask array's chunks
    assert np.asarray(model.labels_.compute()).shape == (60_000,)


def test_a_warning_of_the_fit_is_shown_after_the_progress_line(table):
    """A fit that warns (seeds out of steps) while the progress line is drawn: the warning
    is shown once the line is erased, on a line of its own, not glued to the bar."""
    pytest.importorskip("tqdm")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    code, chunks = _run_in_terminal(
        [sys.executable, "-m", "meanshift", "cluster", "points.csv", "--bandwidth", "2",
         "--engine", "numpy", "--kernel", "gaussian", "--tol", "1e-9", "--max-iter", "12"],
        table, env)
    text = b"".join(c for _, c in chunks).decode()
    assert code == 0, text
    assert "mean shift: climb" in text  # the bar was drawn
    assert "did not converge within max_iter=12" in text, text[-2000:]
    warned = text.index("did not converge within max_iter=12")
    line = text[text.rindex("\n", 0, warned) + 1 : warned]
    assert "ConvergenceWarning" in line
    visible = _visible_line(line)  # what the terminal shows on the warning's line
    assert "mean shift" not in visible and "it/s" not in visible, repr(line[-300:])


def test_compiled_sources_digest_covers_compiled_files_only(tmp_path):
    from meanshift._compile import compiled_sources_digest

    digest = compiled_sources_digest.__wrapped__  # uncached: the files change below
    (tmp_path / "loops.py").write_text("@njit\ndef f(): pass\n")
    (tmp_path / "cli.py").write_text("print('hello')\n")
    before = digest(str(tmp_path))
    (tmp_path / "cli.py").write_text("print('hello again')\n")
    assert digest(str(tmp_path)) == before
    (tmp_path / "loops.py").write_text("@njit\ndef f(): return 1\n")
    assert digest(str(tmp_path)) != before


def test_editing_a_compiled_helper_recompiles_its_callers(tmp_path):
    """Numba keys a cached function by its own file only: the climb (in _engine.py)
    would keep an edited helper of _paths.py.  The package's key covers every compiled
    source, so the edit recompiles the climb (NUMBA_DEBUG_CACHE says what was loaded
    and what was saved)."""
    import shutil

    import meanshift

    src = tmp_path / "src"
    shutil.copytree(os.path.dirname(meanshift.__file__), src / "meanshift",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = dict(os.environ, PYTHONPATH=str(src), NUMBA_CACHE_DIR=str(tmp_path / "cache"),
               NUMBA_DEBUG_CACHE="1")
    code = ("import numpy as np\nfrom meanshift import MeanShift\n"
            "MeanShift(bandwidth=0.5).fit(np.random.default_rng(0).normal(size=(3000, 2)))\n")

    def climb_cache():
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-2000:]
        lines = [ln for ln in out.stdout.splitlines() + out.stderr.splitlines()
                 if "climb_kernel0" in ln and "data" in ln]
        return " ".join(lines)

    assert "data saved" in climb_cache()  # compiled
    assert "data loaded" in climb_cache()  # from the cache
    helper = src / "meanshift" / "_engines" / "_numba" / "_paths.py"
    helper.write_text(helper.read_text() + "\n# edited\n")
    assert "data saved" in climb_cache()  # the caller recompiled
