"""Mean shift on the globe (metric="haversine") and on directions (metric="cosine").

The oracle is :func:`sphere_reference`, written here from the definitions: great-circle
angles computed directly by the haversine formula (or from the cosine), the kernel of
the chord ``2 sin(angle / 2)``, every step the weighted mean projected onto the sphere.
Every engine is compared with it; the properties of the issue are tested on top:
rotations of the globe, clusters across the 180th meridian and over a pole, the
spherical mean for a wide bandwidth.
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import NearestNeighbors

from meanshift import MeanShift, auto_bandwidth, estimate_bandwidth
from meanshift._engines import engine_available
from meanshift._kernels import KERNELS, get_kernel
from meanshift._stages.metric import EARTH_RADIUS_KM, Cosine, Haversine

R = EARTH_RADIUS_KM
ENGINES = ["numpy", "numba"] + (["torch"] if engine_available("torch") else [])
ENGINE_OPTIONS = {"torch": {"dtype": "float64", "device": "cpu"}}


# -- data ------------------------------------------------------------------------------
def city(rng, lat, lon, km, n):
    """``n`` points around (lat, lon), about ``km`` apart, drawn on the tangent plane
    and mapped onto the sphere exactly (so clusters at the poles are round too)."""
    c = np.array(_unit(np.array([[lat, lon]]))[0])
    east = np.cross([0.0, 0.0, 1.0], c)
    east = east / np.linalg.norm(east) if np.linalg.norm(east) > 1e-12 else np.array(
        [0.0, 1.0, 0.0])
    north = np.cross(c, east)
    off = rng.normal(0.0, km / R, (n, 2))
    ang = np.linalg.norm(off, axis=1)
    dirn = (off[:, :1] * east + off[:, 1:] * north) / np.maximum(ang, 1e-300)[:, None]
    P = np.cos(ang)[:, None] * c + np.sin(ang)[:, None] * dirn
    return _latlon(P)


def _unit(latlon):
    lat, lon = np.radians(latlon[:, 0]), np.radians(latlon[:, 1])
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def _latlon(P):
    lat = np.degrees(np.arctan2(P[:, 2], np.hypot(P[:, 0], P[:, 1])))
    lon = np.degrees(np.arctan2(P[:, 1], P[:, 0]))
    return np.column_stack([lat, (lon + 180.0) % 360.0 - 180.0])


def cities(seed=0, n=120, km=15.0):
    rng = np.random.default_rng(seed)
    return np.vstack([city(rng, 52.5, 13.4, km, n), city(rng, -33.9, 151.2, km, n),
                      city(rng, 21.3, -157.8, km, n // 2)])


def great_circle(latlon, P):
    """Great-circle angles (radians) between rows of ``latlon`` (degrees) and one
    point ``P`` (degrees), by the haversine formula."""
    la1, lo1 = np.radians(latlon[:, 0]), np.radians(latlon[:, 1])
    la2, lo2 = math.radians(P[0]), math.radians(P[1])
    a = (np.sin((la2 - la1) / 2) ** 2
         + np.cos(la1) * math.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2)
    return 2 * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def sphere_reference(angles_to, U, seeds, h_angle, kernel, weights=None, tol=1e-3,
                     max_iter=300):
    """Spherical mean shift from the definitions: ``angles_to(s)`` gives the angles
    between the data and a unit vector ``s``; kernel of the chord in units of the
    bandwidth's chord; the weighted mean of the unit vectors ``U`` projected back."""
    k = get_kernel(kernel)
    c_h = 2 * math.sin(h_angle / 2)
    w0 = np.ones(len(U)) if weights is None else weights
    out = []
    for s in seeds:
        for _ in range(max_iter):
            chord = 2 * np.sin(angles_to(s) / 2)
            u2 = (chord / c_h) ** 2
            if kernel == "flat":  # the ball is the cap of the angle (boundary slack)
                wk = (angles_to(s) <= h_angle * (1 + 1e-12)).astype(float)
            else:
                wk = k.numpy(u2)
            m = (w0 * wk) @ U
            new = m / np.linalg.norm(m)
            done = np.linalg.norm(new - s) <= tol * c_h
            s = new
            if done:
                break
        out.append(s)
    return np.array(out)


def _merged(modes, radius):
    """Distinct end points (greedy, in order), for comparing sets of modes."""
    kept = []
    for m in modes:
        if all(np.linalg.norm(m - k) > radius for k in kept):
            kept.append(m)
    return np.array(kept)


def _match(A, B):
    """Largest distance from each row of A to its nearest row of B, and back."""
    d = np.linalg.norm(A[:, None, :] - B[None, :, :], axis=2)
    return max(d.min(axis=1).max(), d.min(axis=0).max())


# -- against the reference ---------------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_haversine_engines_match_great_circle_reference(engine, kernel):
    X = cities(1, n=60)
    h = 40.0  # km
    rng = np.random.default_rng(3)
    w = rng.uniform(0.5, 2.0, len(X))
    m = MeanShift(bandwidth=h, metric="haversine", kernel=kernel, engine=engine,
                  engine_options=ENGINE_OPTIONS.get(engine), tol=1e-6).fit(X, sample_weight=w)
    U = _unit(X)

    def angles_to(s):
        return great_circle(X, _latlon(s[None])[0])

    modes = sphere_reference(angles_to, U, U, h / R, kernel, w, tol=1e-6)
    ref = _merged(modes, 2 * math.sin(h / R / 2))
    ours = _unit(m.cluster_centers_)
    assert len(ours) == len(ref) == 3
    # Every seed's end point agrees to far below a metre (the centres are the densest
    # of them, within the merge radius of the reference's first ones).
    assert np.abs(_unit(m.seed_modes_) - modes).max() * R < 1e-6
    assert _match(ours, ref) * R < h


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kernel", ["flat", "gaussian"])
def test_cosine_engines_match_angular_reference(engine, kernel):
    rng = np.random.default_rng(5)
    d = 12
    mus = rng.normal(size=(3, d))
    X = np.vstack([mu + rng.normal(0, 0.08 * np.linalg.norm(mu), (50, d)) for mu in mus])
    X *= rng.uniform(0.1, 10.0, (len(X), 1))  # lengths do not matter
    delta = 0.05  # cosine distance
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    m = MeanShift(bandwidth=delta, metric="cosine", kernel=kernel, engine=engine,
                  engine_options=ENGINE_OPTIONS.get(engine), tol=1e-6).fit(X)

    def angles_to(s):
        return np.arccos(np.clip(U @ s, -1.0, 1.0))

    modes = sphere_reference(angles_to, U, U, math.acos(1 - delta), kernel, tol=1e-6)
    ref = _merged(modes, math.sqrt(2 * delta))
    # Every seed's end point agrees (the centres are the densest of them).
    assert np.abs(m.seed_modes_ - modes).max() < 1e-7
    assert len(m.cluster_centers_) >= 3
    d = np.linalg.norm(ref[:, None, :] - m.cluster_centers_[None, :, :], axis=2)
    assert d.min(axis=1).max() <= math.sqrt(2 * delta)
    np.testing.assert_allclose(np.linalg.norm(m.cluster_centers_, axis=1), 1.0, atol=1e-12)


def test_gaussian_is_von_mises_fisher_mean_shift():
    """The gaussian of the chord weighs each point by exp(kappa u.s), kappa = 1 / c**2."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(80, 5)) + np.array([3.0, 0, 0, 0, 0])
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    delta = 0.2
    kappa = 1.0 / (2.0 * delta)  # chord**2 = 2 * delta
    s = U[0]
    for _ in range(500):
        m = np.exp(kappa * (U @ s)) @ U
        new = m / np.linalg.norm(m)
        if np.linalg.norm(new - s) < 1e-12:
            break
        s = new
    ms = MeanShift(bandwidth=delta, metric="cosine", kernel="gaussian", tol=1e-10,
                   seeds=U[:1], engine="numpy").fit(X)
    np.testing.assert_allclose(ms.cluster_centers_[0], s, atol=1e-8)


# -- properties of the globe ---------------------------------------------------------------
def _rotation(rng):
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), kernel=st.sampled_from(["flat", "gaussian"]))
def test_rotating_the_globe_rotates_the_answer(seed, kernel):
    rng = np.random.default_rng(seed)
    X = cities(seed % 7, n=40)
    Q = _rotation(rng)
    Xr = _latlon(_unit(X) @ Q.T)
    fit = MeanShift(bandwidth=60.0, metric="haversine", kernel=kernel).fit(X)
    rot = MeanShift(bandwidth=60.0, metric="haversine", kernel=kernel).fit(Xr)
    assert len(rot.cluster_centers_) == len(fit.cluster_centers_) == 3
    assert _match(_unit(rot.cluster_centers_), _unit(fit.cluster_centers_) @ Q.T) * R < 1e-3
    assert adjusted_rand_score(fit.labels_, rot.labels_) == 1.0


@pytest.mark.parametrize("engine", ENGINES)
def test_cluster_across_the_180th_meridian_stays_one(engine):
    rng = np.random.default_rng(0)
    X = np.vstack([city(rng, -17.8, 180.0, 20.0, 300), city(rng, 40.0, -74.0, 20.0, 100)])
    assert (X[:300, 1] > 0).any() and (X[:300, 1] < 0).any()  # both sides of ±180
    m = MeanShift(bandwidth=80.0, metric="haversine", engine=engine,
                  engine_options=ENGINE_OPTIONS.get(engine)).fit(X)
    assert len(m.cluster_centers_) == 2
    assert len(set(m.labels_[:300])) == 1
    lat, lon = m.cluster_centers_[m.labels_[0]]
    assert -180.0 <= lon < 180.0 and abs(abs(lon) - 180.0) < 0.2 and abs(lat + 17.8) < 0.2
    # Euclidean mean shift on (lat, lon) splits it: the failure the metric fixes.
    e = MeanShift(bandwidth=0.7).fit(X)
    assert len(set(e.labels_[:300])) > 1


@pytest.mark.parametrize("pole", [90.0, -90.0])
def test_cluster_over_a_pole_stays_one(pole):
    rng = np.random.default_rng(1)
    X = np.vstack([city(rng, pole, 0.0, 30.0, 300), city(rng, 0.0, 0.0, 30.0, 100)])
    m = MeanShift(bandwidth=120.0, metric="haversine").fit(X)
    assert len(m.cluster_centers_) == 2
    assert len(set(m.labels_[:300])) == 1
    assert abs(m.cluster_centers_[m.labels_[0], 0] - pole) < 0.3


@pytest.mark.parametrize("kernel", ["flat", "epanechnikov"])
def test_wide_bandwidth_gives_the_spherical_mean(kernel):
    rng = np.random.default_rng(4)
    X = city(rng, 30.0, 100.0, 900.0, 200)
    w = rng.uniform(0.1, 3.0, len(X))
    h = math.pi * R if kernel == "flat" else 0.999 * math.pi * R
    m = MeanShift(bandwidth=h, metric="haversine", kernel=kernel, tol=1e-9).fit(
        X, sample_weight=w)
    assert len(m.cluster_centers_) == 1
    if kernel == "flat":
        mean = w @ _unit(X)
        np.testing.assert_allclose(_unit(m.cluster_centers_)[0], mean / np.linalg.norm(mean),
                                   atol=1e-12)


# -- the estimator's features on the sphere ----------------------------------------------
def test_every_algorithm_and_seeding_on_the_globe():
    X = cities(3, n=150)
    base = MeanShift(bandwidth=50.0, metric="haversine", algorithm="standard").fit(X)
    assert len(base.cluster_centers_) == 3
    for params in [dict(algorithm="basin"), dict(algorithm="compressed"),
                   dict(algorithm="blurring"), dict(bin_seeding=True), dict(seeds=40),
                   dict(seeds=[[52.0, 13.0], [-34.0, 151.0], [21.0, -158.0]]),
                   dict(label_by="mode"), dict(max_samples=0.5)]:
        m = MeanShift(bandwidth=50.0, metric="haversine", **params).fit(X)
        assert adjusted_rand_score(base.labels_, m.labels_) == 1.0, params
        # (a sample of the points, or bin means, moves the centres a little)
        assert _match(_unit(m.cluster_centers_), _unit(base.cluster_centers_)) * R < 5.0, params
        assert m.cluster_centers_.shape[1] == 2
        assert np.all((m.cluster_centers_[:, 1] >= -180) & (m.cluster_centers_[:, 1] < 180))


def test_weights_are_duplicates_on_the_sphere():
    X = cities(4, n=40)
    reps = np.random.default_rng(0).integers(1, 4, len(X))
    a = MeanShift(bandwidth=40.0, metric="haversine", tol=1e-9).fit(
        X, sample_weight=reps.astype(float))
    b = MeanShift(bandwidth=40.0, metric="haversine", tol=1e-9).fit(np.repeat(X, reps, axis=0))
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, atol=1e-9)


def test_predict_history_orphans_and_longitudes_out_of_range():
    X = cities(5, n=80)
    m = MeanShift(bandwidth=40.0, metric="haversine", record_history=True,
                  cluster_all=False).fit(X)
    np.testing.assert_array_equal(m.predict(X), m.labels_)
    far = [[0.0, 0.0]]
    assert m.predict(far)[0] == -1  # beyond every cluster's reach
    # History comes back as (latitude, longitude); it starts at the seeds.
    np.testing.assert_allclose(m.history_[0], m.seeds_, atol=1e-9)
    for positions, centers, labels in m.iter_climb():
        assert positions.shape[1] == 2 and centers.shape[1] == 2 and labels.shape == (len(X),)
    # A longitude given as 360 + x is the same place.
    shifted = X.copy()
    shifted[:, 1] += 360.0
    m2 = MeanShift(bandwidth=40.0, metric="haversine").fit(shifted)
    np.testing.assert_allclose(m2.cluster_centers_, MeanShift(
        bandwidth=40.0, metric="haversine").fit(X).cluster_centers_, atol=1e-9)


def test_cosine_ignores_lengths_and_predicts():
    rng = np.random.default_rng(6)
    mus = rng.normal(size=(4, 32))
    X = np.vstack([mu + rng.normal(0, 0.1, (60, 32)) for mu in mus])
    m = MeanShift(metric="cosine").fit(X)  # automatic bandwidth, a cosine distance
    assert len(m.cluster_centers_) == 4 and 0 < m.bandwidth_ < 2
    scaled = X * rng.uniform(0.01, 100.0, (len(X), 1))
    m2 = MeanShift(metric="cosine", bandwidth=m.bandwidth_).fit(scaled)
    assert adjusted_rand_score(m.labels_, m2.labels_) == 1.0
    np.testing.assert_array_equal(m.predict(X * 3.0), m.labels_)


def test_dask_input_on_the_globe():
    da = pytest.importorskip("dask.array")
    X = cities(6, n=100)
    ref = MeanShift(bandwidth=50.0, metric="haversine").fit(X)
    m = MeanShift(bandwidth=50.0, metric="haversine").fit(da.from_array(X, chunks=64))
    np.testing.assert_allclose(m.cluster_centers_, ref.cluster_centers_, atol=1e-9)
    np.testing.assert_array_equal(np.asarray(m.labels_), ref.labels_)


# -- bandwidths ---------------------------------------------------------------------------
def test_estimate_bandwidth_in_kilometres_matches_haversine_neighbours():
    X = cities(7, n=100)
    k = int(len(X) * 0.3)
    nn = NearestNeighbors(n_neighbors=k, metric="haversine").fit(np.radians(X))
    d, _ = nn.kneighbors(np.radians(X))
    expected = R * d.max(axis=1).mean()
    got = estimate_bandwidth(X, metric="haversine")
    assert got == pytest.approx(expected, rel=1e-9)
    m = MeanShift(bandwidth=None, metric="haversine").fit(X)
    assert m.bandwidth_ == pytest.approx(expected, rel=1e-9)


def test_auto_bandwidth_on_the_globe_is_in_kilometres():
    X = cities(8, n=120, km=10.0)
    h = auto_bandwidth(X, metric="haversine")
    assert 20.0 < h < 5000.0  # between the cities' spread and their distances
    m = MeanShift(metric="haversine").fit(X)
    assert m.bandwidth_ == pytest.approx(h, rel=1e-6)
    assert len(m.cluster_centers_) == 3
    # A radius in miles gives the same clusters, the bandwidth in miles.
    miles = MeanShift(metric="haversine", metric_params={"radius": 3958.7613}).fit(X)
    assert miles.bandwidth_ == pytest.approx(h * 3958.7613 / R, rel=1e-6)


# -- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize("X, params, match", [
    (np.zeros((5, 3)), dict(metric="haversine"), "2 columns, \\(latitude, longitude\\)"),
    (np.array([[95.0, 0.0], [0.0, 0.0]]), dict(metric="haversine"),
     "latitudes in degrees, which must be in \\[-90, 90\\]; row 0 has 95.0"),
    (np.ones((5, 2)), dict(metric="haversine", bandwidth=30000.0),
     "'bandwidth' parameter with metric='haversine' is a great-circle distance in "
     "kilometres and must be in \\(0, 20015.1"),
    (np.ones((5, 2)), dict(metric="haversine", bandwidth=[1.0, 2.0]), "single number"),
    (np.ones((5, 4)), dict(metric="cosine", bandwidth=2.5), "cosine distance"),
    (np.vstack([np.ones((4, 3)), np.zeros((1, 3))]), dict(metric="cosine", bandwidth=0.1),
     "row 4 of X is zero"),
    (np.ones((5, 2)), dict(metric="cosine", metric_params={"radius": 2.0}),
     "do not apply to metric='cosine'"),
    (np.ones((5, 2)), dict(metric="haversine", metric_params={"radius": -1.0}),
     "'radius' of metric='haversine'"),
    (np.ones((5, 2)), dict(metric="haversine", bandwidth=100.0, merge_radius=1e6),
     "'merge_radius' parameter with metric='haversine'"),
])
def test_clear_errors(X, params, match):
    with pytest.raises(ValueError, match=match):
        MeanShift(**params).fit(X)


def test_metric_name_is_validated():
    with pytest.raises(ValueError, match="metric"):
        MeanShift(metric="manhattan").fit(np.ones((3, 2)))


def test_metric_classes_round_trip():
    P = np.random.default_rng(0).normal(size=(50, 3))
    U = P / np.linalg.norm(P, axis=1, keepdims=True)
    hv = Haversine()
    np.testing.assert_allclose(hv.embed(hv.unembed(U)), U, atol=1e-15)
    for h in [1e-3, 1.0, 100.0, 20000.0]:
        assert hv.from_chord(hv.to_chord(h)) == pytest.approx(h, rel=1e-9)
    cs = Cosine()
    for h in [1e-6, 0.1, 1.0, 2.0]:
        assert cs.from_chord(cs.to_chord(h)) == pytest.approx(h, rel=1e-12)
