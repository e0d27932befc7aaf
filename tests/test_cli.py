"""The command line, driven as a user would: main(argv) with capsys, and subprocesses."""

import json
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from meanshift import MeanShift, cli
from meanshift.datasets import six_blobs

pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def data():
    X, y, centers = six_blobs()
    return X[::3], y[::3]


@pytest.fixture
def files(tmp_path, data):
    X, _ = data
    frame = pd.DataFrame(X, columns=["x", "y"])
    frame["name"] = "p"
    frame["w"] = np.where(np.arange(len(X)) % 2, 1.0, 2.0)
    paths = {
        "csv": tmp_path / "points.csv",
        "tsv": tmp_path / "points.tsv",
        "raw": tmp_path / "raw.csv",
        "npy": tmp_path / "X.npy",
        "parquet": tmp_path / "points.parquet",
    }
    frame.to_csv(paths["csv"], index=False)
    frame[["x", "y"]].to_csv(paths["tsv"], index=False, sep="\t")
    np.savetxt(paths["raw"], X, delimiter=",")
    np.save(paths["npy"], X)
    pytest.importorskip("pyarrow")
    frame.to_parquet(paths["parquet"])
    return paths


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


GAUSS = ("--kernel", "gaussian", "--bandwidth", "2.5", "--quiet")


def test_demo_prints_and_draws(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from PIL import Image

    out = tmp_path / "demo.png"
    code, text, _ = run(capsys, "demo", "--bandwidth", "2.5", "--out", out, "--quiet")
    assert code == 0
    assert "found 6 clusters in" in text and "iterations" in text
    assert "adjusted Rand index vs truth: 1.0000" in text
    assert f"wrote {out}" in text
    img = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert img.shape == (550, 1200, 3)  # 12 x 5.5 inches at 100 dpi
    assert (np.abs(img - [255, 0, 255]).max(-1) < 40).sum() > 20  # the centre crosses


def test_demo_blurring_animation(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from PIL import Image

    gif = tmp_path / "climb.gif"
    code, text, _ = run(capsys, "demo", "--algorithm", "blurring", "--bandwidth", "2.5",
                        "--out", tmp_path / "d.png", "--animate", gif, "--dpi", "40", "-q")
    assert code == 0
    assert "algorithm=blurring" in text and "found 6 clusters" in text
    assert Image.open(gif).n_frames >= 3


def test_demo_without_matplotlib_still_prints(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.chdir(tmp_path)
    code, text, _ = run(capsys, "demo", "--bandwidth", "2.5", "-q")
    assert code == 0
    assert "found 6 clusters" in text
    assert 'pip install "meanshift[plot]"' in text
    assert not (tmp_path / "meanshift_demo.png").exists()


def test_cluster_csv_all_outputs(tmp_path, capsys, files, data):
    X, _ = data
    out = {k: tmp_path / f"{k}.{e}" for k, e in
           [("labels", "csv"), ("append", "parquet"), ("centers", "csv"), ("summary", "json")]}
    code, text, err = run(capsys, "cluster", files["csv"], "--columns", "x,y", *GAUSS,
                          "--labels", out["labels"], "--append", out["append"],
                          "--centers", out["centers"], "--summary", out["summary"])
    assert code == 0, err
    ref = MeanShift(kernel="gaussian", bandwidth=2.5).fit(X)
    labels = pd.read_csv(out["labels"])["label"].to_numpy()
    np.testing.assert_array_equal(labels, ref.labels_)
    appended = pd.read_parquet(out["append"])
    assert list(appended.columns) == ["x", "y", "name", "w", "label"]
    np.testing.assert_array_equal(appended["label"], ref.labels_)
    centres = pd.read_csv(out["centers"])
    assert list(centres.columns) == ["cluster", "x", "y", "size", "density"]
    np.testing.assert_allclose(centres[["x", "y"]], ref.cluster_centers_)
    summary = json.loads(out["summary"].read_text())
    assert summary["n_clusters"] == 6 == len(ref.cluster_centers_)
    assert summary["n_iter"] == ref.n_iter_
    assert summary["cluster_sizes"] == ref.cluster_sizes_.tolist()
    assert summary["columns"] == ["x", "y"] and summary["n_samples"] == len(X)
    assert "found 6 clusters in" in text and f"wrote {out['summary']}" in text


@pytest.mark.parametrize("kind,extra", [
    ("npy", ()),
    ("tsv", ()),
    ("raw", ("--no-header",)),
    ("parquet", ("--columns", "0,1")),
    ("csv", ("--columns", "x,y", "--format", "csv")),
])
def test_cluster_input_formats(capsys, files, data, kind, extra):
    code, text, err = run(capsys, "cluster", files[kind], *extra, *GAUSS, "--json")
    assert code == 0, err
    summary = json.loads(text)
    assert summary["n_clusters"] == 6
    assert summary["n_samples"] == len(data[0]) and summary["n_features"] == 2


def test_cluster_weights_and_every_parameter(tmp_path, capsys, files, data):
    X, _ = data
    w = pd.read_csv(files["csv"])["w"].to_numpy()
    labels = tmp_path / "l.npy"
    code, _, err = run(
        capsys, "cluster", files["csv"], "--columns", "x,y", "--weights", "w",
        "--kernel", "epanechnikov", "--bandwidth", "6", "--algorithm", "standard",
        "--engine", "numpy", "--seeds", "40", "--min-bin-freq", "1", "--no-cluster-all",
        "--max-iter", "200", "--tol", "1e-4", "--label-by", "mode", "--merge-radius", "5",
        "--random-state", "3", "--max-samples", "0.8", "--labels", labels, "-q",
    )
    assert code == 0, err
    ref = MeanShift(kernel="epanechnikov", bandwidth=6.0, engine="numpy", seeds=40,
                    cluster_all=False, max_iter=200, tol=1e-4, label_by="mode",
                    merge_radius=5.0, random_state=3, max_samples=0.8).fit(X, sample_weight=w)
    np.testing.assert_array_equal(np.load(labels).ravel(), ref.labels_)


def test_cluster_plot_projection(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(c, 0.5, (60, 4)) for c in (0, 5)])
    np.save(tmp_path / "X4.npy", X)
    png = tmp_path / "plot.png"
    code, text, err = run(capsys, "cluster", tmp_path / "X4.npy", "--bandwidth", "2",
                          "--plot", png, "-q")
    assert code == 0, err
    assert png.stat().st_size > 5000 and "found 2 clusters" in text


@pytest.mark.parametrize("argv,message", [
    (["cluster", "{d}/missing.csv"], "input file not found"),
    (["cluster", "{d}/points.xyz"], "cannot tell the format"),
    (["cluster", "{d}/garbage.npy"], "could not read .*garbage.npy.* as npy"),
    (["cluster", "{d}/points.csv"], "non-numeric column.*name.*--columns"),
    (["cluster", "{d}/points.csv", "--columns", "x,zz"], "no column 'zz'.*x, y, name, w"),
    (["cluster", "{d}/nan.csv"], "missing or infinite values in 1 row"),
    (["demo", "--bandwidth", "2.5", "--no-plot", "-q"], None),
    (["cluster", "{d}/points.csv", "--columns", "x,y", "--append", "{d}/o.csv",
      "--label-column", "name", "--bandwidth", "3", "-q"], "already has a column 'name'"),
])
def test_cluster_errors(tmp_path, capsys, files, argv, message):
    d = files["csv"].parent
    (d / "points.xyz").write_text("1,2\n")
    (d / "garbage.npy").write_bytes(b"this is not an npy file")
    (d / "nan.csv").write_text("a,b\n1,2\n,3\n4,5\n")
    code, out, err = run(capsys, *[a.format(d=d) for a in argv])
    if message is None:  # the control case: same set-up, no error
        assert code == 0 and err == ""
        return
    assert code == 1
    assert err.startswith("meanshift: error: ")
    assert re.search(message, err), err


@pytest.mark.parametrize("argv,message", [
    (["cluster"], "the following arguments are required: file"),
    (["cluster", "x.csv", "--bandwidth", "-1"], "--bandwidth: must be positive"),
    (["cluster", "x.csv", "--kernel", "box"], "invalid choice: 'box'"),
    (["cluster", "x.csv", "--engine", "gpu9"], "--engine: invalid choice: 'gpu9' (choose from 'auto', 'numpy'"),
    (["cluster", "x.csv", "--algorithm", "fast"], "--algorithm: invalid choice: 'fast' (choose from 'auto', 'standard', 'compressed', 'basin'"),
    (["demo", "--bandwidth", "2.5", "--out", "/no/such/dir/d.png", "-q"],
     "-o/--output '/no/such/dir/d.png': the folder '/no/such/dir' does not exist"),
    (["cluster", "x.csv", "--max-samples", "1.5"], "row count (integer >= 1) or a fraction in (0, 1]"),
    (["cluster", "x.csv", "--seeds", "some"], '"all", "bins" or a positive integer'),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "required: COMMAND"),
])
def test_bad_options_exit_2(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err


def test_help_of_every_command_shows_examples(capsys):
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert {"demo", "cluster"} <= set(sub.choices)
    for name in [None, *sub.choices]:
        code, out, _ = run(capsys, *([name] if name else []), "--help")
        assert code == 0
        assert "Examples:" in out and "meanshift " in out.split("Examples:")[1]


def test_a_subcommand_is_one_registry_line(tmp_path, capsys, monkeypatch):
    (tmp_path / "my_cmd.py").write_text(textwrap.dedent("""
        def add(sub):
            p = sub.add_parser("hello", help="say hello")
            p.set_defaults(func=lambda args: print("hello from a plug-in") or 0)
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(cli, "SUBCOMMANDS", cli.SUBCOMMANDS + ["my_cmd:add"])
    code, out, _ = run(capsys, "hello")
    assert (code, out) == (0, "hello from a plug-in\n")


def test_progress_wrapper_changes_nothing(data):
    X, _ = data
    for algorithm in ("standard", "blurring"):
        a = MeanShift(kernel="gaussian", bandwidth=2.5, algorithm=algorithm)
        cli.fit_with_progress(a, X, quiet=False)
        b = MeanShift(kernel="gaussian", bandwidth=2.5, algorithm=algorithm).fit(X)
        np.testing.assert_array_equal(a.labels_, b.labels_)
        assert a.callback is None  # the bar's callback is removed after the fit


def test_progress_display_counts_per_stage_and_never_backwards(data):
    import io

    from meanshift._progress import ProgressDisplay

    X, _ = data
    for kw, stages in ((dict(algorithm="blurring"), {"blur"}),
                       (dict(algorithm="standard", engine="numpy"), {"climb", "merge"}),
                       (dict(algorithm="standard", bandwidth="auto"),
                        {"bandwidth", "climb", "merge"})):
        kw.setdefault("bandwidth", 2.5)
        seen = []
        out = io.StringIO()
        display = ProgressDisplay(out, delay=0.0, use_tqdm=False)
        def both(p, display=display, seen=seen):
            display(p)
            seen.append(p)

        MeanShift(kernel="gaussian", callback=both, **kw).fit(X)
        display.close()
        assert {p.stage for p in seen} == stages
        for stage in stages:
            counts = [p.done for p in seen if p.stage == stage]
            totals = {p.total for p in seen if p.stage == stage}
            assert len(totals) == 1  # a total that means something, fixed per stage
            assert counts[-1] == totals.pop()  # finished: the bar is full
        text = out.getvalue()
        assert "mean shift: " in text and text.endswith("\r")  # erased at the end


def test_subprocess_quiet_when_not_a_terminal(files):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    ok = subprocess.run([sys.executable, "-m", "meanshift", "cluster", str(files["npy"]),
                         "--bandwidth", "2.5", "--kernel", "gaussian"],
                        capture_output=True, text=True, env=env, timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert ok.stderr == ""  # no progress bar, no log noise when piped
    assert "found 6 clusters" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "meanshift", "cluster", "missing.npy"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert bad.returncode == 1 and "input file not found" in bad.stderr


def test_segment_is_wired_into_the_main_command(tmp_path):
    """`meanshift segment` reaches the image module through the subcommand registry."""
    import subprocess
    import sys

    import numpy as np
    from PIL import Image

    img = np.zeros((24, 24, 3), dtype=np.uint8)
    img[:, 12:] = (200, 30, 30)
    src, out = tmp_path / "in.png", tmp_path / "labels.png"
    Image.fromarray(img).save(src)
    proc = subprocess.run([sys.executable, "-m", "meanshift", "segment", str(src), "-o", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    labels = np.asarray(Image.open(out))
    assert labels.shape[:2] == (24, 24)
    assert len(np.unique(labels)) == 2


# -- nothing the command reads is overwritten by what it writes (issue 13, data loss) ---------
@pytest.mark.parametrize("option", ["--labels", "--append", "--centers", "--summary"])
@pytest.mark.parametrize("kind", ["csv", "npy"])
def test_cluster_never_overwrites_its_input(files, capsys, option, kind):
    path = files[kind]
    before = path.read_bytes()
    code, _, err = run(capsys, "cluster", path, option, path, *GAUSS)
    assert code == 2
    assert f"{option} '{path}' is the input file" in err and "never overwrites" in err
    assert path.read_bytes() == before


def test_cluster_sees_the_input_through_a_link_or_another_name(files, capsys, tmp_path):
    path = files["csv"]
    before = path.read_bytes()
    link = tmp_path / "link.csv"
    link.symlink_to(path)
    other = tmp_path / "sub" / ".." / path.name  # the same file by another path
    (tmp_path / "sub").mkdir()
    for out in (link, other):
        code, _, err = run(capsys, "cluster", path, "--labels", out, *GAUSS)
        assert code == 2 and "is the input file" in err
    code, _, err = run(capsys, "cluster", link, "--append", path, *GAUSS)
    assert code == 2 and "is the input file" in err
    assert path.read_bytes() == before


def test_cluster_refuses_two_outputs_on_one_file(files, capsys, tmp_path):
    out = tmp_path / "out.csv"
    code, _, err = run(capsys, "cluster", files["csv"], "--labels", out, "--centers", out,
                       *GAUSS)
    assert code == 2 and "--labels and --centers both name" in err
    assert not out.exists()


@pytest.mark.parametrize("option", ["-o", "--overlay", "--segmented"])
def test_segment_never_overwrites_the_photo(tmp_path, capsys, option):
    pytest.importorskip("skimage")
    from PIL import Image

    photo = tmp_path / "photo.png"
    Image.fromarray(np.full((12, 12, 3), 100, np.uint8)).save(photo)
    before = photo.read_bytes()
    argv = ["segment", photo, "-o", tmp_path / "labels.png"]
    if option == "-o":
        argv = ["segment", photo, "-o", photo]
    else:
        argv += [option, photo]
    code, _, err = run(capsys, *argv)
    assert code == 2 and "is the input file" in err
    assert photo.read_bytes() == before


def test_an_interrupted_write_leaves_no_half_file(files, capsys, tmp_path, monkeypatch):
    out = tmp_path / "labels.csv"
    out.write_text("an earlier result\n")
    original = pd.DataFrame.to_csv

    def half_then_fail(self, path, *args, **kwargs):
        with open(path, "w") as fh:
            fh.write("label\n0\n")  # part of the table, then the disk fills up
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_fail)
    code, _, err = run(capsys, "cluster", files["npy"], "--labels", out, *GAUSS)
    assert code == 1 and "could not write the labels" in err and "No space left" in err
    assert out.read_text() == "an earlier result\n"  # untouched: the write went elsewhere
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    monkeypatch.setattr(pd.DataFrame, "to_csv", original)
    code, _, _ = run(capsys, "cluster", files["npy"], "--labels", out, *GAUSS)
    assert code == 0 and out.read_text().startswith("label\n")
    assert oct(out.stat().st_mode & 0o777) != oct(0o600)  # a plain file's permissions


def test_header_only_and_other_delimiters_are_named(tmp_path, capsys):
    header = tmp_path / "header.csv"
    header.write_text("x,y\n")
    code, _, err = run(capsys, "cluster", header, "--quiet")
    assert code == 1 and "has no data rows (only a header: x, y)" in err
    semi = tmp_path / "semi.csv"
    semi.write_text("x;y\n1;2\n3;4\n5;6\n")
    code, _, err = run(capsys, "cluster", semi, "--quiet")
    assert code == 1 and "separated by ';': try --delimiter ';'" in err
    code, out, _ = run(capsys, "cluster", semi, "--delimiter", ";", "--quiet")
    assert code == 0 and "3 points x 2 features" in out


def test_cluster_gps_points_with_haversine(tmp_path, capsys):
    """The issue's command: latitude and longitude columns, a bandwidth in km, a map."""
    from meanshift.datasets import make_cities

    X, y, _ = make_cities(3000, noise=0.0, random_state=0)
    frame = pd.DataFrame({"id": np.arange(len(X)), "lat": X[:, 0], "lon": X[:, 1]})
    frame.to_csv(tmp_path / "pickups.csv", index=False)
    argv = ["cluster", tmp_path / "pickups.csv", "--metric", "haversine", "--columns",
            "lat,lon", "--bandwidth", "50", "--centers", tmp_path / "c.csv", "--json"]
    if pytest.importorskip("matplotlib"):
        argv += ["--plot", tmp_path / "map.png"]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["n_clusters"] == 16 and summary["metric"] == "haversine"
    centres = pd.read_csv(tmp_path / "c.csv")
    assert list(centres.columns[:3]) == ["cluster", "lat", "lon"]
    assert centres["lon"].between(-180, 180, inclusive="left").all()
    # Suva sits next to the 180th meridian: one cluster, its centre where it belongs.
    suva = centres.loc[(centres["lat"] + 18.142).abs() < 0.5]
    assert len(suva) == 1 and abs(abs(float(suva["lon"].iloc[0])) - 178.442) < 0.5
    assert (tmp_path / "map.png").stat().st_size > 5000


def test_cluster_metric_options_are_checked(tmp_path, capsys):
    np.savetxt(tmp_path / "p.csv", np.array([[95.0, 0.0], [10.0, 10.0]]), delimiter=",")
    code, _, err = run(capsys, "cluster", tmp_path / "p.csv", "--metric", "haversine",
                       "--bandwidth", "10", "-q")
    assert code == 1 and "latitudes in degrees, which must be in [-90, 90]" in err
    code, _, err = run(capsys, "cluster", tmp_path / "p.csv", "--radius", "10", "-q")
    assert code == 2 and "--radius applies to --metric haversine only" in err
    code, _, err = run(capsys, "cluster", tmp_path / "p.csv", "--metric", "geo", "-q")
    assert code == 2 and "--metric: invalid choice: 'geo'" in err


def test_help_and_import_load_no_heavy_library():
    # `import meanshift` imports no scikit-learn, SciPy or Numba, and building the command
    # line's parser (what `meanshift --help` does) no scikit-learn, SciPy's heavy parts
    # or fit pipeline (Numba's import brings SciPy's top package): the names are
    # imported on first use (3 s -> 0.05 s and 0.7 s on a 2 GHz core).
    code = textwrap.dedent("""
        import sys
        import meanshift
        light = not any(m.split('.')[0] in ('sklearn', 'scipy', 'numba') for m in sys.modules)
        from meanshift.cli import build_parser
        text = build_parser().format_help()
        heavy = sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'
                       or m.startswith(('scipy.spatial', 'scipy.stats', 'scipy.sparse'))
                       or m.startswith('meanshift._pipeline.') and m != 'meanshift._pipeline._plan')
        print(light, 'demo' in text, heavy)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split(None, 2)
    assert [part.strip() for part in out] == ["True", "True", "[]"]


def test_lazy_package_names():
    import meanshift
    from meanshift._pipeline import ALGORITHMS, pipeline

    for name in meanshift.__all__:
        assert getattr(meanshift, name) is not None
        assert name in dir(meanshift)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        meanshift.nope  # noqa: B018
    for name in ALGORITHMS:
        assert callable(pipeline(name)) and pipeline(name).__name__ == f"run_{name}"
    # the command line's choices are the registries' names
    from meanshift.cli._common import ALGORITHM_NAMES, ENGINE_NAMES, KERNEL_NAMES

    assert list(ALGORITHM_NAMES) == ["auto", *ALGORITHMS] and "gaussian" in KERNEL_NAMES
    assert "numba" in ENGINE_NAMES and len(KERNEL_NAMES) == len(meanshift.KERNELS)
