"""Sign rules of diming check, each firing and not firing, on small hand-made data."""
import pytest
from shapely.geometry import LineString, MultiLineString, Point

from diming.check import run_check
from diming.layers.store import transaction

LAT0 = 36.0
M = 1 / 111_000  # about a metre of latitude, in degrees


def road(road_id, name, k, **fields):
    lat = LAT0 + 0.01 * k
    return {"road_id": road_id, "name": name, "district": "379901", "status": "in_use",
            "geometry": MultiLineString([LineString([(120.0, lat), (120.01, lat)])]), **fields}


def sign(sign_id, road_id, k, text, pinyin, metres=8.0, **fields):
    return {"sign_id": sign_id, "road_id": road_id, "text": text, "pinyin": pinyin, "condition": "完好",
            "geometry": Point(120.005, LAT0 + 0.01 * k + metres * M), **fields}


@pytest.fixture
def signed(project):
    with transaction(project, by="测试") as tx:
        tx.insert("roads", [road("R1", "中山东路", 0), road("R2", "西安路", 1),
                            road("R3", "旧站路", 2, status="cancelled", cancelled_on="2024-01-01"),
                            road("R4", "长安街", 3, former_names="老街"), road("R5", "无牌路", 4),
                            road("R9", "别县路", 5, district="379902")])
        tx.insert("road_signs", [
            sign("S1", "R1", 0, "中山东路", "ZHONGSHAN DONGLU"),
            sign("S2", "R1", 0, "中山东路", "Zhongshan Donglu"),
            sign("S3", "R2", 1, "西安路", "XIAN LU"),
            sign("S4", "R2", 1, "西安街", "XI'AN JIE"),
            sign("S5", "R3", 2, "旧站路", "JIUZHAN LU"),
            sign("S6", "R4", 3, "老街", "LAO JIE"),
            sign("S7", "R1", 0, "中山东路", "ZHONGSHAN DONGLU", metres=200.0),
            sign("S8", "R2", 1, "西安路", "XI’AN LU"),  # a typographic apostrophe is an apostrophe
        ])
    return project


def found(project, prefix):
    return {(f.rule, f.id) for f in run_check(project, [prefix])}


def test_sign_name_rules(signed):
    assert found(signed, "sign.wrong-name") == {("sign.wrong-name", "S4")}
    assert found(signed, "sign.cancelled-road") == {("sign.cancelled-road", "S5"), ("sign.cancelled-road", "S6")}


def test_sign_pinyin_rule_says_what_differs(signed):
    findings = {f.id: f for f in run_check(signed, ["sign.wrong-pinyin"])}
    assert set(findings) == {"S2", "S3"}
    assert "大写" in findings["S2"].message and "隔音符号" in findings["S3"].message


def test_sign_pinyin_of_a_numbered_road_accepts_either_reading_unless_flagged(project):
    with transaction(project) as tx:
        tx.insert("roads", [road("R1", "经五路", 0)])
        tx.insert("road_signs", [sign("S1", "R1", 0, "经五路", "JING 5 LU"), sign("S2", "R1", 0, "经五路", "JINGWU LU"),
                                 sign("S3", "R1", 0, "经五路", "JING WU LU")])
    assert found(project, "sign.wrong-pinyin") == {("sign.wrong-pinyin", "S3")}


def test_sign_far_from_road_in_metres(signed):
    [f] = run_check(signed, ["sign.far-from-road"])
    assert f.id == "S7" and 195 < f.measures["distance_m"] < 205
    from diming.layers.settings import set_setting

    set_setting(signed, "sign_road_tolerance_m", "250")
    assert run_check(signed, ["sign.far-from-road"]) == []


def test_road_without_sign_only_where_signs_are_registered(signed):
    # R5 has no sign; R9 neither, but its county registers no sign at all; R3 is cancelled
    [f] = run_check(signed, ["road.no-sign"])
    assert (f.id, f.severity) == ("R5", "info")
    from diming.layers.settings import set_setting

    set_setting(signed, "no_sign_severity", "warning")
    assert [f.severity for f in run_check(signed, ["road.no-sign"])] == ["warning"]


def test_a_missing_sign_leaves_its_road_without_sign(signed):
    with transaction(signed) as tx:
        tx.update("road_signs", "S6", {"condition": "缺失"})
    assert ("road.no-sign", "R4") in found(signed, "road.no-sign")
    assert ("sign.cancelled-road", "S6") not in found(signed, "sign.cancelled-road")


def _patrol(project, *records):
    with transaction(project) as tx:
        tx.insert("sign_patrols", [{"patrol_id": "2026-1", "name": "巡查", "districts": '["379901"]',
                                    "starts_on": "2026-01-01", "ends_on": "2026-12-31", "status": "active"}])
        tx.insert("sign_patrol_records", [{"patrol_id": "2026-1", "record_id": f"2026-1/{sid}", "sign_id": sid,
                                           "patrolled_on": on, "condition": c, "action": a} for sid, on, c, a in records])


def test_sign_damaged_until_fixed(signed, run):
    _patrol(signed, ("S1", "2026-03-01", "损毁", "上报市局"), ("S8", "2026-03-01", "污损", "清洗"),
            ("S3", "2026-03-01", "完好", "无需处理"))
    assert found(signed, "sign.damaged") == {("sign.damaged", "S1")}  # S8 was cleaned on the spot
    result = run(signed, "sign", "fixed", "S1", "--date", "2026-03-20")
    assert result.exit_code == 0, result.output
    assert found(signed, "sign.damaged") == set()


def test_every_sign_rule_is_quiet_on_a_good_sign(project):
    with transaction(project) as tx:
        tx.insert("roads", [road("R1", "中山东路", 0)])
        tx.insert("road_signs", [sign("S1", "R1", 0, "中山东路", "ZHONGSHAN DONGLU"),
                                 sign("S2", "R1", 0, "中山 東路", " ZHONGSHAN  DONGLU ")])  # the same, written apart
    assert run_check(project, ["sign", "road"]) == []
