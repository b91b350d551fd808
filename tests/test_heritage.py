"""The heritage protection list: add, import, list, show, export."""
import datetime
import json

import openpyxl
import pytest
from printed import assert_prints
from shapely.geometry import Point

from diming.errors import DimingError
from diming.geonames.heritage import add_entry, entries, export_list
from diming.layers.store import read_layer


def test_add_fills_key_and_pinyin_and_refuses_bad_entries(project, run):
    first = add_entry(project, "状元街", Point(120.2, 36.1), category="地名文化遗产", batch="第一批", level="市级",
                      meaning="出过状元", origin="明代县学", history="清代沿用", value="科举文化")
    assert first["heritage_id"] == "BH-001" and first["pinyin"] == "Zhuangyuan Jie" and first["status"] == "in_use"
    result = run(project, "heritage", "add", "西安巷", "--lon", "120.3", "--lat", "36.2", "--category", "历史地名",
                 "--status", "historical", "--location", "老城西门内")
    assert result.exit_code == 0 and "BH-002  西安巷  Xi'an Xiang" in result.output
    with pytest.raises(DimingError, match="已在地名保护名录中"):
        add_entry(project, "状元 街", Point(120.2, 36.1), category="其他")
    with pytest.raises(DimingError, match="繁体字"):
        add_entry(project, "鼓樓", Point(120.2, 36.1), category="其他")
    with pytest.raises(DimingError, match="类别"):
        add_entry(project, "鼓楼", Point(120.2, 36.1), category="古迹")
    with pytest.raises(DimingError, match="经纬度"):
        add_entry(project, "鼓楼", Point(36.1, 120.2), category="其他")
    assert len(read_layer(project, "heritage_names")) == 2


def test_import_list_show(project, run, tmp_path):
    src = tmp_path / "list.csv"
    src.write_bytes(("标准地名,类别,批次,保护级别,含义,状态,经度,纬度\n"
                     "老鸦巷,历史地名,第一批,区级,古槐栖鸦,historical,120.1,36.1\n"
                     "鼓楼,地名文化遗产,第一批,市级,=cmd|' /C calc'!A0,in_use,120.2,36.2\n").encode("gbk"))
    result = run(project, "heritage", "import", src, "--x", "经度", "--y", "纬度", "--encoding", "GBK")
    assert result.exit_code == 0, result.output
    rows = entries(project)
    assert [(r["heritage_id"], r["name"], r["pinyin"]) for r in rows] == [("BH-001", "老鸦巷", "Laoya Xiang"),
                                                                          ("BH-002", "鼓楼", "Gulou")]
    assert rows[0]["lon"] == 120.1
    listed = run(project, "heritage", "list", "--category", "历史地名")
    assert "老鸦巷" in listed.output and "鼓楼" not in listed.output and "共 1 条" in listed.output
    bad = tmp_path / "bad.csv"
    bad.write_text("标准地名,类别,经度,纬度\n文庙街,庙宇,120.1,36.1\n")
    result = run(project, "heritage", "import", bad, "--x", "经度", "--y", "纬度")
    assert result.exit_code == 1 and "bad.csv: 第 2 行, 字段 category" in result.output
    assert len(entries(project)) == 2


def test_show_lists_roads_with_the_same_or_a_similar_name(demo_project, run):
    shown = json.loads(run(demo_project, "heritage", "show", "BH-001", "--format", "json").output)
    assert shown["name"] == "状元街"
    assert {(r["layer"], r["name"]) for r in shown["related"]} >= {("roads", "状元街"), ("road_proposals", "壮园街")}
    assert run(demo_project, "heritage", "show", "BH-999").exit_code == 1
    # the same rules as namecheck: a division's name put in front is the same name (the demo's city is 青岚市)
    add_road = ["road", "propose", "青岚状元街", "--district", "379901", "--wkt",
                "LINESTRING (120.30 36.15, 120.31 36.15)"]
    assert run(demo_project, *add_road).exit_code in (0, 1)
    shown = json.loads(run(demo_project, "heritage", "show", "BH-001", "--format", "json").output)
    assert ("road_proposals", "青岚状元街") in {(r["layer"], r["name"]) for r in shown["related"]}


def test_export_publishable_xlsx_and_layer(project, run, tmp_path):
    add_entry(project, "鼓楼", Point(120.2, 36.1), category="地名文化遗产", batch="第一批",
              meaning="=HYPERLINK(\"http://x\")", listed_on="2021-06-30")
    out = tmp_path / "list.xlsx"
    assert run(project, "heritage", "export", "--output", out).exit_code == 0
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0][0] == "地名保护名录"
    record = dict(zip(rows[1], rows[2]))
    assert record["标准地名"] == "鼓楼" and record["罗马字母拼写"] == "Gulou" and record["状态"] == "在用"
    assert record["含义"] == "'=HYPERLINK(\"http://x\")" and record["经度"] == 120.2
    assert record["公布日期"] == datetime.datetime(2021, 6, 30)  # a date cell, not text
    assert_prints(openpyxl.load_workbook(out).active, header_rows="2:2", freeze="C3", landscape=True, grid_row=3)
    assert export_list(project, tmp_path / "list.geojson") == 1
    data = json.loads((tmp_path / "list.geojson").read_text())
    assert data["features"][0]["properties"]["name"] == "鼓楼"
