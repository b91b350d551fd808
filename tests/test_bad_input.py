"""The bad-input corpus: each file is built here, each case asserts the exit status, the one-line
message and that the project's content is unchanged (a dump of every table). Big inputs are made
by benchmarks/import_benchmark.py."""
import json
import re
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
import shapely

from diming.layers import sources, store
from diming.layers.imports import ImportFailed, import_layer

VALIDATOR = Path("/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py")
LINE = "LINESTRING (120.1 36.1, 120.2 36.1)"


def dump(project) -> list[str]:
    con = sqlite3.connect(project)
    try:
        return list(con.iterdump())
    finally:
        con.close()


@pytest.fixture
def seeded(project):
    with store.transaction(project, by="测试员") as tx:
        tx.insert("roads", [{"road_id": "R1", "name": "长江路", "status": "in_use",
                             "geometry": shapely.MultiLineString([[(120.1, 36.1), (120.2, 36.1)]])}])
        tx.insert("boundary_lines", [{"line_id": "9101", "name": "甲乙线", "left_code": "379901",
                                      "right_code": "379902",
                                      "geometry": shapely.MultiLineString([[(120.0, 36.0), (120.5, 36.0)]])}])
    return project


def _csv(path, text):
    path.write_text(text, encoding="utf-8", newline="")
    return path


def _geojson(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    encoding="utf-8")
    return path


def _feature(properties, geometry):
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def _refused(run, project, args, message, status=1):
    """Run a command that must fail: its status, its one line, and the project's content untouched."""
    before = dump(project)
    result = run(project, *args)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == status, result.output
    assert len(lines) == 1 and message in lines[0], result.output
    assert dump(project) == before
    return lines[0]


def _validate(project):
    if not VALIDATOR.exists():
        pytest.skip("GDAL's validate_gpkg.py (Debian python3-gdal) not installed")
    subprocess.run(["/usr/bin/python3", str(VALIDATOR), str(project)], check=True)


# --- Z and M ------------------------------------------------------------------------------------

def test_z_marker_elevation_kept_and_project_stays_valid(seeded, tmp_path, run):
    src = _geojson(tmp_path / "z.geojson", [
        _feature({"marker_id": "9101001Q", "line_id": "9101"}, {"type": "Point", "coordinates": [120.1, 36.0, 55.5]}),
        _feature({"marker_id": "9101002Q", "line_id": "9101", "elevation": 12.0},
                 {"type": "Point", "coordinates": [120.2, 36.0, 60.0]})])
    result = run(seeded, "import", "boundary_markers", src)
    assert result.exit_code == 0, result.output
    assert "已去掉 2 个几何的 Z/M 坐标" in result.output and "1 个的 Z 值写入了空的高程字段" in result.output
    markers = store.read_layer(seeded, "boundary_markers").set_index("marker_id")
    assert markers.elevation.to_dict() == {"9101001Q": 55.5, "9101002Q": 12.0}
    assert not markers.geometry.has_z.any()
    _validate(seeded)


def test_heritage_and_application_imports_say_they_dropped_z(seeded, tmp_path, run):
    src = _geojson(tmp_path / "h.geojson", [
        _feature({"name": "状元街"}, {"type": "Point", "coordinates": [120.1, 36.0, 8.0]})])
    result = run(seeded, "heritage", "import", src)
    assert result.exit_code == 0 and "已去掉 1 个几何的 Z/M 坐标" in result.output, result.output
    form = _csv(tmp_path / "form.csv", '拟用名称,所属政区代码,申请理由,wkt\n松风路,379901,新建道路,'
                                       '"LINESTRING Z (120.1 36.2 5, 120.2 36.2 6)"\n')
    result = run(seeded, "import", "road_proposals", form)
    assert result.exit_code == 0 and "已去掉 1 个几何的 Z/M 坐标" in result.output, result.output
    _validate(seeded)


@pytest.mark.parametrize("wkt", ["LINESTRING Z (120.1 36.2 5, 120.2 36.2 6)", "LINESTRING M (120.1 36.2 5, 120.2 36.2 6)",
                                 "LINESTRING ZM (120.1 36.2 5 1, 120.2 36.2 6 2)"])
def test_z_and_m_lines_stored_flat(seeded, tmp_path, run, wkt):
    src = _csv(tmp_path / "r.csv", f'road_id,name,wkt\nR2,黄河路,"{wkt}"\n')
    result = run(seeded, "import", "roads", src)
    assert result.exit_code == 0 and "已去掉 1 个几何的 Z/M 坐标" in result.output
    con = sqlite3.connect(seeded)
    blob = con.execute("SELECT geom FROM roads WHERE road_id = 'R2'").fetchone()[0]
    geom = shapely.from_wkb(blob[8 + 32:])
    assert not geom.has_z and not shapely.has_m(geom)
    _validate(seeded)


# --- coordinates ----------------------------------------------------------------------------------

@pytest.mark.parametrize("fix", [[], ["--fix"]])
@pytest.mark.parametrize("wkt", ["LINESTRING (120.1 36.1, NaN 36.1)", "LINESTRING (120.1 36.1, Infinity 36.1)"])
def test_non_finite_wkt_refused_even_with_fix(seeded, tmp_path, run, wkt, fix):
    src = _csv(tmp_path / "r.csv", f'road_id,name,wkt\nR2,黄河路,"{wkt}"\n')
    _refused(run, seeded, ["import", "roads", src, *fix], "r.csv: 第 2 行, 字段 geometry: 坐标含 NaN 或无穷大")


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity"])
def test_non_finite_plane_coordinates_refused(seeded, tmp_path, run, value):
    src = _csv(tmp_path / "m.csv", f"marker_id,line_id,lon,lat\n9101001Q,9101,{value},36.0\n")
    _refused(run, seeded, ["import", "boundary_markers", src, "--x", "lon", "--y", "lat", "--fix"],
             f"m.csv: 第 2 行, 字段 lon: 坐标 '{value}' 不是有限的数")


def test_non_finite_and_negative_numbers_refused(seeded, tmp_path, run):
    src = _csv(tmp_path / "m.csv", "marker_id,line_id,elevation,wkt\n9101001Q,9101,nan,POINT (120.1 36)\n")
    _refused(run, seeded, ["import", "boundary_markers", src], "m.csv: 第 2 行, 字段 elevation: 'nan' 不是有限的数")
    src = _csv(tmp_path / "r.csv", f'road_id,name,width_m,wkt\nR2,黄河路,-3,"{LINE}"\n')
    _refused(run, seeded, ["import", "roads", src], "r.csv: 第 2 行, 字段 width_m: '-3' 不能为负")


# --- text -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f"])
def test_control_characters_in_csv_refused(seeded, tmp_path, run, char):
    src = _csv(tmp_path / "r.csv", f'road_id,name,wkt\nR2,黄{char}河路,"{LINE}"\n')
    _refused(run, seeded, ["import", "roads", src], f"r.csv: 第 2 行, 字段 name: 含控制字符 U+{ord(char):04X}")


def test_control_characters_in_xlsx_and_geojson_refused(seeded, tmp_path, run):
    book = openpyxl.Workbook()
    book.active.append(["road_id", "name", "wkt"])
    book.active.append(["R2", "PLACEHOLDER", LINE])
    book.save(tmp_path / "plain.xlsx")
    # Office writes a control character in a cell as the escape _x0007_
    with zipfile.ZipFile(tmp_path / "plain.xlsx") as zin, zipfile.ZipFile(tmp_path / "r.xlsx", "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info).replace(b"PLACEHOLDER", "黄_x0007_河路".encode()))
    _refused(run, seeded, ["import", "roads", tmp_path / "r.xlsx"], "r.xlsx: 第 2 行, 字段 name: 含控制字符 U+0007")
    point = {"type": "Point", "coordinates": [120.1, 36.1]}
    for char in ("\x00", "\x07"):
        src = _geojson(tmp_path / "h.geojson", [_feature({"name": "鼓楼", "category": "其他"}, point),
                                                _feature({"name": f"鼓{char}楼", "category": "其他"}, point)])
        _refused(run, seeded, ["heritage", "import", src],
                 f"h.geojson: 第 2 个要素, 字段 name: 含控制字符 U+{ord(char):04X}")


# --- dates ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["banana", "2024-13-40", "2023-02-30"])
def test_every_date_option_is_validated(seeded, run, bad):
    cases = [
        (["heritage", "add", "鼓楼", "--lon", "120.1", "--lat", "36.1", "--category", "其他", "--listed-on", bad],
         "--listed-on"),
        (["road", "advance", "DM-2026-0001", "--to", "submitted", "--date", bad], "--date"),
        (["road", "list", "--overdue", "--today", bad], "--today"),
        (["road", "overdue", "--today", bad], "--today"),
        (["road", "cancel", "R1", "--reason", "拆除", "--date", bad], "--date"),
        (["inspect", "round", "new", "2024", "--name", "第七轮", "--lines", "9101", "--starts", bad], "--starts"),
        (["inspect", "round", "new", "2024", "--name", "第七轮", "--lines", "9101", "--ends", bad], "--ends"),
    ]
    for args, option in cases:
        _refused(run, seeded, args, f"Error: {option}: '{bad}' 不是日期 (YYYY-MM-DD)")


def test_date_options_take_what_imports_take(seeded, run):
    result = run(seeded, "heritage", "add", "鼓楼", "--lon", "120.1", "--lat", "36.1", "--category", "其他",
                 "--listed-on", "2024年6月1日")
    assert result.exit_code == 0, result.output
    assert store.read_layer(seeded, "heritage_names").listed_on[0] == "2024-06-01"


def test_library_refuses_a_bad_date(seeded):
    from diming.errors import DimingError
    from diming.geonames.heritage import add_entry

    with pytest.raises(DimingError, match="公布日期: 'banana' 不是日期"):
        add_entry(seeded, "鼓楼", shapely.Point(120.1, 36.1), category="其他", listed_on="banana")


def test_bad_date_in_geojson_names_row_and_field(seeded, tmp_path, run):
    point = {"type": "Point", "coordinates": [120.1, 36.1]}
    src = _geojson(tmp_path / "h.geojson", [_feature({"name": "鼓楼", "category": "其他", "listed_on": "2023-02-01"}, point),
                                            _feature({"name": "钟楼", "category": "其他", "listed_on": "2023-02-30"}, point)])
    _refused(run, seeded, ["heritage", "import", src],
             "h.geojson: 第 2 个要素, 字段 listed_on: '2023-02-30' 不是日期")


# --- spreadsheets ---------------------------------------------------------------------------------

def test_xlsx_formula_without_value_names_the_cell(seeded, tmp_path, run):
    book = openpyxl.Workbook()  # openpyxl writes formulas without a cached result, as scripts do
    book.active.append(["road_id", "name", "meaning", "wkt"])
    book.active.append(["R2", "黄河路", '=CONCAT("黄","河")', LINE])
    book.active.append(["R3", "=B2", None, LINE])
    book.save(tmp_path / "f.xlsx")
    before = dump(seeded)
    result = run(seeded, "import", "roads", tmp_path / "f.xlsx")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        'Error: f.xlsx: 第 2 行, 字段 meaning: 单元格 C2 是公式 =CONCAT("黄","河"), 但文件没有保存计算结果 '
        "(formula without a cached value); 在 Excel 中打开后保存, 或粘贴为数值",
        "f.xlsx: 第 3 行, 字段 name: 单元格 B3 是公式 =B2, 但文件没有保存计算结果 "
        "(formula without a cached value); 在 Excel 中打开后保存, 或粘贴为数值"]
    assert dump(seeded) == before


def test_xlsx_limits_checked_before_unpacking(seeded, tmp_path, run):
    book = openpyxl.Workbook()
    book.active.append(["road_id", "name", "wkt"])
    for i in range(2, 40):
        book.active.append([f"R{i}", f"路{i}" + "长" * 20_000, LINE])
    book.save(tmp_path / "big.xlsx")
    assert run(seeded, "config", "xlsx_max_part_mb", "1").exit_code == 0
    assert run(seeded, "config", "xlsx_max_rows", "10").exit_code == 0
    with zipfile.ZipFile(tmp_path / "big.xlsx") as z:  # how big openpyxl wrote it (lxml or not)
        unpacked = z.getinfo("xl/worksheets/sheet1.xml").file_size / 1e6
    assert unpacked > 1.5
    _refused(run, seeded, ["import", "roads", tmp_path / "big.xlsx"],
             f"big.xlsx: XLSX 部件 xl/worksheets/sheet1.xml 解压后 {unpacked:,.0f} MB, 超过上限 1 MB (设置 xlsx_max_part_mb")
    assert run(seeded, "config", "xlsx_max_part_mb", "100").exit_code == 0
    _refused(run, seeded, ["import", "roads", tmp_path / "big.xlsx"],
             "big.xlsx: 工作表有 39 行, 超过上限 10 行 (设置 xlsx_max_rows)")


def test_xlsx_without_dimension_stopped_at_the_row_limit(seeded, tmp_path, run):
    book = openpyxl.Workbook()
    book.active.append(["road_id", "name", "wkt"])
    for i in range(2, 40):
        book.active.append([f"R{i}", f"路{i}", LINE])
    book.save(tmp_path / "plain.xlsx")
    with zipfile.ZipFile(tmp_path / "plain.xlsx") as zin, zipfile.ZipFile(tmp_path / "r.xlsx", "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.startswith("xl/worksheets/"):
                data = re.sub(rb"<dimension [^>]*/>", b"", data)
            zout.writestr(info, data)
    assert run(seeded, "config", "xlsx_max_rows", "10").exit_code == 0
    _refused(run, seeded, ["import", "roads", tmp_path / "r.xlsx"], "r.xlsx: 工作表超过上限 10 行 (设置 xlsx_max_rows)")


# --- files that used to end in a traceback --------------------------------------------------------

def test_empty_feature_collection_and_unknown_epsg(seeded, tmp_path, run):
    src = _geojson(tmp_path / "e.geojson", [])
    _refused(run, seeded, ["import", "roads", src], "Error: e.geojson: 没有要素 (no features)")
    src = _csv(tmp_path / "r.csv", f'road_id,name,wkt\nR2,黄河路,"{LINE}"\n')
    _refused(run, seeded, ["import", "roads", src, "--crs", "99999"],
             "Error: --crs 99999: 不是已知的 EPSG 坐标系代码 (unknown EPSG code)")
    _refused(run, seeded, ["import", "roads", _csv(tmp_path / "h.csv", "road_id,name,wkt\n")],
             "Error: h.csv: 没有数据行 (no rows to import)")


def test_csv_field_over_131072_characters_imports(seeded, tmp_path, run):
    line = "LINESTRING (" + ", ".join(f"{120 + i * 1e-5:.5f} 36.3" for i in range(9_000)) + ")"
    assert len(line) > 131_072
    src = _csv(tmp_path / "r.csv", f'road_id,name,wkt\nR2,黄河路,"{line}"\n')
    result = run(seeded, "import", "roads", src)
    assert result.exit_code == 0, result.output
    assert len(store.read_geometries(seeded, "roads", ["R2"])["R2"].geoms[0].coords) == 9_000


def test_inspection_csv_with_a_huge_field_reads(tmp_path):
    from diming.boundaries.sheetio import read_sheet

    notes = "界桩周边" * 40_000
    _csv(tmp_path / "s.csv", f"界桩编号,检查日期,界桩状况,备注\n9101001Q,2024-05-01,完好,{notes}\n")
    rows = read_sheet(tmp_path / "s.csv")
    assert rows[0]["notes"] == notes and rows[0]["_row"] == 2


def _cli(project, *args):
    return subprocess.run([sys.executable, "-m", "diming", "--project", str(project), *map(str, args)],
                          capture_output=True, text=True)


def test_library_warnings_never_reach_the_user(seeded, tmp_path):
    open_ring = _geojson(tmp_path / "a.geojson", [_feature(
        {"code": "379901", "name": "云溪区", "level": "county"},
        {"type": "Polygon", "coordinates": [[[120, 36], [120.1, 36], [120.1, 36.1]]]})])
    not_gpkg = tmp_path / "x.gpkg"
    sqlite3.connect(not_gpkg).execute("CREATE TABLE t (a)").connection.commit()
    nan = _csv(tmp_path / "r.csv", 'road_id,name,wkt\nR2,黄河路,"LINESTRING (120.1 36.1, NaN 36.1)"\n')
    for layer, src in (("admin_areas", open_ring), ("roads", not_gpkg), ("roads", nan)):
        before = dump(seeded)
        result = _cli(seeded, "import", layer, src)
        assert result.returncode == 1
        assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("Error: "), result.stderr
        assert "Warning" not in result.stderr and dump(seeded) == before


# --- settings -------------------------------------------------------------------------------------

@pytest.mark.parametrize("pattern", [r"(\d+)+", r"(a|aa)*b", r"(\w)\1", r"^(\d*)*$"])
def test_catastrophic_marker_pattern_refused(seeded, run, pattern):
    _refused(run, seeded, ["config", "marker_id_pattern", pattern], "可能回溯失控")


def test_safe_marker_patterns_accepted_and_a_bad_stored_one_stops_the_check(seeded, run):
    assert run(seeded, "config", "marker_id_pattern", r"^(?P<line>\d+)-(?P<seq>\d{3})(?P<type>[QA])$").exit_code == 0
    con = sqlite3.connect(seeded)  # as another program could
    con.execute("UPDATE settings SET value = ? WHERE key = 'marker_id_pattern'", (json.dumps(r"(\d+)+"),))
    con.commit()
    result = run(seeded, "check", "--rules", "marker")
    assert result.exit_code == 2 and "可能回溯失控" in result.output


# --- upsert, batches --------------------------------------------------------------------------------

def test_upsert_of_unchanged_rows_is_not_audited(seeded, tmp_path, run):
    src = tmp_path / "roads.csv"
    assert run(seeded, "export", "roads", src).exit_code == 0
    audit = len(store.audit_rows(seeded))
    result = run(seeded, "import", "roads", src, "--mode", "upsert")
    assert result.exit_code == 0 and "roads: 新增 0, 更新 0, 未变 1, 删除 0" in result.output
    assert len(store.audit_rows(seeded)) == audit
    src.write_text(src.read_text(encoding="utf-8-sig").replace("长江路", "长江东路"), encoding="utf-8")
    result = run(seeded, "import", "roads", src, "--mode", "upsert")
    assert "更新 1, 未变 0" in result.output
    log = store.audit_rows(seeded)[audit:]
    assert len(log) == 1 and log[0]["before"]["name"] == "长江路" and log[0]["after"]["name"] == "长江东路"


def test_batches_find_duplicates_and_write_nothing_on_a_late_error(seeded, tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "BATCH_ROWS", 100)
    rows = [f'R{i},路{i},"{LINE}"' for i in range(2, 502)]
    rows[400] = f'R3,重复路,"{LINE}"'  # line 402 repeats line 3, four batches later
    rows.append(f'R1,已有路,"{LINE}"')  # already in the layer
    src = _csv(tmp_path / "r.csv", "road_id,name,wkt\n" + "\n".join(rows) + "\n")
    before = dump(seeded)
    with pytest.raises(ImportFailed) as info:
        import_layer(seeded, "roads", src)
    assert info.value.errors == ["r.csv: 第 402 行, 字段 road_id: 编号 R3 重复, 与第 3 行相同",
                                 "r.csv: 第 502 行, 字段 road_id: 编号 R1 已在图层中 (key exists; 用 --mode upsert)"]
    assert dump(seeded) == before
    seen = []
    rows.pop()
    rows[400] = f'R402,路402,"{LINE}"'
    _csv(src, "road_id,name,wkt\n" + "\n".join(rows) + "\n")
    result = import_layer(seeded, "roads", src, progress=lambda *step: seen.append(step))
    assert result.inserted == 500 and len(store.read_layer(seeded, "roads")) == 501
    assert [(read, checked) for _, read, checked in seen] == [
        (100, 0), (100, 100), (200, 100), (200, 200), (300, 200), (300, 300), (400, 300), (400, 400), (500, 400),
        (500, 500)]
    assert seen[-1][0] == 1.0 and all(a[0] <= b[0] for a, b in zip(seen, seen[1:]))


def test_many_errors_are_counted_not_all_kept(seeded, tmp_path):
    rows = [f'R{i},,"{LINE}"' for i in range(2, 1002)]
    src = _csv(tmp_path / "r.csv", "road_id,name,wkt\n" + "\n".join(rows) + "\n")
    with pytest.raises(ImportFailed) as info:
        import_layer(seeded, "roads", src)
    assert len(info.value.errors) == 50 and str(info.value).endswith("… 另有 950 个错误")


# --- concurrent writers -----------------------------------------------------------------------------

def test_writers_wait_for_a_long_import(seeded, tmp_path):
    lines = [f"{9101}{i:07d}Q,9101,{120 + (i % 1000) * 1e-4:.4f},{36 + (i // 1000) * 1e-4:.4f}" for i in range(150_000)]
    src = _csv(tmp_path / "m.csv", "marker_id,line_id,lon,lat\n" + "\n".join(lines) + "\n")
    importer = subprocess.Popen([sys.executable, "-m", "diming", "--project", str(seeded), "import",
                                 "boundary_markers", str(src), "--x", "lon", "--y", "lat"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        con = sqlite3.connect(seeded, timeout=0, isolation_level=None)
        for _ in range(600):  # until the import holds the project
            try:
                con.execute("BEGIN IMMEDIATE")
                con.execute("ROLLBACK")
            except sqlite3.OperationalError:
                break
            assert importer.poll() is None, importer.communicate()
            __import__("time").sleep(0.05)
        con.close()
        writers = [subprocess.Popen([sys.executable, "-m", "diming", "--project", str(seeded), *args],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for args in (["config", "sign_verify_days", "30"],
                                ["heritage", "add", "鼓楼", "--lon", "120.1", "--lat", "36.1", "--category", "其他"])]
    finally:
        out, err = importer.communicate(timeout=600)
    assert importer.returncode == 0, err
    assert "新增 150000" in out
    for writer in writers:
        _, err = writer.communicate(timeout=600)
        assert writer.returncode == 0, err
        assert err.startswith("等待其他写入…") and "locked" not in err
    assert store.read_layer(seeded, "settings").set_index("key").value["sign_verify_days"] == "30"
    assert len(store.read_layer(seeded, "heritage_names")) == 1
    assert len(store.read_layer(seeded, "boundary_markers", geometry=False)) == 150_000


def test_road_lines_given_on_the_command_line(seeded, run):
    _refused(run, seeded, ["road", "propose", "松风路", "--district", "379901", "--wkt",
                           "LINESTRING (120.1 36.3, NaN 36.3)"], "Error: --wkt: 坐标含 NaN 或无穷大")
    result = run(seeded, "road", "propose", "松风路", "--district", "379901", "--wkt",
                 "LINESTRING Z (120.1 36.3 5, 120.2 36.3 6)")
    assert result.exit_code == 0, result.output
    assert not store.read_layer(seeded, "road_proposals").geometry.has_z.any()
    _validate(seeded)


def test_repeated_column_heading_refused(seeded, tmp_path, run):
    src = _csv(tmp_path / "r.csv", f'road_id,name,name,wkt,,\nR2,黄河路,长江路,"{LINE}",,\n')
    _refused(run, seeded, ["import", "roads", src], "Error: r.csv: 表头中字段 name 重复")


def test_progress_bar_on_a_terminal_only(seeded, tmp_path):
    pty = pytest.importorskip("pty")
    import os

    lines = [f"9101{i:03d}Q,9101,{120 + i * 1e-4:.4f},36.0" for i in range(300)]
    src = _csv(tmp_path / "m.csv", "marker_id,line_id,lon,lat\n" + "\n".join(lines) + "\n")
    master, slave = pty.openpty()
    try:
        run = subprocess.run([sys.executable, "-m", "diming", "--project", str(seeded), "import", "boundary_markers",
                              str(src), "--x", "lon", "--y", "lat", "--mode", "upsert"],
                             stdout=subprocess.PIPE, stderr=slave, text=True)
        os.close(slave)
        shown = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal's other end is closed
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
    assert run.returncode == 0 and run.stdout.strip() == "boundary_markers: 新增 300, 更新 0, 未变 0, 删除 0"
    assert "导入中" in shown.decode() and "已读 300 行, 已检查 300 行" in shown.decode()
    piped = _cli(seeded, "import", "boundary_markers", src, "--x", "lon", "--y", "lat", "--mode", "upsert")
    assert piped.returncode == 0 and piped.stderr == ""
    assert piped.stdout.strip() == "boundary_markers: 新增 0, 更新 0, 未变 300, 删除 0"


def test_inspection_sheet_with_a_control_character_refused(demo_project, tmp_path, run):
    assert run(demo_project, "inspect", "round", "new", "2024", "--name", "第七轮", "--lines", "9101").exit_code == 0
    marker = store.read_layer(demo_project, "boundary_markers", where="line_id = '9101'").marker_id[0]
    src = _csv(tmp_path / "s.csv", f"界桩编号,检查日期,界桩状况,备注\n{marker},2024-05-01,完好,杂\x1b草\n")
    _refused(run, demo_project, ["inspect", "import", "--round", "2024-1", src],
             "第2行 备注: 含控制字符 U+001B")
