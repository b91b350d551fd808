"""Sign patrols: rounds, field sheets (PDF, XLSX round trip, GPX, KML), import, report, maintenance list, overdue."""
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from openpyxl import load_workbook

from diming.geonames import patrols
from diming.geonames.patrol_sheets import write_patrol_sheet
from diming.layers.store import audit_rows, read_layer, transaction
from test_sign_checks import road, sign

HEADER_ROW = 4


@pytest.fixture
def patrol(project, run):
    with transaction(project, by="测试") as tx:
        tx.insert("admin_areas", [{"code": "379901", "name": "云溪区", "level": "county"},
                                  {"code": "379902", "name": "松阳区", "level": "county"}])
        tx.insert("roads", [road("R1", "中山东路", 0), road("R2", "西安路", 1), road("R9", "别县路", 5, district="379902")])
        tx.insert("road_signs", [sign("S1", "R1", 0, "中山东路", "ZHONGSHAN DONGLU"),
                                 sign("S2", "R1", 0, "中山东路", "ZHONGSHAN DONGLU", sign_type="路名指示牌"),
                                 sign("S3", "R2", 1, "西安路", "XI'AN LU"), sign("S9", "R9", 5, "别县路", "BIEXIAN LU")])
    result = run(project, "sign", "patrol", "new", "2026", "--name", "2026年路牌巡查", "--districts", "379901")
    assert result.exit_code == 0, result.output
    assert "2026-1" in result.output
    return "2026-1"


def fill(sheet, out, entries: dict):
    """Fill the XLSX patrol sheet as a patroller would: {sign_id: {heading: value}}."""
    book = load_workbook(sheet)
    ws = book.active
    heads = {c.value: c.column for c in ws[HEADER_ROW]}
    for row in ws.iter_rows(min_row=HEADER_ROW + 1):
        for heading, value in entries.get(row[heads["路牌编号"] - 1].value, {}).items():
            ws.cell(row[0].row, heads[heading], value)
    book.save(out)
    return out


def test_patrol_new_list_show(project, run, patrol):
    shown = json.loads(run(project, "sign", "patrol", "show", patrol, "--format", "json").output)
    assert (shown["total"], shown["patrolled"], shown["districts"]) == (3, 0, ["379901"])
    assert "已巡查 0/3" in run(project, "sign", "patrol", "list").output
    refused = run(project, "sign", "patrol", "new", "2026", "--name", "x", "--districts", "379999")
    assert refused.exit_code == 1 and "没有登记的路牌" in refused.output
    assert "已结束" in run(project, "sign", "patrol", "close", patrol).output
    again = run(project, "sign", "patrol", "close", patrol)
    assert again.exit_code == 1 and "已结束" in again.output
    assert json.loads(run(project, "sign", "patrol", "list", "--format", "json").output)[0]["status"] == "closed"


def test_patrol_sheet_round_trip(project, run, patrol, tmp_path):
    sheet = write_patrol_sheet(project, patrol, "xlsx", tmp_path / "s.xlsx")
    ws = load_workbook(sheet).active
    assert [ws.cell(r, 3).value for r in range(HEADER_ROW + 1, HEADER_ROW + 4)] == ["S1", "S2", "S3"]
    assert ws.protection.sheet and ws.cell(HEADER_ROW + 1, 1).protection.locked
    filled = fill(sheet, tmp_path / "f.xlsx", {
        "S1": {"巡查日期": "2026-03-02", "现状": "损毁", "处理": "上报市局", "照片": "IMG_1.jpg", "巡查人": "王五"},
        "S2": {"巡查日期": "2026-03-02", "现状": "污损", "处理": "清洗", "备注": "-已清洗"},
        "S3": {"巡查日期": "2026-03-03", "现状": "完好"}})
    result = run(project, "sign", "patrol", "import", patrol, filled)
    assert result.exit_code == 0, result.output
    assert "新增 3" in result.output
    records = read_layer(project, "sign_patrol_records").set_index("sign_id")
    assert records.loc["S1"].record_id == "2026-1/S1" and records.loc["S1"].patroller == "王五"
    assert records.loc["S2"].notes == "-已清洗"
    signs = read_layer(project, "road_signs").set_index("sign_id").condition
    assert (signs["S1"], signs["S2"], signs["S3"]) == ("损毁", "完好", "完好")  # S2 was cleaned on the spot
    assert audit_rows(project, layer="road_signs", key="S1")[-1]["note"].startswith("路牌巡查 2026-1")

    again = run(project, "sign", "patrol", "import", patrol, filled)
    assert "新增 0" in again.output and "未变 3" in again.output
    # a sheet written now shows what came back, and brought back unchanged changes nothing
    resheet = write_patrol_sheet(project, patrol, "xlsx", tmp_path / "again.xlsx")
    ws = load_workbook(resheet).active
    heads = {c.value: c.column for c in ws[HEADER_ROW]}
    assert ws.cell(HEADER_ROW + 1, heads["现状"]).value == "损毁"
    assert ws.cell(HEADER_ROW + 2, heads["备注"]).value == "'-已清洗"
    assert "未变 3" in run(project, "sign", "patrol", "import", patrol, resheet).output
    corrected = fill(resheet, tmp_path / "c.xlsx", {"S3": {"现状": "倾斜", "处理": "扶正"}})
    assert "更新 1" in run(project, "sign", "patrol", "import", patrol, corrected).output
    assert patrols.patrol_progress(project, patrol)["patrolled"] == 3


def test_bad_patrol_sheet_refused_whole(project, run, patrol, tmp_path):
    sheet = write_patrol_sheet(project, patrol, "xlsx", tmp_path / "s.xlsx")
    filled = fill(sheet, tmp_path / "bad.xlsx", {
        "S1": {"巡查日期": "2026-03-02", "现状": "完好"},  # good, but not written either
        "S2": {"巡查日期": "2026-03-02", "现状": "损毁"},  # damaged without an action
        "S3": {"巡查日期": "2025-12-30", "现状": "倒了", "处理": "拆除"}})
    book = load_workbook(filled)
    book.active.cell(HEADER_ROW + 1, 3, "S9")  # a sign outside the patrol's divisions
    book.save(filled)
    before = Path(project).read_bytes()
    result = run(project, "sign", "patrol", "import", patrol, filled)
    assert result.exit_code == 1
    message = result.output.strip()
    assert len(message.splitlines()) == 1 and "未写入" in message
    for expected in ("第5行 路牌编号: S9 不是本次巡查范围内的路牌", "第6行 处理: 路牌损毁, 须填写处理",
                     "第7行 现状: 未知状况 '倒了'"):
        assert expected in message, expected
    assert Path(project).read_bytes() == before


def _results(project, patrol, *rows):
    records, problems = patrols.validate_results(project, patrol, [
        {"_row": i, "sign_id": s, "patrolled_on": on, "condition": c, "action": a} for i, (s, on, c, a) in enumerate(rows)])
    assert problems == []
    patrols.record_results(project, patrol, records)


def test_report_maintenance_list_and_overdue(project, run, patrol, tmp_path):
    _results(project, patrol, ("S1", "2026-03-02", "损毁", "上报市局"), ("S2", "2026-03-02", "缺失", "新设"),
             ("S3", "2026-03-02", "污损", "清洗"))
    result = run(project, "sign", "patrol", "maintenance", patrol, "-o", tmp_path / "维护清单.xlsx")
    assert result.exit_code == 0 and "2 块" in result.output
    ws = load_workbook(tmp_path / "维护清单.xlsx").active
    assert [c.value for c in ws[3]][:5] == ["序号", "政区代码", "政区名称", "道路名称", "路牌编号"]
    assert [(r[4], r[9], r[10]) for r in ws.iter_rows(min_row=4, values_only=True)] == [
        ("S1", "损毁", "上报市局"), ("S2", "缺失", "新设")]
    for suffix in (".xlsx", ".md", ".pdf"):
        assert run(project, "sign", "patrol", "report", patrol, "-o", tmp_path / f"r{suffix}").exit_code == 0
    md = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "| 379901 | 云溪区 | 3 | 3 | 0 | 1 | 1 | 1 | 0 | 0 | 0 |" in md
    summary = load_workbook(tmp_path / "r.xlsx")["汇总"]
    assert [c.value for c in summary[3]][:5] == ["政区代码", "政区名称", "路牌总数", "已巡查", "完好"]

    # reported on 2026-03-02, 30 days to fix (sign_repair_days): overdue from 2026-04-02
    quiet = json.loads(run(project, "road", "overdue", "--today", "2026-04-01", "--format", "json").output)
    assert [i for i in quiet if "sign_id" in i] == []
    late = json.loads(run(project, "road", "overdue", "--today", "2026-04-11", "--format", "json").output)
    assert {(i["sign_id"], i["days_late"]) for i in late if "sign_id" in i} == {("S1", 10), ("S2", 10)}
    assert run(project, "sign", "fixed", "S1", "--date", "2026-04-05").exit_code == 0
    late = json.loads(run(project, "road", "overdue", "--today", "2026-04-11", "--format", "json").output)
    assert [i["sign_id"] for i in late if "sign_id" in i] == ["S2"]
    assert read_layer(project, "road_signs").set_index("sign_id").condition["S1"] == "完好"


def test_a_later_patrol_finding_the_sign_good_closes_its_repair(project, patrol):
    _results(project, patrol, ("S1", "2026-03-02", "损毁", "上报市局"))
    patrols.new_patrol(project, 2027, "2027年路牌巡查", ["379901"])
    _results(project, "2027-1", ("S1", "2027-03-01", "完好", None))
    assert [r["fixed_on"] for r in patrols.sign_history(project, "S1")] == ["2027-03-01", None]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed")
def test_patrol_sheet_pdf(project, run, patrol, tmp_path):
    result = run(project, "sign", "patrol", "sheet", patrol, "--format", "pdf", "-o", tmp_path / "s.pdf")
    assert result.exit_code == 0, result.output
    info = subprocess.run(["pdfinfo", str(tmp_path / "s.pdf")], capture_output=True, text=True).stdout
    assert "Pages:" in info


def test_patrol_sheet_gpx_and_kml(project, run, patrol, tmp_path):
    run(project, "sign", "patrol", "sheet", patrol, "--format", "gpx", "-o", tmp_path / "s.gpx")
    gpx = ET.parse(tmp_path / "s.gpx").getroot()
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    assert [w.find("g:name", ns).text for w in gpx.findall("g:wpt", ns)] == ["S1", "S2", "S3"]
    run(project, "sign", "patrol", "sheet", patrol, "--format", "kml", "--district", "379901", "-o", tmp_path / "s.kml")
    kml = ET.parse(tmp_path / "s.kml").getroot()
    names = [e.text for e in kml.iter("{http://www.opengis.net/kml/2.2}name")]
    assert "S3" in names and "S9" not in names


def test_csv_results_in_gb18030(project, run, patrol, tmp_path):
    import csv

    path = tmp_path / "results.csv"
    with open(path, "w", newline="", encoding="gb18030") as out:
        writer = csv.writer(out)
        writer.writerow(["路牌编号", "巡查日期", "现状", "处理", "巡查人"])
        writer.writerow(["S3", "2026/4/1", "倾斜", "扶正", "赵六"])
    result = run(project, "sign", "patrol", "import", patrol, path)
    assert result.exit_code == 0, result.output
    [record] = patrols.sign_history(project, "S3")
    assert (record["patrolled_on"], record["condition"], record["action"], record["patroller"]) == (
        "2026-04-01", "倾斜", "扶正", "赵六")


def test_patrol_kml_descriptions_are_plain_text(project, run, patrol, tmp_path):
    payload = "<img src=x onerror=alert(1)>"
    with transaction(project, by="测试") as tx:
        tx.update("road_signs", "S3", {"text": payload})
    run(project, "sign", "patrol", "sheet", patrol, "--format", "kml", "-o", tmp_path / "s.kml")
    kml = ET.parse(tmp_path / "s.kml").getroot()
    descriptions = [e.text or "" for e in kml.iter("{http://www.opengis.net/kml/2.2}description")]
    # a viewer renders the description as HTML: the payload must arrive escaped, as text
    assert any("&lt;img src=x onerror=alert(1)&gt;" in d for d in descriptions)
    assert not any("<" in d for d in descriptions)
    styles = [e.get("id") for e in kml.iter("{http://www.opengis.net/kml/2.2}Style")]
    assert styles  # placemarks are styled by their latest condition


def test_patrol_report_markdown_shows_project_text_as_text(project, run, patrol, tmp_path):
    payload = "<img src=x onerror=alert(1)>"
    with transaction(project, by="测试") as tx:
        tx.update("road_signs", "S1", {"text": payload})
    _results(project, patrol, ("S1", "2026-03-02", "损毁", "上报市局"))
    assert run(project, "sign", "patrol", "report", patrol, "-o", tmp_path / "r.md").exit_code == 0
    md = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "<img" not in md and "&lt;img src=x onerror=alert(1)&gt;" in md
