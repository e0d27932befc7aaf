"""The README's main-job command (`meanshift demo`) runs and reports the six clusters."""

import subprocess
import sys

from meanshift.cli import main


def test_demo_prints_clusters(capsys):
    assert main(["demo", "--kernel", "gaussian", "--bandwidth", "2.5"]) == 0
    out = capsys.readouterr().out
    assert "found 6 clusters" in out
    assert "adjusted Rand index vs truth: 1.0000" in out


def test_demo_as_a_program():
    proc = subprocess.run(
        [sys.executable, "-m", "meanshift.cli", "demo", "--kernel", "flat"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "found 6 clusters" in proc.stdout


def test_demo_bad_option():
    proc = subprocess.run(
        [sys.executable, "-m", "meanshift.cli", "demo", "--kernel", "box"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 2
    assert "invalid choice: 'box'" in proc.stderr
