import csv
import html
import json
import math
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from openpyxl import load_workbook
from printed import assert_prints

from diming.boundaries import inspection
from diming.boundaries.fieldsheet import NEW_ROWS_XLSX, write_fieldsheet
from diming.boundaries.inspection_checks import inspection_displaced, inspection_missing
from diming.errors import DimingError
from diming.layers.crs import from_lonlat, to_lonlat
from diming.layers.settings import set_setting
from diming.layers.store import audit_rows, read_layer

needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed")


def pdf_text(path, *, layout: bool = True) -> str:
    """The PDF's text: laid out as on the page, or else cell by cell in reading order."""
    return subprocess.run(["pdftotext", *(["-layout"] if layout else []), str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


@pytest.fixture
def rnd(demo_project, run):
    result = run(demo_project, "inspect", "round", "new", "2024", "--name", "第七轮2024年度", "--lines", "9101,9103")
    assert result.exit_code == 0, result.output
    assert "2024-1" in result.output
    return "2024-1"


def markers_of(project, line_id):
    m = read_layer(project, "boundary_markers", where="line_id = ?", params=(line_id,))
    return m.sort_values("marker_id").set_index("marker_id")


def fill(sheet, out, entries: dict):
    """Fill the XLSX field sheet ``sheet`` as an inspector would: {marker_id: {heading: value}}."""
    book = load_workbook(sheet)
    ws = book.active
    heads = {c.value: c.column for c in ws[4]}
    for row in ws.iter_rows(min_row=5):
        marker_id = row[heads["界桩编号"] - 1].value
        for heading, value in entries.get(marker_id, {}).items():
            ws.cell(row[0].row, heads[heading], value)
    book.save(out)
    return out


def test_round_new_list_show(demo_project, run, rnd):
    result = run(demo_project, "inspect", "round", "new", "2025", "--name", "第七轮2025年度", "--counties", "379903")
    assert result.exit_code == 0, result.output
    r2 = inspection.get_round(demo_project, "2025-1")
    assert r2["line_ids"] == ["9102", "9103"] and r2["starts_on"] == "2025-01-01" and r2["ends_on"] == "2025-12-31"
    listing = run(demo_project, "inspect", "round", "list").output
    assert "2024-1" in listing and "2025-1" in listing and "已检 0/34" in listing
    shown = json.loads(run(demo_project, "inspect", "round", "show", "2024-1", "--format", "json").output)
    assert [(x["line_id"], x["total"]) for x in shown["lines"]] == [("9101", 12), ("9103", 22)]
    assert shown["inspected"] == 0 and shown["total"] == 34
    bad = run(demo_project, "inspect", "round", "new", "2024", "--name", "x", "--lines", "9101,9999")
    assert bad.exit_code == 1 and "9999" in bad.output
    assert run(demo_project, "inspect", "round", "show", "1999-1").exit_code == 1
    assert [r["action"] for r in audit_rows(demo_project, layer="inspection_rounds")] == ["insert", "insert"]


@needs_pdftotext
def test_fieldsheet_pdf_text(demo_project, run, rnd, tmp_path):
    from diming.boundaries.fieldsheet import NEW_ROWS_PDF, pdf_headings
    from diming.boundaries.sheetio import _inspection_columns

    out = tmp_path / "9103.pdf"
    result = run(demo_project, "inspect", "fieldsheet", "--round", rnd, "--line", "9103", "--format", "pdf",
                 "--output", out)
    assert result.exit_code == 0, result.output
    text = pdf_text(out)
    for expected in ("界桩检查记录表", "松阳区—鹤山县界线", "松阳区（379902）", "鹤山县（379903）", "第七轮2024年度",
                     "高斯-克吕格 40 带 EPSG:4528", "双方签字", "检查人（签字）", "单位（盖章）", "北", "千米"):
        assert expected in text, expected
    markers = markers_of(demo_project, "9103")
    for marker_id, m in markers.iterrows():
        assert marker_id in text
        assert f"{m.x:.3f}" in text and f"{m.geometry.x:.7f}" in text
    # the paper carries every column the import reads, under the same headings, with the choices to tick
    printed = [h for row in pdf_headings() for cell in row if cell for h in cell.split("\n")]
    assert sorted(printed) == sorted(heading for _, heading in _inspection_columns())
    pages = text.split("\f")[:-1]
    assert len(pages) >= 2
    for page in pdf_text(out, layout=False).split("\f")[:-1]:  # the header rows repeat on every page
        flat = page.replace(" ", "").replace("\n", "")
        for heading in printed:
            assert heading in flat, heading
    assert text.count("□完好") == len(markers) + NEW_ROWS_PDF  # and blank rows for markers set in the field
    for choice in ("□损坏", "□丢失", "□移位", "□新设", "□无需处理", "□复位", "□是", "□否"):
        assert choice in text, choice
    assert pages[0].count("□完好") >= 2  # the first page holds table rows, not only the sketch


needs_pdffonts = pytest.mark.skipif(shutil.which("pdffonts") is None, reason="pdffonts (poppler-utils) not installed")


def embedded_fonts(path) -> list[tuple[str, str]]:
    """(font name, emb column) of each font ``pdffonts`` lists."""
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return [(line.split()[0], line.split()[-5]) for line in out.splitlines()[2:] if line.strip()]


@needs_pdffonts
def test_pdfs_embed_every_font(demo_project, rnd, tmp_path):
    from diming.boundaries.report import write_report

    sheet = write_fieldsheet(demo_project, rnd, "9101", "pdf", tmp_path / "s.pdf")
    report = write_report(demo_project, rnd, tmp_path / "r.pdf")
    for path in (sheet, report):
        fonts = embedded_fonts(path)
        assert fonts and all(emb == "yes" for _, emb in fonts), fonts
        assert all("WenQuanYiMicroHei" in name for name, _ in fonts), fonts  # a subset: AAAAAA+…


def test_fieldsheet_xlsx_validation_and_protection(demo_project, rnd, tmp_path):
    out = write_fieldsheet(demo_project, rnd, "9101", "xlsx", tmp_path / "s.xlsx")
    ws = load_workbook(out).active
    heads = [c.value for c in ws[4]]
    assert heads[:2] == ["界线编号", "界桩编号"] and "界桩状况" in heads and "处理意见" in heads
    ids = [ws.cell(r, 2).value for r in range(5, ws.max_row + 1)]
    markers = list(markers_of(demo_project, "9101").index)
    assert ids == markers + [None] * NEW_ROWS_XLSX  # blank rows for markers set in the field
    new_row = 5 + len(markers)
    assert ws.cell(new_row, 1).value == "9101" and not ws.cell(new_row, 2).protection.locked
    assert ws.cell(new_row, 5).protection.locked  # registered X: the import does not read it
    assert_prints(ws, header_rows="4:4", freeze="C5", landscape=True, grid_row=new_row)
    assert ws.protection.sheet and not ws.protection.insertRows
    col = {h: i + 1 for i, h in enumerate(heads)}
    assert ws.cell(5, col["界桩编号"]).protection.locked
    assert ws.cell(5, col["登记X(北)"]).protection.locked
    assert not ws.cell(5, col["界桩状况"]).protection.locked and not ws.cell(5, col["备注"]).protection.locked
    assert ws.cell(5, col["实测坐标系EPSG"]).value == 4528
    lists = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "list"}
    letter = ws.cell(5, col["界桩状况"]).coordinate
    assert lists[letter] == '"完好,损坏,丢失,移位,新设"'
    assert lists[ws.cell(5, col["处理意见"]).coordinate] == '"无需处理,维修,重建,复位"'
    assert "2024-1" in ws["A2"].value


def test_xlsx_neutralises_formulas(demo_project, rnd, tmp_path):
    from diming.layers.store import transaction

    with transaction(demo_project) as tx:
        tx.update("boundary_markers", "9101001Q", {"location": "=HYPERLINK(\"http://x\")"})
    ws = load_workbook(write_fieldsheet(demo_project, rnd, "9101", "xlsx", tmp_path / "s.xlsx")).active
    heads = {c.value: c.column for c in ws[4]}
    assert ws.cell(5, heads["位置说明"]).value == "'=HYPERLINK(\"http://x\")"


def test_fieldsheet_gpx_and_kml(demo_project, run, rnd, tmp_path):
    result = run(demo_project, "inspect", "fieldsheet", "--round", rnd, "--format", "gpx", "--output", tmp_path / "gps")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "gps").iterdir()) == ["9101.gpx", "9103.gpx"]
    markers = markers_of(demo_project, "9101")
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    root = ET.parse(tmp_path / "gps" / "9101.gpx").getroot()
    wpts = root.findall("g:wpt", ns)
    assert [w.find("g:name", ns).text for w in wpts] == list(markers.index)
    first = wpts[0]
    assert abs(float(first.get("lon")) - markers.geometry.iloc[0].x) < 1e-6
    assert abs(float(first.get("lat")) - markers.geometry.iloc[0].y) < 1e-6
    assert "上次状况" in first.find("g:desc", ns).text
    assert len(root.findall("g:trk/g:trkseg/g:trkpt", ns)) >= 2

    out = write_fieldsheet(demo_project, rnd, "9101", "kml", tmp_path / "9101.kml")
    k = {"k": "http://www.opengis.net/kml/2.2"}
    doc = ET.parse(out).getroot().find("k:Document", k)
    placemarks = doc.findall("k:Folder/k:Placemark", k)
    assert [p.find("k:name", k).text for p in placemarks] == list(markers.index)
    lon, lat, _ = map(float, placemarks[0].find("k:Point/k:coordinates", k).text.split(","))
    assert abs(lon - markers.geometry.iloc[0].x) < 1e-6 and abs(lat - markers.geometry.iloc[0].y) < 1e-6
    assert "云溪区与松阳区交界处" in placemarks[0].find("k:description", k).text
    assert doc.find("k:Placemark/k:MultiGeometry/k:LineString", k) is not None


def test_fieldsheet_line_not_in_round(demo_project, run, rnd, tmp_path):
    result = run(demo_project, "inspect", "fieldsheet", "--round", rnd, "--line", "9102", "--output", tmp_path / "x.pdf")
    assert result.exit_code == 1 and "9102" in result.output and not (tmp_path / "x.pdf").exists()


def test_xlsx_round_trip_updates_conditions_and_history(demo_project, run, rnd, tmp_path):
    sheet = write_fieldsheet(demo_project, rnd, "9101", "xlsx", tmp_path / "s.xlsx")
    m = markers_of(demo_project, "9101")
    filled = fill(sheet, tmp_path / "filled.xlsx", {
        "9101001Q": {"检查日期": "2024-05-03", "界桩状况": "移位", "实测X(北)或经度": m.x.iloc[0] + 3.0,
                     "实测Y(东)或纬度": m.y.iloc[0] + 4.0, "处理意见": "复位", "方位物完好": "是",
                     "左侧检查人": "张三", "右侧检查人": "李四", "照片": "IMG_0001.jpg", "备注": "被耕地推移"},
        "9101002Q": {"检查日期": "2024-05-03", "界桩状况": "丢失", "处理意见": "重建", "界线走向清楚": "否"},
        "9101003Q": {"检查日期": "2024-05-04", "界桩状况": "完好"},
    })
    result = run(demo_project, "inspect", "import", "--round", rnd, filled)
    assert result.exit_code == 0, result.output
    assert "新增 3" in result.output
    records = read_layer(demo_project, "inspections").set_index("marker_id")
    assert len(records) == 3
    r = records.loc["9101001Q"]
    assert r.inspection_id == "2024-1/9101001Q" and r.round_id == "2024-1" and r.line_id == "9101"
    assert abs(r.displacement_m - 5.0) < 0.01 and r.measured_crs == 4528
    assert r.references_complete == 1 and r.inspectors_left == "张三" and r.notes == "被耕地推移"
    assert records.loc["9101002Q"].line_recognisable == 0 and math.isnan(records.loc["9101002Q"].displacement_m)
    lon, lat = to_lonlat(m.x.iloc[0] + 3.0, m.y.iloc[0] + 4.0, 4528)
    assert abs(r.geometry.x - lon) < 1e-8 and abs(r.geometry.y - lat) < 1e-8
    current = markers_of(demo_project, "9101").condition
    assert (current["9101001Q"], current["9101002Q"], current["9101003Q"], current["9101004Q"]) == ("移位", "丢失", "完好", "完好")
    assert [a["note"] for a in audit_rows(demo_project, layer="boundary_markers", key="9101001Q")][-1].startswith("联检 2024-1")

    again = run(demo_project, "inspect", "import", "--round", rnd, filled)  # the same sheet again: nothing new
    assert again.exit_code == 0 and "新增 0" in again.output and "未变 3" in again.output
    assert len(read_layer(demo_project, "inspections")) == 3

    # a sheet written now shows what came back; corrected and brought back, it updates one record
    resheet = load_workbook(write_fieldsheet(demo_project, rnd, "9101", "xlsx", tmp_path / "again.xlsx")).active
    heads = {c.value: c.column for c in resheet[4]}
    assert resheet.cell(5, heads["界桩状况"]).value == "移位" and resheet.cell(5, heads["方位物完好"]).value == "是"
    assert resheet.cell(6, heads["界线走向清楚"]).value == "否" and resheet.cell(8, heads["界桩状况"]).value is None
    fill(tmp_path / "again.xlsx", tmp_path / "corrected.xlsx", {"9101003Q": {"界桩状况": "损坏", "处理意见": "维修",
                                                                         "备注": "-底座开裂"}})
    corrected = run(demo_project, "inspect", "import", "--round", rnd, tmp_path / "corrected.xlsx")
    assert "更新 1" in corrected.output and "未变 2" in corrected.output
    assert markers_of(demo_project, "9101").condition["9101003Q"] == "损坏"
    assert [a["action"] for a in audit_rows(demo_project, layer="inspections", key="2024-1/9101003Q")] == ["insert", "update"]
    # the note is written back neutralised ('-底座开裂) and read in again as it was: no change
    fill(write_fieldsheet(demo_project, rnd, "9101", "xlsx", tmp_path / "third.xlsx"), tmp_path / "third.xlsx", {})
    assert load_workbook(tmp_path / "third.xlsx").active.cell(7, heads["备注"]).value == "'-底座开裂"
    assert "未变 3" in run(demo_project, "inspect", "import", "--round", rnd, tmp_path / "third.xlsx").output
    assert read_layer(demo_project, "inspections").set_index("marker_id").notes["9101003Q"] == "-底座开裂"

    # the next year's round: the marker was reset; its condition follows the latest record, history keeps both
    inspection.new_round(demo_project, 2025, "第七轮2025年度", lines=["9101"])
    sheet = write_fieldsheet(demo_project, "2025-1", "9101", "xlsx", tmp_path / "s2.xlsx")
    assert load_workbook(sheet).active.cell(5, 11).value == "移位"  # 上次状况
    fill(sheet, tmp_path / "f2.xlsx", {"9101001Q": {"检查日期": "2025-04-01", "界桩状况": "完好",
                                                    "实测X(北)或经度": m.x.iloc[0] + 0.1, "实测Y(东)或纬度": m.y.iloc[0]}})
    inspection.import_results(demo_project, "2025-1", tmp_path / "f2.xlsx")
    history = inspection.marker_history(demo_project, "9101001Q")
    assert [(h["round_id"], h["condition"]) for h in history] == [("2024-1", "移位"), ("2025-1", "完好")]
    assert abs(history[1]["displacement_m"] - 0.1) < 0.01
    assert markers_of(demo_project, "9101").condition["9101001Q"] == "完好"
    assert inspection.round_progress(demo_project, "2024-1")["inspected"] == 3
    assert markers_of(demo_project, "9101").condition["9101003Q"] == "损坏"


def test_bad_sheet_refused_whole(demo_project, run, rnd, tmp_path):
    sheet = write_fieldsheet(demo_project, rnd, "9101", "xlsx", tmp_path / "s.xlsx")
    m = markers_of(demo_project, "9101")
    filled = fill(sheet, tmp_path / "bad.xlsx", {
        "9101001Q": {"检查日期": "2024-05-03", "界桩状况": "完好"},  # good, but must not be written either
        "9101002Q": {"检查日期": "2024-05-03", "界桩状况": "完好"},  # renamed below to an unknown marker
        "9101003Q": {"检查日期": "2024-05-03", "界桩状况": "完好"},  # renamed below to a marker of another line
        "9101004Q": {"检查日期": "2024-05-03", "界桩状况": "完好", "实测X(北)或经度": m.x.iloc[3] + 20000.0,
                     "实测Y(东)或纬度": m.y.iloc[3]},
        "9101005Q": {"检查日期": "2024-05-03", "界桩状况": "损坏", "处理意见": "拆除"},
        "9101006Q": {"检查日期": "2024-05-03", "界桩状况": "倒了"},
        "9101007Q": {"检查日期": "2023-12-30", "界桩状况": "完好"},
    })
    book = load_workbook(filled)
    ws = book.active
    ws.cell(6, 2, "9101099Q")
    ws.cell(7, 2, "9102001Q")
    book.save(filled)
    before = Path(demo_project).read_bytes()
    result = run(demo_project, "inspect", "import", "--round", rnd, filled)
    assert result.exit_code == 1
    message = result.output.strip()
    assert len(message.splitlines()) == 1 and "bad.xlsx" in message and "未写入" in message
    for expected in ("第6行 界桩编号: 未知界桩 9101099Q", "第7行 界桩编号: 9102001Q", "第8行 实测位置",
                     "第9行 处理意见: 未知处理意见 '拆除'", "第10行 界桩状况: 未知状况 '倒了'",
                     "第11行 检查日期: 2023-12-30 不在本轮"):
        assert expected in message, expected
    assert Path(demo_project).read_bytes() == before
    assert len(read_layer(demo_project, "inspections")) == 0


def test_csv_import_gb18030_and_lonlat_position(demo_project, rnd, tmp_path):
    m = markers_of(demo_project, "9103")
    point = m.geometry.iloc[1]
    # 2 m east of the registered position, given as longitude/latitude
    x, y = from_lonlat(point.x, point.y, 4549)
    lon, lat = to_lonlat(x, y + 2.0, 4549)
    path = tmp_path / "r.csv"
    with open(path, "w", encoding="gb18030", newline="") as f:
        w = csv.writer(f)
        w.writerow(["界桩编号", "检查日期", "界桩状况", "实测X(北)或经度", "实测Y(东)或纬度", "实测坐标系EPSG", "备注"])
        w.writerow([m.index[1], "2024/6/1", "完好", f"{lon:.9f}", f"{lat:.9f}", "EPSG:4490", "有杂草"])
        w.writerow([m.index[2], "", "", "", "", "", ""])  # not visited
    counts = inspection.import_results(demo_project, rnd, path)
    assert counts["added"] == 1
    r = read_layer(demo_project, "inspections").iloc[0]
    assert r.marker_id == m.index[1] and r.inspected_on == "2024-06-01" and r.notes == "有杂草"
    assert abs(r.displacement_m - 2.0) < 0.01
    with pytest.raises(DimingError, match="缺少列"):
        (tmp_path / "x.csv").write_text("界桩编号,备注\n9103001Q,x\n", encoding="utf-8")
        inspection.import_results(demo_project, rnd, tmp_path / "x.csv")


def test_check_rules(demo_project, run, rnd):
    assert inspection_missing(demo_project, line_ids=["9102"]) == []
    missing = inspection_missing(demo_project)
    assert len(missing) == 34 and {f["rule"] for f in missing} == {"inspection.missing"}
    f = missing[0]
    assert set(f) == {"rule", "severity", "layer", "id", "name", "message", "related", "lon", "lat"}
    assert f["layer"] == "boundary_markers" and f["related"][0] == {"layer": "inspection_rounds", "id": "2024-1",
                                                                    "name": "第七轮2024年度"}
    m = markers_of(demo_project, "9101")
    records = [{"_row": 2, "marker_id": "9101001Q", "inspected_on": "2024-05-03", "condition": "移位",
                "measured_x": m.x.iloc[0] + 1.5, "measured_y": m.y.iloc[0], "measured_crs": 4528},
               {"_row": 3, "marker_id": "9101002Q", "inspected_on": "2024-05-03", "condition": "完好",
                "measured_x": m.x.iloc[1] + 0.5, "measured_y": m.y.iloc[1], "measured_crs": 4528}]
    valid, problems = inspection.validate_results(demo_project, rnd, records)
    assert problems == []
    inspection.record_results(demo_project, rnd, valid)
    assert len(inspection_missing(demo_project)) == 32
    displaced = inspection_displaced(demo_project)
    assert [(d["id"], d["severity"]) for d in displaced] == [("9101001Q", "error")]
    assert "1.50 米" in displaced[0]["message"] and displaced[0]["distance_m"] == 1.5
    assert run(demo_project, "inspect", "round", "close", rnd).exit_code == 0
    assert inspection_missing(demo_project) == [] and len(inspection_displaced(demo_project)) == 1
    assert run(demo_project, "inspect", "round", "close", rnd).exit_code == 1
    set_setting(demo_project, "displacement_tolerance_m", "2")
    assert inspection_displaced(demo_project) == []
    set_setting(demo_project, "displacement_tolerance_m", "0.3")
    assert [d["id"] for d in inspection_displaced(demo_project)] == ["9101001Q", "9101002Q"]


@needs_pdftotext
def test_round_report_formats(demo_project, run, rnd, tmp_path):
    m = markers_of(demo_project, "9101")
    inspection.record_results(demo_project, rnd, inspection.validate_results(demo_project, rnd, [
        {"_row": 2, "marker_id": "9101001Q", "inspected_on": "2024-05-03", "condition": "移位", "action": "复位",
         "measured_x": m.x.iloc[0] + 3.0, "measured_y": m.y.iloc[0] + 4.0, "measured_crs": 4528},
        {"_row": 3, "marker_id": "9101002Q", "inspected_on": "2024-05-03", "condition": "丢失", "action": "重建"},
    ])[0])
    for suffix in ("md", "xlsx", "pdf"):
        result = run(demo_project, "inspect", "report", "--round", rnd, "--output", tmp_path / f"r.{suffix}")
        assert result.exit_code == 0, result.output
    md = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "| 9101 | 云溪区—松阳区界线 | 12 | 2 | 0 | 0 | 1 | 1 | 0 | 10 |" in md
    assert "| 合计 |  | 34 | 2 | 0 | 0 | 1 | 1 | 0 | 32 |" in md
    assert "| 9101 | 9101001Q | 移位 | 5.00 | 2024-05-03 |" in md
    assert "| 9101 | 9101002Q | 丢失 | 重建 |  |" in md
    assert "| 界桩移位 | 错误 | 界桩 9101001Q |" in md
    assert md.count("9103022Q") == 1  # not yet inspected: listed once, not once more as a finding
    book = load_workbook(tmp_path / "r.xlsx")
    summary = [list(r) for r in book["汇总"].iter_rows(min_row=3, values_only=True)]
    assert summary[0] == ["界线编号", "界线名称", "界桩总数", "已检", "完好", "损坏", "丢失", "移位", "新设", "未检"]
    assert summary[-1] == ["合计", None, 34, 2, 0, 0, 1, 1, 0, 32]
    assert list(book["移位界桩"].iter_rows(min_row=2, values_only=True)) == [("9101", "9101001Q", "移位", "5.00", "2024-05-03")]
    assert_prints(book["汇总"], header_rows="3:3", freeze="C4", landscape=True)
    for name in ("移位界桩", "需处理界桩", "尚未检查的界桩", "检查发现的问题"):
        assert_prints(book[name], header_rows="1:1", freeze="C2", landscape=True)
    text = pdf_text(tmp_path / "r.pdf")
    for expected in ("联合检查报告", "第七轮2024年度", "界桩状况汇总", "9101001Q", "5.00", "重建", "尚未检查的界桩",
                     "界桩移位", "错误"):
        assert expected in text, expected
    # an official document: no rule codes, no English severities
    xlsx_text = " ".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v)
    for document in (md, text, xlsx_text):
        assert not re.search(r"\b(area|line|marker|inspection|proposal|name)\.[a-z-]+", document)
        assert not re.search(r"\b(error|warning|info)\b", document)
    bad = run(demo_project, "inspect", "report", "--round", rnd, "--output", tmp_path / "r.doc")
    assert bad.exit_code == 1 and not (tmp_path / "r.doc").exists()


@needs_pdftotext
def test_demo_writes_round_sheet_and_report(tmp_path):
    from diming.demo import run_demo

    lines = []
    project = run_demo(tmp_path / "out", echo=lines.append)
    assert any(line.startswith("联检轮次") for line in lines)
    progress = inspection.list_rounds(project)[0]
    assert [(x["line_id"], x["inspected"], x["total"]) for x in progress["lines"]] == [("9101", 12, 12), ("9102", 0, 12)]
    assert "9102001Q" in pdf_text(tmp_path / "out" / "联检记录表-9102.pdf")
    assert load_workbook(tmp_path / "out" / "联检记录表-9102.xlsx").active.cell(5, 2).value == "9102001Q"
    report = (tmp_path / "out" / "联检报告.md").read_text(encoding="utf-8")
    assert "| 9101 | 9101004Q | 移位 | 2.40 |" in report and "| 9101 | 9101008Q | 丢失 | 重建 |  |" in report
    # diming check's findings on the round's lines and the areas either side, not the rest
    assert "| 界桩移位 | 错误 | 界桩 9101004Q |" in report
    # the gap between two towns of 云溪区 lies inside the county, not on its boundary lines
    assert "缝隙" not in report and "9103005Q" not in report and "重叠" not in report
    assert "联合检查报告" in pdf_text(tmp_path / "out" / "联检报告.pdf")
    assert markers_of(project, "9101").condition["9101004Q"] == "移位"


def test_marker_without_plane_coordinates_gets_them_from_its_position(demo_project, rnd, tmp_path):
    from diming.boundaries.fieldsheet import sheet_data
    from diming.layers.store import transaction

    m = markers_of(demo_project, "9101")
    with transaction(demo_project) as tx:
        tx.update("boundary_markers", "9101002Q", {"x": None, "y": None, "plane_crs": None})
    row = sheet_data(demo_project, rnd, "9101")["markers"][1]
    assert row["plane_crs"] == 4528
    assert abs(row["x"] - m.x.iloc[1]) < 0.002 and abs(row["y"] - m.y.iloc[1]) < 0.002


def test_new_marker_text_dates_and_displacement_summary(demo_project, run, rnd, tmp_path):
    sheet = write_fieldsheet(demo_project, rnd, "9101", "xlsx", tmp_path / "s.xlsx")
    m = markers_of(demo_project, "9101")
    filled = fill(sheet, tmp_path / "filled.xlsx", {
        "9101001Q": {"检查日期": "2024/5/3", "界桩状况": "移位", "实测X(北)或经度": m.x.iloc[0] + 3.0,
                     "实测Y(东)或纬度": m.y.iloc[0] + 4.0},
        "9101002Q": {"检查日期": "２０２４年５月４日", "界桩状况": "完好"},  # typed as text, full-width digits
        "9101003Q": {"检查日期": "20240505", "界桩状况": "完好", "实测X(北)或经度": m.x.iloc[2] + 0.2,
                     "实测Y(东)或纬度": m.y.iloc[2]},
    })
    book = load_workbook(filled)
    ws = book.active
    heads = {c.value: c.column for c in ws[4]}
    row = 5 + len(m)  # the first blank row: a marker set in the field between 001 and 002
    x, y = (m.x.iloc[0] + m.x.iloc[1]) / 2, (m.y.iloc[0] + m.y.iloc[1]) / 2
    for heading, value in {"界桩编号": "9101001A", "界桩类型": "单立", "材质": "混凝土", "检查日期": "2024-05-03",
                           "界桩状况": "新设", "实测X(北)或经度": x, "实测Y(东)或纬度": y, "位置说明": "新修机耕路旁"}.items():
        ws.cell(row, heads[heading], value)
    book.save(filled)
    result = run(demo_project, "inspect", "import", "--round", rnd, filled)
    assert result.exit_code == 0, result.output
    assert "新增 4" in result.output and "新设界桩 1" in result.output
    assert "位移超过容差 1 米的界桩 1 个: 9101001Q 5.00 米" in result.output
    records = read_layer(demo_project, "inspections").set_index("marker_id")
    assert records.inspected_on["9101002Q"] == "2024-05-04" and records.inspected_on["9101003Q"] == "2024-05-05"
    new = markers_of(demo_project, "9101").loc["9101001A"]
    assert new.condition == "新设" and new.material == "混凝土" and new.installed_on == "2024-05-03"
    assert new.plane_crs == 4528 and abs(new.x - x) < 1e-6 and records.displacement_m["9101001A"] == 0
    assert [a["note"] for a in audit_rows(demo_project, layer="boundary_markers", key="9101001A")] == ["联检 2024-1: 新设界桩"]
    assert run(demo_project, "inspect", "import", "--round", rnd, filled).output.count("未变 4") == 1

    # re-generated now: 上次状况 is what was there before this round, this round's result in its own column
    again = load_workbook(write_fieldsheet(demo_project, rnd, "9101", "xlsx", tmp_path / "again.xlsx")).active
    assert again.cell(5, heads["界桩编号"]).value == "9101001A" and again.cell(5, heads["上次状况"]).value is None
    assert again.cell(6, heads["上次状况"]).value == "完好" and again.cell(6, heads["界桩状况"]).value == "移位"
    # a new marker without its position, or on a line outside the round, is refused
    ws.cell(row, heads["界桩编号"], "9101001B")
    ws.cell(row, heads["实测X(北)或经度"]).value = None
    ws.cell(row, heads["实测Y(东)或纬度"]).value = None
    ws.cell(row + 1, heads["界桩编号"], "9102001B")
    ws.cell(row + 1, heads["界线编号"], "9102")
    for heading, value in {"检查日期": "2024-05-03", "界桩状况": "新设", "实测X(北)或经度": x, "实测Y(东)或纬度": y}.items():
        ws.cell(row + 1, heads[heading], value)
    book.save(tmp_path / "bad.xlsx")
    bad = run(demo_project, "inspect", "import", "--round", rnd, tmp_path / "bad.xlsx")
    assert bad.exit_code == 1
    assert f"第{row}行 实测X(北)或经度: 新设界桩须填实测位置" in bad.output
    assert f"第{row + 1}行 界线编号: '9102' 不是本轮界线" in bad.output


@needs_pdftotext
def test_fieldsheet_pdf_shows_previous_round_and_this_rounds_result(demo_project, rnd, tmp_path):
    m = markers_of(demo_project, "9101")
    inspection.record_results(demo_project, rnd, inspection.validate_results(demo_project, rnd, [
        {"_row": 2, "marker_id": "9101002Q", "inspected_on": "2024-05-03", "condition": "丢失", "action": "重建"}])[0])
    inspection.new_round(demo_project, 2025, "第七轮2025年度", lines=["9101"])
    from diming.boundaries.fieldsheet import sheet_data

    data = sheet_data(demo_project, "2025-1", "9101")
    assert data["markers"][1]["last_condition"] == "丢失" and data["markers"][0]["last_condition"] == "完好"
    this = sheet_data(demo_project, rnd, "9101")
    assert this["markers"][1]["last_condition"] == "完好" and this["markers"][1]["entered"]["condition"] == "丢失"
    text = pdf_text(write_fieldsheet(demo_project, rnd, "9101", "pdf", tmp_path / "s.pdf"))
    assert "■丢失" in text and "■重建" in text and "2024-05-03" in text
    assert m.index[1] in text


PAYLOADS = ['<script>alert(1)</script>', '<img src=x onerror=alert(2)>', '"><svg onload=alert(3)>',
            '<a href="javascript:alert(4)">点此</a>', '[点此](javascript:alert(5))', '![x](http://x/y.png)',
            '<iframe src="http://x"></iframe>', '&lt;b&gt;', '`code`', '*强调*']


def test_gpx_ele_and_kml_styles_extended_data_plain_descriptions(demo_project, rnd, tmp_path):
    from diming.layers.store import transaction
    from diming.layers.styles import CONDITION_COLOURS

    payload = " ".join(PAYLOADS)
    with transaction(demo_project) as tx:
        tx.update("boundary_markers", "9101001Q", {"location": payload, "condition": "丢失"})
        tx.update("boundary_lines", "9101", {"description": payload})
    markers = markers_of(demo_project, "9101")
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    wpts = ET.parse(write_fieldsheet(demo_project, rnd, "9101", "gpx", tmp_path / "s.gpx")).getroot().findall("g:wpt", ns)
    assert [float(w.find("g:ele", ns).text) for w in wpts] == list(markers.elevation)
    assert list(wpts[0])[0].tag.endswith("ele")  # GPX 1.1 wants ele before name

    k = {"k": "http://www.opengis.net/kml/2.2"}
    doc = ET.parse(write_fieldsheet(demo_project, rnd, "9101", "kml", tmp_path / "s.kml")).getroot().find("k:Document", k)
    styles = {s.get("id"): s for s in doc.findall("k:Style", k)}
    placemarks = doc.findall("k:Folder/k:Placemark", k)
    lost = styles[placemarks[0].find("k:styleUrl", k).text[1:]]
    colour = CONDITION_COLOURS["丢失"]  # aabbggrr
    assert lost.find("k:IconStyle/k:color", k).text == f"ff{colour[5:7]}{colour[3:5]}{colour[1:3]}"
    assert styles[placemarks[1].find("k:styleUrl", k).text[1:]].find("k:IconStyle/k:color", k).text.endswith(
        CONDITION_COLOURS["完好"][1:3])
    data = {d.get("name"): (d.find("k:displayName", k).text, d.find("k:value", k).text)
            for d in placemarks[0].findall("k:ExtendedData/k:Data", k)}
    assert data["marker_id"] == ("界桩编号", "9101001Q") and data["condition"] == ("现状", "丢失")
    assert data["location"] == ("位置说明", payload) and float(data["elevation"][1]) == markers.elevation.iloc[0]
    assert data["x"][1] == str(markers.x.iloc[0]) and data["plane_crs"] == ("平面坐标系EPSG", "4528")
    # descriptions are plain text: as a balloon renders them (HTML), no tag survives, every payload reads as written
    for description in [p.find("k:description", k).text for p in placemarks] + \
            [doc.find("k:Placemark/k:description", k).text]:
        assert "<" not in description and ">" not in description
    rendered = html.unescape(placemarks[0].find("k:description", k).text)
    assert all(p in rendered for p in PAYLOADS)


def test_markdown_report_escapes_html(demo_project, rnd, tmp_path):
    from diming.boundaries.report import write_report
    from diming.layers.store import transaction

    with transaction(demo_project) as tx:
        tx.update("boundary_lines", "9101", {"name": "云溪区—松阳区界线" + "".join(PAYLOADS)})
    inspection.record_results(demo_project, rnd, inspection.validate_results(demo_project, rnd, [
        {"_row": 2, "marker_id": "9101002Q", "inspected_on": "2024-05-03", "condition": "丢失", "action": "重建",
         "notes": " ".join(PAYLOADS)}])[0])
    md = write_report(demo_project, rnd, tmp_path / "r.md").read_text(encoding="utf-8")
    assert "<" not in md and ">" not in md
    assert not re.search(r"(?<!\\)[\[\]`*!]", md)  # no link, image, code or emphasis Markdown would act on
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md and "&amp;lt;b&amp;gt;" in md


def test_report_keeps_area_problems_on_the_line_only(demo_project, rnd, tmp_path):
    import shapely

    from diming.boundaries.report import round_report
    from diming.layers.crs import project as to_gk
    from diming.layers.store import transaction

    areas = read_layer(demo_project, "admin_areas").set_index("code")
    line = read_layer(demo_project, "boundary_lines").set_index("line_id").geometry["9101"]
    on_line = line.interpolate(0.5, normalized=True)
    x, y = to_gk([on_line], 4549)[0].coords[0]
    bite = to_gk([shapely.box(x - 150, y - 150, x + 150, y + 150)], 4549, inverse=True)[0]
    with transaction(demo_project) as tx:  # a gap between 云溪区 and 松阳区, on their line
        tx.update("admin_areas", "379901", {"geometry": shapely.MultiPolygon(
            shapely.get_parts(areas.geometry["379901"].difference(bite)))})
    findings = round_report(demo_project, rnd)["findings"]
    gaps = [f for f in findings if f["rule"] == "area.gap"]
    assert len(gaps) == 1 and "云溪区" in gaps[0]["message"] and "松阳区" in gaps[0]["message"]
    assert "溪口街道" not in gaps[0]["message"]  # the gap between two towns inside 云溪区 stays out
    if shutil.which("pdftotext"):  # "m²" prints: the embedded font has it
        from diming.boundaries.report import write_report

        text = pdf_text(write_report(demo_project, rnd, tmp_path / "r.pdf"))
        assert "区域缝隙" in text and "m²" in text


def test_overview_labels_never_collide(demo_project, rnd):
    from reportlab.graphics.shapes import String
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from diming.boundaries import pdf
    from diming.boundaries.fieldsheet import sheet_data

    data = sheet_data(demo_project, rnd, "9103")
    width, height = 273 * mm, 72 * mm
    drawing = pdf.overview(data["line"]["geometry"], [(m["marker_id"], m["geometry"]) for m in data["markers"]],
                           (data["left"]["name"], data["left"]["geometry"]),
                           (data["right"]["name"], data["right"]["geometry"]), width=width, height=height)
    texts = [s for s in drawing.contents if isinstance(s, String)]
    assert {s.fontName for s in texts} == {pdf.FONT}
    labels = [s for s in texts if s.text in {m["marker_id"] for m in data["markers"]}]
    assert len(labels) >= len(data["markers"]) * 0.8  # most markers are numbered
    boxes = [(s.x, s.y, s.x + stringWidth(s.text, s.fontName, s.fontSize), s.y + s.fontSize) for s in labels]
    for i, a in enumerate(boxes):
        assert 0 <= a[0] and a[2] <= width and 0 <= a[1] and a[3] <= height
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)
    assert {"北", "松阳区", "鹤山县"} <= {s.text for s in texts}
    assert any(s.text.endswith("千米") or s.text.endswith(" 米") for s in texts)  # the scale bar
    from reportlab.graphics.shapes import PolyLine

    xs, ys = zip(*[(p.points[i], p.points[i + 1]) for p in drawing.contents if isinstance(p, PolyLine)
                   for i in range(0, len(p.points), 2)])
    # the line is fitted to the frame: it spans it (less the label margins) one way, centred
    assert max(xs) - min(xs) > 0.85 * (width - 32) or max(ys) - min(ys) > 0.85 * (height - 32)
    assert abs((max(xs) + min(xs)) / 2 - width / 2) < 2 and abs((max(ys) + min(ys)) / 2 - height / 2) < 2


def test_font_from_the_package_else_a_system_truetype_font(monkeypatch, tmp_path):
    from diming.boundaries import pdf

    packaged, index = pdf.font_file()
    assert packaged.suffix in (".ttc", ".ttf") and "paperang_p2_fonts_cjk" in str(packaged)
    monkeypatch.setattr(pdf, "PACKAGE_FONT", ("no_such_font_package", "x.ttc", 0))
    monkeypatch.setattr(pdf, "SYSTEM_FONTS", ((str(tmp_path / "absent.ttf"), 0), (str(packaged), index)))
    assert pdf.font_file() == (packaged, index)
    monkeypatch.setattr(pdf, "SYSTEM_FONTS", ((str(tmp_path / "absent.ttf"), 0),))
    with pytest.raises(DimingError, match="中文字体"):
        pdf.font_file()
