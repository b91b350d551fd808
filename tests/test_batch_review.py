"""The half-year review sheet (集中审核表) tells each proposal what ``diming check`` finds on it,
name and geometry rules alike; a proposal never clashes with the road it became, in the sheet, in
namecheck or in the check."""
import datetime as dt

import openpyxl
import pytest
from shapely.geometry import MultiLineString

from diming.check import accept, run_check
from diming.geonames import proposals as P
from diming.geonames.batch import batch_rows
from diming.geonames.namecheck import namecheck
from diming.layers.store import transaction

D = dt.date
TODAY = D(2024, 12, 31)
FENGAN = MultiLineString([[(120.00, 36.0), (120.05, 36.0)]])  # 枫安大道, 4.5 km west to east


@pytest.fixture
def gazetteer(project):
    with transaction(project, by="t") as tx:
        tx.insert("admin_areas", [{"code": "379901", "name": "云溪区", "level": "county", "geometry": None}])
        tx.insert("roads", [{"road_id": "379901R0001", "name": "枫安大道", "district": "379901", "status": "in_use",
                             "geometry": FENGAN}])
    return project


def propose(project, name, wkt):
    return P.propose(project, name, P.line_geometry(wkt=wkt), district="379901", today=D(2024, 8, 1))["proposal_id"]


def advance(project, key, to):
    """Take a proposal from draft through the procedure up to state ``to``."""
    steps = [("submitted", D(2024, 8, 2), {}),
             ("in_review", D(2024, 8, 5), {"assessment_ref": "评估-1", "expert_review_ref": "论证-1",
                                          "consultation_ref": "意见-1"}),
             ("public_notice", D(2024, 8, 10), {}),
             ("approved", D(2024, 8, 20), {"approved_by": "青岚市人民政府", "approval_doc": "青政字〔2024〕8号"}),
             ("filed", D(2024, 8, 25), {}), ("announced", D(2024, 8, 30), {}),
             ("sign_ordered", D(2024, 9, 5), {}), ("sign_installed", D(2024, 9, 20), {})]
    for state, on, extra in steps:
        P.advance(project, key, state, on=on, today=TODAY, **extra)
        if state == to:
            return


def sheet(run, project, tmp_path):
    out = tmp_path / "review.xlsx"
    assert run(project, "road", "batch", "2024H2", "--output", out).exit_code == 0
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    return {r["拟用名称"]: r for r in (dict(zip(rows[1], row)) for row in rows[2:])}


def test_announced_proposals_never_clash_with_their_own_road(gazetteer, run, tmp_path):
    announced = propose(gazetteer, "松风路", "LINESTRING(120.01 36.02, 120.02 36.02)")
    installed = propose(gazetteer, "竹影路", "LINESTRING(120.01 36.03, 120.02 36.03)")
    advance(gazetteer, announced, "announced")
    advance(gazetteer, installed, "sign_installed")
    body = sheet(run, gazetteer, tmp_path)
    for name in ("松风路", "竹影路"):
        assert body[name]["检查结论"] == "通过" and body[name]["检查问题"] == "无"
    assert body["竹影路"]["办理状态"] == "路牌已安装"
    # namecheck of a proposal leaves out the road it became, as it leaves out the proposal itself
    assert namecheck(gazetteer, "松风路", district="379901", exclude=[("road_proposals", announced)])["findings"] == []
    assert [f["rule"] for f in namecheck(gazetteer, "松风路", district="379901")["findings"]] == ["name.duplicate"]


def test_the_sheet_carries_the_geometry_rules_of_the_check(gazetteer, run, tmp_path):
    """云帆路 lies on the named road 枫安大道 for 2.7 km: an error of the check, so of the sheet."""
    key = propose(gazetteer, "云帆路", "LINESTRING(120.01 36.0, 120.04 36.0)")
    advance(gazetteer, key, "submitted")
    [f] = [f for f in run_check(gazetteer) if f.id == key]
    assert f.rule == "proposal.overlaps-road" and f.measures["length_m"] == pytest.approx(2700, rel=0.01)
    body = sheet(run, gazetteer, tmp_path)
    assert body["云帆路"]["检查结论"] == "有错误"
    assert body["云帆路"]["检查问题"] == f"[错误] {f.message}"
    # accepted, it no longer makes the verdict, but the sheet still shows it
    accept(gazetteer, f.rule, f.keys, "同一道路, 经会议确认分段命名")
    body = sheet(run, gazetteer, tmp_path)
    assert body["云帆路"]["检查结论"] == "通过" and body["云帆路"]["检查问题"].startswith("[已认可 EX-0001]")


def test_a_road_a_proposal_lies_on_is_not_at_fault(gazetteer, tmp_path):
    """The announced 松风路 is the road the open 云帆路 lies on: the error is 云帆路's alone."""
    first = propose(gazetteer, "松风路", "LINESTRING(120.01 36.02, 120.04 36.02)")
    advance(gazetteer, first, "announced")
    second = propose(gazetteer, "云帆路", "LINESTRING(120.015 36.02, 120.035 36.02)")
    rows = {r["name"]: r for r in batch_rows(gazetteer, "2024H2")}
    assert rows["松风路"]["verdict"] == "通过"
    assert rows["云帆路"]["verdict"] == "有错误" and "松风路" in rows["云帆路"]["findings"][0]["message"]
    assert rows["云帆路"]["proposal_id"] == second


def test_a_rejected_proposal_is_no_longer_checked(gazetteer, run, tmp_path):
    key = propose(gazetteer, "枫安大道", "LINESTRING(120.01 36.05, 120.02 36.05)")  # a duplicate name
    P.advance(gazetteer, key, "submitted", on=D(2024, 8, 2), today=TODAY)
    assert sheet(run, gazetteer, tmp_path)["枫安大道"]["检查结论"] == "有错误"
    P.advance(gazetteer, key, "rejected", on=D(2024, 8, 3), today=TODAY, close_reason="重名")
    row = sheet(run, gazetteer, tmp_path)["枫安大道"]
    assert row["检查结论"] == "—" and row["检查问题"] == "未通过, 不再检查"


def test_the_check_never_finds_a_proposal_clashing_with_its_own_road(gazetteer):
    """A road register imported with its proposal (roads.proposal_id) while the proposal is still
    open: the two are one road. A third road of that name still clashes with both."""
    key = propose(gazetteer, "松风路", "LINESTRING(120.01 36.02, 120.02 36.02)")
    with transaction(gazetteer, by="t") as tx:
        tx.insert("roads", [{"road_id": "379901R0002", "name": "松风路", "district": "379901", "status": "in_use",
                             "proposal_id": key, "geometry": MultiLineString([[(120.01, 36.02), (120.02, 36.02)]])}])
    assert run_check(gazetteer, ["name"]) == []
    with transaction(gazetteer, by="t") as tx:
        tx.insert("roads", [{"road_id": "379901R0003", "name": "松风路", "district": "379901", "status": "in_use",
                             "geometry": MultiLineString([[(120.03, 36.04), (120.04, 36.04)]])}])
    [f] = run_check(gazetteer, ["name"])
    assert f.rule == "name.duplicate" and f.keys == [
        "road_proposals:" + key, "roads:379901R0002", "roads:379901R0003"]
