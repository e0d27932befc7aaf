"""Pictures, drawn headless (Agg) and checked pixel by pixel."""

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")

from meanshift import (
    MeanShift,  # noqa: E402
    plotting,  # noqa: E402
)
from meanshift._kernels import KERNELS  # noqa: E402
from meanshift.datasets import make_blobs  # noqa: E402


def rgb(path):
    return np.asarray(Image.open(path).convert("RGB")).astype(int)


def count_color(img, color, tol=30):
    color = np.asarray(color[:3]) * (255 if max(color[:3]) <= 1 else 1)
    return int((np.abs(img - color).max(axis=-1) <= tol).sum())


@pytest.fixture(scope="module")
def fitted():
    X, y, centers = make_blobs(300, 2, centers=3, random_state=2)
    model = MeanShift(bandwidth=2.0, kernel="gaussian", engine="numpy",
                      record_history=True).fit(X)
    return X, y, centers, model


def test_plot_clusters_png(tmp_path, fitted):
    import matplotlib

    X, _, centers, model = fitted
    ax = plotting.plot_clusters(X, model.labels_, model.cluster_centers_,
                                true_centers=centers, title="three blobs")
    out = tmp_path / "clusters.png"
    ax.figure.savefig(out)
    img = rgb(out)
    assert img.shape == (500, 600, 3)  # 6 x 5 inches at 100 dpi
    # Every cluster's colour was drawn, and the magenta centre crosses.
    for k in range(3):
        assert count_color(img, matplotlib.colormaps["tab10"](k)) > 30, k
    assert count_color(img, (255, 0, 255)) > 10
    # The points sit where the data are: the drawn area is not blank.
    assert (img.min(axis=-1) < 200).mean() > 0.01


def test_orphans_are_grey_and_labels_checked(tmp_path):
    X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0]])
    ax = plotting.plot_clusters(X, np.array([0, 0, -1]), point_size=200)
    out = tmp_path / "o.png"
    ax.figure.savefig(out)
    assert count_color(rgb(out), (0xB0, 0xB0, 0xB0), tol=8) > 50
    with pytest.raises(ValueError, match=r"labels must have shape \(3,\)"):
        plotting.plot_clusters(X, np.array([0, 1]))


def test_plot_kernels_draws_every_profile(tmp_path):
    axes = plotting.plot_kernels([0.5, 1.0, 2.5])
    assert len(axes) == 3
    for ax, h in zip(axes, [0.5, 1.0, 2.5], strict=False):
        assert len(ax.lines) == len(KERNELS)
        for line, k in zip(ax.lines, KERNELS.values(), strict=False):
            x, y = line.get_data()
            np.testing.assert_allclose(y, k.profile((x / h) ** 2))
    out = tmp_path / "kernels.png"
    axes[0].figure.savefig(out)
    img = rgb(out)
    assert img.shape == (320, 1200, 3)
    assert count_color(img, (31, 119, 180)) > 200  # the first kernel's blue line
    with pytest.raises(ValueError, match="bandwidths must be positive"):
        plotting.plot_kernels([0.0])


def test_trajectories(tmp_path, fitted):
    X, _, _, model = fitted
    ax = plotting.plot_trajectories(model, X, max_seeds=50)
    paths = ax.collections[1].get_segments()
    assert len(paths) == 50
    assert all(len(p) == len(model.history_) for p in paths)
    out = tmp_path / "paths.png"
    ax.figure.savefig(out)
    assert count_color(rgb(out), (255, 0, 255)) > 20  # magenta centres, on top
    with pytest.raises(ValueError, match="record_history=True"):
        plotting.plot_trajectories(MeanShift(bandwidth=2.0).fit(X), X)


def test_animation_gif(tmp_path, fitted):
    X, _, _, model = fitted
    out = tmp_path / "climb.gif"
    plotting.animate_climb(model, X, out, max_seeds=100, dpi=50, figsize=(4, 3))
    gif = Image.open(out)
    assert gif.size == (200, 150)
    assert gif.n_frames == len(model.history_)
    gif.seek(gif.n_frames - 1)
    last = np.asarray(gif.convert("RGB")).astype(int)
    assert (last.min(axis=-1) < 200).mean() > 0.01
    with pytest.raises(ValueError, match=r"\.gif or \.mp4"):
        plotting.animate_climb(model, X, tmp_path / "climb.avi")


def test_mp4_needs_ffmpeg(tmp_path, fitted):
    from matplotlib import animation

    X, _, _, model = fitted
    out = tmp_path / "climb.mp4"
    if animation.FFMpegWriter.isAvailable():
        plotting.animate_climb(model, X, out, dpi=40, figsize=(3, 3))
        assert out.stat().st_size > 1000
    else:
        with pytest.raises(RuntimeError, match="needs ffmpeg on the PATH"):
            plotting.animate_climb(model, X, out)


def test_blurring_animation(tmp_path, fitted):
    X, _, _, _ = fitted
    model = MeanShift(bandwidth=2.0, kernel="gaussian", engine="numpy",
                      algorithm="blurring", record_history=True).fit(X)
    out = tmp_path / "blur.gif"
    plotting.animate_climb(model, X, out, dpi=40, figsize=(3, 3))
    assert Image.open(out).n_frames == model.n_iter_ + 1


def test_projection_of_high_dimensional_data(tmp_path):
    X, y, centers = make_blobs(200, 5, centers=3, random_state=0)
    (P, C), names = plotting.project_2d(X, centers)
    assert P.shape == (200, 2) and C.shape == (3, 2)
    assert names[0] == "principal component 1"
    # PCA keeps the blobs apart in the plane: projected distances never grow.
    assert np.linalg.norm(C[0] - C[1]) <= np.linalg.norm(centers[0] - centers[1]) + 1e-9
    (P2,), _ = plotting.project_2d(X, dims=(3, 1))
    np.testing.assert_array_equal(P2, X[:, [3, 1]])
    with pytest.raises(ValueError, match="dims must be two feature indices"):
        plotting.project_2d(X, dims=(0, 7))
    ax = plotting.plot_clusters(X, y, centers)
    ax.figure.savefig(tmp_path / "p.png")


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r'pip install "meanshift\[plot\]"'):
        plotting.plot_kernels()


def test_import_meanshift_does_not_import_matplotlib():
    code = "import sys, meanshift, meanshift.cli; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_geo_map_across_the_180th_meridian(tmp_path):
    pytest.importorskip("matplotlib")
    from meanshift.datasets import make_cities

    X, y, centers = make_cities(800, cities=[("Suva", -18.142, 178.442),
                                             ("Apia", -13.833, -171.767)],
                                spread_km=30.0, noise=0.0, random_state=0)
    m = MeanShift(bandwidth=100.0, metric="haversine").fit(X)
    ax = plotting.plot_clusters(X, m.labels_, m.cluster_centers_, geo=True, title="islands")
    xs = np.concatenate([c.get_offsets()[:, 0] for c in ax.collections])
    # Drawn with longitudes in [0, 360): the two islands sit side by side, not at the
    # two ends of the map.
    assert xs.min() > 170 and xs.max() < 200
    assert "longitude" in ax.get_xlabel() and "latitude" in ax.get_ylabel()
    assert ax.get_aspect() == pytest.approx(1 / np.cos(np.radians(np.median(X[:, 0]))))
    ax.figure.savefig(tmp_path / "map.png")
    with pytest.raises(ValueError, match="geo=True draws"):
        plotting.plot_clusters(np.zeros((3, 3)), np.zeros(3, int), geo=True)


def test_many_centres_do_not_hide_the_points():
    X = np.random.default_rng(0).uniform(size=(2000, 2))
    centres = X[:1000]
    ax = plotting.plot_clusters(X, np.arange(2000) % 1000, centres)
    sizes = [c.get_sizes().max() for c in ax.collections if len(c.get_offsets()) == 1000]
    assert sizes and max(sizes) <= 20  # was 120 for any number of centres
    few = plotting.plot_clusters(X[:50], np.zeros(50, int), X[:3])
    assert max(c.get_sizes().max() for c in few.collections) == 120
