"""The README's main-job command (`meanshift demo`) runs and reports the six clusters.

Every run writes its picture under pytest's ``tmp_path`` (``--out``), never into the
working directory (the demo's default ``meanshift_demo.png`` is relative to it)."""

import subprocess
import sys

from meanshift.cli import main


def test_demo_prints_clusters(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a stray default output would land here, not in the repo
    out = tmp_path / "demo.png"
    assert main(["demo", "--kernel", "gaussian", "--bandwidth", "2.5", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "found 6 clusters" in text
    assert "adjusted Rand index vs truth: 1.0000" in text
    assert out.stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.png"]


def test_demo_as_a_program(tmp_path):
    out = tmp_path / "demo.png"
    proc = subprocess.run(
        [sys.executable, "-m", "meanshift.cli", "demo", "--kernel", "flat", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "found 6 clusters" in proc.stdout
    assert out.stat().st_size > 0


def test_demo_bad_option(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "meanshift.cli", "demo", "--kernel", "box",
         "--out", str(tmp_path / "demo.png")],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 2
    assert "invalid choice: 'box'" in proc.stderr
    assert not (tmp_path / "demo.png").exists()
