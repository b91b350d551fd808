"""What the geometry rules measure, on data as it is stored: CGCS2000 lon/lat with edges straight
in degrees. Long diagonal edges with a vertex of a neighbour on them (T-junctions), slivers of
coordinate rounding, and real overlaps, gaps, distances and lengths measured against pyproj's
geodesic figures."""
import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon, box

from diming.check import run_check
from diming.layers.crs import STRAIGHT_DEGREES, ellipsoidal_area, project
from diming.layers.settings import set_setting
from diming.layers.store import transaction

GEOD = Geod(ellps="GRS80")  # the CGCS2000 ellipsoid


def geodesic_area(geom) -> float:
    """pyproj's geodesic area of ``geom`` with its edges cut to 10 m, so that geodesic and
    degree-straight edges coincide: the reference figure."""
    return abs(GEOD.geometry_area_perimeter(shapely.segmentize(geom, 0.0001))[0])


def insert(project, layer, rows):
    with transaction(project, by="测试员") as tx:
        tx.insert(layer, rows)


def area(code, name, level, parent, polygon):
    return {"code": code, "name": name, "level": level, "parent_code": parent, "geometry": MultiPolygon([polygon])}


def t_junction(a, b, t, side=0.05):
    """Two areas sharing the long edge a–b (in degrees); the right one has a vertex at a + t·(b − a),
    on the edge up to floating point, as a neighbour's vertex is. Returns (left, right, parent)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = b - a
    n = np.array([-d[1], d[0]]) / np.hypot(*d) * side  # the left normal
    tee = a + t * d
    left = Polygon([a, b, b + n, a + n])
    right = Polygon([a, a - n, b - n, b, tee])
    parent = Polygon([a - n, b - n, b, b + n, a + n, a])
    return left, right, parent


def test_degree_straight_edges_keep_their_course_in_gk():
    """The densifying step of crs.project: a degree-straight edge of STRAIGHT_DEGREES, anywhere in
    China and in any direction, departs from its true image in GK by under 5 mm."""
    worst = 0.0
    for lat in (20.0, 36.0, 53.0):
        for off in (-1.49, 0.0, 1.49):
            for angle in np.linspace(0, np.pi, 9):
                a = (120 + off, lat)
                b = (a[0] + 2 * STRAIGHT_DEGREES * np.cos(angle), a[1] + 2 * STRAIGHT_DEGREES * np.sin(angle))
                edge = LineString([a, b])
                true = shapely.segmentize(edge, STRAIGHT_DEGREES / 100)
                mine, image = project(np.array([edge, true], dtype=object), 4549)
                worst = max(worst, shapely.hausdorff_distance(mine, image))
    assert worst < 0.005


def test_projecting_keeps_a_thin_valid_polygon():
    """A gap left by a seeded bite in benchmarks/make_national.py: valid, with a thin tail that
    GEOS's densify (which rebuilds polygons with buffer(0)) turns into an empty polygon."""
    gap = shapely.from_wkt(
        "POLYGON ((119.49673761338313 35.69553751470783, 119.49629635547223 35.69776275762408, "
        "119.4978604419913 35.68987514278271, 119.49787801912217 35.67963784416899, "
        "119.49786452897823 35.68749479380037, 119.48188929052337 35.68749479380037, "
        "119.48188929052337 35.69553751470783, 119.49673761338313 35.69553751470783))")
    assert gap.is_valid
    [metric] = project(np.array([gap], dtype=object), 4549)
    assert metric.geom_type == "Polygon" and shapely.area(metric) == pytest.approx(
        ellipsoidal_area(np.array([gap], dtype=object))[0], rel=1e-3)


def test_ellipsoidal_area_matches_geodesic_area():
    shapes = [box(120.0, 36.0, 120.1, 36.1), Polygon([(120, 36), (120.2, 36.2), (120.3, 36.05)]),
              box(100, 25, 100.5, 25.3).difference(box(100.1, 25.1, 100.2, 25.2)),
              MultiPolygon([box(120, 36, 120.01, 36.01), box(121, 40, 121.01, 40.01)])]
    measured = ellipsoidal_area(np.array(shapes + [Point(120, 36), None], dtype=object))
    assert measured[:4] == pytest.approx([geodesic_area(s) for s in shapes], rel=1e-9)
    assert list(measured[4:]) == [0.0, 0.0]


def test_t_junction_on_a_20_km_diagonal_edge_is_neither_overlap_nor_gap(project):
    left, right, parent = t_junction((120.0, 36.0), (120.15, 36.13), 0.37)
    insert(project, "admin_areas", [area("379901", "云溪区", "county", None, parent),
                                    area("379901001", "甲镇", "town", "379901", left),
                                    area("379901002", "乙镇", "town", "379901", right)])
    assert run_check(project, ["area"]) == []
    shared = shapely.intersection(left, right)
    assert ellipsoidal_area(np.array([shared], dtype=object))[0] < 1e-3


def test_random_diagonal_t_junctions_are_neither_overlaps_nor_gaps(project):
    rng = np.random.default_rng(10)
    rows, shared = [], []
    for k in range(12):
        a = (100.0 + 2 * k + rng.uniform(0, 0.5), rng.uniform(22, 45))
        angle, length = rng.uniform(0, 2 * np.pi), rng.uniform(0.1, 0.25)
        b = (a[0] + length * np.cos(angle), a[1] + length * np.sin(angle))
        left, right, parent = t_junction(a, b, rng.uniform(0.1, 0.9))
        county = f"3799{k:02d}"
        rows += [area(county, f"县{k}", "county", None, parent), area(county + "001", f"甲{k}", "town", county, left),
                 area(county + "002", f"乙{k}", "town", county, right)]
        shared.append(shapely.intersection(left, right))
    insert(project, "admin_areas", rows)
    assert run_check(project, ["area"]) == []
    assert ellipsoidal_area(np.array(shared, dtype=object)).max() < 1e-3


# a 20 km diagonal edge near the edge of GK zone 40, where projected areas are 0.04 % too large
NEAR_ZONE_EDGE = (121.35, 36.0), (121.5, 36.13)


def test_a_real_overlap_is_measured_as_its_geodesic_area(project):
    left, right, parent = t_junction(*NEAR_ZONE_EDGE, 0.37)
    widened = shapely.buffer(left, 0.001, join_style="mitre")  # over the shared edge by 0.001°
    insert(project, "admin_areas", [area("379901001", "甲镇", "town", None, widened),
                                    area("379901002", "乙镇", "town", None, right)])
    [overlap] = run_check(project, ["area.overlap"])
    assert overlap.measures["area_m2"] == pytest.approx(geodesic_area(shapely.intersection(widened, right)), rel=1e-6)


def test_a_real_gap_is_measured_as_its_geodesic_area(project):
    left, right, parent = t_junction(*NEAR_ZONE_EDGE, 0.37)
    narrowed = shapely.difference(right, shapely.buffer(left, 0.001, join_style="mitre"))
    insert(project, "admin_areas", [area("379901", "云溪区", "county", None, parent),
                                    area("379901001", "甲镇", "town", "379901", left),
                                    area("379901002", "乙镇", "town", "379901", narrowed)])
    [gap] = run_check(project, ["area"])
    assert gap.rule == "area.gap"
    assert gap.measures["area_m2"] == pytest.approx(geodesic_area(parent.difference(left.union(narrowed))), rel=1e-6)


# ---- slivers: the width tolerance --------------------------------------------------------------

ORIGIN = (500000.0, 3985543.0)  # GK zone 40 (EPSG:4549), about 120°E 36°N


def surveyed(polygon):
    """A polygon surveyed in GK (local metres from ORIGIN) and stored in degrees, as delivered."""
    moved = shapely.affinity.translate(shapely.segmentize(polygon, 100.0), *ORIGIN)
    return project(np.array([moved], dtype=object), 4549, inverse=True)[0]


def test_millimetre_slivers_of_surveyed_data_are_no_findings(project):
    """West and east share the edge x = 1000 (2 km); east was delivered 1.5 mm into the west
    (3 m² of overlap), a third area leaves a 2 mm gap to it (3 m²): rounding, not findings."""
    insert(project, "admin_areas", [
        area("379901", "云溪区", "county", None, surveyed(box(0, 0, 3000, 2000))),
        area("379901001", "甲镇", "town", "379901", surveyed(box(0, 0, 1000, 2000))),
        area("379901002", "乙镇", "town", "379901", surveyed(box(999.9985, 0, 2000, 2000))),
        area("379901003", "丙镇", "town", "379901", surveyed(box(2000.002, 0, 3000, 2000)))])
    assert run_check(project, ["area"]) == []
    set_setting(project, "area_sliver_width_m", "0")  # no width tolerance: the area decides alone
    found = {f.rule: f for f in run_check(project, ["area"])}
    assert found["area.overlap"].measures["area_m2"] == pytest.approx(3.0, rel=0.01)
    assert found["area.gap"].measures["area_m2"] == pytest.approx(4.0, rel=0.01)


def test_a_1_m_gap_over_1_km_is_a_finding(project, run):
    insert(project, "admin_areas", [
        area("379901", "云溪区", "county", None, surveyed(box(0, 0, 2001, 1000))),
        area("379901001", "甲镇", "town", "379901", surveyed(box(0, 0, 1000, 1000))),
        area("379901002", "乙镇", "town", "379901", surveyed(box(1001, 0, 2001, 1000)))])
    [gap] = run_check(project, ["area"])
    assert gap.rule == "area.gap" and gap.measures["area_m2"] == pytest.approx(1000, rel=1e-3)
    # and a width tolerance wider than the gap turns it into a sliver
    assert run(project, "config", "area_sliver_width_m", "1.5").exit_code == 0
    assert run_check(project, ["area"]) == []


# ---- distances and lengths along long diagonal edges -------------------------------------------

A, B = (120.0, 36.0), (120.15, 36.13)  # 20 km, near the central meridian of GK zone 40
TEE = tuple(np.asarray(A) + 0.37 * (np.asarray(B) - A))


@pytest.fixture
def diagonal(project):
    left, right, _ = t_junction(A, B, 0.5)
    left = Polygon([A, B, *list(left.exterior.coords)[2:4]])  # no vertex on the edge but its ends
    right = Polygon([A, *list(right.exterior.coords)[1:4]])
    insert(project, "admin_areas", [area("379901", "云溪区", "county", None, left),
                                    area("379902", "松阳区", "county", None, right)])
    return project


def test_a_boundary_line_with_a_vertex_on_the_shared_edge_matches_it(diagonal):
    insert(diagonal, "boundary_lines", [{"line_id": "9101", "name": "云溪区—松阳区界线", "left_code": "379901",
                                         "right_code": "379902", "geometry": MultiLineString([[A, TEE, B]])}])
    assert run_check(diagonal, ["line"]) == []


def test_a_marker_on_a_long_diagonal_line_is_on_it(diagonal):
    insert(diagonal, "boundary_lines", [{"line_id": "9101", "name": "云溪区—松阳区界线", "left_code": "379901",
                                         "right_code": "379902", "geometry": MultiLineString([[A, B]])}])
    insert(diagonal, "boundary_markers", [{"marker_id": "9101001Q", "line_id": "9101", "marker_type": "单立",
                                           "geometry": Point(TEE)}])
    assert run_check(diagonal, ["marker.off-line"]) == []


def test_a_proposal_along_a_long_diagonal_road_shares_its_whole_length(diagonal):
    insert(diagonal, "roads", [{"road_id": "R1", "name": "枫安大道", "district": "379901", "status": "in_use",
                                "geometry": MultiLineString([[A, B]])}])
    insert(diagonal, "road_proposals", [{"proposal_id": "P1", "name": "云帆路", "district": "379901",
                                         "status": "submitted", "geometry": MultiLineString([[A, TEE, B]])}])
    [f] = [f for f in run_check(diagonal, ["proposal.overlaps-road"])]
    assert f.measures["length_m"] == pytest.approx(GEOD.line_length([A[0], B[0]], [A[1], B[1]]), abs=1.0)
