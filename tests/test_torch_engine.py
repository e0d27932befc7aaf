"""The torch engine against the NumPy reference engine, on every kernel, with and without
sample weights, in float32 and float64, standard and blurring steps, tensors in and out.

CUDA tests are marked ``cuda`` and skip where torch sees no GPU.
"""

import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from conftest import cuda_available  # noqa: E402

from meanshift import MeanShift  # noqa: E402
from meanshift._engines import engine_available, get_engine  # noqa: E402
from meanshift._kernels import KERNELS  # noqa: E402
from meanshift._resolve import resolve_engine  # noqa: E402
from meanshift.datasets import make_blobs, six_blobs  # noqa: E402

KERNEL_NAMES = sorted(KERNELS)
# Relative agreement of float32 sums with the float64 reference (measured: <= 1e-5).
F32_RTOL = 1e-4
needs_cuda = pytest.mark.skipif(not cuda_available(), reason="torch sees no CUDA GPU")


@pytest.fixture(scope="module")
def ref():
    return get_engine("numpy")


@pytest.fixture(scope="module")
def data():
    X, _, _ = make_blobs(400, 2, centers=4, random_state=1)
    w = np.random.default_rng(0).uniform(0.2, 3.0, len(X))
    return X, w


def _engine(dtype, **kw):
    return get_engine("torch", device="cpu", dtype=dtype, **kw)


def _close_sums(a, b, rtol):
    num_a, den_a = a
    num_b, den_b = b
    scale = den_a.max()
    np.testing.assert_allclose(den_b, den_a, rtol=0, atol=rtol * scale)
    alive = den_a > 1e-3 * scale
    np.testing.assert_allclose(
        num_b[alive] / den_b[alive, None], num_a[alive] / den_a[alive, None], rtol=0,
        atol=rtol * 10,
    )


# -- partial sums ----------------------------------------------------------------------
@pytest.mark.parametrize("kernel", KERNEL_NAMES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-12), ("float32", F32_RTOL)])
def test_partial_sums_match_reference(ref, data, kernel, weighted, dtype, rtol):
    X, w = data
    w = w if weighted else None
    k = KERNELS[kernel]
    P = X[::7] + 0.3
    expected = ref.partial_sums(P, X, w, 1.7, k)
    got = _engine(dtype, block_elements=3000).partial_sums(P, X, w, 1.7, k)
    assert got[0].dtype == np.float64 and got[0].shape == expected[0].shape
    _close_sums(expected, got, rtol)


@pytest.mark.parametrize("kernel", KERNEL_NAMES)
@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-9), ("float32", F32_RTOL)])
def test_partial_sums_high_dimension_matrix_product_path(ref, kernel, dtype, rtol):
    # 12 features > exact_max_features: distances from |s|^2 + |x|^2 - 2 s.x, on data far
    # from the origin (the engine shifts it first).
    X, _, _ = make_blobs(300, 12, centers=3, random_state=2)
    X = X + 250.0
    k = KERNELS[kernel]
    expected = ref.partial_sums(X[::5], X, None, 5.0, k)
    got = _engine(dtype).partial_sums(X[::5], X, None, 5.0, k)
    _close_sums(expected, got, rtol)


def test_partial_sums_blocks_are_bounded_and_add_up(monkeypatch, data):
    X, w = data
    k = KERNELS["gaussian"]
    eng = _engine("float64", block_elements=1000)
    from meanshift._engines import _torch

    shapes = []
    original = _torch.TorchEngine._sq_dist

    def spy(self, P, D, c0, c1, Psq=None):
        out = original(self, P, D, c0, c1, Psq)
        shapes.append(tuple(out.shape))
        return out

    monkeypatch.setattr(_torch.TorchEngine, "_sq_dist", spy)
    got = eng.partial_sums(X, X, w, 1.0, k)
    assert max(r * c for r, c in shapes) <= 1000
    assert len(shapes) > 100  # really chunked: 400 x 400 pairs in blocks of <= 1000
    whole = _engine("float64", block_elements=10**7).partial_sums(X, X, w, 1.0, k)
    np.testing.assert_allclose(got[0], whole[0], rtol=1e-12)
    np.testing.assert_allclose(got[1], whole[1], rtol=1e-12)


def test_float32_keeps_integer_data_exact_far_from_origin(ref):
    # Integer data at 1e6: the integer origin shift keeps the flat kernel's boundary
    # decisions (distance exactly equal to the bandwidth) those of the float64 reference.
    g = np.stack(np.meshgrid(np.arange(6), np.arange(6)), -1).reshape(-1, 2) + 10**6
    g = g.astype(np.float64)
    expected = ref.partial_sums(g, g, None, 2.0, KERNELS["flat"])
    got = _engine("float32").partial_sums(g, g, None, 2.0, KERNELS["flat"])
    np.testing.assert_array_equal(got[1], expected[1])
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-12)


# -- climb -----------------------------------------------------------------------------
@pytest.mark.parametrize("kernel", KERNEL_NAMES)
@pytest.mark.parametrize("weighted", [False, True])
def test_climb_float64_matches_reference_step_for_step(ref, data, kernel, weighted):
    X, w = data
    w = w if weighted else None
    opts = dict(bandwidth=1.5, kernel=KERNELS[kernel], tol=1e-4, max_iter=200)
    seeds = X[::3]
    a = ref.climb(seeds, X, w, **opts)
    b = _engine("float64", block_elements=5000).climb(seeds, X, w, **opts)
    np.testing.assert_array_equal(b.n_iter, a.n_iter)
    np.testing.assert_array_equal(b.converged, a.converged)
    np.testing.assert_allclose(b.modes, a.modes, rtol=0, atol=1e-9)
    np.testing.assert_allclose(b.density, a.density, rtol=1e-9)


@pytest.mark.parametrize("kernel", KERNEL_NAMES)
@pytest.mark.parametrize("weighted", [False, True])
def test_climb_float32_agrees_within_tolerance(ref, data, kernel, weighted):
    X, w = data
    w = w if weighted else None
    h, tol = 1.5, 1e-4
    opts = dict(bandwidth=h, kernel=KERNELS[kernel], tol=tol, max_iter=300)
    a = ref.climb(X, X, w, **opts)
    b = _engine("float32").climb(X, X, w, **opts)
    assert b.converged.all() and a.converged.all()
    # A seed may stop one step earlier or later: its mode then moves by <= tol * h.
    np.testing.assert_allclose(b.modes, a.modes, rtol=0, atol=2 * tol * h + 1e-4)
    assert np.abs(b.n_iter - a.n_iter).max() <= 2
    np.testing.assert_allclose(b.density, a.density, rtol=F32_RTOL)


def test_climb_active_set_dead_seeds_and_history(ref, data):
    X, _ = data
    far = np.array([[1e4, 1e4]])  # no data within the flat kernel's reach: dead at once
    seeds = np.vstack([X[:20], far])
    steps = []
    opts = dict(bandwidth=1.5, kernel=KERNELS["flat"], tol=1e-3, max_iter=50)
    b = _engine("float64").climb(seeds, X, None, record_history=True,
                                 callback=steps.append, **opts)
    a = ref.climb(seeds, X, None, record_history=True, **opts)
    assert b.density[-1] == 0 and not b.converged[-1] and b.n_iter[-1] == 0
    np.testing.assert_array_equal(b.modes[-1], far[0])
    assert len(b.history) == len(a.history) == b.n_iter.max() + 1
    for hb, ha in zip(b.history, a.history, strict=False):
        np.testing.assert_allclose(hb, ha, atol=1e-9)
    # The active count shrinks as seeds converge (per-seed masks), down to zero.
    counts = [p.total - p.done for p in steps]
    assert counts == sorted(counts, reverse=True) and counts[-1] == 0
    assert counts[0] < len(seeds)  # the dead seed left after the first step


def test_climb_non_convergence_is_reported(ref, data):
    X, _ = data
    opts = dict(bandwidth=1.5, kernel=KERNELS["gaussian"], tol=0.0, max_iter=3)
    b = _engine("float32").climb(X[:10], X, None, **opts)
    assert not b.converged.any() and (b.n_iter == 3).all()


# -- blurring step ---------------------------------------------------------------------
@pytest.mark.parametrize("kernel", KERNEL_NAMES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype, atol", [("float64", 1e-10), ("float32", 1e-4)])
def test_blur_step_matches_reference(ref, data, kernel, weighted, dtype, atol):
    X, w = data
    w = w if weighted else None
    isolated = np.vstack([X, [[500.0, -500.0]]])
    ww = None if w is None else np.append(w, 1.0)
    opts = dict(bandwidth=1.2, kernel=KERNELS[kernel])
    pts_a, pts_b = isolated, isolated
    eng = _engine(dtype, block_elements=7000)
    for _ in range(3):  # three steps: the data themselves move
        pts_a = ref.blur_step(pts_a, ww, **opts)
        pts_b = eng.blur_step(pts_b, ww, **opts)
        np.testing.assert_allclose(pts_b, pts_a, rtol=0, atol=atol)
    if kernel != "gaussian":  # compact kernel: the isolated point has only itself...
        assert pts_b[-1].tolist() == [500.0, -500.0]


def test_blur_step_point_without_neighbour_keeps_exact_coordinates():
    pts = np.array([[0.1, 0.2], [0.3, 0.1], [123.456789, -9.87654321]])
    w = np.array([1.0, 1.0, 0.0])  # the far point has zero weight: nobody in its reach
    out = _engine("float32").blur_step(pts, w, bandwidth=1.0, kernel=KERNELS["flat"])
    assert out[2].tolist() == pts[2].tolist()


# -- nearest ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n_features", [2, 12])
def test_nearest_matches_reference_and_breaks_ties_low(ref, dtype, n_features):
    X, _, _ = make_blobs(500, n_features, centers=5, random_state=3)
    C = X[[3, 50, 120, 260, 400]]
    i_a, d_a = ref.nearest(X, C)
    i_b, d_b = _engine(dtype, block_elements=64).nearest(X, C)
    np.testing.assert_array_equal(i_b, i_a)
    np.testing.assert_allclose(d_b, d_a, rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-5)
    # Two identical centres: the lower index wins.
    i_t, _ = _engine(dtype).nearest(X[:10], np.vstack([C[:1], C[:1]]))
    assert (i_t == 0).all()


# -- tensors in and out ----------------------------------------------------------------
def test_engine_accepts_tensors(ref, data):
    X, w = data
    k = KERNELS["epanechnikov"]
    expected = ref.climb(X[:30], X, w, bandwidth=1.5, kernel=k, tol=1e-4, max_iter=100)
    got = _engine("float64").climb(
        torch.from_numpy(X[:30]).float(), torch.from_numpy(X), torch.from_numpy(w),
        bandwidth=1.5, kernel=k, tol=1e-4, max_iter=100,
    )
    assert isinstance(got.modes, np.ndarray)
    # The seeds went in as float32: the climb ends within tol of the reference's.
    np.testing.assert_allclose(got.modes, expected.modes, atol=1e-3)


@pytest.fixture(scope="module")
def six():
    X, y, _ = six_blobs(n_per_cluster=80)
    return X, y


@pytest.mark.parametrize("kernel", KERNEL_NAMES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_estimator_torch_matches_numpy(six, kernel, dtype):
    X, y = six
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(X))
    params = dict(bandwidth=4.0 if kernel != "gaussian" else 2.0, kernel=kernel, seeds=60,
                  tol=1e-4, random_state=0)
    a = MeanShift(engine="numpy", **params).fit(X, sample_weight=w)
    b = MeanShift(engine="torch", device="cpu", engine_options={"dtype": dtype},
                  **params).fit(X, sample_weight=w)
    assert b.engine_ == "torch" and b.device_ == "cpu"
    assert len(b.cluster_centers_) == len(a.cluster_centers_) == 6
    np.testing.assert_allclose(b.cluster_centers_, a.cluster_centers_, atol=1e-3)
    np.testing.assert_array_equal(b.labels_, a.labels_)
    np.testing.assert_array_equal(b.predict(X[::11]), a.predict(X[::11]))


def test_estimator_tensor_input_and_return_tensors(six):
    X, y = six
    Xt = torch.from_numpy(X).to(torch.float32)
    ms = MeanShift(bandwidth=4.0, bin_seeding=True, return_tensors=True).fit(
        Xt, sample_weight=torch.ones(len(X)))
    assert ms.engine_ == "torch"  # engine="auto" follows the tensor
    assert isinstance(ms.cluster_centers_, torch.Tensor) and ms.labels_.dtype == torch.int64
    ref = MeanShift(bandwidth=4.0, bin_seeding=True, engine="numpy").fit(Xt.numpy())
    np.testing.assert_array_equal(ms.labels_.numpy(), ref.labels_)
    pred = ms.predict(Xt[:20])
    assert isinstance(pred, torch.Tensor)
    np.testing.assert_array_equal(pred.numpy(), ref.labels_[:20])
    # NumPy by default, also for tensor input; half precision tensors are accepted.
    plain = MeanShift(bandwidth=4.0, bin_seeding=True).fit(Xt.to(torch.float16))
    assert isinstance(plain.labels_, np.ndarray) and plain.engine_ == "torch"


def test_estimator_device_resolution_and_errors(six):
    X, _ = six
    assert resolve_engine("auto", X, "cpu") == ("torch", "device='cpu' requested")
    with pytest.raises(ValueError, match=r"'device' parameter applies to the 'torch' engine "
                                         r"only; got device='cpu' with engine='numpy'"):
        MeanShift(bandwidth=4.0, engine="numpy", device="cpu").fit(X)
    with pytest.raises(ValueError, match=r"'device' parameter must be 'auto', 'cpu', 'cuda' "
                                         r"or 'cuda:N' \(N a GPU index\); got 'gpu'"):
        MeanShift(bandwidth=4.0, device="gpu").fit(X)
    with pytest.raises(ValueError, match=r"'dtype' parameter must be one of \['float32', "
                                         r"'float64'\]; got 'float16'"):
        get_engine("torch", dtype="float16")


@pytest.mark.skipif(cuda_available(), reason="checks the error of a CPU-only torch")
def test_cuda_request_without_gpu_is_a_clear_error(six):
    X, _ = six
    with pytest.raises(ValueError, match=r"'device' parameter is 'cuda:0' but torch .* sees "
                                         r"no CUDA GPU\. Use device='cpu' or device='auto'"):
        MeanShift(bandwidth=4.0, device="cuda:0").fit(X)


# -- optional dependency ---------------------------------------------------------------
def test_missing_torch_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # "import torch" now raises
    monkeypatch.delitem(sys.modules, "meanshift._engines._torch", raising=False)
    assert not engine_available("torch")
    with pytest.raises(ImportError, match=r"The 'torch' engine needs a missing package .*"
                                          r'Install it with: pip install "meanshift\[gpu\]"'):
        get_engine("torch")


def test_import_meanshift_does_not_import_torch():
    code = ("import sys, meanshift; from meanshift import MeanShift; "
            "MeanShift(bandwidth=1.0).fit([[0.0], [0.1], [5.0]]); "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    env = {"PYTHONPATH": "src"}
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True)
    assert res.returncode == 0, res.stderr.decode()


# -- CUDA ------------------------------------------------------------------------------
@pytest.mark.cuda
@needs_cuda
@pytest.mark.parametrize("kernel", KERNEL_NAMES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cuda_climb_matches_reference(ref, data, kernel, dtype):
    X, w = data
    h, tol = 1.5, 1e-4
    opts = dict(bandwidth=h, kernel=KERNELS[kernel], tol=tol, max_iter=300)
    a = ref.climb(X, X, w, **opts)
    b = get_engine("torch", device="cuda", dtype=dtype).climb(X, X, w, **opts)
    atol = 1e-9 if dtype == "float64" else 2 * tol * h + 1e-4
    np.testing.assert_allclose(b.modes, a.modes, rtol=0, atol=atol)
    blur_a = ref.blur_step(X, w, bandwidth=h, kernel=KERNELS[kernel])
    blur_b = get_engine("torch", device="cuda", dtype=dtype).blur_step(
        X, w, bandwidth=h, kernel=KERNELS[kernel])
    np.testing.assert_allclose(blur_b, blur_a, atol=1e-10 if dtype == "float64" else 1e-4)


@pytest.mark.cuda
@needs_cuda
def test_cuda_tensors_in_and_out(six):
    X, _ = six
    Xt = torch.from_numpy(X).float().cuda()
    ms = MeanShift(bandwidth=4.0, bin_seeding=True, return_tensors=True).fit(Xt)
    assert ms.engine_ == "torch" and ms.device_.startswith("cuda")
    assert ms.labels_.is_cuda and ms.cluster_centers_.is_cuda
    ref = MeanShift(bandwidth=4.0, bin_seeding=True, engine="numpy").fit(X.astype(np.float32))
    np.testing.assert_array_equal(ms.labels_.cpu().numpy(), ref.labels_)
    assert ms.predict(Xt[:5]).is_cuda


@pytest.mark.cuda
@needs_cuda
def test_cuda_block_size_comes_from_free_memory():
    eng = get_engine("torch", device="cuda")
    free, _ = torch.cuda.mem_get_info(eng.device)
    assert 2**16 <= eng._budget() <= max(2**16, free // 8)


# -- fused (compiled) block ------------------------------------------------------------
@pytest.mark.slow
def test_fused_compiled_path_matches_reference(ref, monkeypatch):
    # torch.compile fuses distances, weights and sums over groups of 4096 points with
    # zero-weight padding (9000 points: three groups, the last one padded).  Compiles
    # once, for every number of seeds and groups (one row, rows = groups, ...).
    from meanshift._engines import _torch

    X, _, _ = make_blobs(9000, 2, centers=4, random_state=4)
    w = np.random.default_rng(2).uniform(0.2, 3.0, len(X))
    k = KERNELS["gaussian"]
    eng = _engine("float32", compile=True)
    calls = []
    original = _torch._fused_block
    monkeypatch.setattr(_torch, "_fused_block",
                        lambda *a: calls.append(a) or original(*a))
    got = eng.partial_sums(X[::300], X, w, 1.7, k)
    assert calls, "the fused block was not used"
    _close_sums(ref.partial_sums(X[::300], X, w, 1.7, k), got, F32_RTOL)
    one = eng.partial_sums(X[:1], X[:8192], None, 1.7, k)  # one seed, two full groups
    _close_sums(ref.partial_sums(X[:1], X[:8192], None, 1.7, k), one, F32_RTOL)
    opts = dict(bandwidth=1.5, kernel=k, tol=1e-4, max_iter=300)
    a = ref.climb(X[::600], X, w, **opts)
    b = eng.climb(X[::600], X, w, **opts)
    np.testing.assert_allclose(b.modes, a.modes, rtol=0, atol=2 * 1e-4 * 1.5 + 1e-4)


@pytest.mark.cuda
@pytest.mark.slow
@needs_cuda
@pytest.mark.parametrize("kernel", KERNEL_NAMES)
def test_cuda_fused_compiled_path_matches_reference(ref, kernel):
    X, _, _ = make_blobs(9000, 2, centers=4, random_state=4)
    w = np.random.default_rng(2).uniform(0.2, 3.0, len(X))
    k = KERNELS[kernel]
    eng = get_engine("torch", device="cuda", compile=True)
    _close_sums(ref.partial_sums(X[::300], X, w, 1.7, k),
                eng.partial_sums(X[::300], X, w, 1.7, k), F32_RTOL)
    opts = dict(bandwidth=1.5, kernel=k, tol=1e-4, max_iter=300)
    a = ref.climb(X[::600], X, w, **opts)
    b = eng.climb(X[::600], X, w, **opts)
    np.testing.assert_allclose(b.modes, a.modes, rtol=0, atol=2 * 1e-4 * 1.5 + 1e-4)
