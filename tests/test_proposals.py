"""Road-naming proposals through the procedure, overdue steps, the batch sheet, application forms,
changes to names in use with the heritage guard."""
import datetime as dt
import json

import openpyxl
import pytest
from printed import assert_prints
from shapely.geometry import MultiLineString, Point

from diming.errors import DimingError
from diming.geonames import proposals as P
from diming.geonames.roads import adjust_road, cancel_road, rename_road
from diming.layers.store import audit_rows, read_layer, transaction

LINE = "LINESTRING(120.01 36.01, 120.02 36.01)"
D = dt.date
TODAY = D(2024, 12, 31)


@pytest.fixture
def names_project(project):
    """Two roads in use, one of them on the heritage list, and an area name for the sheet."""
    line = MultiLineString([[(120.0, 36.0), (120.01, 36.0)]])
    with transaction(project, by="t") as tx:
        tx.insert("admin_areas", [{"code": "379901", "name": "云溪区", "level": "county", "geometry": None}])
        tx.insert("roads", [
            {"road_id": "379901R0001", "name": "海口路", "district": "379901", "status": "in_use", "geometry": line},
            {"road_id": "379901R0002", "name": "状元街", "district": "379901", "status": "in_use", "geometry": line}])
        tx.insert("heritage_names", [{"heritage_id": "BH-001", "name": "状元街", "status": "in_use",
                                      "category": "地名文化遗产", "geometry": Point(120.0, 36.0)}])
    return project


def _propose(project, name="松风路", on=D(2024, 8, 1), **kw):
    return P.propose(project, name, P.line_geometry(wkt=LINE), district="379901", today=on, **kw)


def _to_notice(project, key, start=D(2024, 8, 10)):
    P.advance(project, key, "submitted", on=D(2024, 8, 2), today=TODAY)
    P.advance(project, key, "in_review", on=D(2024, 8, 5), today=TODAY, assessment_ref="评估-1",
              expert_review_ref="论证-1", consultation_ref="意见-1")
    return P.advance(project, key, "public_notice", on=start, today=TODAY)


def _approve(project, key, on=D(2024, 8, 20)):
    return P.advance(project, key, "approved", on=on, today=TODAY, approved_by="青岚市人民政府",
                     approval_doc="青政字〔2024〕8号")


def test_propose_assigns_key_pinyin_batch_and_check(names_project):
    first = _propose(names_project, reason="新建", width=30.0)
    second = _propose(names_project, "海口街")
    assert first["proposal_id"] == "DM-2024-0001" and second["proposal_id"] == "DM-2024-0002"
    assert first["pinyin"] == "Songfeng Lu" and first["batch"] == "2024H2" and first["status"] == "draft"
    assert first["check_status"] == "ok"
    assert second["check_status"] == "warning"
    assert json.loads(second["check_findings"])[0]["rule"] == "name.same-specific"
    stored = read_layer(names_project, "road_proposals").set_index("proposal_id")
    assert stored.loc["DM-2024-0001", "width_m"] == 30.0 and stored.loc["DM-2024-0001", "created_on"] == "2024-08-01"
    assert _propose(names_project, on=D(2025, 3, 1))["proposal_id"] == "DM-2025-0001"
    assert _propose(names_project, on=D(2025, 3, 1))["batch"] == "2025H1"


def test_whole_procedure_ends_with_the_name_in_roads(names_project):
    key = _propose(names_project, reason="新建道路", meaning="松风")["proposal_id"]
    notice = _to_notice(names_project, key)
    assert notice["notice_end"] == "2024-08-17"  # public_notice_days = 7
    _approve(names_project, key)
    P.advance(names_project, key, "filed", on=D(2024, 8, 25), today=TODAY)
    announced = P.advance(names_project, key, "announced", on=D(2024, 8, 30), today=TODAY)
    road = read_layer(names_project, "roads", where="road_id = ?", params=(announced["road_id"],))
    assert announced["road_id"] == "379901R0003"
    assert road.iloc[0]["name"] == "松风路" and road.iloc[0]["pinyin"] == "Songfeng Lu"
    assert road.iloc[0]["approved_on"] == "2024-08-20" and road.iloc[0]["proposal_id"] == key
    for state, day in (("sign_ordered", 9), ("sign_installed", 20), ("sign_verified", 30)):
        record = P.advance(names_project, key, state, on=D(2024, 9, day), today=TODAY)
    assert record["status"] == "sign_verified" and record["sign_verified_on"] == "2024-09-30"
    history = P.show(names_project, key)["history"]
    assert [h["action"] for h in history] == ["propose"] + ["advance"] * 9
    assert history[4]["changed"]["approved_by"] == "青岚市人民政府"
    assert [r["action"] for r in audit_rows(names_project, layer="roads", key="379901R0003")] == ["announce"]


@pytest.mark.parametrize("state, to", [
    ("draft", "approved"), ("draft", "in_review"), ("submitted", "public_notice"), ("rejected", "submitted"),
    ("withdrawn", "submitted"), ("approved", "announced"), ("approved", "rejected"), ("filed", "sign_ordered"),
])
def test_illegal_transitions_are_refused(names_project, state, to):
    key = _propose(names_project)["proposal_id"]
    with transaction(names_project) as tx:
        tx.update("road_proposals", key, {"status": state})
    with pytest.raises(DimingError, match=f"不能从 {state}"):
        P.advance(names_project, key, to, on=D(2024, 9, 1), today=TODAY, close_reason="x",
                  approved_by="x", approval_doc="x")
    assert read_layer(names_project, "road_proposals").iloc[0]["status"] == state


def test_refusals_with_their_reasons(names_project):
    key = _propose(names_project)["proposal_id"]
    with pytest.raises(DimingError, match="晚于今天"):
        P.advance(names_project, key, "submitted", on=D(2025, 1, 5), today=TODAY)
    with pytest.raises(DimingError, match="早于上一步"):
        P.advance(names_project, key, "submitted", on=D(2024, 7, 1), today=TODAY)
    with pytest.raises(DimingError, match="须说明原因"):
        P.advance(names_project, key, "withdrawn", on=D(2024, 8, 3), today=TODAY)
    P.advance(names_project, key, "submitted", on=D(2024, 8, 2), today=TODAY)
    P.advance(names_project, key, "in_review", on=D(2024, 8, 5), today=TODAY, assessment_ref="评估-1")
    with pytest.raises(DimingError, match="专家论证报告、征求意见报告"):
        P.advance(names_project, key, "public_notice", on=D(2024, 8, 10), today=TODAY)
    P.advance(names_project, key, "public_notice", on=D(2024, 8, 10), today=TODAY, expert_review_ref="论证-1",
              consultation_ref="意见-1")
    with pytest.raises(DimingError, match="批准文号"):
        P.advance(names_project, key, "approved", on=D(2024, 8, 20), today=TODAY, approved_by="市政府")
    with pytest.raises(DimingError, match="公示期至 2024-08-17 结束"):
        _approve(names_project, key, on=D(2024, 8, 16))
    _approve(names_project, key, on=D(2024, 8, 17))


def test_approval_rechecks_the_name(names_project):
    key = _propose(names_project, "松风路")["proposal_id"]
    _to_notice(names_project, key)
    with transaction(names_project) as tx:  # meanwhile a road of that name was registered
        tx.insert("roads", [{"road_id": "379901R0009", "name": "松风路", "district": "379901", "status": "in_use",
                             "geometry": MultiLineString([[(120.0, 36.1), (120.01, 36.1)]])}])
    with pytest.raises(DimingError, match="名称检查未通过.*name.duplicate"):
        _approve(names_project, key)
    rejected = P.advance(names_project, key, "rejected", on=D(2024, 8, 20), today=TODAY, close_reason="重名")
    assert rejected["closed_on"] == "2024-08-20" and rejected["close_reason"] == "重名"


def test_proposal_does_not_clash_with_itself_but_with_other_open_ones(names_project):
    _propose(names_project, "松风路")
    second = _propose(names_project, "松风路")
    assert json.loads(second["check_findings"])[0]["rule"] == "name.duplicate"
    key = second["proposal_id"]
    P.advance(names_project, key, "withdrawn", on=D(2024, 8, 2), today=TODAY, close_reason="重复申报")
    assert _propose(names_project, "松峰路")["check_status"] == "warning"  # homophone of the open one only


def test_overdue_with_injected_dates(names_project, run):
    keys = [_propose(names_project, n)["proposal_id"] for n in ("松风路", "竹影路", "梅影路", "兰亭路")]
    for key in keys:
        _to_notice(names_project, key)
    for key in keys[1:]:
        _approve(names_project, key)  # 2024-08-20: filing and announcement due 2024-09-04
    P.advance(names_project, keys[2], "filed", on=D(2024, 8, 22), today=TODAY)
    P.advance(names_project, keys[3], "filed", on=D(2024, 8, 22), today=TODAY)
    P.advance(names_project, keys[3], "announced", on=D(2024, 8, 25), today=TODAY)

    def late(day):
        return sorted((i["proposal_id"][-1], i["what"], i["days_late"]) for i in P.overdue(names_project, today=day))

    assert late(D(2024, 8, 17)) == []  # notice ends today
    assert late(D(2024, 8, 18)) == [("1", "公示结束后办理", 1)]
    assert late(D(2024, 9, 4)) == [("1", "公示结束后办理", 18)]  # day 15 after approval: still on time
    assert late(D(2024, 9, 5)) == [("1", "公示结束后办理", 19), ("2", "公告", 1), ("2", "备案", 1), ("3", "公告", 1)]
    assert ("4", "路牌验收", 1) in late(D(2024, 10, 25))  # sign_verify_days = 60 after 2024-08-25
    assert ("4", "路牌验收", 1) not in late(D(2024, 10, 24))
    run(names_project, "config", "sign_verify_days", "30")
    assert ("4", "路牌验收", 31) in late(D(2024, 10, 25))
    result = run(names_project, "road", "overdue", "--today", "2024-09-05", "--format", "json")
    assert result.exit_code == 0 and len(json.loads(result.output)) == 4
    result = run(names_project, "road", "list", "--overdue", "--today", "2024-09-05")
    assert "共 3 件" in result.output


def test_road_cli_procedure_list_and_show(names_project, run, tmp_path):
    geojson = tmp_path / "line.geojson"
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
                       "geometry": {"type": "LineString", "coordinates": [[120.01, 36.01], [120.02, 36.01]]}}]}))
    result = run(names_project, "road", "propose", "壮园街", "--district", "379901", "--geometry", geojson,
                 "--reason", "新建", "--batch", "2024H2")
    assert result.exit_code == 0, result.output
    key = result.output.split()[0]
    assert "name.protected" in result.output and "名称检查: error" in result.output
    result = run(names_project, "road", "propose", "松风路", "--district", "379901", "--wkt", LINE)
    assert result.exit_code == 0
    today = dt.date.today().isoformat()
    assert run(names_project, "road", "advance", key, "--to", "submitted", "--date", today).exit_code == 0
    result = run(names_project, "road", "advance", key, "--to", "announced")
    assert result.exit_code == 1 and "不能从 submitted (已申报) 转为 announced" in result.output
    listed = json.loads(run(names_project, "road", "list", "--state", "submitted", "--format", "json").output)
    assert [r["proposal_id"] for r in listed] == [key]
    assert "共 1 件" in run(names_project, "road", "list", "--batch", "2024H2").output
    shown = run(names_project, "road", "show", key)
    assert "拟用名称: 壮园街" in shown.output and "草稿 → 已申报" in shown.output and "name.protected" in shown.output
    assert run(names_project, "road", "show", "DM-1999-0001").exit_code == 1
    bad = run(names_project, "road", "propose", "青松路", "--district", "379901", "--wkt", "LINESTRING(36 120, 36 121)")
    assert bad.exit_code == 1 and "不在中国范围内" in bad.output
    bad = run(names_project, "road", "propose", "青松路", "--district", "379901", "--wkt", "POINT(120 36)")
    assert bad.exit_code == 1 and "应为线" in bad.output


def test_batch_sheet(names_project, run, tmp_path):
    _propose(names_project, "松风路", applicant="=HYPERLINK(\"http://x\")", reason="新建", width=24.0)
    _propose(names_project, "壮园街")
    _propose(names_project, "竹影路", on=D(2025, 2, 1))  # another batch
    out = tmp_path / "review.xlsx"
    result = run(names_project, "road", "batch", "2024H2", "--output", out)
    assert result.exit_code == 0 and "2 件申报" in result.output
    sheet = openpyxl.load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0].startswith("2024年下半年道路命名集中审核表")
    header = rows[1]
    body = [dict(zip(header, r)) for r in rows[2:]]
    assert [r["拟用名称"] for r in body] == ["松风路", "壮园街"]
    assert body[0]["罗马字母拼写"] == "Songfeng Lu" and body[0]["所属政区"] == "云溪区"
    assert body[0]["申请单位"] == "'=HYPERLINK(\"http://x\")"  # neutralised, never a formula
    assert 850 < body[0]["长度(米)"] < 950  # 0.01° of longitude at 36°N, measured in metres
    assert body[0]["检查结论"] == "通过" and body[1]["检查结论"] == "有错误"
    assert "保护名录中的 状元街" in body[1]["检查问题"]
    assert sheet.data_validations.dataValidation[0].formula1 == '"同意,不同意,修改后再议"'
    assert isinstance(body[0]["登记日期"], dt.datetime) and body[0]["登记日期"].date() == D(2024, 8, 1)
    assert_prints(sheet, header_rows="2:2", freeze="C3", landscape=True, grid_row=3)
    assert run(names_project, "road", "batch", "2023H1", "--output", out).exit_code == 1
    assert run(names_project, "road", "batch", "2024-2", "--output", out).exit_code == 1


def _form(path, rows):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["拟用名称", "所属政区代码", "申请理由", "含义", "申请单位", "起点", "终点", "宽度(米)", "wkt"])
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_import_application_form(names_project, run, tmp_path):
    good = _form(tmp_path / "form.xlsx", [
        ["松风路", "379901", "新建", "松风", "城建局", "甲路口", "乙路口", 30, LINE],
        ["海口街", 379901, "新建", None, "城建局", None, None, None, LINE]])
    result = run(names_project, "import", "road_proposals", good)
    assert result.exit_code == 0, result.output
    stored = read_layer(names_project, "road_proposals")
    assert list(stored["name"]) == ["松风路", "海口街"] and set(stored["status"]) == {"draft"}
    assert list(stored["check_status"]) == ["ok", "warning"] and stored["district"][1] == "379901"
    assert stored["proposal_id"][1].endswith("-0002") and stored["width_m"][0] == 30.0
    bad = _form(tmp_path / "bad.xlsx", [
        ["竹影路", "379901", "新建", None, None, None, None, "宽", LINE],
        [None, "379901", "新建", None, None, None, None, None, LINE],
        ["梅影路", "379901", "新建", None, None, None, None, None, "POINT(120 36)"],
        ["兰影路", "379901", "新建", None, None, None, None, -5, LINE]])
    result = run(names_project, "import", "road_proposals", bad)
    assert result.exit_code == 1
    assert "bad.xlsx: 第 2 行, 字段 width_m" in result.output
    assert "bad.xlsx: 第 3 行, 字段 name" in result.output
    assert "bad.xlsx: 第 4 行, 字段 geometry" in result.output
    assert "bad.xlsx: 第 5 行, 字段 width_m: -5 不能为负" in result.output
    assert len(read_layer(names_project, "road_proposals")) == 2  # nothing half-written


def test_rename_cancel_adjust_and_heritage_guard(names_project, run):
    road = "379901R0001"
    renamed = rename_road(names_project, road, "海滨路", reason="名实不符")
    assert renamed["name"] == "海滨路" and renamed["pinyin"] == "Haibin Lu" and renamed["former_names"] == "海口路"
    with pytest.raises(DimingError, match="新名称 环球路 检查未通过"):
        rename_road(names_project, road, "环球路", reason="x")
    adjusted = adjust_road(names_project, road, reason="道路延伸", start="甲路口", end="丙路口",
                           geometry=P.line_geometry(wkt=LINE))
    assert adjusted["end_desc"] == "丙路口" and adjusted["geometry"].startswith("MULTILINESTRING ((120.01")
    protected = "379901R0002"
    for call in (lambda: rename_road(names_project, protected, "状元大街", reason="拓宽"),
                 lambda: cancel_road(names_project, protected, reason="拆迁")):
        with pytest.raises(DimingError, match="列入地名保护名录 \\(BH-001\\)"):
            call()
    with pytest.raises(DimingError, match="保护措施"):
        cancel_road(names_project, protected, reason="拆迁", override=True)
    result = run(names_project, "road", "cancel", protected, "--reason", "拆迁", "--date", "2024-09-01")
    assert result.exit_code == 1 and "--override" in result.output
    result = run(names_project, "road", "cancel", protected, "--reason", "整体拆迁", "--date", "2024-09-01",
                 "--override", "--measures", "原址立碑, 名称用于新建片区道路")
    assert result.exit_code == 0, result.output
    row = read_layer(names_project, "roads", where="road_id = ?", params=(protected,)).iloc[0]
    assert row["status"] == "cancelled" and row["cancelled_on"] == "2024-09-01"
    note = audit_rows(names_project, layer="roads", key=protected)[-1]["note"]
    assert "整体拆迁" in note and "BH-001" in note and "原址立碑" in note
    assert run(names_project, "road", "rename", protected, "新名路", "--reason", "x").exit_code == 1  # cancelled
    result = run(names_project, "road", "rename", road, "海湾路", "--reason", "名实不符")
    assert result.exit_code == 0 and "海滨路 → 海湾路" in result.output


def test_demo_has_proposals_in_several_states(demo_project):
    from diming.geonames.proposals import overdue, proposals

    records = {r["name"]: r for r in proposals(demo_project)}
    assert len({r["status"] for r in records.values()}) >= 8
    assert records["环球大道"]["check_status"] == "error" and records["壮园街"]["check_status"] == "error"
    assert records["望江路"]["road_id"] and records["鹤鸣路"]["approved_on"]
    late = {(i["name"], i["what"]) for i in overdue(demo_project)}
    assert {("鹤鸣路", "备案"), ("青禾路", "公告"), ("望江路", "路牌验收")} <= late
    roads = set(read_layer(demo_project, "roads")["name"])
    assert {"望江路", "白鹭街", "石桥路"} <= roads
