"""The README cannot go stale: its console transcripts are run and compared with what the
code prints now (times masked), and its Python blocks are run.

* A ``console`` block is a session: every ``$ command`` (``\\`` continues a line) runs in
  one fresh folder, in order; the lines after a command are its expected output, where
  ``  ...`` stands for any lines and a number followed by `` s`` (a time) for any number.
* A ``python`` block runs as a script in a fresh folder and must exit cleanly.
* ``bash`` blocks (installs, benchmarks) are not run here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(kind):
    text = README.read_text()
    out = []
    for m in re.finditer(r"^```" + kind + r"\n(.*?)^```", text, flags=re.S | re.M):
        line = text.count("\n", 0, m.start()) + 1
        out.append(pytest.param(m.group(1), id=f"line{line}"))
    return out


def _session(block):
    """[(command, [expected lines])] of a console block."""
    steps: list[tuple[str, list[str]]] = []
    lines = block.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("$ "):
            cmd = line[2:]
            while cmd.rstrip().endswith("\\") and i + 1 < len(lines):
                i += 1
                cmd = cmd.rstrip()[:-1] + " " + lines[i].strip()
            steps.append((cmd, []))
        elif steps:
            steps[-1][1].append(line)
        i += 1
    return steps


def _pattern(expected):
    """A regex for the expected lines: times masked, ``...`` for any lines."""
    parts = []
    for line in expected:
        if line.strip() == "...":
            parts.append(r"(?:.*\n)*?")
            continue
        p = re.escape(line)
        p = re.sub(r"\d+\\\.\d+\\ s\b", r"\\d+\\.\\d+\\ s", p)  # a time in seconds
        parts.append(p + r"\n")
    return "^" + "".join(parts) + "$"


def _env():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), COLUMNS="200")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


@pytest.mark.parametrize("block", _blocks("console"))
def test_console_transcripts_match_what_the_code_prints(block, tmp_path):
    (tmp_path / "docs").mkdir()
    for cmd, expected in _session(block):
        out = subprocess.run(["bash", "-c", cmd], cwd=tmp_path, env=_env(),
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, f"$ {cmd}\n{out.stdout}\n{out.stderr}"
        if expected:
            assert re.match(_pattern(expected), out.stdout), (
                f"$ {cmd}\n--- README says:\n" + "\n".join(expected)
                + f"\n--- the code prints:\n{out.stdout}")


@pytest.mark.parametrize("block", _blocks("python"))
def test_python_blocks_run(block, tmp_path):
    script = tmp_path / "block.py"
    script.write_text(block)
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=_env(),
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]


def test_the_blocks_are_found():
    assert len(_blocks("console")) >= 3 and len(_blocks("python")) >= 5
    steps = _session("$ a \\\n    b\nout\n  ...\n$ c\n")
    assert steps == [("a  b", ["out", "  ..."]), ("c", [])]
    assert re.match(_pattern(["took 1.234 s", "  ...", "end"]), "took 9.9 s\nx\ny\nend\n")
    assert not re.match(_pattern(["found 6 clusters"]), "found 5 clusters\n")
