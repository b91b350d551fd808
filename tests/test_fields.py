"""Schema defaults filled on every write path, and ``field.invalid`` for values written behind
diming's back (a desktop GIS, a script): no row leaves a rule silently."""
import csv
import json

from shapely.geometry import MultiLineString, Point

from diming.check import run_check
from diming.geonames.heritage import add_entry
from diming.geonames.namecheck import namecheck
from diming.layers import gpkg, store
from diming.layers.imports import import_layer

LINE = "LINESTRING (120.1 36.1, 120.2 36.1)"


def _register(tmp_path):
    """A road register as offices keep it: road_id, name, district, and the line; no status."""
    path = tmp_path / "register.csv"
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["road_id", "name", "district", "wkt"])
        writer.writerow(["R1", "长江路", "379901", LINE])
        writer.writerow(["R2", "长江路", "379901", "LINESTRING (120.1 36.2, 120.2 36.2)"])
        writer.writerow(["R3", "黄河路", "379901", "LINESTRING (120.1 36.3, 120.2 36.3)"])
    return path


def test_import_without_status_fills_the_default_and_says_so(project, tmp_path, run):
    result = import_layer(project, "roads", _register(tmp_path))
    assert result.defaults == {"status": 3}
    roads = store.read_layer(project, "roads")
    assert list(roads["status"]) == ["in_use"] * 3
    [audit] = [r for r in store.audit_rows(project, layer="roads", key="R1")]
    assert audit["after"]["status"] == "in_use"  # the audit shows what was written


def test_cli_import_summary_names_the_defaults(project, tmp_path, run):
    result = run(project, "import", "roads", _register(tmp_path))
    assert result.exit_code == 0, result.output
    assert "已填默认值 (default filled): 使用状态 status = in_use (在用), 3 行" in result.output


def test_a_register_without_status_still_finds_its_duplicates(project, tmp_path, run):
    import_layer(project, "roads", _register(tmp_path))
    duplicates = [f for f in run_check(project, ["name"]) if f.rule == "name.duplicate"]
    assert [(f.id, [r["id"] for r in f.related]) for f in duplicates] == [("R1", ["R2"])]
    found = namecheck(project, "长江路", district="379901")["findings"]
    assert {f["rule"] for f in found} >= {"name.duplicate"}
    out = run(project, "namecheck", "长江路", "--district", "379901")
    assert out.exit_code == 1 and "重名" in out.output


def test_store_api_and_commands_fill_defaults(project):
    line = MultiLineString([[(120.1, 36.1), (120.2, 36.1)]])
    with store.transaction(project, by="测试员") as tx:
        tx.insert("roads", [{"road_id": "R1", "name": "长江路", "geometry": line},
                            {"road_id": "R2", "name": "黄河路", "status": "", "geometry": line}])
        tx.insert("inspection_rounds", [{"round_id": "2026", "name": "第四轮"}])
        assert tx.filled("roads") == {"status": 2} and tx.filled("inspection_rounds") == {"status": 1}
    with store.transaction(project, by="测试员") as tx:
        tx.update("roads", "R1", {"status": None})  # emptied: the default again, not NULL
    assert list(store.read_layer(project, "roads")["status"]) == ["in_use", "in_use"]
    assert list(store.read_layer(project, "inspection_rounds")["status"]) == ["active"]
    record = add_entry(project, "状元街", Point(120.2, 36.1), category="地名文化遗产")
    assert store.read_layer(project, "heritage_names")["status"].tolist() == ["in_use"]
    assert record["heritage_id"] == "BH-001"


def _behind_diming(project, sql, params=()):
    """Write as another program would: plain SQL, no diming in between (with the ST_* functions the
    GeoPackage's R-tree triggers call, which GDAL and QGIS provide)."""
    con = gpkg.connect(project)
    con.execute(sql, params)
    con.close()


def _seed(project):
    line = MultiLineString([[(120.1, 36.1), (120.2, 36.1)]])
    with store.transaction(project, by="测试员") as tx:
        tx.insert("roads", [{"road_id": "R1", "name": "长江路", "geometry": line},
                            {"road_id": "R2", "name": "长江路", "geometry": line},
                            {"road_id": "R3", "name": "黄河路", "approved_on": "2020-01-01", "geometry": line}])
        tx.insert("boundary_markers", [{"marker_id": "9101001Q", "line_id": "9101", "condition": "完好",
                                        "geometry": Point(120.15, 36.1)}])


def test_field_invalid_reports_values_written_by_other_programs(project):
    _seed(project)
    assert run_check(project, ["field"]) == []
    _behind_diming(project, "UPDATE boundary_markers SET condition = '坏了'")
    _behind_diming(project, "UPDATE roads SET status = NULL WHERE road_id = 'R2'")
    _behind_diming(project, "UPDATE roads SET approved_on = '2020-02-30', name = ' ' WHERE road_id = 'R3'")
    found = {(f.layer, f.id, f.details["field"]): f for f in run_check(project, ["field"])}
    assert set(found) == {("boundary_markers", "9101001Q", "condition"), ("roads", "R2", "status"),
                          ("roads", "R3", "approved_on"), ("roads", "R3", "name")}
    condition = found["boundary_markers", "9101001Q", "condition"]
    assert condition.severity == "error" and condition.details == {
        "field": "condition", "value": "坏了", "allowed": ["完好", "损坏", "丢失", "移位", "新设", "未检"]}
    assert "界桩 字段 现状 (condition) 的值 '坏了' 不是允许的值" in condition.message
    assert condition.geometry.equals(Point(120.15, 36.1))
    status = found["roads", "R2", "status"]
    assert status.details == {"field": "status", "value": None, "allowed": ["in_use", "cancelled"]}
    assert "使用状态 (status) 为空" in status.message and "in_use (在用)" in status.message
    assert found["roads", "R3", "approved_on"].details["value"] == "2020-02-30"
    assert "不是日期, 应写作 YYYY-MM-DD" in found["roads", "R3", "approved_on"].message
    assert "必填字段" in found["roads", "R3", "name"].message
    # the road with no status is out of the name rules, and that is now said, not silent
    assert not [f for f in run_check(project, ["name.duplicate"])]


def test_field_invalid_in_the_cli_json(project, run):
    _seed(project)
    _behind_diming(project, "UPDATE boundary_markers SET condition = '坏了'")
    result = run(project, "check", "--rules", "field", "--format", "json")
    assert result.exit_code == 1
    [finding] = json.loads(result.output)["findings"]
    assert (finding["rule"], finding["layer"], finding["id"], finding["field"], finding["value"]) == (
        "field.invalid", "boundary_markers", "9101001Q", "condition", "坏了")
    assert finding["allowed"][0] == "完好"
    text = run(project, "check", "--rules", "field")
    assert "字段值无效 field.invalid (1)" in text.output and "[错误] 界桩 9101001Q" in text.output


def test_field_invalid_on_an_attribute_table_written_with_plain_sqlite3(project):
    import sqlite3

    with store.transaction(project, by="测试员") as tx:
        tx.insert("inspection_rounds", [{"round_id": "2026", "name": "第四轮", "starts_on": "2026-01-01"}])
    con = sqlite3.connect(project)  # no GeoPackage functions needed: the table has no geometry
    con.execute("UPDATE inspection_rounds SET status = 'open', starts_on = 20260101")
    con.commit()
    con.close()
    found = {f.details["field"]: f for f in run_check(project, ["field.invalid"])}
    assert set(found) == {"status", "starts_on"}
    assert found["status"].details == {"field": "status", "value": "open", "allowed": ["active", "closed"]}
    assert found["starts_on"].details["value"] == 20260101  # a number where a date belongs
    assert found["status"].layer == "inspection_rounds" and found["status"].id == "2026"


def test_an_update_heals_a_default_another_program_left_empty(project, tmp_path):
    import_layer(project, "roads", _register(tmp_path))
    _behind_diming(project, "UPDATE roads SET status = NULL")  # as an older import or a GIS left them
    assert len(run_check(project, ["field.invalid"])) == 3
    with store.transaction(project, by="测试员") as tx:
        tx.update("roads", "R3", {"width_m": 12.0})
    result = import_layer(project, "roads", _register(tmp_path), mode="upsert")  # the register again
    # R3's status was healed by the edit; the two others get it now, as an update, audited
    assert (result.updated, result.unchanged, result.defaults) == (2, 1, {"status": 2})
    assert list(store.read_layer(project, "roads")["status"]) == ["in_use"] * 3
    assert run_check(project, ["field.invalid"]) == []
    assert store.audit_rows(project, layer="roads", key="R3")[-1]["after"]["status"] == "in_use"
    assert store.audit_rows(project, layer="roads", key="R1")[-1]["after"]["status"] == "in_use"


def test_heritage_import_without_status_fills_and_reports_it(project, tmp_path, run):
    src = tmp_path / "list.csv"
    src.write_text("标准地名,类别,经度,纬度\n老鸦巷,历史地名,120.1,36.1\n鼓楼,地名文化遗产,120.2,36.2\n", encoding="utf-8")
    result = run(project, "heritage", "import", src, "--x", "经度", "--y", "纬度")
    assert result.exit_code == 0, result.output
    assert "已填默认值 (default filled): 状态 status = in_use (在用), 2 行" in result.output
    assert list(store.read_layer(project, "heritage_names")["status"]) == ["in_use", "in_use"]


def test_field_invalid_in_the_error_layer(project, tmp_path):
    import pyogrio

    from diming.findings import write

    _seed(project)
    _behind_diming(project, "UPDATE boundary_markers SET condition = '坏了'")
    write(run_check(project, ["field"]), "gpkg", tmp_path / "errors.gpkg")
    [row] = pyogrio.read_dataframe(tmp_path / "errors.gpkg").to_dict("records")
    assert (row["field"], json.loads(row["value"]), json.loads(row["allowed"])[:2]) == ("condition", "坏了",
                                                                                        ["完好", "损坏"])


def test_imports_spell_the_pinyin_of_new_names(project, tmp_path, run):
    """罗马字母拼写 left out of a register is spelt from the name, as every other way of adding a
    road, a heritage name or a gazetteer name does; a spelling the file gives, or an existing
    road already has, stays."""
    path = tmp_path / "register.csv"
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["road_id", "name", "pinyin", "district", "wkt"])
        writer.writerow(["R1", "中山东路", "", "379901", LINE])
        writer.writerow(["R2", "长江路", "CHANGJIANG LU", "379901", LINE])
    result = run(project, "import", "roads", path)
    assert result.exit_code == 0, result.output
    assert "已拼写罗马字母拼写 (pinyin spelt from the name): 1 行" in result.output
    roads = store.read_layer(project, "roads").set_index("road_id")
    assert roads.loc["R1", "pinyin"] == "Zhongshan Donglu"
    assert roads.loc["R2", "pinyin"] == "CHANGJIANG LU"
    [audit] = store.audit_rows(project, layer="roads", key="R1")
    assert audit["after"]["pinyin"] == "Zhongshan Donglu"

    # an upsert without the column: the existing roads keep theirs, a new one is spelt
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["road_id", "name", "district", "wkt"])
        writer.writerow(["R2", "长江路", "379901", LINE])
        writer.writerow(["R3", "青岚大道", "379901", LINE])
    result = import_layer(project, "roads", path, mode="upsert")
    assert (result.spelt, result.inserted) == (1, 1)
    roads = store.read_layer(project, "roads").set_index("road_id")
    assert roads.loc["R2", "pinyin"] == "CHANGJIANG LU"
    assert roads.loc["R3", "pinyin"] == "Qinglan Dadao"


def test_gazetteer_and_heritage_imports_spell_too(project, tmp_path):
    from diming.geonames.pinyin import spell

    path = tmp_path / "names.csv"
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["place_id", "name", "category", "district", "wkt"])
        writer.writerow(["379901000000000001", "望湖山", "陆地地形", "379901", "POINT (120.1 36.1)"])
    assert import_layer(project, "place_names", path).spelt == 1
    assert list(store.read_layer(project, "place_names")["pinyin"]) == ["Wanghu Shan"]
    path = tmp_path / "heritage.csv"
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["heritage_id", "name", "wkt"])
        writer.writerow(["H1", "黄岛", "POINT (120.1 36.1)"])
    assert import_layer(project, "heritage_names", path).spelt == 1
    assert list(store.read_layer(project, "heritage_names")["pinyin"]) == [spell("黄岛")]  # as heritage add spells it
