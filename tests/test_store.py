import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pyogrio
import pytest
import shapely

from diming.errors import DimingError
from diming.layers import store
from diming.layers.schema import LAYERS
from diming.layers.settings import get_setting, set_setting

LINE = shapely.MultiLineString([[(120.0, 36.0), (120.01, 36.01)]])


def test_init_creates_every_layer_with_schema(project):
    info = {r["layer"]: r for r in store.layer_summary(project)}
    assert set(info) == set(LAYERS)
    assert info["admin_areas"]["geometry"] == "MULTIPOLYGON"
    assert info["boundary_markers"]["crs"] == "EPSG:4490"
    assert info["audit_log"]["count"] == 1  # the init itself
    # GDAL sees the same layers, fields and the Chinese aliases in gpkg_data_columns
    layers = dict(pyogrio.list_layers(project))
    assert layers["roads"] == "MultiLineString" and layers["settings"] is None
    assert list(pyogrio.read_info(project, layer="roads")["fields"]) == LAYERS["roads"].field_names
    con = sqlite3.connect(project)
    assert con.execute("SELECT title FROM gpkg_data_columns WHERE table_name='boundary_markers' "
                       "AND column_name='marker_id'").fetchone() == ("界桩编号",)
    assert ("单立",) in con.execute("SELECT value FROM gpkg_data_column_constraints "
                                    "WHERE constraint_name='boundary_markers_marker_type'").fetchall()


def test_init_refuses_to_overwrite(project):
    with pytest.raises(DimingError, match="已存在"):
        store.init_project(project)


def test_write_read_round_trip_and_audit(project):
    with store.transaction(project, by="李四") as tx:
        tx.insert("roads", [{"road_id": "R1", "name": "长江路", "approved_on": "2020-01-02", "geometry": LINE}])
    roads = store.read_layer(project, "roads")
    assert roads.crs.to_epsg() == 4490
    assert roads.loc[0, "name"] == "长江路" and roads.loc[0, "approved_on"] == "2020-01-02"
    assert roads.geometry[0].equals(LINE)
    with store.transaction(project, by="李四") as tx:
        tx.update("roads", "R1", {"status": "cancelled"}, note="道路拆除")
        tx.delete("roads", ["R1"])
    log = store.audit_rows(project, layer="roads", key="R1")
    assert [r["action"] for r in log] == ["insert", "update", "delete"]
    assert log[0]["by"] == "李四" and log[0]["after"]["name"] == "长江路"
    assert log[0]["after"]["geometry"].startswith("MULTILINESTRING")
    assert log[1]["before"]["status"] == "in_use" and log[1]["after"]["status"] == "cancelled"  # in_use: the default
    assert log[1]["note"] == "道路拆除"
    assert log[2]["before"]["road_id"] == "R1"


def test_read_near_boxes_and_geometries_by_key(project):
    lines = {f"R{i}": shapely.LineString([(120 + i * 0.1, 36), (120.05 + i * 0.1, 36.01)]) for i in range(5)}
    with store.transaction(project) as tx:
        tx.insert("roads", [{"road_id": k, "name": f"路{k}", "status": "in_use" if k != "R2" else "cancelled",
                             "geometry": g} for k, g in lines.items()] + [{"road_id": "R9", "name": "无图路"}])
    # the boxes meet R1, R2 and R3; the condition still applies
    near = store.read_layer(project, "roads", where="status = 'in_use'",
                            boxes=[(120.12, 35.9, 120.22, 36.1), (120.3, 36.005, 120.31, 36.006)])
    assert list(near["road_id"]) == ["R1", "R3"] and near.geometry[1].equals(lines["R3"])
    assert len(store.read_layer(project, "roads", boxes=[])) == 0
    found = store.read_geometries(project, "roads", ["R4", "R0", "R9", "nothing"])
    assert sorted(found) == ["R0", "R4", "R9"] and found["R4"].equals(lines["R4"]) and found["R9"] is None


def test_failed_transaction_leaves_project_unchanged(project):
    before = Path(project).read_bytes()
    with pytest.raises(RuntimeError):
        with store.transaction(project) as tx:
            tx.insert("roads", [{"road_id": "R1", "name": "长江路", "geometry": LINE}])
            raise RuntimeError("boom")
    assert Path(project).read_bytes() == before
    assert len(store.read_layer(project, "roads")) == 0


def test_duplicate_key_is_refused(project):
    with store.transaction(project) as tx:
        tx.insert("roads", [{"road_id": "R1", "name": "长江路", "geometry": LINE}])
    with pytest.raises(DimingError, match="roads"):
        with store.transaction(project) as tx:
            tx.insert("roads", [{"road_id": "R1", "name": "黄河路", "geometry": LINE}])
    assert list(store.read_layer(project, "roads")["name"]) == ["长江路"]


def test_settings_defaults_set_and_audit(project, run):
    assert get_setting(project, "public_notice_days") == 7
    set_setting(project, "public_notice_days", "10", by="王五")
    assert get_setting(project, "public_notice_days") == 10
    assert store.audit_rows(project, layer="settings")[-1]["by"] == "王五"
    result = run(project, "config", "marker_tolerance_m")
    assert result.output.strip() == "5.0"
    result = run(project, "config", "duplicate_scope", "nowhere")
    assert result.exit_code == 1 and "duplicate_scope" in result.output
    assert run(project, "config").output.count("(默认)") == len(__import__("diming.layers.settings",
                                                                           fromlist=["x"]).SETTINGS) - 1


def test_cli_init_and_layers(tmp_path, run):
    path = tmp_path / "new.gpkg"
    assert run(path, "init").exit_code == 0
    result = run(path, "layers", "--format", "json")
    rows = json.loads(result.output)
    assert {r["layer"] for r in rows} == set(LAYERS)
    missing = run(tmp_path / "nope.gpkg", "layers")
    assert missing.exit_code == 2 and "nope.gpkg" in missing.output and "\n" == missing.output[-1]  # no project: 2


def test_help_does_not_import_heavy_libraries():
    code = "import sys; from diming.cli import main; assert 'geopandas' not in sys.modules and 'pandas' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


VALIDATOR = Path("/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py")


@pytest.mark.skipif(not VALIDATOR.exists(), reason="GDAL's validate_gpkg.py (Debian python3-gdal) not installed")
def test_project_is_a_valid_geopackage(project):
    from diming.geonames.namecheck import namecheck

    with store.transaction(project) as tx:
        tx.insert("roads", [{"road_id": "R1", "name": "长江路", "geometry": LINE}])
    namecheck(project, "长江路")  # the name index: tables, indexes and triggers of diming's own
    with store.transaction(project) as tx:
        tx.update("roads", "R1", {"geometry": shapely.MultiLineString([[(121, 36), (121.1, 36.1)]])})
    subprocess.run(["/usr/bin/python3", str(VALIDATOR), str(project)], check=True)


def test_project_from_environment_and_log(project, tmp_path):
    from click.testing import CliRunner

    from diming.cli import main

    runner = CliRunner(env={"DIMING_PROJECT": str(project)})
    assert runner.invoke(main, ["--by", "周七", "config", "sign_verify_days", "30"]).exit_code == 0
    log = runner.invoke(main, ["log", "--layer", "settings"])
    assert "周七" in log.output and "settings/sign_verify_days" in log.output
    rows = json.loads(runner.invoke(main, ["log", "--format", "json"]).output)
    assert rows[-1]["after"] == {"key": "sign_verify_days", "value": "30"}


def test_bulk_insert_fills_the_spatial_index_as_the_trigger_would(project, tmp_path):
    points = [shapely.Point(120 + i * 1e-3, 36 + (i % 7) * 1e-3) for i in range(store.BULK_ROWS + 5)]
    rows = [{"marker_id": f"M{i}", "line_id": "9101", "geometry": p} for i, p in enumerate(points)]
    rows[3]["geometry"] = None
    few = store.init_project(tmp_path / "few.gpkg")
    with store.transaction(project) as tx:
        tx.insert("boundary_markers", rows)  # one batch: the index filled from the bounds at hand
    with store.transaction(few) as tx:
        for i in range(0, len(rows), 100):  # small batches: the index's own trigger
            tx.insert("boundary_markers", rows[i:i + 100])

    def index(path):
        con = sqlite3.connect(path)
        try:
            triggers = con.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").fetchall()
            return con.execute("SELECT * FROM rtree_boundary_markers_geom ORDER BY id").fetchall(), triggers
        finally:
            con.close()

    assert index(project) == index(few) and len(index(project)[0]) == len(rows) - 1

    def check(path):
        con = sqlite3.connect(path)
        try:
            return con.execute("SELECT rtreecheck('rtree_boundary_markers_geom')").fetchone()[0]
        finally:
            con.close()

    assert check(project) == check(few) == "ok"  # the packed index is one SQLite keeps up itself
    near = store.read_layer(project, "boundary_markers", boxes=[(120.0095, 35.99, 120.0105, 36.1)])
    assert sorted(near.marker_id) == ["M10"]
    if VALIDATOR.exists():
        subprocess.run(["/usr/bin/python3", str(VALIDATOR), str(project)], check=True)
    with store.transaction(project) as tx:
        tx.update("boundary_markers", "M11", {"geometry": shapely.Point(121, 37)})
        tx.delete("boundary_markers", [f"M{i}" for i in range(0, 600, 2)])
    assert check(project) == "ok"
    assert sorted(store.read_layer(project, "boundary_markers", boxes=[(120.99, 36.99, 121.01, 37.01)]).marker_id) \
        == ["M11"]


def test_insert_audit_holds_the_record_as_written(project):
    rows = [{"marker_id": f"M{i}", "line_id": "9101", "elevation": e, "x": 0.1 + 0.2, "geometry": shapely.Point(120, 36)}
            for i, e in enumerate([123.4, 1e20, None])]
    with store.transaction(project) as tx:
        tx.insert("boundary_markers", rows)
    logged = [r["after"] for r in store.audit_rows(project, layer="boundary_markers")]
    assert [r["marker_id"] for r in logged] == ["M0", "M1", "M2"]
    # every REAL back exactly as stored (0.30000000000000004 needs 17 digits), geometry as WKT
    assert [(r["elevation"], r["x"], r["geometry"]) for r in logged] == \
        [(123.4, 0.1 + 0.2, "POINT (120 36)"), (1e20, 0.1 + 0.2, "POINT (120 36)"), (None, 0.1 + 0.2, "POINT (120 36)")]
    assert logged[0]["line_id"] == "9101" and "material" not in logged[0]  # the fields written, no others


@pytest.mark.parametrize("chunk", [2, 4096])
def test_packed_rtree_finds_what_a_scan_finds(chunk, monkeypatch):
    import numpy as np

    from diming.layers import rtree

    monkeypatch.setattr(rtree, "CHUNK_NODES", chunk)  # levels written a chunk of nodes at a time

    con = sqlite3.connect(":memory:")
    con.execute("CREATE VIRTUAL TABLE t USING rtree(id, minx, maxx, miny, maxy)")
    rng = np.random.default_rng(7)
    lower = rng.uniform(-180, 180, (6000, 2))
    bounds = np.hstack([lower, lower + rng.uniform(0, 0.5, (6000, 2))])  # three levels of nodes
    con.execute("BEGIN")
    rtree.fill(con, "t", rtree.cells(np.arange(1, 6001), bounds))
    assert con.execute("SELECT rtreecheck('t')").fetchone()[0] == "ok"
    assert con.execute("SELECT count(*) FROM t_node").fetchone()[0] > 120
    for box in rng.uniform(-180, 180, (20, 2)):
        x0, y0 = box
        found = {r[0] for r in con.execute("SELECT id FROM t WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?",
                                           (x0 + 5, x0, y0 + 5, y0))}
        meets = (bounds[:, 0] <= x0 + 5) & (bounds[:, 2] >= x0) & (bounds[:, 1] <= y0 + 5) & (bounds[:, 3] >= y0)
        assert found == set((np.flatnonzero(meets) + 1).tolist())
    con.execute("DELETE FROM t WHERE id % 3 = 0")  # SQLite's own deletes rebalance the packed tree
    con.execute("INSERT INTO t VALUES (9999, 0, 1, 0, 1)")
    assert con.execute("SELECT rtreecheck('t')").fetchone()[0] == "ok"
    assert con.execute("SELECT count(*) FROM t").fetchone()[0] == 4001


def test_held_back_index_entries_are_written_before_an_edit_in_the_same_write(project):
    rows = [{"marker_id": f"M{i}", "line_id": "9101", "geometry": shapely.Point(120 + i * 1e-3, 36)}
            for i in range(store.BULK_ROWS)]
    with store.transaction(project) as tx:
        tx.insert("boundary_markers", rows)
        tx.update("boundary_markers", "M1", {"geometry": shapely.Point(121, 37)})
        tx.delete("boundary_markers", ["M2"])
    con = sqlite3.connect(project)
    try:
        assert con.execute("SELECT rtreecheck('rtree_boundary_markers_geom')").fetchone()[0] == "ok"
        assert con.execute("SELECT count(*) FROM rtree_boundary_markers_geom").fetchone()[0] == store.BULK_ROWS - 1
        assert con.execute("SELECT minx, miny FROM rtree_boundary_markers_geom r JOIN boundary_markers b "
                           "ON b.fid = r.id WHERE marker_id = 'M1'").fetchone() == (121, 37)
    finally:
        con.close()
