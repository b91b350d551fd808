"""The half-yearly batch (每半年集中审核): every proposal of a batch with its checks, in a sheet
a review meeting can work through (one row a proposal; opinion and vote columns left to fill in)."""
from __future__ import annotations

from diming.errors import DimingError

COLUMNS = (
    ("序号", 6), ("申报编号", 15), ("拟用名称", 12), ("罗马字母拼写", 20), ("专名", 10), ("通名", 6),
    ("所属政区", 10), ("办理状态", 10), ("申请单位", 16), ("申请理由", 24), ("含义", 24), ("起点", 16),
    ("终点", 16), ("宽度(米)", 9), ("长度(米)", 9), ("登记日期", 11), ("检查结论", 9), ("检查问题", 48),
    ("审核意见", 12), ("备注", 20),
)
OPINIONS = ("同意", "不同意", "修改后再议")
_VERDICT = {"ok": "通过", "warning": "有提示", "error": "有错误"}


def _about(finding) -> list[tuple[str, str]]:
    """The features a finding counts against: its subject and the related features of the
    subject's layer (the other names of a clashing group); not a road or area it is measured
    against (the named road a proposal lies on is not at fault)."""
    return [(finding.layer, finding.id)] + [(r["layer"], r["id"]) for r in finding.related
                                             if r["layer"] == finding.layer]


def batch_rows(project, batch: str) -> list[dict]:
    """The proposals of ``batch`` (not withdrawn), each with what ``diming check`` finds on it
    today, name and geometry rules alike: on an open proposal, or on the road an announced one
    became (a proposal never clashes with its own road). A rejected one is no longer checked."""
    from diming.check import run_check
    from diming.geonames.namecheck import OPEN_STATES, describe, local_rules
    from diming.geonames.proposals import check_batch, label, plain
    from diming.layers.crs import to_metric
    from diming.layers.settings import get_settings
    from diming.layers.store import read_layer

    check_batch(batch)
    frame = read_layer(project, "road_proposals", where="batch = ? AND status != ?", params=(batch, "withdrawn"))
    if frame.empty:
        return []
    lengths = to_metric(frame).length.round(0)
    areas = read_layer(project, "admin_areas", columns=("code", "name"))
    division = dict(zip(areas["code"], areas["name"]))
    roads = read_layer(project, "roads", where="proposal_id IS NOT NULL", columns=("road_id", "proposal_id"),
                       geometry=False)
    road_of = dict(zip(roads["proposal_id"], roads["road_id"]))
    found: dict[tuple, list] = {}
    for f in run_check(project):
        for feature in _about(f):
            found.setdefault(feature, []).append(f)
    overrides = local_rules(get_settings(project))["overrides"]
    rows = []
    for (i, p), length in zip(frame.iterrows(), lengths):
        described = describe(p["name"], overrides, ordinal=plain(p["ordinal"]) == 1)
        road = plain(p["road_id"]) or road_of.get(p["proposal_id"])
        if p["status"] in OPEN_STATES:
            findings = found.get(("road_proposals", p["proposal_id"]), [])
        elif road:
            findings = found.get(("roads", road), [])
        else:
            findings = None
        listed = [{"rule": f.rule, "severity": f.severity, "message": f.message, "exception_id": f.exception_id}
                  for f in findings or ()]
        severities = {f.severity for f in findings or () if not f.accepted}
        rows.append({
            "proposal_id": p["proposal_id"], "name": p["name"], "pinyin": described["pinyin"],
            "specific": described["specific"], "generic": described["generic"],
            "district": division.get(p["district"], p["district"]), "status": label(p["status"]),
            "applicant": p["applicant"], "reason": p["reason"], "meaning": p["meaning"],
            "start": p["start_desc"], "end": p["end_desc"], "width": plain(p["width_m"]),
            "length": float(length), "created_on": p["created_on"],
            "verdict": "—" if findings is None else
            _VERDICT["error" if "error" in severities else "warning" if severities else "ok"],
            "findings": listed})
    return rows


def write_batch(project, batch: str, output) -> int:
    """Write the review sheet of ``batch`` (e.g. ``2024H2``) to ``output`` (.xlsx); returns the row count."""
    from pathlib import Path

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    from diming.layers.exports import DATE_FORMAT, date_cell, draw_grid, neutralise, print_setup, replacing

    output = Path(output)
    if output.suffix.lower() != ".xlsx":
        raise DimingError(f"{output}: 审核表应为 .xlsx 文件")
    rows = batch_rows(project, batch)
    if not rows:
        raise DimingError(f"批次 {batch} 没有申报 (no proposal in this batch)")
    book = Workbook()
    sheet = book.active
    sheet.title = f"{batch} 集中审核"
    year, half = batch[:4], "上" if batch.endswith("1") else "下"
    sheet.append([f"{year}年{half}半年道路命名集中审核表 (共 {len(rows)} 件)"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([c for c, _ in COLUMNS])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    warn = PatternFill("solid", fgColor="FFF2CC")
    bad = PatternFill("solid", fgColor="F8CBAD")
    for n, r in enumerate(rows, start=1):
        problems = "\n".join(f"[{_mark(f)}] {f['message']}" for f in r["findings"])
        if r["verdict"] == "—":
            problems = f"{r['status']}, 不再检查"
        values = [n, r["proposal_id"], r["name"], r["pinyin"], r["specific"], r["generic"], r["district"],
                  r["status"], r["applicant"], r["reason"], r["meaning"], r["start"], r["end"], r["width"],
                  r["length"], date_cell(r["created_on"]), r["verdict"], problems or "无", None, None]
        sheet.append([neutralise(v) for v in values])
        sheet.cell(row=n + 2, column=16).number_format = DATE_FORMAT  # 登记日期, a date cell
        fill = bad if r["verdict"] == "有错误" else warn if r["verdict"] == "有提示" else None
        if fill:
            sheet.cell(row=n + 2, column=17).fill = fill
    opinions = DataValidation(type="list", formula1='"' + ",".join(OPINIONS) + '"', allow_blank=True)
    sheet.add_data_validation(opinions)
    opinions.add(f"S3:S{len(rows) + 2}")
    for row in sheet.iter_rows(min_row=3):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    print_setup(sheet, [width for _, width in COLUMNS], header_rows=(2, 2), freeze="C3")
    draw_grid(sheet, 2, len(rows) + 2, len(COLUMNS))
    with replacing(output) as partial:
        book.save(partial)
    return len(rows)


def _mark(finding: dict) -> str:
    if finding["exception_id"]:
        return f"已认可 {finding['exception_id']}"
    return "错误" if finding["severity"] == "error" else "提示"
