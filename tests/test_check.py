"""diming check: the runner, outputs, exit codes, exceptions, and every area/line/marker/proposal
rule on small hand-made layers (one case that fires, one that must not)."""
import json

import numpy as np
import pyogrio
import pytest
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, box

from diming.check import accept, rules, run_check
from diming.errors import DimingError
from diming.layers.crs import project as reproject
from diming.layers.settings import set_setting
from diming.layers.store import audit_rows, transaction

ORIGIN = (500000.0, 3985543.0)  # GK zone 40 (EPSG:4549) easting/northing of about 120°E 36°N


def geo(geom):
    """Local metres (x east, y north from ORIGIN) to EPSG:4490, as stored. Edges are cut to 100 m
    first, as surveyed outlines are: a 20 km edge straight in GK is not straight in degrees (an
    invalid shape is kept as drawn: GEOS would rebuild it while cutting its edges)."""
    moved = shapely.affinity.translate(shapely.segmentize(geom, 100.0) if geom.is_valid else geom, *ORIGIN)
    out = reproject(np.array([moved], dtype=object), 4549, inverse=True)[0]
    if out.geom_type == "Polygon":
        return MultiPolygon([out])
    if out.geom_type == "LineString":
        return MultiLineString([out])
    return out


def add(project, layer, rows):
    with transaction(project, by="测试员") as tx:
        tx.insert(layer, [dict(r, geometry=geo(r["geometry"])) if r.get("geometry") is not None else r for r in rows])


def area(code, name, level, parent, geom):
    return {"code": code, "name": name, "level": level, "parent_code": parent, "geometry": geom}


def found(project, prefix):
    return [f for f in run_check(project, [prefix])]


# two counties side by side, 10 km × 10 km each, sharing the edge x = 10000
WEST = box(0, 0, 10000, 10000)
EAST = box(10000, 0, 20000, 10000)


@pytest.fixture
def counties(project):
    add(project, "admin_areas", [area("379901", "云溪区", "county", None, WEST),
                                 area("379902", "松阳区", "county", None, EAST)])
    return project


# ---- areas -------------------------------------------------------------------------------------

def test_area_invalid_fires_with_reason_and_location(project):
    bowtie = shapely.Polygon([(0, 0), (1000, 1000), (1000, 0), (0, 1000)])
    add(project, "admin_areas", [area("379901", "云溪区", "county", None, bowtie),
                                 area("379902", "松阳区", "county", None, EAST)])
    [f] = found(project, "area.invalid")
    assert f.id == "379901" and "Self-intersection" in f.message and f.geometry.geom_type == "Point"
    assert abs(f.geometry.x - geo(Point(500, 500)).x) < 1e-6


def test_area_invalid_silent_on_valid_areas(counties):
    assert found(counties, "area.invalid") == []


def test_area_overlap_fires_with_area_and_geometry(counties):
    add(counties, "admin_areas", [area("379903", "鹤山县", "county", None, box(19000, 0, 30000, 10000)),
                                  area("379904", "小镇", "town", "379901", box(0, 0, 500, 500))])
    [f] = found(counties, "area.overlap")
    assert (f.id, f.related[0]["id"]) == ("379902", "379903")
    assert f.measures["area_m2"] == pytest.approx(10_000_000, rel=1e-3)
    assert f.geometry.geom_type == "Polygon"  # the overlap itself, not the areas


def test_area_overlap_silent_on_neighbours_and_below_tolerance(counties):
    assert found(counties, "area.overlap") == []
    # 0.5 m × 1 m overlap is under the default 1 m² tolerance
    add(counties, "admin_areas", [area("379903", "鹤山县", "county", None,
                                       shapely.Polygon([(20000, 0), (20000, 10000), (20000, 10000.5),
                                                        (19999.5, 10001.5), (19999.5, 10002.5), (30000, 10002.5),
                                                        (30000, 0), (20000, 0)]))])
    assert found(counties, "area.overlap") == []


def test_area_gap_inside_parent_fires_and_lists_neighbours(project):
    add(project, "admin_areas", [
        area("379900", "青岚市", "city", None, box(0, 0, 20000, 10000)),
        area("379901", "云溪区", "county", "379900", WEST),
        area("379902", "松阳区", "county", "379900", box(10500, 0, 20000, 10000)),  # 500 m strip missing
    ])
    [f] = found(project, "area.gap")
    assert f.id == "379900" and {r["id"] for r in f.related} == {"379901", "379902"}
    assert f.measures["area_m2"] == pytest.approx(5_000_000, rel=1e-3)


def test_area_gap_hole_between_areas_without_parent_geometry(project):
    ring = box(0, 0, 3000, 3000).difference(box(1000, 1000, 2000, 2000))
    add(project, "admin_areas", [area("379901001", "甲镇", "town", "379901", ring.intersection(box(0, 0, 1500, 3000))),
                                 area("379901002", "乙镇", "town", "379901", ring.intersection(box(1500, 0, 3000, 3000)))])
    [f] = found(project, "area.gap")
    assert f.measures["area_m2"] == pytest.approx(1_000_000, rel=1e-3)


def test_area_gap_silent_when_covered_or_enclave_of_other_parent(project):
    add(project, "admin_areas", [
        area("379901", "云溪区", "county", None, box(0, 0, 3000, 3000).difference(box(1000, 1000, 2000, 2000))),
        area("379902", "松阳区", "county", None, box(1000, 1000, 2000, 2000)),  # the enclave is its own county
        area("379901001", "甲镇", "town", "379901", box(0, 0, 3000, 3000).difference(box(1000, 1000, 2000, 2000))),
    ])
    assert found(project, "area.gap") == []


def test_accepted_gap_is_reported_as_accepted_and_audited(project, run):
    add(project, "admin_areas", [
        area("379900", "青岚市", "city", None, box(0, 0, 20000, 10000)),
        area("379901", "云溪区", "county", "379900", WEST),
        area("379902", "松阳区", "county", "379900", box(10500, 0, 20000, 10000)),
    ])
    [f] = found(project, "area.gap")
    assert run(project, "check", "--rules", "area").exit_code == 1
    result = run(project, "accept", "area.gap", *f.keys, "--reason", "飞地, 经双方确认")
    assert result.exit_code == 0 and "EX-0001" in result.output
    [f] = found(project, "area.gap")
    assert f.accepted and f.exception_id == "EX-0001"
    out = json.loads(run(project, "check", "--rules", "area", "--format", "json").output)
    assert out["summary"] == {"error": 0, "warning": 0, "info": 0, "accepted": 1}
    assert run(project, "check", "--rules", "area").exit_code == 0
    [row] = audit_rows(project, layer="check_exceptions")
    assert row["by"] == "测试员" and row["note"] == "飞地, 经双方确认"


def test_accept_refuses_unknown_rule_and_missing_reason(project):
    with pytest.raises(DimingError, match="no such rule"):
        accept(project, "area.nope", ["admin_areas:1"], "x")
    with pytest.raises(DimingError, match="reason"):
        accept(project, "area.gap", ["admin_areas:1"], " ")


# ---- boundary lines ----------------------------------------------------------------------------

def line(line_id, left, right, geom):
    return {"line_id": line_id, "name": f"{line_id}界线", "left_code": left, "right_code": right, "geometry": geom}


def test_line_mismatch_fires_with_distance(counties):
    bent = LineString([(10000, 0), (10000, 4000), (10080, 5000), (10000, 6000), (10000, 10000)])
    add(counties, "boundary_lines", [line("9101", "379901", "379902", bent)])
    [f] = found(counties, "line.mismatch")
    assert f.id == "9101" and f.measures["distance_m"] == pytest.approx(80, abs=0.5)
    assert {r["id"] for r in f.related} == {"379901", "379902"}
    assert f.geometry.length < geo(bent).length  # only the stretch that departs


def test_line_mismatch_silent_on_shared_edge(counties):
    add(counties, "boundary_lines", [line("9101", "379901", "379902", LineString([(10000, 0), (10000, 10000)]))])
    assert found(counties, "line") == []


def test_line_unknown_area(counties):
    add(counties, "boundary_lines", [line("9101", "379901", "379999", LineString([(10000, 0), (10000, 10000)]))])
    [f] = found(counties, "line")
    assert f.rule == "line.unknown-area" and "379999" in f.message


# ---- markers -----------------------------------------------------------------------------------

def marker(marker_id, y, x=10000.0, line_id="9101", marker_type="单立"):
    return {"marker_id": marker_id, "line_id": line_id, "marker_type": marker_type, "geometry": Point(x, y)}


@pytest.fixture
def lined(counties):
    add(counties, "boundary_lines", [line("9101", "379901", "379902", LineString([(10000, 0), (10000, 10000)]))])
    return counties


def test_marker_rules_silent_on_good_markers(lined):
    add(lined, "boundary_markers", [marker("9101001Q", 1000), marker("9101002A", 2000, marker_type="同号双立"),
                                    marker("9101002B", 2000, x=10001, marker_type="同号双立"),
                                    marker("9101003Q", 3000, x=10004)])
    assert found(lined, "marker") == []


def test_marker_off_line_fires_with_distance_and_foot(lined):
    add(lined, "boundary_markers", [marker("9101001Q", 1000, x=10060)])
    [f] = found(lined, "marker.off-line")
    assert f.measures["distance_m"] == pytest.approx(60, abs=0.1)
    assert f.geometry.geom_type == "LineString"  # from the marker to its foot on the line
    assert f.geometry.boundary.geoms[0].distance(geo(Point(10060, 1000))) < 1e-9


def test_marker_unknown_line(lined):
    add(lined, "boundary_markers", [marker("9109001Q", 1000, line_id="9109")])
    assert [f.rule for f in found(lined, "marker")] == ["marker.unknown-line"]


def test_marker_duplicate_id_same_number_single_type(lined):
    add(lined, "boundary_markers", [marker("9101001Q", 1000), marker("9101001A", 1000, marker_type="同号双立")])
    [f] = found(lined, "marker.duplicate-id")
    assert f.keys == ["boundary_markers:9101001A", "boundary_markers:9101001Q"]


def test_marker_duplicate_id_written_differently(lined):
    add(lined, "boundary_markers", [marker("9101001Q", 1000), marker("9101001q", 1000)])
    [f] = found(lined, "marker.duplicate-id")
    assert "9101001q" in f.message


def test_marker_bad_id_pattern_and_type_letter(lined):
    add(lined, "boundary_markers", [marker("91-01", 1000), marker("9101002A", 2000, marker_type="单立")])
    bad = found(lined, "marker.bad-id")
    assert sorted(f.id for f in bad) == ["91-01", "9101002A"]
    set_setting(lined, "marker_id_pattern", r"^(?P<line>\d{2})-(?P<seq>\d{2})$")
    assert [f.id for f in found(lined, "marker.bad-id")] == ["9101002A"]


def test_marker_sequence_gap(lined):
    add(lined, "boundary_markers", [marker("9101001Q", 1000), marker("9101002Q", 2000), marker("9101005Q", 5000)])
    [f] = found(lined, "marker.sequence-gap")
    assert f.id == "9101" and "003–004" in f.message
    assert {r["id"] for r in f.related} == {"9101002Q", "9101005Q"}


# ---- proposals ---------------------------------------------------------------------------------

def road(road_id, name, geom, district="379901"):
    return {"road_id": road_id, "name": name, "district": district, "status": "in_use", "geometry": geom}


def proposal(pid, name, geom, district="379901", status="submitted"):
    return {"proposal_id": pid, "name": name, "district": district, "status": status, "geometry": geom}


def test_proposal_overlaps_road_fires_with_shared_length(counties):
    add(counties, "roads", [road("R1", "长江路", LineString([(1000, 5000), (4000, 5000)]))])
    add(counties, "road_proposals", [proposal("P1", "黄河路", LineString([(2000, 5002), (6000, 5002)]))])
    [f] = found(counties, "proposal.overlaps-road")
    assert f.related[0]["id"] == "R1" and f.measures["length_m"] == pytest.approx(2000 + 5, abs=1)


def test_proposal_crossing_a_road_or_closed_is_no_overlap(counties):
    add(counties, "roads", [road("R1", "长江路", LineString([(1000, 5000), (4000, 5000)]))])
    add(counties, "road_proposals", [proposal("P1", "黄河路", LineString([(2000, 4000), (2000, 6000)])),
                                     proposal("P2", "淮河路", LineString([(1000, 5000), (4000, 5000)]),
                                              status="rejected")])
    assert found(counties, "proposal") == []


def test_proposal_crosses_boundary(counties):
    add(counties, "road_proposals", [proposal("P1", "黄河路", LineString([(9000, 5000), (11000, 5000)]))])
    [f] = found(counties, "proposal")
    assert f.rule == "proposal.crosses-boundary" and {r["id"] for r in f.related} == {"379901", "379902"}


def test_proposal_district_mismatch(counties):
    add(counties, "road_proposals", [proposal("P1", "黄河路", LineString([(12000, 5000), (14000, 5000)])),
                                     proposal("P2", "淮河路", LineString([(2000, 5000), (4000, 5000)]))])
    [f] = found(counties, "proposal")
    assert (f.rule, f.id, f.related[0]["id"]) == ("proposal.district-mismatch", "P1", "379902")


# ---- runner, outputs, CLI ----------------------------------------------------------------------

@pytest.fixture
def messy(lined):
    """A project with one error (marker off its line) and one warning (sequence gap)."""
    add(lined, "boundary_markers", [marker("9101001Q", 1000, x=10060), marker("9101003Q", 3000)])
    return lined


def test_every_rule_is_named_with_a_severity():
    codes = rules()
    assert {"area.invalid", "area.overlap", "area.gap", "line.mismatch", "marker.off-line", "marker.unknown-line",
            "marker.duplicate-id", "marker.bad-id", "marker.sequence-gap", "proposal.overlaps-road",
            "proposal.crosses-boundary", "proposal.district-mismatch"} <= set(codes)
    assert set(codes.values()) <= {"error", "warning", "info"}


def test_json_schema(messy, run):
    result = run(messy, "check", "--format", "json")
    assert result.exit_code == 1
    out = json.loads(result.output)
    assert out["summary"] == {"error": 1, "warning": 1, "info": 0, "accepted": 0}
    off = next(f for f in out["findings"] if f["rule"] == "marker.off-line")
    assert set(off) == {"rule", "severity", "layer", "id", "name", "message", "related", "lon", "lat", "keys",
                        "accepted", "exception_id", "distance_m"}
    assert off["layer"] == "boundary_markers" and off["id"] == "9101001Q" and off["severity"] == "error"
    assert off["related"] == [{"layer": "boundary_lines", "id": "9101", "name": "9101界线"}]
    assert 119.9 < off["lon"] < 120.3 and 35.9 < off["lat"] < 36.2
    assert "(marker.off-line)" in off["message"] and off["accepted"] is False


def test_text_output_grouped_with_summary(messy, run):
    result = run(messy, "check")
    assert result.exit_code == 1
    assert "界桩偏离界线 marker.off-line (1)" in result.output and "[错误] 界桩 9101001Q:" in result.output
    assert "boundary_markers" not in result.output and "error" not in result.output
    assert result.output.strip().splitlines()[-1] == "共 2 项: 错误 1, 警告 1, 提示 0, 已认可 0"


def test_exit_codes_strict_and_rules(messy, run, tmp_path):
    assert run(messy, "check", "--rules", "marker.sequence-gap").exit_code == 0
    assert run(messy, "check", "--rules", "marker.sequence-gap", "--strict").exit_code == 1
    assert run(messy, "check", "--rules", "area").exit_code == 0
    bad = run(messy, "check", "--rules", "nonsense")
    assert bad.exit_code == 2 and "nonsense" in bad.output
    assert run(tmp_path / "missing.gpkg", "check").exit_code == 2


def test_geojson_and_gpkg_error_layers(messy, run, tmp_path):
    result = run(messy, "check", "--format", "geojson", "--output", tmp_path / "f.geojson")
    assert result.exit_code == 1
    collection = json.loads((tmp_path / "f.geojson").read_text(encoding="utf-8"))
    kinds = {f["properties"]["rule"]: f["geometry"]["type"] for f in collection["features"]}
    assert kinds == {"marker.off-line": "LineString", "marker.sequence-gap": "MultiPoint"}
    assert run(messy, "check", "--format", "gpkg").exit_code == 2  # needs --output
    assert run(messy, "check", "--format", "gpkg", "--output", tmp_path / "f.gpkg").exit_code == 1
    assert [name for name, _ in pyogrio.list_layers(tmp_path / "f.gpkg")] == ["check_findings"]
    frame = pyogrio.read_dataframe(tmp_path / "f.gpkg")
    assert sorted(frame["rule"]) == ["marker.off-line", "marker.sequence-gap"]
    assert frame.crs.to_epsg() == 4490 and json.loads(frame["keys"][0])


# ---- names -------------------------------------------------------------------------------------

def names_of(findings):
    return sorted(sorted([f.name] + [r["name"] for r in f.related]) for f in findings)


def test_name_duplicate_one_finding_per_group(counties):
    add(counties, "roads", [road("R1", "长江路", LineString([(1000, 1000), (2000, 1000)])),
                            road("R2", "長江路", LineString([(1000, 2000), (2000, 2000)])),
                            road("R3", "长 江路", LineString([(1000, 3000), (2000, 3000)])),
                            road("R4", "黄河路", LineString([(1000, 4000), (2000, 4000)]))])
    [f] = found(counties, "name.duplicate")
    assert f.keys == ["roads:R1", "roads:R2", "roads:R3"] and f.severity == "error"


def test_name_duplicate_respects_scope_and_status(counties):
    add(counties, "roads", [road("R1", "长江路", LineString([(1000, 1000), (2000, 1000)])),
                            road("R2", "长江路", LineString([(12000, 1000), (13000, 1000)]), district="379902"),
                            dict(road("R3", "长江路", LineString([(1000, 3000), (2000, 3000)])), status="cancelled")])
    add(counties, "road_proposals", [proposal("P1", "长江路", LineString([(1000, 5000), (2000, 5000)]),
                                              status="rejected")])
    assert found(counties, "name.duplicate") == []
    set_setting(counties, "duplicate_scope", "city")
    [f] = found(counties, "name.duplicate")
    assert f.keys == ["roads:R1", "roads:R2"]


def test_name_division_from_location_when_district_empty(counties):
    add(counties, "roads", [road("R1", "长江路", LineString([(1000, 1000), (2000, 1000)]), district=None),
                            road("R2", "长江路", LineString([(12000, 1000), (13000, 1000)]), district=None)])
    assert found(counties, "name.duplicate") == []  # one in each county
    add(counties, "road_proposals", [proposal("P1", "长江路", LineString([(3000, 5000), (4000, 5000)]), district=None)])
    [f] = found(counties, "name.duplicate")
    assert (f.layer, f.id) == ("road_proposals", "P1") and f.keys == ["road_proposals:P1", "roads:R1"]


def test_name_same_specific(counties):
    add(counties, "roads", [road("R1", "海口路", LineString([(1000, 1000), (2000, 1000)])),
                            road("R2", "海口街", LineString([(1000, 2000), (2000, 2000)])),
                            road("R3", "海港路", LineString([(1000, 3000), (2000, 3000)]))])
    [f] = found(counties, "name.same-specific")
    assert names_of([f]) == [["海口街", "海口路"]] and f.severity == "warning"


def test_name_homophone_fires_and_not_for_different_sounds(counties):
    add(counties, "roads", [road("R1", "海晏路", LineString([(1000, 1000), (2000, 1000)])),
                            road("R2", "海燕路", LineString([(1000, 2000), (2000, 2000)])),
                            road("R3", "海宴路", LineString([(1000, 3000), (2000, 3000)])),
                            road("R4", "海安路", LineString([(1000, 4000), (2000, 4000)]))])
    [f] = found(counties, "name.homophone")
    assert names_of([f]) == [["海宴路", "海晏路", "海燕路"]] and "hai yan lu" in f.message


def test_name_homophone_polyphone_aware(counties):
    # 重 reads chong or zhong: 重庆路 may sound like 崇庆路
    add(counties, "roads", [road("R1", "重庆路", LineString([(1000, 1000), (2000, 1000)])),
                            road("R2", "崇庆路", LineString([(1000, 2000), (2000, 2000)]))])
    assert names_of(found(counties, "name.homophone")) == [["崇庆路", "重庆路"]]


def test_name_homophone_groups_join_through_a_polyphone(counties):
    # 崇明 and 中明 do not sound alike, but 重明 may be read as either: one group of three; the
    # same 中明路 in the other county and two roads of one name (重名, not 同音) stay out
    add(counties, "roads", [road("R1", "崇明路", LineString([(1000, 1000), (2000, 1000)])),
                            road("R2", "中明路", LineString([(1000, 2000), (2000, 2000)])),
                            road("R3", "重明路", LineString([(1000, 3000), (2000, 3000)])),
                            road("R4", "中明路", LineString([(12000, 1000), (13000, 1000)]), district="379902"),
                            road("R5", "长江路", LineString([(1000, 4000), (2000, 4000)])),
                            road("R6", "长江路", LineString([(1000, 5000), (2000, 5000)]))])
    [f] = found(counties, "name.homophone")
    assert f.keys == ["roads:R1", "roads:R2", "roads:R3"] and "读音相连" in f.message


def test_name_protected_fires_for_proposals_only(counties):
    add(counties, "heritage_names", [{"heritage_id": "BH-1", "name": "状元街", "status": "in_use",
                                      "geometry": Point(5000, 5000)}])
    add(counties, "roads", [road("R1", "状元街", LineString([(1000, 1000), (2000, 1000)]))])
    assert found(counties, "name.protected") == []  # the road is the listed name itself
    add(counties, "road_proposals", [proposal("P1", "壮园街", LineString([(1000, 5000), (2000, 5000)])),
                                     proposal("P2", "状元街", LineString([(1000, 6000), (2000, 6000)]))])
    [f] = found(counties, "name.protected")
    assert f.keys == ["heritage_names:BH-1", "road_proposals:P1", "road_proposals:P2"] and f.severity == "error"


def test_single_name_rules_on_roads_and_proposals(counties):
    add(counties, "roads", [road("R1", "环球路", LineString([(1000, 1000), (2000, 1000)])),
                            road("R2", "长江路", LineString([(1000, 2000), (2000, 2000)]))])
    add(counties, "road_proposals", [proposal("P1", "A1路", LineString([(1000, 5000), (2000, 5000)]))])
    rules_found = {(f.rule, f.id) for f in found(counties, "name")}
    assert ("name.forbidden-word", "R1") in rules_found and ("name.nonstandard-char", "P1") in rules_found
    assert not any(fid == "R2" for _, fid in rules_found)


def test_name_duplicate_with_division_name_added(counties):
    add(counties, "roads", [road("R1", "云溪长江路", LineString([(1000, 1000), (2000, 1000)])),
                            road("R2", "长江路", LineString([(1000, 2000), (2000, 2000)])),
                            road("R3", "新长江路", LineString([(1000, 3000), (2000, 3000)])),
                            road("R4", "长江大道", LineString([(1000, 4000), (2000, 4000)]))])
    [f] = found(counties, "name.duplicate")
    assert f.keys == ["roads:R1", "roads:R2", "roads:R3"]


def test_name_width_rule_only_when_set(counties):
    add(counties, "roads", [dict(road("R1", "长江街", LineString([(1000, 1000), (2000, 1000)])), width_m=12.0)])
    assert found(counties, "name.format") == []
    set_setting(counties, "generic_width_rule", "街:40; 路:30; 道:22")
    [f] = found(counties, "name.format")
    assert f.id == "R1" and "12" in f.message and f.severity == "warning"


def test_a_selected_rule_runs_alone(demo_project, monkeypatch, run):
    from diming.boundaries import area_checks, marker_checks
    from diming.geonames import heritage_checks, name_checks

    everything = run_check(demo_project)

    def not_wanted(*args, **kw):
        raise AssertionError("a rule that was not asked for ran")

    for module, helper in ((name_checks, "_homophones"), (name_checks, "_single_name"), (heritage_checks, "check"),
                           (area_checks, "_gaps"), (marker_checks, "_sequence_gaps")):
        monkeypatch.setattr(module, helper, not_wanted)
    for rule in ("name.duplicate", "area.overlap", "marker.off-line"):
        assert [f.message for f in run_check(demo_project, [rule])] == [f.message for f in everything if f.rule == rule]
    out = run(demo_project, "check", "--rules", "name.duplicate", "--format", "json")
    assert {f["rule"] for f in json.loads(out.output)["findings"]} == {"name.duplicate"}


def test_the_families_run_on_two_threads_after_the_name_index_is_written(demo_project, monkeypatch):
    import importlib
    import threading

    from diming.check import FAMILIES
    from diming.geonames import name_index

    events = []
    refresh = name_index.refresh
    monkeypatch.setattr(name_index, "refresh", lambda *a: events.append("name index") or refresh(*a))
    for family in FAMILIES:
        module = importlib.import_module(family)
        monkeypatch.setattr(module, "check", lambda *a, check=module.check, family=family, **kw:
                            events.append((family, threading.current_thread().name)) or check(*a, **kw))
    everything = run_check(demo_project)
    assert events[0] == "name index"  # the one write of a check: else it would hold up the others' reads
    # the name family on the check's own thread (where the name index was written), the others on one beside it
    threads = dict(events[1:])
    assert len(threads) == len(events) - 1 == len(FAMILIES)
    assert threads.pop("diming.geonames.name_checks") == threading.current_thread().name
    assert len(set(threads.values())) == 1 and threading.current_thread().name not in threads.values()
    assert [f.message for f in run_check(demo_project)] == [f.message for f in everything]


def test_a_family_that_fails_fails_the_check_and_nothing_is_kept(demo_project, monkeypatch):
    import sqlite3

    from diming.boundaries import area_checks

    def kept():
        con = sqlite3.connect(demo_project)
        try:
            return con.execute("SELECT count(*) FROM diming_check_findings").fetchone()[0]
        except sqlite3.OperationalError:  # no result kept yet
            return 0
        finally:
            con.close()

    def broken(*args, **kw):
        raise DimingError("a broken rule")

    before = kept()
    monkeypatch.setattr(area_checks, "check", broken)
    with pytest.raises(DimingError, match="a broken rule"):
        run_check(demo_project)
    assert kept() == before
