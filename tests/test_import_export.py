import csv
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pytest
import shapely
from printed import assert_prints

from diming.errors import DimingError
from diming.layers import store
from diming.layers.crs import from_lonlat, gk_epsg, gk_zone, to_lonlat
from diming.layers.exports import export_layer
from diming.layers.imports import ImportFailed, import_layer

FORMATS = [".geojson", ".gpkg", ".shp", ".csv", ".xlsx"]


def _frame(project, layer, key):
    frame = store.read_layer(project, layer)
    return frame.sort_values(key).reset_index(drop=True)


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("layer,key", [("roads", "road_id"), ("boundary_markers", "marker_id"),
                                       ("admin_areas", "code")])
def test_round_trip_every_format(demo_project, project, tmp_path, suffix, layer, key):
    if (layer, suffix) == ("admin_areas", ".xlsx"):
        pytest.skip("the demo's areas are too detailed for an XLSX cell: see test_xlsx_refuses_huge_geometry")
    dest = tmp_path / f"out{suffix}"
    assert export_layer(demo_project, layer, dest) > 0
    result = import_layer(project, layer, dest)
    before, after = _frame(demo_project, layer, key), _frame(project, layer, key)
    assert result.inserted == len(before) == len(after)
    if "pinyin" in before:  # a name exported without its 罗马字母拼写 comes back spelt
        from diming.geonames.pinyin import spell

        before["pinyin"] = [p if isinstance(p, str) and p else spell(n) for p, n in zip(before["pinyin"], before["name"])]
    attributes = [c for c in before.columns if c != "geometry"]
    assert before[attributes].astype(str).equals(after[attributes].astype(str))
    # WKT in CSV/XLSX is rounded to 1e-8 degrees (about 1 mm); Shapefiles turn rings clockwise
    same = shapely.equals_exact(shapely.normalize(before.geometry.values), shapely.normalize(after.geometry.values),
                                tolerance=1e-8)
    assert same.all()


def test_round_trip_through_the_cli(demo_project, project, tmp_path, run):
    out = tmp_path / "lines.geojson"
    assert run(demo_project, "export", "boundary_lines", out).exit_code == 0
    result = run(project, "import", "boundary_lines", out)
    assert result.exit_code == 0, result.output
    assert "新增 3" in result.output
    assert len(store.read_layer(project, "boundary_lines")) == 3


def test_export_reprojects(demo_project, tmp_path):
    dest = tmp_path / "markers.gpkg"
    export_layer(demo_project, "boundary_markers", dest, crs=4528)
    exported = gpd.read_file(dest)
    assert exported.crs.to_epsg() == 4528
    markers = store.read_layer(demo_project, "boundary_markers")
    # EPSG:4528 is northing-first; the registered X is the northing
    assert np.allclose(exported.geometry.y, markers.x, atol=0.001)


def test_csv_export_neutralises_formulas_and_imports_back(project, tmp_path):
    nasty = "=HYPERLINK(\"http://x\",\"点我\")"
    with store.transaction(project) as tx:
        tx.insert("heritage_names", [{"heritage_id": "H1", "name": "鼓楼", "meaning": nasty, "history": "-1年",
                                      "geometry": shapely.Point(120.1, 36.1)}])
    csv_path, xlsx_path = tmp_path / "h.csv", tmp_path / "h.xlsx"
    export_layer(project, "heritage_names", csv_path)
    export_layer(project, "heritage_names", xlsx_path)
    row = next(csv.DictReader(open(csv_path, encoding="utf-8-sig")))
    assert row["meaning"] == "'" + nasty and row["history"] == "'-1年"
    sheet = openpyxl.load_workbook(xlsx_path).active
    cell = sheet["G2"]
    assert cell.value == nasty and cell.data_type == "s"  # text, not a formula
    assert_prints(sheet, header_rows="1:1", freeze="B2", landscape=True, grid_row=2)
    assert sheet.column_dimensions["B"].width == 10 and sheet.column_dimensions["G"].width > 20  # 标准地名; the formula
    other = store.init_project(tmp_path / "o.gpkg")
    import_layer(other, "heritage_names", csv_path)
    assert store.read_layer(other, "heritage_names").loc[0, "meaning"] == nasty


def test_gauss_kruger_point_converts_within_a_millimetre():
    # On the central meridian the easting is exactly 500 km and the northing is the meridian arc
    # length, integrated here independently of PROJ (CGCS2000 ellipsoid, scale factor 1).
    a, f = 6378137.0, 1 / 298.257222101
    e2 = f * (2 - f)
    phi = np.linspace(0.0, math.radians(36.0), 200_001)
    integrand = a * (1 - e2) / (1 - e2 * np.sin(phi) ** 2) ** 1.5
    arc = np.sum((integrand[1:] + integrand[:-1]) / 2 * np.diff(phi))
    assert gk_zone(120.0) == 40 and gk_epsg(40, prefixed=True) == 4528 and gk_epsg(40) == 4549
    x, y = from_lonlat(120.0, 36.0, 4528)
    assert abs(x - arc) < 0.001 and abs(y - 40_500_000.0) < 0.001
    lon, lat = to_lonlat(x, y, 4528)
    assert abs(lon - 120.0) < 1e-9 and abs(lat - 36.0) < 1e-9
    x2, y2 = from_lonlat(120.0, 36.0, 4549)
    assert abs(x2 - arc) < 0.001 and abs(y2 - 500_000.0) < 0.001


def _write_csv(path, header, rows, encoding="utf-8"):
    with open(path, "w", newline="", encoding=encoding) as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_csv_with_gauss_kruger_plane_coordinates(project, tmp_path, run):
    x, y = from_lonlat(120.3, 36.2, 4528)
    src = _write_csv(tmp_path / "m.csv", ["界桩编号", "line_id", "X", "Y"], [["9101001Q", "9101", x, y]])
    result = run(project, "import", "boundary_markers", src, "--x", "X", "--y", "Y", "--crs", "4528")
    assert result.exit_code == 0, result.output
    point = store.read_layer(project, "boundary_markers").geometry[0]
    assert abs(point.x - 120.3) < 1e-8 and abs(point.y - 36.2) < 1e-8
    swapped = run(project, "import", "boundary_markers", src, "--x", "Y", "--y", "X", "--crs", "4528",
                  "--mode", "upsert")
    assert swapped.exit_code == 1
    assert "m.csv: 第 2 行, 字段 geometry: 坐标超出中国范围" in swapped.output and "颠倒" in swapped.output


def test_xlsx_with_longitude_latitude_and_field_override(project, tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["编号", "名称", "lon", "lat", "类别"])
    book.active.append(["H1", "老鸦巷", 120.1, 36.1, "历史地名"])
    book.save(tmp_path / "h.xlsx")
    result = import_layer(project, "heritage_names", tmp_path / "h.xlsx", x="lon", y="lat", crs=4490,
                          fields={"heritage_id": "编号", "name": "名称"})
    assert result.inserted == 1 and result.ignored_fields == []
    row = store.read_layer(project, "heritage_names").iloc[0]
    assert (row["heritage_id"], row["name"], row["category"]) == ("H1", "老鸦巷", "历史地名")


def _roads_csv(tmp_path, rows, name="r.csv"):
    return _write_csv(tmp_path / name, ["road_id", "name", "status", "approved_on", "wkt"], rows)


LINE = "LINESTRING (120.1 36.1, 120.2 36.1)"


@pytest.mark.parametrize("row,message", [
    (["R2", "", "in_use", "2020-01-01", LINE], "第 3 行, 字段 name: 必填字段为空"),
    (["R2", "黄河路", "open", "2020-01-01", LINE], "第 3 行, 字段 status: 'open' 不是允许的值"),
    (["R2", "黄河路", "in_use", "去年", LINE], "第 3 行, 字段 approved_on: '去年' 不是日期"),
    (["R1", "黄河路", "in_use", "2020-01-01", LINE], "第 3 行, 字段 road_id: 编号 R1 重复, 与第 2 行相同"),
    (["R2", "黄河路", "in_use", "2020-01-01", "POINT (120.1 36.1)"], "第 3 行, 字段 geometry: 几何类型 Point 不符"),
    (["R2", "黄河路", "in_use", "2020-01-01", "LINESTRING EMPTY"], "第 3 行, 字段 geometry: 几何为空"),
    (["R2", "黄河路", "in_use", "2020-01-01", ""], "第 3 行, 字段 geometry: 几何为空"),
    (["R2", "黄河路", "in_use", "2020-01-01", "LINESTRING (36.1 120.1, 36.1 120.2)"], "坐标超出中国范围"),
    (["R2", "黄河路", "in_use", "2020-01-01", "LINESTRING (120 36"], "第 3 行, 字段 wkt: 不是有效的 WKT"),
])
def test_bad_rows_are_refused_whole(project, tmp_path, run, row, message):
    good = ["R1", "长江路", "in_use", "2020-01-01", LINE]
    src = _roads_csv(tmp_path, [good, row])
    before = Path(project).read_bytes()
    result = run(project, "import", "roads", src)
    assert result.exit_code == 1
    assert f"r.csv: {message}" in result.output if message.startswith("第") else message in result.output
    error_lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(error_lines) == 1  # one line per problem
    assert Path(project).read_bytes() == before


def test_missing_required_field_and_wrong_number(project, tmp_path):
    src = _write_csv(tmp_path / "m.csv", ["marker_id", "lon", "lat", "elevation"], [["9101001Q", 120.1, 36.1, "高"]])
    with pytest.raises(ImportFailed) as info:
        import_layer(project, "boundary_markers", src, x="lon", y="lat")
    assert info.value.errors == [
        "m.csv: 字段 line_id: 缺少必填字段 (required field 界线编号 missing)",
    ]
    src = _write_csv(tmp_path / "n.csv", ["marker_id", "line_id", "lon", "lat", "elevation"],
                     [["9101001Q", "9101", 120.1, 36.1, "高"]])
    with pytest.raises(ImportFailed, match="n.csv: 第 2 行, 字段 elevation: '高' 不是数字"):
        import_layer(project, "boundary_markers", src, x="lon", y="lat")


def test_failure_on_a_late_row_writes_nothing(project, tmp_path):
    rows = [[f"R{i}", f"路{i}", "in_use", "2020-01-01", LINE] for i in range(1, 9001)]
    rows[8999][2] = "demolished"
    src = _roads_csv(tmp_path, rows)
    with pytest.raises(ImportFailed, match="第 9001 行, 字段 status"):
        import_layer(project, "roads", src)
    assert len(store.read_layer(project, "roads")) == 0
    assert [r["action"] for r in store.audit_rows(project)] == ["init"]


def test_append_refuses_existing_keys_and_upsert_updates(project, tmp_path):
    import_layer(project, "roads", _roads_csv(tmp_path, [["R1", "长江路", "in_use", "2020-01-01", LINE]]))
    again = _roads_csv(tmp_path, [["R1", "长江路", "cancelled", "2020-01-01", LINE],
                                  ["R2", "黄河路", "in_use", "2021-01-01", LINE]], name="again.csv")
    with pytest.raises(ImportFailed, match="again.csv: 第 2 行, 字段 road_id: 编号 R1 已在图层中"):
        import_layer(project, "roads", again)
    result = import_layer(project, "roads", again, mode="upsert", by="赵六")
    assert (result.inserted, result.updated) == (1, 1)
    assert list(store.read_layer(project, "roads").status) == ["cancelled", "in_use"]
    log = store.audit_rows(project, layer="roads", key="R1")
    assert [r["action"] for r in log] == ["insert", "update"]
    assert log[1]["by"] == "赵六" and log[1]["note"] == "导入 again.csv"
    assert log[1]["before"]["status"] == "in_use" and log[1]["after"]["status"] == "cancelled"
    result = import_layer(project, "roads", again, mode="replace")
    assert (result.deleted, result.inserted) == (2, 2)


def test_invalid_geometry_needs_fix(project, tmp_path, run):
    bowtie = "POLYGON ((120 36, 120.1 36.1, 120.1 36, 120 36.1, 120 36))"
    src = _write_csv(tmp_path / "a.csv", ["code", "name", "level", "wkt"], [["379901", "云溪区", "county", bowtie]])
    refused = run(project, "import", "admin_areas", src)
    assert refused.exit_code == 1 and "几何无效 (Self-intersection" in refused.output and "--fix" in refused.output
    fixed = run(project, "import", "admin_areas", src, "--fix")
    assert fixed.exit_code == 0 and "已修复: a.csv: 第 2 行" in fixed.output
    geom = store.read_layer(project, "admin_areas").geometry[0]
    assert geom.is_valid and geom.geom_type == "MultiPolygon" and len(geom.geoms) == 2


def test_undecodable_csv_names_the_line_and_gbk_works(project, tmp_path):
    src = _write_csv(tmp_path / "g.csv", ["road_id", "name", "wkt"], [["R1", "长江路", LINE]], encoding="gbk")
    with pytest.raises(DimingError, match="g.csv: 第 2 行: 文本无法按 UTF-8 解码.*--encoding GBK"):
        import_layer(project, "roads", src)
    assert import_layer(project, "roads", src, encoding="GBK").inserted == 1


def test_old_shapefile_without_cpg_needs_encoding(project, tmp_path):
    frame = gpd.GeoDataFrame({"road_id": ["R1"], "name": ["长江路"]},
                             geometry=[shapely.LineString([(120.1, 36.1), (120.2, 36.1)])], crs=4490)
    frame.to_file(tmp_path / "old.shp", encoding="GBK")
    (tmp_path / "old.cpg").unlink()
    with pytest.raises(ImportFailed, match="old.shp: 第 1 个要素, 字段 name: 文本无法解码.*--encoding GBK"):
        import_layer(project, "roads", tmp_path / "old.shp")
    assert import_layer(project, "roads", tmp_path / "old.shp", encoding="GBK").inserted == 1
    assert store.read_layer(project, "roads").name[0] == "长江路"


@pytest.mark.filterwarnings("ignore:.crs. was not provided")
def test_source_without_crs_needs_crs(project, tmp_path):
    frame = gpd.GeoDataFrame({"road_id": ["R1"], "name": ["长江路"]},
                             geometry=[shapely.LineString([(120.1, 36.1), (120.2, 36.1)])])
    frame.to_file(tmp_path / "nocrs.geojson")
    (tmp_path / "nocrs.prj").unlink(missing_ok=True)
    frame.to_file(tmp_path / "nocrs.shp")
    with pytest.raises(DimingError, match="nocrs.shp: 文件没有坐标系"):
        import_layer(project, "roads", tmp_path / "nocrs.shp")
    assert import_layer(project, "roads", tmp_path / "nocrs.shp", crs=4490).inserted == 1


def test_refuses_unknown_layer_format_and_system_layers(project, tmp_path, run):
    src = _roads_csv(tmp_path, [["R1", "长江路", "in_use", "2020-01-01", LINE]])
    assert "未知图层 'streets'" in run(project, "import", "streets", src).output
    assert "系统图层" in run(project, "import", "audit_log", src).output
    (tmp_path / "r.txt").write_text("x")
    assert "不支持的格式 .txt" in run(project, "import", "roads", tmp_path / "r.txt").output
    assert "不支持的格式 .kml" in run(project, "export", "roads", tmp_path / "r.kml").output
    bad = run(project, "import", "roads", src, "--field", "nonsense")
    assert bad.exit_code == 2 and "target=source" in bad.output


def test_xlsx_refuses_huge_geometry(demo_project, tmp_path, run):
    result = run(demo_project, "export", "admin_areas", tmp_path / "a.xlsx")
    assert result.exit_code == 1 and "379900 的几何超过 XLSX 单元格上限 32767" in result.output
    assert not (tmp_path / "a.xlsx").exists()


def test_output_files_are_replaced_whole_or_not_at_all(tmp_path):
    from diming.layers.exports import replacing

    target = tmp_path / "out" / "report.md"
    with replacing(target) as partial:
        assert partial.suffix == ".md" and partial.parent == target.parent
        partial.write_text("第一版", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with replacing(target) as partial:
            partial.write_text("写了一半", encoding="utf-8")
            raise RuntimeError("boom")
    assert target.read_text(encoding="utf-8") == "第一版" and sorted(p.name for p in target.parent.iterdir()) == ["report.md"]


@pytest.mark.parametrize("suffix", FORMATS)
def test_failed_export_leaves_the_old_file(demo_project, tmp_path, monkeypatch, suffix):
    """An export that fails halfway (a full disk, an interrupt) leaves the file it was replacing as
    it was, and no partial file beside it."""
    from diming.layers import exports

    dest = tmp_path / "out" / f"roads{suffix}"
    export_layer(demo_project, "roads", dest)
    before = {p.name: p.read_bytes() for p in dest.parent.iterdir()}

    def fails(frame, partial, *args):
        partial.write_bytes(b"half")
        raise OSError("No space left on device")

    monkeypatch.setattr(exports, "_write_gis", fails)
    monkeypatch.setattr(exports, "_write_csv", fails)
    monkeypatch.setattr(exports, "_write_xlsx", fails)
    with pytest.raises(OSError):
        export_layer(demo_project, "roads", dest)
    assert {p.name: p.read_bytes() for p in dest.parent.iterdir()} == before


def test_shapefile_export_replaces_every_part(demo_project, tmp_path):
    """A Shapefile written over an older one replaces all its parts: a spatial index another
    program left beside the old one goes, since it would index the old features."""
    dest = tmp_path / "out" / "roads.shp"
    export_layer(demo_project, "roads", dest)
    (dest.parent / "roads.qix").write_bytes(b"old index")
    export_layer(demo_project, "boundary_markers", dest)
    assert sorted(p.suffix for p in dest.parent.iterdir()) == [".cpg", ".dbf", ".prj", ".shp", ".shx"]
    assert set(gpd.read_file(dest).geom_type) == {"Point"}


def test_gpkg_export_keeps_the_files_other_layers(demo_project, tmp_path):
    dest = tmp_path / "out.gpkg"
    export_layer(demo_project, "roads", dest)
    export_layer(demo_project, "boundary_markers", dest)
    import pyogrio

    assert {name for name, _ in pyogrio.list_layers(dest)} == {"roads", "boundary_markers"}
