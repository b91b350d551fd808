"""Coordinate reference systems: CGCS2000 storage, Gauss-Krüger zones for metric work.

Storage is CGCS2000 geographic (EPSG:4490), where an edge between two vertices is straight in
degrees. Lengths, distances and buffers are computed in the CGCS2000 3° Gauss-Krüger zone of the
data, never in degrees; there such an edge is a curve, so :func:`project` cuts edges short before
projecting their vertices. Areas are measured on the ellipsoid itself (:func:`ellipsoidal_area`).
Plane coordinates follow the surveyors' convention: X is the northing, Y the easting.
"""
from __future__ import annotations

from functools import lru_cache

from diming.errors import DimingError

# Longitude/latitude box around China's territory; a point outside it usually means swapped axes
# or a wrong CRS.
CHINA_BOUNDS = (73.0, 3.0, 136.0, 54.0)


def gk_zone(longitude: float) -> int:
    """The 3° Gauss-Krüger zone number whose central meridian (3 × zone) is nearest ``longitude``."""
    zone = int(round(longitude / 3.0))
    if not 25 <= zone <= 45:
        raise DimingError(f"经度 {longitude:.4f} 不在中国范围内 (longitude outside China's GK zones 25–45)")
    return zone


def gk_epsg(zone: int, prefixed: bool = False) -> int:
    """EPSG code of CGCS2000 3° GK zone ``zone``: 4488+zone with the zone prefixed to Y, else 4509+zone."""
    return 4488 + zone if prefixed else 4509 + zone


def is_gk_epsg(epsg: int) -> bool:
    return 4513 <= epsg <= 4554


def metric_epsg(frame) -> int:
    """The GK zone (unprefixed) for a GeoDataFrame in EPSG:4490, from its centre longitude."""
    minx, _, maxx, _ = frame.total_bounds
    return gk_epsg(gk_zone((minx + maxx) / 2.0))


def to_metric(frame):
    """``frame`` reprojected to the GK zone of its centre, for work in metres."""
    return frame.to_crs(epsg=metric_epsg(frame))


@lru_cache(maxsize=64)
def _transformer(src: int, dst: int):
    from pyproj import Transformer

    return Transformer.from_crs(src, dst, always_xy=True)


def _is_projected(epsg: int) -> bool:
    from pyproj import CRS

    return CRS.from_epsg(epsg).is_projected


def to_lonlat(x, y, epsg: int):
    """Longitude and latitude (CGCS2000) of coordinates given in ``epsg``.

    For a projected CRS ``x`` is the northing (X) and ``y`` the easting (Y), as Chinese surveys
    write them; for a geographic one ``x`` is the longitude and ``y`` the latitude.
    """
    if _is_projected(epsg):
        x, y = y, x
    return _transformer(epsg, 4490).transform(x, y)


def from_lonlat(lon, lat, epsg: int):
    """Coordinates in ``epsg`` of CGCS2000 longitude/latitude: (X northing, Y easting) when projected."""
    a, b = _transformer(4490, epsg).transform(lon, lat)
    return (b, a) if _is_projected(epsg) else (a, b)


def inside_china(lon, lat):
    """Boolean array: is each point inside :data:`CHINA_BOUNDS`?"""
    import numpy as np

    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    minx, miny, maxx, maxy = CHINA_BOUNDS
    return (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)


def outside_china(x, y) -> str:
    """The import's message for a point at ``x``, ``y`` that is not in China (or cannot be placed)."""
    return f"坐标超出中国范围 ({x:.4f}, {y:.4f}): X/Y 是否颠倒, 或坐标系不对? (swapped axes or wrong CRS)"


def search_degrees(metres: float) -> float:
    """Degrees that span at least ``metres`` in both directions anywhere in China, for search
    boxes only (1° of longitude is at least 60 km up to 57°N)."""
    return metres / 60000.0


def feature_epsgs(geometries):
    """The GK zone EPSG (unprefixed) of each geometry's own centre, so national data is measured
    in the zone each feature lies in rather than one zone stretched across the country."""
    import numpy as np
    import shapely

    bounds = shapely.bounds(np.asarray(geometries, dtype=object))
    centre = (bounds[:, 0] + bounds[:, 2]) / 2.0
    zones = np.clip(np.rint(np.nan_to_num(centre, nan=120.0) / 3.0), 25, 45).astype(int)
    return 4509 + zones


# Longest edge, in degrees, projected as a straight line in GK. An edge straight in degrees bends
# in GK: a 0.2° (20 km) edge by 8 m, enough to invent a 100,000 m² overlap or a marker 8 m off its
# line where another feature has a vertex on the edge. A 0.005° edge departs from its true image
# by under 5 mm anywhere in China (tests/test_measures.py measures it).
STRAIGHT_DEGREES = 0.005


def _cut_edges(geometries):
    """``geometries`` with every edge cut into pieces of at most :data:`STRAIGHT_DEGREES`.

    Polygons are cut ring by ring and rebuilt: GEOS's densify of a polygon passes the result
    through buffer(0), which rebuilds it and can lose a valid thin one altogether.
    """
    import numpy as np
    import shapely

    out = shapely.segmentize(geometries, STRAIGHT_DEGREES)
    types = shapely.get_type_id(geometries)
    polygonal = np.flatnonzero(((types == 3) | (types == 6)) & ~shapely.is_empty(geometries))
    if len(polygonal):
        parts, of_geometry = shapely.get_parts(geometries[polygonal], return_index=True)
        full = ~shapely.is_empty(parts)
        parts, of_geometry = parts[full], of_geometry[full]
        rings, of_part = shapely.get_rings(parts, return_index=True)
        # the first ring of each part is its shell, the rest its holes
        parts = shapely.polygons(shapely.segmentize(rings, STRAIGHT_DEGREES), indices=of_part)
        multi = shapely.multipolygons(parts, indices=of_geometry)
        single = types[polygonal] == 3
        out[polygonal] = np.where(single, shapely.get_geometry(multi, 0), multi)
    return out


def project(geometries, epsgs, *, inverse: bool = False):
    """Geometries from EPSG:4490 to the GK zone given for each (``epsgs``), or back with ``inverse``.

    Forward, edges longer than :data:`STRAIGHT_DEGREES` are first cut into pieces, so what is
    straight in degrees (as stored) keeps its true course in GK to millimetres.
    """
    import numpy as np
    import shapely

    geometries = np.asarray(geometries, dtype=object)
    if not inverse:
        geometries = _cut_edges(geometries)
    epsgs = np.broadcast_to(np.asarray(epsgs), geometries.shape)
    out = np.empty(geometries.shape, dtype=object)
    for epsg in np.unique(epsgs):
        mask = epsgs == epsg
        transformer = _transformer(int(epsg), 4490) if inverse else _transformer(4490, int(epsg))
        out[mask] = shapely.transform(geometries[mask], lambda xy, t=transformer: np.column_stack(
            t.transform(xy[:, 0], xy[:, 1])))
    return out


# CGCS2000 ellipsoid (GRS 80)
_A = 6378137.0
_F = 1 / 298.257222101
_E2 = _F * (2 - _F)
_E = _E2 ** 0.5
# 3-point Gauss-Legendre nodes and weights on [0, 1]: exact for q along an edge to far below 1 mm²
_NODES = (0.5 - 0.5 * 0.6 ** 0.5, 0.5, 0.5 + 0.5 * 0.6 ** 0.5)
_WEIGHTS = (5 / 18, 8 / 18, 5 / 18)


def _authalic_q(lat):
    """q(φ) of the authalic latitude: on the ellipsoid, dA = a²/2 · dq · dλ."""
    import numpy as np

    s = np.sin(lat)
    return (1 - _E2) * (s / (1 - _E2 * s * s) + np.arctanh(_E * s) / _E)


def ellipsoidal_area(geometries):
    """Area in m² on the CGCS2000 ellipsoid of each polygonal geometry in EPSG:4490 (0 for others).

    The polygon is taken as stored, with edges straight in degrees: by Green's theorem its area is
    −a²/2 ∮ q(φ) dλ, integrated exactly along each edge. No projection, so no edge bends and no
    zone's scale error; an overlap that is a sliver in degrees measures as one.
    """
    import numpy as np
    import shapely

    geometries = np.asarray(geometries, dtype=object)
    parts, of_geometry = shapely.get_parts(geometries, return_index=True)
    rings, of_part = shapely.get_rings(parts, return_index=True)
    coords, of_ring = shapely.get_coordinates(rings, return_index=True)
    out = np.zeros(geometries.shape, dtype=float)
    if not len(coords):
        return out
    lon, lat = np.radians(coords[:, 0]), np.radians(coords[:, 1])
    # q relative to each ring's first vertex: the same area (∮ dλ = 0), without cancelling large terms
    first = np.flatnonzero(np.r_[True, of_ring[1:] != of_ring[:-1]])
    q0 = np.repeat(_authalic_q(lat[first]), np.diff(np.r_[first, len(of_ring)]))
    edge = np.flatnonzero(of_ring[1:] == of_ring[:-1])
    lat_a, dlat = lat[edge], lat[edge + 1] - lat[edge]
    mean_q = sum(w * _authalic_q(lat_a + t * dlat) for t, w in zip(_NODES, _WEIGHTS)) - q0[edge]
    ring_area = np.abs(np.bincount(of_ring[edge], weights=-_A * _A / 2 * mean_q * (lon[edge + 1] - lon[edge]),
                                   minlength=len(rings)))
    # the first ring of each polygon is its exterior, the others are holes
    exterior = np.r_[True, of_part[1:] != of_part[:-1]]
    signed = np.where(exterior, ring_area, -ring_area)
    out[:] = np.bincount(of_geometry[of_part], weights=signed, minlength=len(geometries))
    return out
