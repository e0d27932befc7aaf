"""Every benchmark and example script still imports with the current package.

The scripts are not part of the package, so nothing else notices when a module they use
moves.  Each one is imported as a module from its file (``importlib``), with the
repository root and ``src`` on ``sys.path`` as the scripts expect, and without running
its main work: every script keeps that under ``if __name__ == "__main__":`` (checked
first, from the source).  Imports inside the scripts' functions (run-time imports, where
moved modules hide) are resolved too, without running anything of the scripts.  No file
is written: bytecode caches are off while importing, the working directory is
``tmp_path``, and ``sys.path``/``sys.modules`` are restored afterwards.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(
    p for folder in ("benchmarks", "examples") for p in (ROOT / folder).glob("*.py")
    if p.name != "__init__.py"
)
# Suites that benchmarks/bench.py imports as ``benchmarks.<name>`` and calls as suite(quick).
SUITES = ["bench_torch", "bench_dask", "bench_image"]


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """Import scripts without writing anything outside tmp_path, then undo their
    ``sys.path`` edits and forget the modules they brought in from the repository."""
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.setattr(sys, "path", [str(ROOT), str(ROOT / "src"), *sys.path])
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name in ("benchmarks", "_common") or name.startswith(("benchmarks.", "_script_")):
            del sys.modules[name]


def test_scripts_found():
    names = {_id(p) for p in SCRIPTS}
    assert {"benchmarks/bench.py", "benchmarks/bench_dask.py", "benchmarks/_common.py",
            "examples/plot_gallery.py"} <= names, names


def _check_no_work_at_import(path):
    """Top level: imports, definitions, constants and sys.path set-up only; the work is
    under ``if __name__ == "__main__":`` (checked before the script is imported, so that
    a script that would do its work at import fails here without doing it)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    guarded = False
    for node in tree.body:
        if isinstance(node, ast.If) and "__name__" in ast.unparse(node.test):
            guarded = True
        elif isinstance(node, ast.Expr):
            text = ast.unparse(node.value)
            ok = isinstance(node.value, ast.Constant) or text.startswith("sys.path.insert(")
            assert ok, f"{_id(path)}:{node.lineno} runs {text!r} at import"
    assert guarded or path.stem == "_common", (
        f'{_id(path)} has no `if __name__ == "__main__":` block')


@pytest.mark.parametrize("path", SCRIPTS, ids=_id)
def test_script_imports(path, isolated):
    _check_no_work_at_import(path)
    name = f"_script_{path.parent.name}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look their module up here
    spec.loader.exec_module(module)  # any ImportError / AttributeError fails the test
    if path.stem != "_common":
        assert callable(getattr(module, "main", None)), f"{_id(path)} has no main()"


def _own_imports(tree):
    """``(line, module, names)`` of every import of meanshift or benchmarks modules,
    top level or inside functions (run-time imports are where moved modules hide)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            module = node.module
            if node.level:  # ``from ._common import ...`` inside the benchmarks package
                module = f"benchmarks.{module}"
            elif module == "_common":  # bench_image puts benchmarks/ itself on sys.path
                module = "benchmarks._common"
            if module.split(".")[0] in ("meanshift", "benchmarks"):
                yield node.lineno, module, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "meanshift":
                    yield node.lineno, alias.name, []


@pytest.mark.parametrize("path", SCRIPTS, ids=_id)
def test_script_imports_inside_functions_resolve(path, isolated):
    """Every meanshift module and name a script imports, also inside its functions,
    exists (imports the modules only; runs nothing of the script)."""
    missing = []
    for line, module, names in _own_imports(ast.parse(path.read_text(), filename=str(path))):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.split(".")[0] not in ("meanshift", "benchmarks"):
                continue  # an optional third-party package that is not installed
            missing.append(f"line {line}: no module {module!r}")
            continue
        for name in names:
            if name == "*" or hasattr(mod, name):
                continue
            try:
                importlib.import_module(f"{module}.{name}")
            except ModuleNotFoundError:
                missing.append(f"line {line}: {module!r} has no {name!r}")
    assert not missing, f"{_id(path)}: " + "; ".join(missing)


@pytest.mark.parametrize("name", SUITES)
def test_suites_import_as_bench_py_does(name, isolated):
    module = importlib.import_module(f"benchmarks.{name}")
    assert callable(module.suite)


def test_measure_times_short_calls_without_the_memory_sampler(monkeypatch):
    # A short call: one sampled run (its peak memory), then QUICK_REPEAT runs timed
    # without the sampler thread; the best time of all.  A long call: one sampled run.
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks import _common
    finally:
        sys.path.remove(str(ROOT))
    import threading

    calls = []

    def short():
        calls.append(threading.active_count())
        return len(calls)

    m = _common.measure("short", short)
    assert len(calls) == 1 + _common.QUICK_REPEAT and m.result == 1  # the sampled call's
    assert calls[0] == calls[1] + 1  # the sampler ran beside the first call only
    assert len(set(calls[1:])) == 1 and m.seconds >= 0
    calls.clear()
    monkeypatch.setattr(_common, "QUICK_S", 0.0)
    _common.measure("long", short)
    assert len(calls) == 1
