"""The abnormal-roads survey: each abnormality found (and not found), the register, the report."""
import json

import geopandas as gpd
import pytest
from openpyxl import load_workbook
from shapely.geometry import LineString, MultiLineString, Point

from diming.geonames.survey import classify, register, run_survey
from diming.layers.store import audit_rows, transaction

LAT0 = 36.0


def line(k, east=0.01, west=0.0):
    lat = LAT0 + 0.01 * k
    return MultiLineString([LineString([(120.0 + west, lat), (120.0 + east, lat)])])


def road(road_id, name, k, **fields):
    return {"road_id": road_id, "name": name, "district": "379901", "status": "in_use", "geometry": line(k), **fields}


def surveyed(survey_id, k, names=None, east=0.01, **fields):
    return {"survey_id": survey_id, "observed_names": names, "source": "巡查", "surveyed_on": "2026-05-01",
            "district": "379901", "geometry": line(k, east), **fields}


@pytest.fixture
def survey_project(project, run, tmp_path):
    with transaction(project, by="测试") as tx:
        tx.insert("admin_areas", [{"code": "379901", "name": "云溪区", "level": "county"}])
        tx.insert("roads", [road("R1", "中山路", 0), road("R2", "长江路", 1), road("R4", "黄河路", 3),
                            road("R5", "幸福巷", 4), road("R6", "长兴路", 1, geometry=line(1, 0.02, 0.01))])
        tx.insert("road_signs", [{"sign_id": "S1", "road_id": "R1", "text": "中山街", "pinyin": "ZHONGSHAN JIE",
                                  "condition": "完好", "geometry": Point(120.005, LAT0)}])
    frame = gpd.GeoDataFrame([
        surveyed("V1", 0, "中山路"),                      # on 中山路, called so: nothing
        surveyed("V2", 5),                                # 900 m on no named road: 有路无名
        surveyed("V3", 1, east=0.02),                     # one road, 长江路 then 长兴路: 一路多名
        surveyed("V4", 7, "金港大道", east=0.0017),       # 150 m, a developer's name: 擅自命名
        surveyed("V5", 4, "幸福巷", road_class="主干路"),  # a 巷 that is a main road: 名不副实
        surveyed("V6", 3, "黄河路"),                      # 黄河路 here …
        surveyed("V7", 6, "黄河路", east=0.0017),         # … and 3 km away: 一名多路
    ], crs=4490)
    src = tmp_path / "survey.geojson"
    frame.to_file(src)
    result = run(project, "import", "road_survey", src)  # any format diming import reads
    assert result.exit_code == 0, result.output
    return project


def codes(abnormalities, prefix="survey."):
    return {(a["code"], tuple(a["keys"]), a["name"]) for a in abnormalities if a["code"].startswith(prefix)}


def test_each_abnormality_is_found_and_nothing_else(survey_project):
    found = classify(survey_project)
    assert codes(found) == {
        ("survey.unnamed", ("road_survey:V2",), None),
        ("survey.many-names", ("road_survey:V3", "roads:R2", "roads:R6"), "长兴路、长江路"),
        ("survey.unapproved-name", ("road_survey:V4",), "金港大道"),
        ("survey.generic-mismatch", ("road_survey:V5", "roads:R5"), "幸福巷"),
        ("survey.split-name", ("road_survey:V6", "road_survey:V7", "roads:R4"), "黄河路"),
    }
    unnamed = next(a for a in found if a["code"] == "survey.unnamed")
    assert 850 < unnamed["length_m"] < 950 and unnamed["district"] == "379901"
    # the sign register adds 牌名不符 and 有名无牌
    assert ("sign.wrong-name", ("road_signs:S1", "roads:R1"), "中山街") in codes(found, "sign.")
    assert {a["keys"][0] for a in found if a["code"] == "road.no-sign"} == {"roads:R2", "roads:R4", "roads:R5", "roads:R6"}


def test_short_unnamed_stretches_and_near_names_are_not_abnormal(survey_project):
    from diming.layers.settings import set_setting

    set_setting(survey_project, "survey_unnamed_length_m", "1000")
    set_setting(survey_project, "survey_split_distance_m", "5000")
    left = {a["code"] for a in classify(survey_project)}
    assert "survey.unnamed" not in left and "survey.split-name" not in left


def test_width_rule_makes_a_name_unfit(survey_project):
    from diming.layers.settings import set_setting

    with transaction(survey_project) as tx:
        tx.update("road_survey", "V1", {"width_m": 12.0})
    set_setting(survey_project, "generic_width_rule", "街:40; 路:30; 道:22")
    [a] = [a for a in classify(survey_project) if a["code"] == "survey.generic-mismatch" and "V1" in str(a["keys"])]
    assert "路宽 12" in a["description"]


def test_register_follows_the_survey(survey_project, run):
    result = json.loads(run(survey_project, "road", "survey", "--format", "json").output)
    assert result["added"] == len(result["abnormalities"]) == result["open"] == 10
    again = json.loads(run(survey_project, "road", "survey", "--format", "json").output)
    assert again["added"] == 0 and again["closed"] == 0
    records = {r["code"]: r for r in register(survey_project)}
    unnamed = records["survey.unnamed"]["rectification_id"]
    refused = run(survey_project, "road", "survey", "update", unnamed, "--status", "已整治")
    assert refused.exit_code == 1 and "整治措施" in refused.output
    refused = run(survey_project, "road", "survey", "update", unnamed, "--status", "不需整治")
    assert refused.exit_code == 1 and "理由" in refused.output
    ok = run(survey_project, "road", "survey", "update", unnamed, "--status", "整治中", "--unit", "云溪区民政局",
             "--due", "2026-12-31", "--action", "命名")
    assert ok.exit_code == 0, ok.output
    assert [a["action"] for a in audit_rows(survey_project, layer="road_rectifications", key=unnamed)] == ["survey", "rectify"]
    # the developer's name was taken down: the next survey run closes its record
    with transaction(survey_project) as tx:
        tx.delete("road_survey", ["V4"])
    closed = json.loads(run(survey_project, "road", "survey", "--format", "json", "--today", "2026-11-30").output)
    assert closed["closed"] == 1
    record = next(r for r in register(survey_project) if r["code"] == "survey.unapproved-name")
    assert (record["status"], record["closed_on"]) == ("已整治", "2026-11-30")
    assert "待整治" in run(survey_project, "road", "survey", "list", "--status", "待整治").output
    listed = json.loads(run(survey_project, "road", "survey", "list", "--status", "整治中", "--format", "json").output)
    assert [(r["rectification_id"], r["unit"], r["due_on"], r["keys"]) for r in listed] == [
        (unnamed, "云溪区民政局", "2026-12-31", ["road_survey:V2"])]


def test_survey_report(survey_project, run, tmp_path):
    run_survey(survey_project)
    for suffix in (".xlsx", ".pdf"):
        result = run(survey_project, "road", "survey", "report", "-o", tmp_path / f"r{suffix}")
        assert result.exit_code == 0, result.output
    book = load_workbook(tmp_path / "r.xlsx")
    header = [c.value for c in book["汇总"][3]]
    assert header[:9] == ["政区代码", "政区名称", "有路无名", "一路多名", "一名多路", "名不副实", "擅自命名", "有名无牌", "牌名不符"]
    row = [c.value for c in book["汇总"][4]]
    assert row[:9] == ["379901", "云溪区", 1, 1, 1, 1, 1, 4, 1]
    assert len(list(book["整治台账"].iter_rows(min_row=2))) == 10
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    bad = run(survey_project, "road", "survey", "report", "-o", tmp_path / "r.doc")
    assert bad.exit_code == 1


def test_names_on_the_ground_are_compared_after_normalisation(project):
    with transaction(project) as tx:
        tx.insert("roads", [road("R1", "滨江路", 0), road("R2", "長安路", 1)])  # one stored in traditional form
        tx.insert("road_survey", [surveyed("V1", 0, "濱江路"), surveyed("V2", 1, "长安路")])
    assert [a for a in classify(project) if a["code"] == "survey.unapproved-name"] == []
