"""Tests of meanshift.image (segmentation on the pixel grid) and `meanshift segment`."""

import argparse

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from meanshift._engines import get_engine
from meanshift._kernels import Kernel, get_kernel
from meanshift.image import find_boundaries, mark_boundaries, segment
from meanshift.image._color import rgb_to, to_rgb


def _joint_features(image, hs, hr):
    """(y / hs, x / hs, values / hr) of every pixel, rows in raster order."""
    H, W = image.shape[:2]
    yy, xx = np.mgrid[0:H, 0:W]
    vals = image.reshape(H * W, -1).astype(np.float64)
    return np.column_stack([yy.ravel() / hs, xx.ravel() / hs, vals / hr])


def _oracle_filtered(image, hs, hr, kernel, tol, max_iter=300):
    X = _joint_features(image, hs, hr)
    res = get_engine("numpy").climb(
        X, X, None, bandwidth=1.0, kernel=get_kernel(kernel), tol=tol, max_iter=max_iter
    )
    return res.modes, res.n_iter


def _blocks(shape=(48, 48), noise=12.0, seed=0):
    """A grayscale image of 4 flat quadrant-like regions plus gaussian noise, and truth."""
    rng = np.random.default_rng(seed)
    H, W = shape
    truth = np.zeros(shape, dtype=int)
    truth[: H // 2, W // 2:] = 1
    truth[H // 2:, : W // 3] = 2
    truth[H // 2:, W // 3:] = 3
    truth[H // 4: H // 4 + 10, W // 8: W // 8 + 10] = 4  # a small square inside region 0
    levels = np.array([40.0, 110.0, 180.0, 250.0, 140.0])
    img = levels[truth] + rng.normal(0, noise, shape)
    return img, truth


# -- the fast grid climb equals the reference engine on the joint features -----------------
@pytest.mark.parametrize("kernel", ["flat", "epanechnikov", "triangular"])
@pytest.mark.parametrize("channels", [1, 3, 5])
def test_grid_climb_matches_numpy_engine(kernel, channels):
    rng = np.random.default_rng(channels)
    img = rng.uniform(0, 60, size=(9, 11, channels))
    img[:, 6:] += 100  # two regions, so climbs go somewhere
    hs, hr, tol = 3.0, 30.0, 1e-4
    modes, _ = _oracle_filtered(img, hs, hr, kernel, tol)
    res = segment(img, spatial_bandwidth=hs, range_bandwidth=hr, kernel=kernel,
                  color_space="none", tol=tol, max_iter=300, min_size=0)
    got = res.filtered.reshape(-1, channels) / hr
    # float32 sums on the grid vs float64 reference: agreement to ~1e-3 bandwidths.
    np.testing.assert_allclose(got, modes[:, 2:], atol=2e-3)


def test_gaussian_grid_climb_matches_truncated_reference():
    # The grid climb truncates the gaussian at 3 bandwidths; the reference engine with the
    # same truncated profile is the oracle.
    truncated = Kernel("gaussian3", 1, 3.0, 3.0, "exp(-u**2/2) if u <= 3",
                       lambda u2: np.where(u2 <= 9.0, np.exp(-0.5 * u2), 0.0))
    rng = np.random.default_rng(3)
    img = rng.uniform(0, 50, size=(10, 10, 3))
    img[5:] += 120
    hs, hr = 1.5, 20.0
    modes, _ = _oracle_filtered(img, hs, hr, truncated, 1e-5)
    res = segment(img, spatial_bandwidth=hs, range_bandwidth=hr, kernel="gaussian",
                  color_space="none", tol=1e-5, max_iter=300, min_size=0)
    np.testing.assert_allclose(res.filtered.reshape(-1, 3) / hr, modes[:, 2:], atol=2e-3)


def test_spatial_modes_match_reference():
    from meanshift.image import _climb as K

    rng = np.random.default_rng(7)
    img = rng.uniform(0, 1, size=(8, 10, 3)).astype(np.float32)
    hs, hr = 2.5, 0.5
    modes, n_iter = _oracle_filtered(img, hs, hr, "epanechnikov", 1e-5)
    planes = np.ascontiguousarray((img.reshape(-1, 3) / hr).T.astype(np.float32))
    got, got_iter = K.climb_pixels3(planes, np.array([1, 8, 10]), np.array([1, 1 / hs, 1 / hs]),
                                    2, 1.0, 1e-5, 300, 1, 0.25)
    np.testing.assert_allclose(got[:, 1:3] / hs, modes[:, :2], atol=2e-3)
    np.testing.assert_array_equal(got[:, 0], 0.0)


# -- quality ---------------------------------------------------------------------------------
def test_recovers_noisy_regions():
    img, truth = _blocks()
    res = segment(img, spatial_bandwidth=5, range_bandwidth=40, min_size=30)
    assert res.labels.shape == truth.shape
    assert adjusted_rand_score(truth.ravel(), res.labels.ravel()) > 0.95
    assert res.n_regions == 5


_COLOURS = np.array([[200, 30, 30], [30, 160, 40], [40, 40, 200]], dtype=float)


def _three_colours(size, noise, seed):
    """uint8 RGB image of 3 regions (right half, bottom band, the rest) plus noise."""
    rng = np.random.default_rng(seed)
    truth = np.zeros((size, size), dtype=int)
    truth[:, size // 2:] = 1
    truth[2 * size // 3:, :] = 2
    img = _COLOURS[truth] + rng.normal(0, noise, (size, size, 3))
    return np.clip(img, 0, 255).astype(np.uint8), truth


def test_rgb_regions_in_lab():
    img, truth = _three_colours(40, 10, seed=1)
    colours = _COLOURS
    res = segment(img, spatial_bandwidth=5, range_bandwidth=12, min_size=30)
    assert adjusted_rand_score(truth.ravel(), res.labels.ravel()) > 0.95
    assert res.filtered.dtype == np.uint8 and res.filtered.shape == img.shape
    # The segmented image paints each region with one colour close to the truth.
    for k in range(3):
        mean = res.segmented[truth == k].reshape(-1, 3).mean(axis=0)
        assert np.abs(mean - colours[k]).max() < 12


def test_min_size_leaves_no_small_region():
    img, _ = _blocks(noise=30.0, seed=2)
    res = segment(img, spatial_bandwidth=3, range_bandwidth=30, min_size=25)
    sizes = np.bincount(res.labels.ravel())
    assert sizes.min() >= 25
    raw = segment(img, spatial_bandwidth=3, range_bandwidth=30, min_size=0)
    assert raw.n_regions > res.n_regions
    # Labels are consecutive, numbered in raster order of first appearance.
    _, first = np.unique(res.labels.ravel(), return_index=True)
    assert np.all(np.diff(first) > 0)


# -- dtypes, layouts, volumes ----------------------------------------------------------------
def test_dtypes_give_the_same_segmentation():
    img, _ = _blocks(noise=8.0)
    u8 = np.clip(img, 0, 255).astype(np.uint8)
    a = segment(u8, spatial_bandwidth=4, range_bandwidth=30)
    b = segment(u8.astype(np.uint16) * 257, spatial_bandwidth=4, range_bandwidth=30 * 257)
    c = segment(u8 / 255.0, spatial_bandwidth=4, range_bandwidth=30 / 255.0)
    assert adjusted_rand_score(a.labels.ravel(), b.labels.ravel()) > 0.99
    assert adjusted_rand_score(a.labels.ravel(), c.labels.ravel()) > 0.99
    assert b.filtered.dtype == np.uint16 and c.filtered.dtype == np.float64
    rgb = np.repeat(u8[..., None], 3, axis=-1)
    d = segment(rgb, spatial_bandwidth=4, range_bandwidth=10)
    e = segment(rgb.astype(np.float32) / 255, spatial_bandwidth=4, range_bandwidth=10)
    f = segment(rgb.astype(np.uint16) * 257, spatial_bandwidth=4, range_bandwidth=10)
    assert adjusted_rand_score(d.labels.ravel(), e.labels.ravel()) > 0.99
    assert adjusted_rand_score(d.labels.ravel(), f.labels.ravel()) > 0.99
    assert e.filtered.dtype == np.float32 and f.filtered.dtype == np.uint16
    g = segment(u8 > 128, spatial_bandwidth=4, range_bandwidth=0.5)  # bool image
    assert g.filtered.dtype == bool and g.n_regions >= 2


def test_channel_axis_first_equals_last():
    rng = np.random.default_rng(5)
    img = rng.integers(0, 255, size=(20, 24, 3), dtype=np.uint8)
    last = segment(img, spatial_bandwidth=3, range_bandwidth=15)
    first = segment(np.moveaxis(img, -1, 0), spatial_bandwidth=3, range_bandwidth=15,
                    channel_axis=0)
    np.testing.assert_array_equal(first.labels, last.labels)
    np.testing.assert_array_equal(np.moveaxis(first.filtered, 0, -1), last.filtered)


def test_luv_and_multichannel():
    rng = np.random.default_rng(6)
    truth = np.zeros((30, 30), dtype=int)
    truth[:, 15:] = 1
    rgb = np.where(truth[..., None] == 1, [0.8, 0.2, 0.2], [0.2, 0.2, 0.8])
    rgb = np.clip(rgb + rng.normal(0, 0.03, rgb.shape), 0, 1)
    luv = segment(rgb, spatial_bandwidth=4, range_bandwidth=10, color_space="luv")
    assert adjusted_rand_score(truth.ravel(), luv.labels.ravel()) > 0.95
    five = np.concatenate([rgb, rgb[..., :2]], axis=-1) * 100  # 5 channels, raw values
    multi = segment(five, spatial_bandwidth=4, range_bandwidth=15)
    assert adjusted_rand_score(truth.ravel(), multi.labels.ravel()) > 0.95
    assert multi.filtered.shape == five.shape


def test_volume_with_spacing():
    rng = np.random.default_rng(8)
    vol = np.zeros((8, 16, 16))
    vol[:, :, 8:] = 100.0
    vol[4:, :8, :] = 200.0
    truth = (vol / 100).astype(int)
    vol += rng.normal(0, 5, vol.shape)
    res = segment(vol, spatial_bandwidth=3, range_bandwidth=30, channel_axis=None,
                  spacing=(2.0, 1.0, 1.0))
    assert res.labels.shape == vol.shape
    assert adjusted_rand_score(truth.ravel(), res.labels.ravel()) > 0.99
    # A 1-D signal works too.
    sig = np.r_[np.zeros(20), np.full(20, 50.0)]
    assert segment(sig, spatial_bandwidth=3, range_bandwidth=10, channel_axis=None).n_regions == 2


@pytest.mark.parametrize("speedup", [2, 3])
def test_speedup_shares_lattice_modes(speedup):
    img, truth = _three_colours(60, 15, seed=4)
    kw = dict(spatial_bandwidth=5, range_bandwidth=40, color_space="none", min_size=30)
    exact = segment(img, **kw)
    fast = segment(img, speedup=speedup, **kw)
    assert adjusted_rand_score(truth.ravel(), fast.labels.ravel()) > 0.98
    assert fast.n_iter.mean() < 0.8 * exact.n_iter.mean()
    # Lattice pixels climb exactly as without the speed-up.
    lattice = (slice(None, None, speedup), slice(None, None, speedup))
    np.testing.assert_array_equal(fast.filtered[lattice], exact.filtered[lattice])
    one = segment(img, speedup=speedup, n_jobs=1, **kw)
    np.testing.assert_array_equal(one.labels, fast.labels)


@pytest.mark.parametrize("speedup", [1, 2])
@pytest.mark.parametrize("kernel", ["flat", "epanechnikov"])
def test_one_channel_loop_equals_the_three_channel_loop(monkeypatch, speedup, kernel):
    # Grayscale images and volumes climb with a loop that drops the two zero channels;
    # forcing the three-channel loop gives the same steps and regions, and modes equal up
    # to the order of float32 sums (bit-identical for integer images, below).
    from meanshift.image import _climb as K

    img, _ = _blocks(shape=(40, 50), noise=20.0)
    vol = np.stack([img, img[::-1], img[:, ::-1]])
    kw = dict(spatial_bandwidth=4, range_bandwidth=30, kernel=kernel, speedup=speedup)
    used = []
    pick = K._image_loops

    def record(code, nc):
        used.append(nc)
        return pick(code, nc)

    monkeypatch.setattr(K, "_image_loops", record)
    fast = [segment(img, **kw), segment(vol, channel_axis=None, **kw)]
    assert used == [1, 1]
    monkeypatch.setattr(K, "_image_loops", lambda code, nc: pick(code, 3))
    full = [segment(img, **kw), segment(vol, channel_axis=None, **kw)]
    for a, b in zip(fast, full, strict=True):
        np.testing.assert_allclose(a.filtered, b.filtered, rtol=1e-6)
        np.testing.assert_array_equal(a.n_iter, b.n_iter)
        np.testing.assert_array_equal(a.labels, b.labels)
    if kernel == "flat":
        # uint8 values over a range bandwidth of 32: every float32 sum is exact, so the
        # modes are bit-identical.
        img8 = np.clip(img, 0, 255).astype(np.uint8)
        kw8 = dict(kw, range_bandwidth=32)
        full8 = segment(img8, **kw8)
        monkeypatch.setattr(K, "_image_loops", pick)
        np.testing.assert_array_equal(segment(img8, **kw8).filtered, full8.filtered)
    # A colour image takes the three-channel loop.
    used.clear()
    monkeypatch.setattr(K, "_image_loops", record)
    segment(np.stack([img, img[::-1], img], axis=-1), color_space="none", **kw)
    assert used == [3]


def test_thread_count_does_not_change_the_result():
    img, _ = _blocks(noise=20.0)
    a = segment(img, spatial_bandwidth=4, range_bandwidth=30, n_jobs=1)
    b = segment(img, spatial_bandwidth=4, range_bandwidth=30, n_jobs=2)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.filtered, b.filtered)


def test_colour_conversion_matches_scikit_image():
    color = pytest.importorskip("skimage.color")
    rgb = np.random.default_rng(0).random((30, 30, 3))
    np.testing.assert_allclose(rgb_to("lab", rgb), color.rgb2lab(rgb), atol=1e-8)
    np.testing.assert_allclose(rgb_to("luv", rgb), color.rgb2luv(rgb), atol=1e-8)
    for space in ("lab", "luv"):
        np.testing.assert_allclose(to_rgb(space, rgb_to(space, rgb)), rgb, atol=1e-10)


def test_colour_conversion_edges_threads_and_errors():
    # Black (L = 0, where L*u*v* divides by L), white, pure primaries and values at the
    # formulas' branch points convert and come back; the result does not depend on the
    # threads; a wrong space or channel count is refused with what was given.
    color = pytest.importorskip("skimage.color")
    edge = np.array([[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1],
                     [0.04045, 0.04045, 0.04045], [0.0031308, 0.5, 0.9]], dtype=float)
    rgb = np.concatenate([edge, np.random.default_rng(1).random((5000, 3))])
    for space, ref in (("lab", color.rgb2lab), ("luv", color.rgb2luv)):
        one = rgb_to(space, rgb, n_jobs=1)
        np.testing.assert_array_equal(one, rgb_to(space, rgb, n_jobs=2))
        np.testing.assert_allclose(one, ref(rgb), atol=1e-8)
        back = to_rgb(space, one, n_jobs=2)
        np.testing.assert_array_equal(back, to_rgb(space, one, n_jobs=1))
        # sRGB's two branches meet only within 3e-8 at 0.04045 (the standard's
        # constants; scikit-image's too): that row comes back within 1e-7.
        np.testing.assert_allclose(np.delete(back, 5, 0), np.delete(rgb, 5, 0), atol=1e-10)
        np.testing.assert_allclose(back[5], rgb[5], atol=1e-7)
        # out of gamut: clipped to [0, 1]
        assert 0.0 <= to_rgb(space, np.array([[100.0, 300.0, -300.0]])).min()
        assert to_rgb(space, np.array([[100.0, 300.0, -300.0]])).max() <= 1.0
    with pytest.raises(ValueError, match=r"one of \['lab', 'luv'\]; got 'hsv'"):
        rgb_to("hsv", rgb)
    with pytest.raises(ValueError, match=r"3 channels on the last axis; got shape \(4, 2\)"):
        to_rgb("lab", np.zeros((4, 2)))


def test_eight_bit_colours_by_table_equal_the_formula():
    # segment() converts uint8 images through a table of the 256 linear values: the same
    # numbers as the formula on value / 255, for every value of each channel.
    from meanshift.image._color import rgb8_to

    grid = np.stack(np.meshgrid(np.arange(256), np.arange(0, 256, 5), np.arange(0, 256, 7),
                                indexing="ij"), axis=-1).reshape(-1, 3).astype(np.uint8)
    for space in ("lab", "luv"):
        np.testing.assert_array_equal(rgb8_to(space, grid),
                                      rgb_to(space, grid.astype(np.float64) / 255.0))
        np.testing.assert_array_equal(rgb8_to(space, grid[:, ::-1]),
                                      rgb_to(space, grid[:, ::-1] / 255.0))


# -- real images shipped inside packages -----------------------------------------------------
@pytest.mark.parametrize("name", ["astronaut", "coffee", "camera"])
def test_bundled_skimage_images(name):
    data = pytest.importorskip("skimage.data")
    img = getattr(data, name)()[::3, ::3]  # bundled in the wheel: no download
    res = segment(img, spatial_bandwidth=5, range_bandwidth=8 if img.ndim == 3 else 12)
    assert res.labels.shape == img.shape[:2]
    assert 2 <= res.n_regions < res.labels.size // 20
    assert np.bincount(res.labels.ravel()).min() >= 20
    assert res.filtered.shape == img.shape and res.filtered.dtype == img.dtype


def test_sklearn_sample_image():
    pytest.importorskip("PIL")  # scikit-learn reads its bundled JPEGs with Pillow
    from sklearn.datasets import load_sample_image

    img = load_sample_image("china.jpg")[::4, ::4]
    res = segment(img, spatial_bandwidth=5, range_bandwidth=8)
    assert 2 <= res.n_regions < res.labels.size // 20


# -- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "image, kwargs, match",
    [
        (np.zeros((0, 5)), {}, r"image is empty: shape \(0, 5\)"),
        (np.zeros((4, 4, 0)), {}, r"image is empty"),
        (np.array(3.0), {}, r"image is empty"),
        (np.full((4, 4), np.nan), {}, r"contains NaN or infinity"),
        (np.zeros((4, 4, 2)), {"color_space": "lab"},
         r"color_space='lab' needs an RGB image with 3 channels; got 2 channel\(s\)"),
        (np.full((4, 4, 3), 2.0), {}, r"values in \[0, 1\]; got values in \[2, 2\]"),
        (np.zeros((4, 4, 3), dtype=np.int16), {}, r"got dtype int16"),
        (np.zeros((4, 4), dtype=complex), {}, r"real numbers .* got dtype complex128"),
        (np.zeros((2, 2, 2, 2, 3)), {}, r"1 to 3 spatial axes .* 4 spatial axes"),
        (np.zeros((4, 4)), {"spatial_bandwidth": 0}, r"'spatial_bandwidth' parameter must be a "
         r"positive, finite number; got 0"),
        (np.zeros((4, 4)), {"range_bandwidth": -1.0}, r"'range_bandwidth' .* got -1.0"),
        (np.zeros((4, 4)), {"range_bandwidth": np.inf}, r"'range_bandwidth' .* got inf"),
        (np.zeros((4, 4)), {"kernel": "box"}, r"'kernel' parameter must be one of"),
        (np.zeros((4, 4)), {"color_space": "hsv"}, r"'color_space' parameter must be one of"),
        (np.zeros((4, 4)), {"min_size": -2}, r"'min_size' parameter must be a non-negative"),
        (np.zeros((4, 4)), {"max_iter": 0}, r"'max_iter' parameter must be a positive integer"),
        (np.zeros((4, 4)), {"spacing": (1, 2, 3)}, r"'spacing' .* one positive number per "
         r"spatial axis \(2\)"),
        (np.zeros((4, 4, 3)), {"channel_axis": 5}, r"'channel_axis' .* got 5"),
        (np.zeros((4, 4)), {"n_jobs": 0}, r"'n_jobs' parameter must be None \(the current setting\), -1 \(every thread\).*got 0"),
        (np.zeros((4, 4)), {"speedup": 0}, r"'speedup' parameter must be a positive integer; "
         r"got 0"),
    ],
)
def test_bad_input(image, kwargs, match):
    args = {"spatial_bandwidth": 2.0, "range_bandwidth": 10.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        segment(image, **args)


def test_boundaries():
    labels = np.array([[0, 0, 1], [0, 0, 1], [2, 2, 2]])
    edge = find_boundaries(labels)
    assert edge.tolist() == [[0, 1, 1], [1, 1, 1], [1, 1, 1]]
    out = mark_boundaries(np.zeros((3, 3), dtype=np.uint8), labels)
    assert out.shape == (3, 3, 3) and out.dtype == np.uint8
    assert (out[0, 0] == 0).all() and (out[0, 2] == [255, 0, 0]).all()
    with pytest.raises(ValueError, match="labels must be 2-D with the image's height"):
        mark_boundaries(np.zeros((3, 4)), labels)


# -- command line ----------------------------------------------------------------------------
def _cli(argv):
    from meanshift.cli._segment import add_parser

    parser = argparse.ArgumentParser(prog="meanshift")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_writes_labels_overlay_and_segmented(tmp_path, capsys):
    Image = pytest.importorskip("PIL.Image")
    img, truth = _blocks(noise=8.0)
    rgb = np.repeat(np.clip(img, 0, 255).astype(np.uint8)[..., None], 3, axis=-1)
    src = tmp_path / "in.png"
    Image.fromarray(rgb).save(src)
    out, ov, seg = tmp_path / "labels.png", tmp_path / "overlay.png", tmp_path / "seg.jpg"
    code = _cli(["segment", str(src), "-o", str(out), "-s", "4", "-r", "10",
                 "--overlay", str(ov), "--segmented", str(seg)])
    assert code == 0
    labels = np.asarray(Image.open(out))
    assert labels.shape == truth.shape
    assert adjusted_rand_score(truth.ravel(), labels.ravel()) > 0.95
    overlay = np.asarray(Image.open(ov))
    assert overlay.shape == rgb.shape and (overlay == [255, 0, 0]).all(axis=-1).any()
    assert np.asarray(Image.open(seg)).shape == rgb.shape
    assert "regions" in capsys.readouterr().out


def test_cli_tiff_volume_and_npy(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    vol = np.zeros((4, 10, 12), dtype=np.uint16)
    vol[:, :, 6:] = 1000
    src = tmp_path / "stack.tif"
    tifffile.imwrite(src, vol, photometric="minisblack")
    out = tmp_path / "labels.tif"
    assert _cli(["segment", str(src), "-o", str(out), "--channel-axis", "none",
                 "-s", "2", "-r", "100", "--min-size", "5"]) == 0
    labels = tifffile.imread(out)
    assert labels.shape == vol.shape and len(np.unique(labels)) == 2
    np.save(tmp_path / "img.npy", vol[0].astype(np.float32))
    assert _cli(["segment", str(tmp_path / "img.npy"), "-o", str(tmp_path / "l.npy"),
                 "-s", "2", "-r", "100"]) == 0
    assert np.load(tmp_path / "l.npy").shape == (10, 12)


def test_cli_errors(tmp_path, capsys):
    Image = pytest.importorskip("PIL.Image")
    assert _cli(["segment", str(tmp_path / "missing.png"), "-o", str(tmp_path / "o.png")]) == 1
    assert "input file not found" in capsys.readouterr().err
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    assert _cli(["segment", str(bad), "-o", str(tmp_path / "o.png")]) == 1
    assert "cannot read image" in capsys.readouterr().err
    good = tmp_path / "good.png"
    Image.fromarray(np.zeros((8, 8), dtype=np.uint8)).save(good)
    assert _cli(["segment", str(good), "-o", str(tmp_path / "o.png"), "-s", "0"]) == 2
    assert "'spatial_bandwidth' parameter must be a positive" in capsys.readouterr().err
    assert _cli(["segment", str(good), "-o", str(tmp_path / "o.gif")]) == 2
    assert "--output must end in one of" in capsys.readouterr().err
    assert _cli(["segment", str(good), "-o", str(tmp_path / "nodir" / "o.png")]) == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _cli(["segment", str(good), "-o", str(tmp_path / "o.png"), "--kernel", "box"])


def test_cli_help_has_examples(capsys):
    with pytest.raises(SystemExit) as exc:
        _cli(["segment", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "Examples:" in text and "meanshift segment photo.jpg -o labels.png" in text


def test_a_smooth_gradient_does_not_chain_into_one_region():
    """A gray ramp 0..255: neighbouring pixels always differ by less than the merge
    radius, so fusing neighbours alone made one region (colour error 64); regions grown
    from a seed stay within the radius of their seed's colour."""
    ramp = np.tile(np.linspace(0, 255, 512), (48, 1)).astype(np.uint8)
    s = segment(ramp, spatial_bandwidth=6, range_bandwidth=16)
    assert s.n_regions >= 10
    spans = [np.ptp(ramp[s.labels == k]) for k in range(s.n_regions)]
    assert max(spans) <= 2 * 0.5 * 16  # two merge radii of range bandwidth
    assert np.abs(s.segmented.astype(float) - ramp).mean() < 4.0


def test_photos_keep_a_face_apart_from_the_hair():
    """scikit-image's astronaut at the issue's radii (8 px, 16 L*a*b*): the face and the
    hair are separate regions, and the segmented image stays close to the photo (mean
    absolute colour error: 23 before, 12 now; EDISON's is 25 at the 2x upscale, where
    ours was 54 and is 9)."""
    data = pytest.importorskip("skimage.data")
    img = data.astronaut()
    s = segment(img, spatial_bandwidth=8, range_bandwidth=16)
    skin, hair, hair_top = s.labels[120, 210], s.labels[80, 180], s.labels[40, 240]
    assert skin not in (hair, hair_top)
    for photo in (img, data.coffee(), data.chelsea()):
        out = segment(photo, spatial_bandwidth=8, range_bandwidth=16)
        err = np.abs(out.segmented.astype(float) - photo.astype(float)).mean()
        assert err < 15.0
        sizes = np.bincount(out.labels.ravel())
        assert sizes.max() < 0.5 * sizes.sum()  # no region swallows the photo


def _root(parent, x):
    while parent[x] != x:
        x = parent[x]
    return x


def _merge_by_pixels(labels, k, values, shape, min_size, radius):
    """merge_regions' rule, written plainly: every round recomputes the means over the
    pixels and scans every pair of face-adjacent pixels."""
    D, H, W = (int(v) for v in shape)
    lab = labels.reshape(D, H, W).copy()
    vals = values.reshape(D, H, W, -1)
    while k > 1:
        size = np.bincount(lab.ravel(), minlength=k)
        mean = np.stack([np.bincount(lab.ravel(), weights=vals[..., c].ravel(), minlength=k)
                         for c in range(vals.shape[-1])], axis=1) / size[:, None]
        pairs = set()
        for axis in range(3):
            a = np.moveaxis(lab, axis, 0)
            p, q = a[:-1].ravel(), a[1:].ravel()
            pairs |= set(zip(p[p != q].tolist(), q[p != q].tolist(), strict=True))
        best, best_d = [-1] * k, [np.inf] * k
        for a, b in pairs:
            d2 = float(((mean[a] - mean[b]) ** 2).sum())
            for u, v in ((a, b), (b, a)):
                if d2 < best_d[u] or (d2 == best_d[u] and v < best[u]):
                    best_d[u], best[u] = d2, v
        parent = list(range(k))
        merged = 0
        for j in range(k):
            if best[j] >= 0 and (size[j] < min_size or best_d[j] < radius * radius):
                rj, rb = _root(parent, j), _root(parent, best[j])
                if rj != rb:
                    parent[max(rj, rb)] = min(rj, rb)
                    merged += 1
        if merged == 0:
            break
        roots = [_root(parent, j) for j in range(k)]
        order = {r: i for i, r in enumerate(dict.fromkeys(roots))}
        lab = np.array([order[r] for r in roots])[lab]
        k = len(order)
    _, first = np.unique(lab.ravel(), return_index=True)
    rank = np.empty(k, dtype=np.int64)
    rank[np.argsort(first)] = np.arange(k)
    return rank[lab.ravel()], k


@pytest.mark.parametrize("case", ["gray", "rgb", "volume"])
def test_region_merging_follows_its_rule(case):
    # merge_regions finds the adjacent pairs once and adds up region sums; the rule is
    # that of a plain pass over the pixels every round.
    from meanshift.image import _regions

    rng = np.random.default_rng(11)
    if case == "volume":
        img = rng.normal(100, 25, (6, 20, 24))
        shape = np.array([6, 20, 24])
    else:
        img = _blocks(shape=(40, 50), noise=18.0, seed=2)[0]
        if case == "rgb":
            img = np.stack([img, img[::-1], rng.uniform(0, 255, img.shape)], axis=-1)
        shape = np.array([1, 40, 50])
    values = img.reshape(int(np.prod(shape)), -1) / 30.0
    labels, k = _regions.fuse_regions(values, shape, 0.5)
    assert k > 50
    for min_size, radius in ((20, 0.5), (5, 0.9), (60, 0.2)):
        got, got_k = _regions.merge_regions(labels, k, values, shape, min_size, radius)
        want, want_k = _merge_by_pixels(labels, k, values, shape, min_size, radius)
        assert got_k == want_k
        np.testing.assert_array_equal(got, want)
