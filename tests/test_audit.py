"""Every write is audited, whoever makes it: diming's own rows, and the triggers' rows for writes by
other programs (plain SQLite, GDAL); no double entry; older projects upgraded on their next write."""
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely

from diming.layers import audit, gpkg, qml, store
from diming.layers.schema import LAYERS

LINE = shapely.MultiLineString([[(120.0, 36.0), (120.01, 36.01)]])
VALIDATOR = Path("/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py")


def _external(project, *statements):
    """Write as a plain SQLite client does: no GeoPackage functions, its own transaction."""
    con = sqlite3.connect(project)
    with con:
        for sql in statements:
            con.execute(sql)
    con.close()


def test_plain_sqlite_writes_are_audited_with_before_and_after(project, run):
    _external(project,
              "INSERT INTO inspection_rounds (round_id, name, year) VALUES ('9101', '第一轮', 2026)",
              "UPDATE inspection_rounds SET name = '第二轮' WHERE round_id = '9101'",
              "UPDATE inspection_rounds SET name = '第二轮'",  # changes nothing: no row
              "DELETE FROM inspection_rounds WHERE round_id = '9101'")
    rows = store.audit_rows(project, layer="inspection_rounds")
    assert [(r["action"], r["by"], r["key"]) for r in rows] == [
        ("insert", "external", "9101"), ("update", "external", "9101"), ("delete", "external", "9101")]
    assert rows[0]["before"] is None and rows[0]["after"]["name"] == "第一轮" and rows[0]["after"]["year"] == 2026
    assert rows[1]["before"]["name"] == "第一轮" and rows[1]["after"]["name"] == "第二轮"
    assert rows[2]["before"]["name"] == "第二轮" and rows[2]["after"] is None
    assert rows[0]["note"] == "外部程序写入"
    assert all(r["at"].endswith("Z") and len(r["at"]) == 24 for r in rows)  # YYYY-MM-DDTHH:MM:SS.SSSZ
    log = run(project, "log", "--layer", "inspection_rounds").output
    assert log.count("external") == 3 and "外部程序写入" in log


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="the sqlite3 shell (Debian sqlite3) is not installed")
def test_sqlite3_shell_writes_are_audited(project):
    subprocess.run(["sqlite3", str(project), "INSERT INTO check_exceptions (exception_id, rule, keys, reason) "
                    "VALUES ('E1', 'area.gap', '[]', '测试')"], check=True)
    [row] = store.audit_rows(project, layer="check_exceptions")
    assert row["by"] == "external" and row["after"]["reason"] == "测试"


def test_gdal_writes_are_audited_with_geometry(project, run):
    # pyogrio writes through GDAL's GeoPackage driver, as QGIS, QField and ogr2ogr do
    frame = gpd.GeoDataFrame({"road_id": ["R9"], "name": ["珠江路"], "status": ["in_use"]}, geometry=[LINE],
                             crs="EPSG:4490")
    pyogrio.write_dataframe(frame, project, layer="roads", append=True)
    [row] = store.audit_rows(project, layer="roads")
    assert row["by"] == "GDAL" and row["action"] == "insert" and row["key"] == "R9"
    assert row["after"]["name"] == "珠江路"
    assert shapely.from_wkt(row["after"]["geometry"]).equals(LINE)  # logged as the blob, read back as WKT
    assert "GDAL" in run(project, "log", "--layer", "roads").output


def test_diming_writes_are_logged_once(project):
    with store.transaction(project, by="李四") as tx:
        tx.insert("roads", [{"road_id": "R1", "name": "长江路", "geometry": LINE}])
        tx.update("roads", "R1", {"name": "黄河路"})
        tx.delete("roads", ["R1"])
    rows = store.audit_rows(project, layer="roads")
    assert [(r["action"], r["by"]) for r in rows] == [("insert", "李四"), ("update", "李四"), ("delete", "李四")]
    con = sqlite3.connect(project)
    assert con.execute(f"SELECT count(*) FROM {audit.WRITER_TABLE}").fetchone() == (0,)  # the mark is gone


def test_failed_diming_write_leaves_the_mark_out(project):
    with pytest.raises(RuntimeError):
        with store.transaction(project) as tx:
            tx.insert("roads", [{"road_id": "R1", "name": "长江路", "geometry": LINE}])
            raise RuntimeError("boom")
    _external(project, "INSERT INTO inspection_rounds (round_id, name) VALUES ('9101', '第一轮')")
    assert [r["by"] for r in store.audit_rows(project, layer="inspection_rounds")] == ["external"]


def test_name_index_triggers_coexist(project):
    from diming.geonames.namecheck import namecheck

    with store.transaction(project) as tx:
        tx.insert("roads", [{"road_id": "R1", "name": "长江路", "district": "379901", "geometry": LINE}])
    namecheck(project, "黄河路")  # builds the name index and its triggers
    frame = gpd.GeoDataFrame({"road_id": ["R2"], "name": ["黄河路"], "district": ["379901"], "status": ["in_use"]},
                             geometry=[LINE], crs="EPSG:4490")
    pyogrio.write_dataframe(frame, project, layer="roads", append=True)
    assert [r["by"] for r in store.audit_rows(project, layer="roads", key="R2")] == ["GDAL"]
    result = namecheck(project, "黄河路", district="379901")
    assert any(f["rule"] == "name.duplicate" for f in result["findings"])


def test_triggers_follow_the_fields_of_an_older_project(project):
    # a project from before the field "status" of inspection_rounds: its triggers do not name it
    con = sqlite3.connect(project)
    with con:
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE name LIKE 'diming_audit_inspection_rounds%'"
                                   ).fetchall():
            con.execute(f'DROP TRIGGER "{name}"')
        con.execute("ALTER TABLE inspection_rounds DROP COLUMN status")
    con.close()
    with store.transaction(project) as tx:  # the next diming write adds the field and re-creates the triggers
        tx.insert("inspection_rounds", [{"round_id": "9101", "name": "第一轮", "status": "active"}])
    _external(project, "UPDATE inspection_rounds SET status = 'closed' WHERE round_id = '9101'")
    row = store.audit_rows(project, layer="inspection_rounds")[-1]
    assert row["by"] == "external" and row["before"]["status"] == "active" and row["after"]["status"] == "closed"


def test_a_column_added_by_another_program_can_be_dropped_again(project):
    _external(project, "ALTER TABLE inspection_rounds ADD COLUMN remark TEXT")
    with store.transaction(project) as tx:
        tx.insert("inspection_rounds", [{"round_id": "9101", "name": "第一轮"}])
    _external(project, "UPDATE inspection_rounds SET remark = '补测'",  # not diming's field: not logged
              "UPDATE inspection_rounds SET remark = '再测', name = '第一轮(补)'",
              "ALTER TABLE inspection_rounds DROP COLUMN remark")
    rows = store.audit_rows(project, layer="inspection_rounds")
    assert [r["action"] for r in rows] == ["insert", "update"]
    assert rows[1]["after"]["name"] == "第一轮(补)" and "remark" not in rows[1]["after"]  # as diming logs: its fields


def test_constraints_carry_chinese_labels(project):
    con = sqlite3.connect(project)
    rows = dict(con.execute("SELECT value, description FROM gpkg_data_column_constraints "
                            "WHERE constraint_name = 'road_proposals_status'").fetchall())
    assert rows["public_notice"] == "公示中" and rows["draft"] == "草稿"
    assert con.execute("SELECT description FROM gpkg_data_column_constraints WHERE constraint_name = "
                       "'boundary_markers_marker_type' AND value = '单立'").fetchone() == ("单立",)
    assert con.execute("PRAGMA user_version").fetchone() == (gpkg.USER_VERSION,) == (10200,)


def _make_old(project):
    """The project as an older diming left it: GeoPackage 1.4, microsecond DATETIMEs, value lists
    without labels, no styles and no audit triggers."""
    con = sqlite3.connect(project)
    with con:
        con.execute("PRAGMA user_version = 10400")
        con.execute("UPDATE audit_log SET at = '2026-01-02T03:04:05.123456Z'")
        con.execute("UPDATE gpkg_data_column_constraints SET description = NULL")
        con.execute("DROP TABLE layer_styles")
        con.execute("DELETE FROM gpkg_contents WHERE table_name = 'layer_styles'")
        con.execute(f"DROP TABLE {audit.WRITER_TABLE}")
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE name LIKE 'diming_audit_%'").fetchall():
            con.execute(f'DROP TRIGGER "{name}"')
    con.close()


def test_older_project_upgraded_on_next_write(project):
    _make_old(project)
    with store.transaction(project) as tx:
        tx.insert("roads", [{"road_id": "R1", "name": "长江路", "geometry": LINE}])
    con = sqlite3.connect(project)
    assert con.execute("PRAGMA user_version").fetchone() == (10200,)
    assert con.execute("SELECT at FROM audit_log ORDER BY fid LIMIT 1").fetchone() == ("2026-01-02T03:04:05.123Z",)
    assert con.execute("SELECT description FROM gpkg_data_column_constraints WHERE value = 'county'").fetchone() \
        == ("县级",)
    styles = con.execute("SELECT f_table_name FROM layer_styles WHERE useAsDefault = 1").fetchall()
    assert {r[0] for r in styles} == set(LAYERS)
    con.close()
    _external(project, "INSERT INTO inspection_rounds (round_id, name) VALUES ('9101', '第一轮')")
    assert store.audit_rows(project, layer="inspection_rounds")[0]["by"] == "external"


@pytest.mark.skipif(not VALIDATOR.exists(), reason="GDAL's validate_gpkg.py (Debian python3-gdal) not installed")
def test_upgraded_and_edited_project_passes_the_validator_with_extra_checks(project):
    _make_old(project)
    with store.transaction(project) as tx:
        tx.insert("roads", [{"road_id": "R1", "name": "长江路", "approved_on": "2020-01-02", "geometry": LINE}])
    frame = gpd.GeoDataFrame({"road_id": ["R2"], "name": ["黄河路"]}, geometry=[LINE], crs="EPSG:4490")
    pyogrio.write_dataframe(frame, project, layer="roads", append=True)
    result = subprocess.run(["/usr/bin/python3", str(VALIDATOR), "--extra", str(project)], capture_output=True,
                            text=True)
    assert result.returncode == 0 and result.stdout == "" and result.stderr == "", result.stdout + result.stderr


def test_styles_upgraded_but_an_officers_default_kept(project):
    con = sqlite3.connect(project)
    with con:
        con.execute("UPDATE layer_styles SET styleQML = '<qgis/>', useAsDefault = 0 WHERE f_table_name = 'roads'")
        con.execute("INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                    "styleName, styleQML, useAsDefault) VALUES ('', '', 'roads', 'geom', '我的样式', '<qgis/>', 1)")
    with store.transaction(project) as tx:
        tx.log("test")
    rows = con.execute("SELECT styleName, useAsDefault, styleQML = ? FROM layer_styles WHERE f_table_name = 'roads' "
                       "ORDER BY id", (qml.layer_style("roads"),)).fetchall()
    assert rows == [("diming", 0, 1), ("我的样式", 1, 0)]


def test_log_json_shows_both_kinds(project, run):
    with store.transaction(project, by="张三") as tx:
        tx.insert("inspection_rounds", [{"round_id": "9101", "name": "第一轮"}])
    _external(project, "UPDATE inspection_rounds SET name = '第二轮'")
    rows = json.loads(run(project, "log", "--format", "json", "--layer", "inspection_rounds").output)
    assert [r["by"] for r in rows] == ["张三", "external"]
