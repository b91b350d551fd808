"""The gazetteer: category duplicate scopes, the registration-form exchange and the diff."""
import json

import openpyxl
import pandas as pd
import pytest
from shapely.geometry import MultiLineString, MultiPolygon, Point, Polygon

from diming.check import run_check
from diming.errors import DimingError
from diming.geonames.gazetteer import diff, export_form, headers, import_form
from diming.geonames.namecheck import namecheck
from diming.layers.imports import ImportFailed
from diming.layers.settings import set_setting
from diming.layers.store import read_layer, transaction


def add(project, *names):
    """Gazetteer names: (place_id, name, category, district[, extra fields])."""
    rows = []
    for i, (pid, name, category, district, *extra) in enumerate(names):
        rows.append({"place_id": pid, "name": name, "category": category, "district": district, "in_use": "current",
                     "geometry": Point(120.0 + i * 0.001, 36.0), **(extra[0] if extra else {})})
    with transaction(project, by="测试员") as tx:
        tx.insert("place_names", rows)


def clashes(findings):
    return sorted((f.rule, tuple(sorted([f.id] + [r["id"] for r in f.related]))) for f in findings)


def test_category_scopes_in_the_check(project):
    add(project,
        # 乡镇: province-wide — two counties of province 37 clash, a town of province 41 does not
        ("37990110021500000001", "桃源镇", "21500", "379901100"),
        ("37990210021500000001", "桃源镇", "21500", "379902100"),
        ("41990110021500000001", "桃源镇", "21500", "419901100"),
        # village committees: county-wide
        ("379901100201", "石门村", "群众自治组织", "379901100201"),
        ("379901101201", "石门村", "群众自治组织", "379901101201"),
        ("379902100201", "石门村", "群众自治组织", "379902100201"),
        # a natural village named like its committee is no duplicate: another group
        ("37990110020122200000001", "石门村", "22200", "379901100201"),
        # counties: nationwide
        ("37000021400000001", "云溪县", "21400", "379901"),
        ("41000021400000001", "云溪县", "21400", "419901"),
        # historical names do not clash
        ("37990110020122200000002", "石门村", "22200", "379901100201", {"in_use": "historical"}),
        # rivers: the duplicate_scope (county) unless category_scopes says otherwise
        ("37990100000000001", "青溪河", "陆地水系", "379901"),
        ("37990200000000001", "青溪河", "陆地水系", "379902"))
    with transaction(project, by="测试员") as tx:  # a road and a residential area share the street scope
        tx.insert("roads", [{"road_id": "R1", "name": "松风路", "district": "379901", "status": "in_use",
                             "geometry": MultiLineString([[(120.0, 36.0), (120.01, 36.0)]])}])
    add(project, ("37990110022100000001", "松风小区", "22100", "379901100"),
        ("37990110022100000002", "松风", "陆地地形", "379901100"))
    found = clashes(run_check(project, ["name"]))
    assert ("name.duplicate", ("37990110021500000001", "37990210021500000001")) in found
    assert ("name.duplicate", ("379901100201", "379901101201")) in found
    assert ("name.duplicate", ("37000021400000001", "41000021400000001")) in found
    assert ("name.same-specific", ("37990110022100000001", "R1")) in found
    assert not any("379902100201" in ids or "37990110020122200000001" in ids or "41990110021500000001" in ids
                   or "37990100000000001" in ids or "37990110022100000002" in ids for _, ids in found), found
    set_setting(project, "category_scopes", "陆地水系=city")
    assert ("name.duplicate", ("37990100000000001", "37990200000000001")) in clashes(run_check(project, ["name"]))
    with pytest.raises(DimingError, match="类别重名范围"):
        set_setting(project, "category_scopes", "21500=county")  # fixed by regulation


def test_namecheck_takes_the_category(project, run):
    add(project, ("37990110021500000001", "桃源镇", "21500", "379901100"),
        ("379901100201", "石门村", "群众自治组织", "379901100201"))
    town = namecheck(project, "桃源镇", district="379902", category="21500")["findings"]
    assert [(f["rule"], f["related"][0]["id"]) for f in town] == [("name.duplicate", "37990110021500000001")]
    assert namecheck(project, "桃源镇", district="419901", category="21500")["findings"] == []
    assert namecheck(project, "石门村", district="379902", category="群众自治组织")["findings"] == []
    assert namecheck(project, "石门村", district="379901", category="群众自治组织")["findings"]
    assert namecheck(project, "石门村", district="379901")["findings"] == []  # a road: another group
    result = run(project, "namecheck", "桃源镇", "--district", "379903", "--category", "21500")
    assert result.exit_code == 1 and "地名录中的地名 桃源镇 重名" in result.output
    # division names are compared without the region-name rule: 松阳区 is no 云溪区 with its division name
    with transaction(project, by="测试员") as tx:
        tx.insert("admin_areas", [{"code": "379901", "name": "云溪区", "level": "county"}])
    add(project, ("37990121400000001", "云溪区", "21400", "379901"))
    assert namecheck(project, "松阳区", district="379902", category="21400")["findings"] == []
    assert [f["rule"] for f in namecheck(project, "云溪区", district="419902", category="21400")["findings"]] \
        == ["name.duplicate"]
    result = run(project, "namecheck", "桃源镇", "--category", "99999")
    assert result.exit_code == 1 and "未知地名类别" in result.output


def _full(project):
    """One name of each geometry with every field filled."""
    full = {"alias": "石门里", "short_name": "石门", "pinyin": "Shimen Cun", "in_use": "current", "named_on": "1950年",
            "established_year": 1950, "abolished_year": None, "sign_count": 2, "survey_method": "实测",
            "meaning": "村口有石如门", "history": "明代成村\n1950年设村", "description": "位于镇北", "source": "一普成果",
            "registered_on": "2026-05-01", "registered_by": "张三", "registered_unit": "云溪区民政局", "rural": 1,
            "photos": "a.jpg;b.jpg", "collected_on": "2026-04-01", "reviewed_on": "2026-04-20",
            "on_map_on": None, "platforms": None, "map_batch": None}
    add(project, ("37990110020122200000001", "石门村", "22200", "379901100201", full),
        ("37990110020100000000002", "=石门河", "陆地水系", "379901100201,379901100202",
         {"geometry": MultiLineString([[(120.1, 36.1), (120.2, 36.15)]]), "in_use": "historical", "pinyin": "Shimen He",
          "abolished_year": 1990}),
        ("37990110020100000000003", "石门山", "陆地地形", "379901100201",
         {"geometry": MultiPolygon([Polygon([(120.1, 36.1), (120.11, 36.1), (120.11, 36.11)])]), "pinyin": "Shimen Shan"}))


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_registration_form_round_trip_keeps_every_field(project, tmp_path, run, suffix):
    from diming.layers.store import init_project

    _full(project)
    copy = init_project(tmp_path / "copy.gpkg")  # the same district's project: it has the same road
    for p in (project, copy):
        with transaction(p, by="测试员") as tx:
            tx.insert("roads", [{"road_id": "379901R0001", "name": "松风路", "district": "379901", "status": "in_use",
                                 "geometry": MultiLineString([[(120.0, 36.0), (120.01, 36.0)]])}])
    out = tmp_path / f"登记表{suffix}"
    assert run(project, "gazetteer", "export", "--output", out).exit_code == 0
    if suffix == ".xlsx":
        sheet = openpyxl.load_workbook(out).active
        header = [c.value for c in sheet[1]]
        assert header[:5] == ["地名代码", "标准名称", "别名", "简称", "罗马字母拼写"] and header == headers()
        row = {h: c.value for h, c in zip(header, sheet[2])}
        assert row["使用时间"] == "现今地名" and row["类别"] == "农村居民点" and row["坐标系"] == "2000"
        assert row["东经"] == "120°00′00.00″" and row["登记时间"] == "2026-05-01" and row["乡村地名"] == "是"
        assert sheet.cell(3, 2).data_type == "s"  # =石门河 stays text
    result = run(copy, "gazetteer", "import", out)
    assert result.exit_code == 0, result.output
    assert "新增 3" in result.output and "道路 1 行" in result.output
    before, after = read_layer(project, "place_names"), read_layer(copy, "place_names")
    def plain(frame):
        return [{k: None if pd.isna(v) else v for k, v in r.items()} for r in frame.drop(columns="geometry").to_dict("records")]

    assert plain(after) == plain(before)
    assert all(a.equals_exact(b, 1e-8) for a, b in zip(before.geometry, after.geometry))
    # importing again changes nothing; the diff between the two exports is empty
    assert "未变 3" in run(copy, "gazetteer", "import", out).output
    again = tmp_path / f"again{suffix}"
    export_form(copy, again)
    assert diff(out, again) == {"added": [], "changed": [], "abolished": []}


def test_import_checks_every_row_and_writes_nothing_on_error(project, tmp_path):
    src = tmp_path / "form.csv"
    src.write_text("地名代码,标准名称,类别,使用时间,登记时间,东经,北纬,所在(跨)行政区\n"
                   "37990110020122200000001,石门村,农村居民点,现今地名,2026-05-01,120°12′00″,36°06′00″,379901100201\n"
                   "37990110020121500000002,桃花村,农村居民点,现今,2026/05/01,120.2,36.1,379901100201\n"
                   "12345,李家庄,村庄,有时,昨天,36.1,120.2,379901100201\n"
                   "37990210020122200000003,王家庄,22200,历史,,,,379901100201\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as failed:
        import_form(project, src)
    errors = failed.value.errors
    assert any("第 3 行, 字段 地名代码: 地名代码中的类别代码 21500 与类别 22200 不符" in e for e in errors)
    assert any("第 4 行, 字段 类别" in e for e in errors) and any("第 4 行, 字段 使用时间" in e for e in errors)
    assert any("第 4 行, 字段 登记时间" in e for e in errors) and any("第 4 行, 字段 经纬度" in e for e in errors)
    assert any("第 5 行, 字段 地名代码: 地名代码中的区划代码 379902100201 与所在行政区 379901100201 不符" in e
               for e in errors)
    assert not any("第 2 行" in e for e in errors)
    assert len(read_layer(project, "place_names")) == 0
    src.write_text("地名代码,标准名称,类别,东经,北纬\n37990110020122200000001,石门村,农村居民点,120°12′00″,36°06′00″\n",
                   encoding="utf-8")
    assert import_form(project, src)["inserted"] == 1
    [record] = read_layer(project, "place_names").to_dict("records")
    assert record["pinyin"] == "Shimen Cun" and record["in_use"] == "current"
    assert record["geometry"].equals_exact(Point(120.2, 36.1), 1e-9)


def test_diff_lists_added_changed_and_abolished(project, tmp_path, run):
    _full(project)
    old = tmp_path / "old.xlsx"
    export_form(project, old)
    with transaction(project, by="测试员") as tx:
        tx.update("place_names", "37990110020122200000001", {"meaning": "村口两石相对如门", "sign_count": 3})
        tx.update("place_names", "37990110020100000000003", {"in_use": "historical"})
    add(project, ("37990110020222200000001", "桃花村", "22200", "379901100202"))
    result = run(project, "gazetteer", "diff", old, "--format", "json")
    assert json.loads(result.output) == {
        "added": [{"id": "37990110020222200000001", "name": "桃花村"}],
        "changed": [{"id": "37990110020122200000001", "name": "石门村", "fields": ["标牌个数", "地名含义"]}],
        "abolished": [{"id": "37990110020100000000003", "name": "石门山"}]}
    text = run(project, "gazetteer", "diff", old).output
    assert "变更 1:\n  37990110020122200000001  石门村  (标牌个数、地名含义)" in text


def test_record_rules_missing_meaning_and_bad_codes(project):
    add(project, ("37990110022200000001", "石门村", "22200", "379901100", {"meaning": "石如门"}),
        ("37990110022200000002", "桃花村", "22200", "379901100"),  # no meaning
        ("37990110022200000003", "老鸦村", "22200", "379901100", {"in_use": "historical"}),  # historical: not asked
        ("37990110021500000004", "李家庄", "22200", "379901100", {"meaning": "李姓"}),  # category code differs
        ("37990210022200000005", "王家庄", "22200", "379901100", {"meaning": "王姓"}),  # division differs
        ("X-1", "赵家庄", "22200", "379901100", {"meaning": "赵姓"}))
    found = sorted((f.rule, f.id) for f in run_check(project, ["place"]))
    assert found == [("place.bad-id", "37990110021500000004"), ("place.bad-id", "37990210022200000005"),
                     ("place.bad-id", "X-1"), ("place.missing-meaning", "37990110022200000002")]
    [division] = [f for f in run_check(project, ["place.bad-id"]) if f.id == "37990210022200000005"]
    assert "区划代码 379902100 与所在行政区 379901100 不符" in division.message and division.geometry is not None


def test_demo_gazetteer(demo_project, tmp_path, run):
    from diming.geonames.categories import class_of
    from diming.geonames.demo_gazetteer import run_demo_gazetteer
    from diming.geonames.rural import progress

    names = read_layer(demo_project, "place_names")
    assert len({class_of(c) for c in names["category"]}) >= 6 and (names["in_use"] == "historical").sum() == 1
    # a town name is checked province-wide: 溪口街道 of 云溪区 from 鹤山县
    result = run(demo_project, "namecheck", "溪口街道", "--district", "379903", "--category", "21500")
    assert result.exit_code == 1 and "地名录中的地名 溪口街道 重名" in result.output
    before = progress(demo_project)["total"]
    lines = []
    run_demo_gazetteer(demo_project, tmp_path, echo=lines.append)
    assert before["villages_done"] == 9 and before["villages"] == 27
    batch = json.loads((tmp_path / "乡村地名上图" / f"{__import__('datetime').date.today().year}-02.geojson")
                       .read_text(encoding="utf-8"))
    assert len(batch["features"]) == before["reviewed"] - before["on_map"]
    assert (tmp_path / "地名词典.pdf").stat().st_size > 10_000 and (tmp_path / "map-gazetteer.html").is_file()
    assert any(line.startswith("示范村候选") for line in lines)


def test_layer_is_one_generic_geometry_table_gdal_reads(project, tmp_path, run):
    """place_names is a GEOMETRY layer: GDAL reads every feature whatever its type; a Shapefile,
    which holds one type, is refused with a clear message."""
    import pyogrio

    _full(project)
    info = pyogrio.read_info(project, layer="place_names")
    assert info["geometry_type"] == "Unknown" and info["features"] == 3
    kinds = set(pyogrio.read_dataframe(project, layer="place_names").geometry.geom_type)
    assert kinds == {"Point", "MultiLineString", "MultiPolygon"}
    result = run(project, "export", "place_names", tmp_path / "p.shp")
    assert result.exit_code == 1 and "Shapefile 只能容纳一种几何类型" in result.output
    assert run(project, "export", "place_names", tmp_path / "p.geojson").exit_code == 0
    from diming.layers.store import init_project

    copy = init_project(tmp_path / "copy.gpkg")
    result = run(copy, "import", "place_names", tmp_path / "p.geojson")
    assert result.exit_code == 0, result.output
    assert set(read_layer(copy, "place_names").geometry.geom_type) == {"Point", "MultiLineString", "MultiPolygon"}


def test_name_index_keeps_gazetteer_names_written_by_another_program(project):
    from diming.layers.gpkg import connect

    add(project, ("37990110021500000001", "桃源镇", "21500", "379901100"))
    assert namecheck(project, "桃源镇", district="379902", category="21500")["findings"]  # builds the index
    con = connect(project)  # as QGIS writes: plain SQL
    with con:
        con.execute("INSERT INTO place_names (place_id, name, category, district, in_use) "
                    "VALUES ('37990210021500000001', '石门镇', '21500', '379902100', 'current')")
    con.close()
    [found] = namecheck(project, "石门镇", district="379903", category="21500")["findings"]
    assert found["rule"] == "name.duplicate" and found["related"][0]["id"] == "37990210021500000001"


def test_a_project_from_before_the_gazetteer(project):
    """A project made by an older diming has no place_names: check and namecheck work on it, and
    the name index's rebuild adds the (empty) layer its triggers need."""
    import sqlite3

    with transaction(project, by="测试员") as tx:
        tx.insert("roads", [{"road_id": "R1", "name": "长江路", "district": "379901", "status": "in_use",
                             "geometry": MultiLineString([[(120.0, 36.0), (120.01, 36.0)]])}])
    con = sqlite3.connect(project)
    with con:
        con.execute("DROP TABLE rtree_place_names_geom")
        for trigger in [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                                  "AND tbl_name = 'place_names'")]:
            con.execute(f'DROP TRIGGER "{trigger}"')
        con.execute("DROP TABLE place_names")
        for table in ("gpkg_contents", "gpkg_geometry_columns", "gpkg_data_columns", "gpkg_extensions"):
            con.execute(f"DELETE FROM {table} WHERE table_name = 'place_names'")
        con.execute("DELETE FROM gpkg_data_column_constraints WHERE constraint_name LIKE 'place_names_%'")
    con.close()
    assert run_check(project, ["name", "place"]) == []
    assert [f["rule"] for f in namecheck(project, "长江路", district="379901")["findings"]] == ["name.duplicate"]
    assert len(read_layer(project, "place_names")) == 0


QGIS_SUBLAYERS = """
import sys
from qgis.core import Qgis, QgsApplication, QgsProviderRegistry, QgsVectorLayer, QgsWkbTypes
app = QgsApplication([], False)
app.initQgis()
ogr = QgsProviderRegistry.instance().providerMetadata("ogr")
for sub in ogr.querySublayers(sys.argv[1], Qgis.SublayerQueryFlag.ResolveGeometryType):
    if sub.name() == "place_names":
        layer = QgsVectorLayer(sub.uri(), "x", "ogr")
        print(QgsWkbTypes.displayString(sub.wkbType()), sub.featureCount(), layer.isValid(), layer.featureCount())
"""


def _qgis_python():
    import shutil
    import subprocess

    python = shutil.which("python3", path="/usr/bin")
    if python is None or subprocess.run([python, "-c", "import qgis.core"], capture_output=True).returncode:
        return None
    return python


@pytest.mark.skipif(_qgis_python() is None, reason="QGIS (Debian python3-qgis) not installed")
def test_qgis_opens_the_generic_layer_one_sublayer_per_geometry_type(project):
    import os
    import subprocess

    _full(project)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([_qgis_python(), "-c", QGIS_SUBLAYERS, str(project)], capture_output=True, text=True,
                         env=env, timeout=120, check=True).stdout
    # one editable map layer per type; QGIS 3.22 names them by the single type (LineString takes
    # the MultiLineString features, Polygon the MultiPolygon ones)
    assert sorted(out.splitlines()) == ["LineString 1 True 1", "Point 1 True 1", "Polygon 1 True 1"], out
