"""marker.off-line measures in Gauss-Krüger; markers surely within the tolerance by their distance in
degrees are not projected. Across China (west to east, south to north) a marker just inside the
tolerance is not reported and one just outside is, with its distance as measured in GK."""
import json

import pytest
from pyproj import Transformer
from shapely.geometry import LineString, MultiLineString, Point

from diming.check import run_check
from diming.layers.store import transaction

PLACES = [(75.7, 38.0), (100.2, 22.0), (116.4, 39.9), (121.4, 31.2), (134.9, 48.0)]
OFFSETS = [0.0, 2.0, 4.5, 4.98, 5.02, 5.5, 40.0]  # metres from the line in GK; the tolerance is 5 m


def gk(lon):
    zone = round(lon / 3)
    return Transformer.from_crs(4490, 4509 + zone, always_xy=True), Transformer.from_crs(4509 + zone, 4490, always_xy=True)


def build(project):
    lines, markers = [], []
    for n, (lon, lat) in enumerate(PLACES):
        line_id = f"{n + 1:04d}"
        a, b = (lon, lat), (lon + 0.02, lat + 0.05)
        lines.append({"line_id": line_id, "name": f"界线{line_id}", "left_code": "1", "right_code": "2",
                      "geometry": MultiLineString([[a, b]])})
        forward, back = gk(lon)
        # the middle of the edge and the edge's direction in GK, where the edge is straight to millimetres
        (xa, ya), (xb, yb) = forward.transform(*a), forward.transform(*b)
        mid = LineString([a, b]).interpolate(0.5, normalized=True)
        xm, ym = forward.transform(mid.x, mid.y)
        length = ((xb - xa) ** 2 + (yb - ya) ** 2) ** 0.5
        nx, ny = -(yb - ya) / length, (xb - xa) / length
        for k, offset in enumerate(OFFSETS):
            lon_m, lat_m = back.transform(xm + offset * nx, ym + offset * ny)
            markers.append({"marker_id": f"{line_id}{k + 1:03d}Q", "line_id": line_id, "marker_type": "单立",
                            "geometry": Point(lon_m, lat_m)})
    with transaction(project, by="t") as tx:
        tx.insert("boundary_lines", lines)
        tx.insert("boundary_markers", markers)


def test_off_line_markers_across_china(project, run):
    build(project)
    found = {f.id: f for f in run_check(project, ["marker.off-line"])}
    expected = {f"{n + 1:04d}{k + 1:03d}Q": offset for n in range(len(PLACES))
                for k, offset in enumerate(OFFSETS) if offset > 5}
    assert set(found) == set(expected)
    for mid, offset in expected.items():
        assert found[mid].measures["distance_m"] == pytest.approx(offset, abs=0.01)
    out = json.loads(run(project, "check", "--rules", "marker.off-line", "--format", "json").output)
    assert sorted(f["id"] for f in out["findings"]) == sorted(expected)


def test_a_marker_far_from_its_zone_is_measured_in_gk_all_the_same(project):
    """Outside China (here 140°E, past the last zone's meridian) the bounds do not hold: such a
    marker is measured in GK whatever its distance in degrees."""
    from diming.boundaries.marker_checks import _surely_within

    line = MultiLineString([[(140.0, 40.0), (140.0, 40.1)]])
    near = [Point(140.0, 40.05), Point(130.0 + 1e-6, 40.05)]
    lines = [line, MultiLineString([[(130.0, 40.0), (130.0, 40.1)]])]
    assert list(_surely_within(near, lines, 5.0)) == [False, True]
    assert list(_surely_within(near, lines, 0.005)) == [False, False]  # no room for the 5 mm of a projected edge
