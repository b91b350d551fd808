"""``diming check --changed``: the stored result updated from the edits since the last check
equals a full check, after random edits (seeded) of every kind, made by diming or by plain SQL."""
import json
import random
import sqlite3

import pytest
from shapely.geometry import MultiLineString, MultiPolygon, Point, Polygon

from diming.check import _families, rules, run_check
from diming.findings import as_dicts
from diming.layers.gpkg import connect
from diming.layers.store import transaction

SPECIFICS = ["长江", "长疆", "黄河", "新黄河", "青岚黄河", "海口", "海晏", "海燕", "中山", "重庆", "乐安", "月安"]
GENERICS = ["路", "街", "东路", "大道", "巷"]
COUNTIES = ["379901", "379902", "379903", "379904"]


def square(x, y, size=0.1):
    return MultiPolygon([Polygon([(x, y), (x + size, y), (x + size, y + size), (x, y + size)])])


def random_name(rng):
    return rng.choice(SPECIFICS) + rng.choice(GENERICS)


def random_road(rng, county, i):
    x, y = 120 + rng.random() * 0.2, 36 + rng.random() * 0.2
    return MultiLineString([[(x, y), (x + 0.01 * rng.random(), y + 0.01)]])


def build(project, rng):
    """A city of four counties in a 2×2 grid (two towns each, one town a little off), their
    shared boundary lines with numbered markers, roads, proposals and heritage names."""
    areas = [{"code": "3799", "name": "青岚市", "level": "city", "parent_code": None,
              "geometry": square(120, 36, 0.2)}]
    corners = [(120, 36), (120.1, 36), (120, 36.1), (120.1, 36.1)]
    for code, (x, y) in zip(COUNTIES, corners):
        areas.append({"code": code, "name": f"县{code}", "level": "county", "parent_code": "3799",
                      "geometry": square(x, y)})
        for t, dx in enumerate((0, 0.05)):
            areas.append({"code": f"{code}10{t}", "name": f"镇{code}{t}", "level": "town", "parent_code": code,
                          "geometry": MultiPolygon([Polygon([(x + dx, y), (x + dx + 0.05, y), (x + dx + 0.05, y + 0.1),
                                                             (x + dx, y + 0.1)])])})
    lines = [("0001", "379901", "379902", [(120.1, 36.0), (120.1, 36.1)]),
             ("0002", "379901", "379903", [(120.0, 36.1), (120.1, 36.1)]),
             ("0003", "379902", "379904", [(120.1, 36.1), (120.2, 36.1)])]
    markers = []
    for line_id, _, _, ((x0, y0), (x1, y1)) in lines:
        for seq in range(1, 5):
            t = seq / 5
            markers.append({"marker_id": f"{line_id}{seq:03d}Q", "line_id": line_id, "marker_type": "单立",
                            "geometry": Point(x0 + t * (x1 - x0), y0 + t * (y1 - y0))})
    roads = [{"road_id": f"R{i:03d}", "name": random_name(rng), "district": rng.choice(COUNTIES),
              "status": "in_use", "geometry": random_road(rng, None, i)} for i in range(40)]
    proposals = [{"proposal_id": f"P{i:02d}", "name": random_name(rng), "district": rng.choice(COUNTIES),
                  "status": "submitted", "geometry": random_road(rng, None, i)} for i in range(6)]
    heritage = [{"heritage_id": "H1", "name": "海口路", "geometry": Point(120.05, 36.05)}]
    with transaction(project, by="t") as tx:
        tx.insert("admin_areas", areas)
        tx.insert("boundary_lines", [{"line_id": k, "name": f"界线{k}", "left_code": a, "right_code": b,
                                      "geometry": MultiLineString([c])} for k, a, b, c in lines])
        tx.insert("boundary_markers", markers)
        tx.insert("roads", roads)
        tx.insert("road_proposals", proposals)
        tx.insert("heritage_names", heritage)


def moved(geom, rng, scale=0.002):
    """``geom`` with one vertex moved a little (an overlap or gap with its neighbours)."""
    from shapely import get_coordinates, set_coordinates

    coords = get_coordinates(geom)
    k = rng.randrange(len(coords) - 1)
    coords[k] += [rng.uniform(-scale, scale), rng.uniform(-scale, scale)]
    if geom.geom_type == "MultiPolygon":
        coords[-1] = coords[0]  # keep the ring closed
    return set_coordinates(geom, coords)


def edit(project, rng, i):
    """One random edit: rename, re-district, retire, delete or add a road; change a proposal;
    move an area, line or marker; renumber or move a marker to another line; some by plain SQL."""
    from diming.layers.store import read_geometries, read_layer

    kind = rng.choice(["rename", "rename", "district", "status", "delete", "insert", "proposal", "area", "area",
                       "area-parent", "area-delete", "line", "marker", "marker-line", "marker-id", "marker-twin",
                       "sql-rename", "heritage"])
    roads = list(read_layer(project, "roads", geometry=False)["road_id"])
    areas = read_layer(project, "admin_areas", geometry=False)
    counties = list(areas["code"][areas["level"] == "county"])
    towns = list(areas["code"][areas["level"] == "town"])
    with transaction(project, by="t") as tx:
        if kind == "rename" and roads:
            tx.update("roads", rng.choice(roads), {"name": random_name(rng)})
        elif kind == "district" and roads:
            tx.update("roads", rng.choice(roads), {"district": rng.choice(COUNTIES)})
        elif kind == "status" and roads:
            tx.update("roads", rng.choice(roads), {"status": rng.choice(["in_use", "cancelled"])})
        elif kind == "delete" and roads:
            tx.delete("roads", [rng.choice(roads)])
        elif kind == "insert":
            tx.insert("roads", [{"road_id": f"N{i:03d}-{rng.randrange(10**9)}", "name": random_name(rng), "district": rng.choice(COUNTIES),
                                 "status": "in_use", "geometry": random_road(rng, None, i)}])
        elif kind == "proposal":
            pid = f"P{rng.randrange(6):02d}"
            tx.update("road_proposals", pid, {"name": random_name(rng),
                                              "status": rng.choice(["submitted", "submitted", "announced"])})
        elif kind == "area":
            code = rng.choice(counties + towns)
            tx.update("admin_areas", code, {"geometry": moved(read_geometries(project, "admin_areas", [code])[code], rng)})
        elif kind == "area-parent" and towns:
            tx.update("admin_areas", rng.choice(towns), {"parent_code": rng.choice(COUNTIES)})
        elif kind == "area-delete" and towns and rng.random() < 0.3:  # rarely: it takes a division away for good
            tx.delete("admin_areas", [rng.choice(towns)])
        elif kind == "line":
            line = rng.choice(["0001", "0002", "0003"])
            tx.update("boundary_lines", line,
                      {"geometry": moved(read_geometries(project, "boundary_lines", [line])[line], rng, 0.0005)})
        elif kind in ("marker", "marker-line", "marker-id", "marker-twin"):
            markers = list(read_layer(project, "boundary_markers", geometry=False)["marker_id"])
            mid = rng.choice(markers)
            if kind == "marker-twin":  # the same number again: written differently, or as a twin
                twin = rng.choice([mid.lower(), mid[:3] + " " + mid[3:], mid[:-1] + rng.choice("ABQ")])
                if twin not in markers:
                    p = read_geometries(project, "boundary_markers", [mid])[mid]
                    tx.insert("boundary_markers", [{"marker_id": twin, "line_id": mid[:4], "geometry": p}])
            if kind == "marker":
                p = read_geometries(project, "boundary_markers", [mid])[mid]
                tx.update("boundary_markers", mid, {"geometry": Point(p.x + rng.uniform(-1e-4, 1e-4), p.y)})
            elif kind == "marker-line":
                tx.update("boundary_markers", mid, {"line_id": rng.choice(["0001", "0002", "0003"])})
            elif kind == "marker-id":
                tx.delete("boundary_markers", [mid])
        elif kind == "heritage":
            tx.update("heritage_names", "H1", {"name": random_name(rng)})
    if kind == "sql-rename" and roads:  # as a desktop GIS writes: no diming code, no audit
        con = connect(project)
        con.execute("UPDATE roads SET name = ? WHERE road_id = ?", (random_name(rng), rng.choice(roads)))
        con.close()


def full(project):
    return sorted(json.dumps(d, ensure_ascii=False, sort_keys=True)
                  for d in as_dicts(_families(project, set(rules()))))


def changed(project):
    return sorted(json.dumps(d, ensure_ascii=False, sort_keys=True) for d in as_dicts(run_check(project, changed=True)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_edits_give_the_full_checks_findings(project, seed):
    rng = random.Random(seed)
    build(project, rng)
    run_check(project)  # the stored result the edits start from
    for i in range(25):
        for _ in range(rng.choice([1, 1, 2, 3])):
            edit(project, rng, i)
        assert changed(project) == full(project), f"after edit round {i}"
    assert len(full(project)) > 10  # the edits made something to find


def stored(project):
    con = sqlite3.connect(project)
    try:
        return con.execute("SELECT count(*) FROM diming_check_findings").fetchone()[0], \
            con.execute("SELECT count(*) FROM diming_check_changes").fetchone()[0]
    finally:
        con.close()


def test_the_result_is_kept_and_the_queue_emptied(project):
    rng = random.Random(4)
    build(project, rng)
    findings = run_check(project)
    assert stored(project) == (len(findings), 0)
    with transaction(project, by="t") as tx:
        tx.update("roads", "R001", {"name": "长江路"})
    assert stored(project)[1] == 2  # the old row and the new
    assert len(run_check(project, changed=True)) == len(full(project))
    assert stored(project) == (len(full(project)), 0)


def test_the_result_is_derived_data_no_gis_lists(project):
    build(project, random.Random(5))
    run_check(project)
    con = sqlite3.connect(project)
    try:
        listed = {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}
    finally:
        con.close()
    assert not {"diming_check_findings", "diming_check_changes", "diming_check_meta"} & listed


def test_a_settings_change_or_a_dropped_trigger_checks_everything_again(project):
    from diming.layers.settings import set_setting

    build(project, random.Random(6))
    run_check(project)
    set_setting(project, "marker_tolerance_m", 0.5)
    assert changed(project) == full(project)
    con = connect(project)
    con.execute("DROP TRIGGER diming_check_roads_update")
    con.execute("UPDATE roads SET name = '海口路' WHERE road_id = 'R002'")
    con.close()
    assert changed(project) == full(project)


def test_a_bulk_import_runs_the_full_check(project, monkeypatch):
    from diming import incremental

    build(project, random.Random(9))
    run_check(project)
    monkeypatch.setattr(incremental, "_MOST_CHANGES", 3)
    for i in range(3):
        edit(project, random.Random(i), i)
    with transaction(project, by="t") as tx:
        tx.update("roads", "R001", {"name": "重庆路"})
    assert incremental._stored(project) is None  # too many queued: the whole check
    assert changed(project) == full(project)
    assert stored(project)[1] == 0


def test_a_result_an_older_diming_kept_is_dropped_and_checked_in_full(project):
    build(project, random.Random(10))
    run_check(project)
    con = connect(project)  # the table and fingerprint as diming kept them before one JSON array a finding
    con.execute("DROP TABLE diming_check_findings")
    con.execute("CREATE TABLE diming_check_result (rule TEXT NOT NULL, layer TEXT, id TEXT, keys TEXT NOT NULL, "
                "grp TEXT, body TEXT NOT NULL, geom BLOB)")
    con.execute("""INSERT INTO diming_check_result VALUES ('name.duplicate', 'roads', 'R001', '["roads:R001"]', NULL,
                   '["error", "长江路", "重名", [], {}, {}]', NULL)""")
    con.execute("UPDATE diming_check_meta SET fingerprint = 'an older diming'")
    con.execute("UPDATE roads SET name = '海口路' WHERE road_id = 'R002'")
    con.close()
    assert changed(project) == full(project)
    con = sqlite3.connect(project)
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        con.close()
    assert "diming_check_result" not in tables
    assert stored(project) == (len(full(project)), 0)


def test_without_a_stored_result_changed_runs_the_full_check(project):
    build(project, random.Random(7))
    assert changed(project) == full(project)


def test_cli_check_changed(project, run):
    build(project, random.Random(8))
    assert run(project, "check", "--format", "json").exit_code in (0, 1)
    with transaction(project, by="t") as tx:
        tx.update("roads", "R003", {"name": "重庆路"})
    out = run(project, "check", "--changed", "--format", "json")
    assert sorted(json.dumps(d, ensure_ascii=False, sort_keys=True) for d in json.loads(out.output)["findings"]) \
        == full(project)
    only = json.loads(run(project, "check", "--changed", "--rules", "name.duplicate", "--format", "json").output)
    assert {f["rule"] for f in only["findings"]} <= {"name.duplicate"}


def test_edits_of_the_gazetteer_signs_and_fields_give_the_full_checks_findings(demo_project):
    from diming import incremental
    from diming.layers.store import BULK_ROWS, read_layer

    run_check(demo_project)
    places = read_layer(demo_project, "place_names", geometry=False)
    signs = read_layer(demo_project, "road_signs", geometry=False)
    roads = read_layer(demo_project, "roads", geometry=False)
    assert len(places) and len(signs)
    road_name = roads["name"][roads["status"] == "in_use"].iloc[0]
    edits = [
        lambda tx: tx.update("place_names", places["place_id"].iloc[0], {"name": road_name}),
        lambda tx: tx.update("place_names", places["place_id"].iloc[1], {"meaning": None}),
        lambda tx: tx.update("road_signs", signs["sign_id"].iloc[0], {"text": "别的路"}),
        lambda tx: tx.update("road_signs", signs["sign_id"].iloc[1], {"condition": "损坏"}),
        # a streamed import's batch: the R-tree trigger is set aside, the check's queue still sees it
        lambda tx: tx.insert("roads", [{"road_id": f"B{i:04d}", "name": f"{road_name[:-1]}{i}路", "status": "in_use",
                                        "geometry": random_road(random.Random(i), None, i)}
                                       for i in range(BULK_ROWS)]),
    ]
    for edit_one in edits:
        with transaction(demo_project, by="t") as tx:
            edit_one(tx)
        assert incremental._stored(demo_project)[2]  # queued, and followed rather than checked in full
        assert changed(demo_project) == full(demo_project)
    con = connect(demo_project)  # as a desktop GIS writes: a value no rule selects on
    con.execute("UPDATE roads SET status = '用着' WHERE road_id = ?", (roads["road_id"].iloc[0],))
    con.close()
    assert changed(demo_project) == full(demo_project)
    assert '"field.invalid"' in "".join(full(demo_project))
