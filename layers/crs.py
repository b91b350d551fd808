"""Coordinate reference systems: CGCS2000 storage, Gauss-Krüger zones for metric work.

Storage is CGCS2000 geographic (EPSG:4490). Lengths, areas, distances and buffers are computed in
the CGCS2000 3° Gauss-Krüger zone of the data's centre longitude, never in degrees. Plane
coordinates follow the surveyors' convention: X is the northing, Y the easting.
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


def feature_epsgs(geometries):
    """The GK zone EPSG (unprefixed) of each geometry's own centre, so national data is measured
    in the zone each feature lies in rather than one zone stretched across the country."""
    import numpy as np
    import shapely

    bounds = shapely.bounds(np.asarray(geometries, dtype=object))
    centre = (bounds[:, 0] + bounds[:, 2]) / 2.0
    zones = np.clip(np.rint(np.nan_to_num(centre, nan=120.0) / 3.0), 25, 45).astype(int)
    return 4509 + zones


def project(geometries, epsgs, *, inverse: bool = False):
    """Geometries from EPSG:4490 to the GK zone given for each (``epsgs``), or back with ``inverse``."""
    import numpy as np
    import shapely

    geometries = np.asarray(geometries, dtype=object)
    epsgs = np.broadcast_to(np.asarray(epsgs), geometries.shape)
    out = np.empty(geometries.shape, dtype=object)
    for epsg in np.unique(epsgs):
        mask = epsgs == epsg
        transformer = _transformer(int(epsg), 4490) if inverse else _transformer(4490, int(epsg))
        out[mask] = shapely.transform(geometries[mask], lambda xy, t=transformer: np.column_stack(
            t.transform(xy[:, 0], xy[:, 1])))
    return out
