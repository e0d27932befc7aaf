"""Metric stage: where the data live, mapped to Euclidean coordinates and back.

Engines only ever see Euclidean coordinates.  A metric maps the rows in (``embed``),
maps a distance the user gives (a bandwidth, a merge radius) to a distance between
those coordinates (``to_chord``) and back (``from_chord``), and maps positions out
(``unembed``: centres, seeds, every step of the climb).

* ``"euclidean"``: the identity (the default).
* ``"haversine"``: rows are (latitude, longitude) in degrees; they become unit vectors
  of R^3 (``x = cos(lat) cos(lon), y = cos(lat) sin(lon), z = sin(lat)``), and a
  distance is a great-circle distance on a sphere of radius ``radius`` (the Earth's mean
  radius, 6371.0088 km, by default: bandwidths are in kilometres).  Centres come back as
  (latitude, longitude) in degrees, longitudes in [-180, 180).
* ``"cosine"``: rows are directions in any dimension (embeddings); they are divided by
  their length (a zero row is an error).  A distance is a cosine distance
  ``1 - cos(angle)``, in (0, 2], as in scikit-learn and SciPy.  Centres are unit vectors.

Mean shift on the sphere
------------------------
The two sphere metrics climb on the unit sphere: the kernel is evaluated on the chord
``|u - v| = 2 sin(angle / 2)`` between unit vectors, with the bandwidth's chord as its
scale, and every step moves a seed to the kernel-weighted mean of the data projected
back onto the sphere (``m / |m|``; engines do this when bound with ``sphere=True``).

* The chord is a monotone function of the angle, so the flat kernel's ball is exactly
  the spherical cap of the bandwidth's great-circle (or cosine) radius, and the nearest
  centre by chord is the nearest by angle.
* The gaussian kernel of the chord is ``exp(-|u - v|^2 / (2 c^2)) ~ exp(u.v / c^2)``:
  this is von Mises-Fisher mean shift with concentration ``kappa = 1 / c^2`` (``c`` the
  bandwidth's chord: ``2 sin(h / 2R)`` for the globe, ``sqrt(2 h)`` for a cosine
  distance ``h``, i.e. ``kappa = 1 / (2 h)``).
* The other kernels take the chord in units of the bandwidth's chord; their support is
  the cap.  On scales of a few bandwidths the chord and the angle differ by a factor
  ``1 - angle^2 / 24`` (under 0.5 % for angles below 20 degrees).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["Metric", "Euclidean", "Haversine", "Cosine", "METRICS", "get_metric",
           "project", "EARTH_RADIUS_KM"]

#: The Earth's mean radius (IUGG), kilometres.
EARTH_RADIUS_KM = 6371.0088


def _same_kind(given, value):
    """``value`` as a float when ``given`` is a scalar, else as a float64 array."""
    return float(value) if np.ndim(given) == 0 else np.asarray(value, dtype=np.float64)


def project(P):
    """Rows of ``P`` divided by their length (rows of length zero are left as they are:
    a mean at the sphere's centre has no direction)."""
    P = np.asarray(P, dtype=np.float64)
    norm = np.sqrt((P * P).sum(axis=1))
    ok = norm > 0
    out = P.copy()
    out[ok] = P[ok] / norm[ok, None]
    return out


class Metric:
    """The Euclidean metric: rows are coordinates, distances are Euclidean."""

    name = "euclidean"
    #: The climb runs on the unit sphere (engines project every step).
    sphere = False
    #: What the bandwidth is, for messages.
    unit = "in the data's units"
    #: Largest bandwidth that means something (a chord of 2 spans the sphere).
    max_bandwidth = math.inf

    def params(self) -> dict:
        """The metric's parameters (``metric_params``)."""
        return {}

    def check(self, n_features: int) -> None:
        """Raise when rows of ``n_features`` columns cannot be data of this metric."""

    def embed(self, X):
        """The rows as Euclidean coordinates (float64)."""
        return X

    def unembed(self, P):
        """Positions as the data's form (centres, seeds, history)."""
        return P

    def to_chord(self, h):
        """A distance of the metric (a float or an array of them) as a distance between
        embedded coordinates."""
        return _same_kind(h, h)

    def from_chord(self, c):
        """Inverse of :meth:`to_chord`."""
        return _same_kind(c, c)

    def check_bandwidth(self, h, name="bandwidth") -> float:
        """A given distance parameter, checked against the metric's range."""
        h = float(h)
        if not 0 < h <= self.max_bandwidth:
            raise ValueError(
                f"The {name!r} parameter with metric={self.name!r} is {self.unit} and must "
                f"be in (0, {self.max_bandwidth:.10g}]; got {h!r}.")
        return h

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


Euclidean = Metric


class Haversine(Metric):
    """(latitude, longitude) in degrees on a sphere of ``radius``; great-circle distances
    in the units of ``radius`` (kilometres for the Earth's default)."""

    name = "haversine"
    sphere = True

    def __init__(self, radius: float = EARTH_RADIUS_KM):
        if isinstance(radius, bool) or not isinstance(radius, (int, float, np.number)) or not (
                math.isfinite(float(radius)) and float(radius) > 0):
            raise ValueError("The 'radius' of metric='haversine' (metric_params) must be a "
                             f"positive number (kilometres by default); got {radius!r}.")
        self.radius = float(radius)
        self.max_bandwidth = math.pi * self.radius
        default = self.radius == EARTH_RADIUS_KM
        self.unit = ("a great-circle distance in kilometres" if default else
                     f"a great-circle distance on a sphere of radius {self.radius:g}")

    def params(self) -> dict:
        return {"radius": self.radius}

    def check(self, n_features):
        if n_features != 2:
            raise ValueError(
                "metric='haversine' needs X with 2 columns, (latitude, longitude) in "
                f"degrees; got {n_features} columns.")

    def embed(self, X):
        X = np.asarray(X, dtype=np.float64)
        self.check(X.shape[1])
        lat = X[:, 0]
        bad = np.flatnonzero(~((lat >= -90.0) & (lat <= 90.0)))
        if bad.size:
            raise ValueError(
                "metric='haversine' reads the first column of X as latitudes in degrees, "
                f"which must be in [-90, 90]; row {int(bad[0])} has {float(lat[bad[0]])!r}. "
                "(Columns are (latitude, longitude): swap them if they are the other way "
                "round.)")
        lat = np.radians(lat)
        lon = np.radians(X[:, 1])
        c = np.cos(lat)
        return np.column_stack([c * np.cos(lon), c * np.sin(lon), np.sin(lat)])

    def unembed(self, P):
        P = np.asarray(P, dtype=np.float64)
        if P.shape[0] == 0:
            return np.zeros((0, 2))
        lat = np.degrees(np.arctan2(P[:, 2], np.hypot(P[:, 0], P[:, 1])))
        lon = np.degrees(np.arctan2(P[:, 1], P[:, 0]))
        lon = np.where(lon >= 180.0, lon - 360.0, lon)
        return np.column_stack([lat, lon])

    def to_chord(self, h):
        return _same_kind(h, 2.0 * np.sin(np.minimum(np.asarray(h, dtype=np.float64)
                                                      / self.radius, math.pi) / 2.0))

    def from_chord(self, c):
        return _same_kind(c, 2.0 * self.radius * np.arcsin(
            np.minimum(np.asarray(c, dtype=np.float64), 2.0) / 2.0))


class Cosine(Metric):
    """Directions in any dimension; cosine distances ``1 - cos(angle)``."""

    name = "cosine"
    sphere = True
    unit = "a cosine distance (1 - cos(angle))"
    max_bandwidth = 2.0

    def check(self, n_features):
        if n_features < 2:
            raise ValueError("metric='cosine' needs X with at least 2 columns (directions); "
                             f"got {n_features}.")

    def embed(self, X):
        X = np.asarray(X, dtype=np.float64)
        self.check(X.shape[1])
        with np.errstate(over="ignore", under="ignore"):
            norm2 = np.einsum("ij,ij->i", X, X)
        if X.shape[0] and np.all(np.abs(norm2 - 1.0) <= 8 * np.finfo(np.float64).eps):
            return X  # unit vectors already (normalised embeddings): no copy
        # Divided by the largest |coordinate| first: the squares can neither overflow
        # nor underflow.  One array of X's size, written in place.
        Y = np.abs(X)
        big = Y.max(axis=1) if X.shape[0] else np.zeros(0)
        zero = np.flatnonzero(big == 0)
        if zero.size:
            raise ValueError(
                f"metric='cosine' needs directions, but row {int(zero[0])} of X is zero "
                f"({zero.size} zero row(s)): a zero vector has no direction. Drop those "
                "rows first.")
        np.divide(X, big[:, None], out=Y)
        Y /= np.sqrt(np.einsum("ij,ij->i", Y, Y))[:, None]
        return Y

    def unembed(self, P):
        return project(P)

    def to_chord(self, h):
        return _same_kind(h, np.sqrt(2.0 * np.minimum(np.asarray(h, dtype=np.float64), 2.0)))

    def from_chord(self, c):
        return _same_kind(c, np.minimum(np.asarray(c, dtype=np.float64), 2.0) ** 2 / 2.0)


METRICS = {"euclidean": Euclidean, "haversine": Haversine, "cosine": Cosine}


def get_metric(name, params=None) -> Metric:
    """The metric ``name`` with its ``params`` (``metric_params``); clear errors."""
    if isinstance(name, Metric):
        return name
    if name not in METRICS:
        raise ValueError(f"The 'metric' parameter must be one of {sorted(METRICS)}; got "
                         f"{name!r}.")
    params = dict(params or {})
    try:
        return METRICS[name](**params)
    except TypeError:
        allowed = {"euclidean": [], "haversine": ["radius"], "cosine": []}[name]
        raise ValueError(
            f"metric_params {params!r} do not apply to metric={name!r}; its parameters "
            f"are {allowed}.") from None
