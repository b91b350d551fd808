"""The round report (联合检查报告) that goes to the approving authority: .pdf, .xlsx or .md.

Per line and in total: markers by condition, displaced markers with their distances, actions
needed, markers not yet inspected, and the check findings on the round's lines.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from diming.errors import DimingError

CONDITION_ORDER = ("完好", "损坏", "丢失", "移位", "新设", "未检")
REPORT_FORMATS = (".pdf", ".xlsx", ".md")


def round_report(project, round_id: str) -> dict:
    """The report's content as plain data (what every format shows)."""
    from diming.boundaries.inspection import get_round
    from diming.layers.settings import get_settings
    from diming.layers.store import read_layer

    rnd = get_round(project, round_id)
    tolerance = get_settings(project)["displacement_tolerance_m"]
    names = read_layer(project, "boundary_lines", columns=["line_id", "name"]).set_index("line_id").name
    markers = read_layer(project, "boundary_markers", columns=["marker_id", "line_id"])
    records = read_layer(project, "inspections", where="round_id = ? AND condition IS NOT NULL", params=(round_id,))
    records = records.set_index("marker_id")
    lines = []
    for line_id in rnd["line_ids"]:
        ids = sorted(markers[markers.line_id == line_id].marker_id)
        done = [m for m in ids if m in records.index]
        counts = {c: 0 for c in CONDITION_ORDER}
        for m in done:
            counts[records.loc[m, "condition"]] += 1
        counts["未检"] = len(ids) - len(done)
        displaced, actions = [], []
        for m in done:
            r = records.loc[m].where(records.loc[m].notna(), None)  # NaN from the frame -> None
            distance = r.displacement_m
            if r.condition == "移位" or (distance is not None and distance > tolerance):
                displaced.append({"marker_id": m, "displacement_m": distance, "condition": r.condition,
                                  "inspected_on": r.inspected_on})
            if r.action and r.action != "无需处理":
                actions.append({"marker_id": m, "condition": r.condition, "action": r.action, "notes": r.notes})
        lines.append({"line_id": line_id, "name": names.get(line_id), "total": len(ids), "inspected": len(done),
                      "by_condition": counts, "displaced": displaced, "actions": actions,
                      "not_inspected": [m for m in ids if m not in records.index]})
    findings = _check_findings(project, rnd["line_ids"], markers)
    total = {"total": sum(x["total"] for x in lines), "inspected": sum(x["inspected"] for x in lines),
             "by_condition": {c: sum(x["by_condition"][c] for x in lines) for c in CONDITION_ORDER}}
    return {"round": rnd, "tolerance_m": tolerance, "lines": lines, "total": total, "findings": findings,
            "made_on": dt.date.today().isoformat()}


def _check_findings(project, line_ids, markers) -> list[dict]:
    """What ``diming check`` finds on the round's lines, their markers and the areas either side."""
    from diming.check import run_check
    from diming.layers.store import read_layer

    lines = read_layer(project, "boundary_lines", columns=["line_id", "left_code", "right_code"])
    lines = lines[lines.line_id.isin(line_ids)]
    keys = {f"boundary_lines:{i}" for i in lines.line_id}
    keys |= {f"boundary_markers:{m}" for m in markers.marker_id[markers.line_id.isin(line_ids)]}
    keys |= {f"admin_areas:{c}" for c in (*lines.left_code, *lines.right_code)}
    # the name rules only ever involve roads and proposals, and are most of a large project's check
    families = ["area", "line", "marker", "inspection", "proposal"]
    return [{"rule": f.rule, "severity": f.severity, "id": f.id, "message": f.message}
            for f in run_check(project, families) if keys & set(f.keys) and not f.accepted]


def write_report(project, round_id: str, output) -> Path:
    """Write the round report; the format follows the suffix of ``output`` (.pdf, .xlsx, .md)."""
    output = Path(output)
    suffix = output.suffix.lower()
    if suffix not in REPORT_FORMATS:
        raise DimingError(f"{output}: 报告格式只能是 {', '.join(REPORT_FORMATS)} (report format from the suffix)")
    from diming.layers.exports import replacing

    data = round_report(project, round_id)
    with replacing(output) as partial:
        {".pdf": _pdf, ".xlsx": _xlsx, ".md": _md}[suffix](data, partial)
    return output


def _title(data) -> str:
    return f"行政区域界线联合检查报告 {data['round']['round_id']} {data['round']['name']}"


def _distance(value) -> str:
    return "—" if value is None else f"{value:.2f}"


def _summary_rows(data) -> list[list]:
    rows = [[x["line_id"], x["name"], x["total"], x["inspected"], *x["by_condition"].values()] for x in data["lines"]]
    t = data["total"]
    rows.append(["合计", "", t["total"], t["inspected"], *t["by_condition"].values()])
    return rows


SUMMARY_HEADER = ["界线编号", "界线名称", "界桩总数", "已检", *CONDITION_ORDER]


def _detail_tables(data):
    """(title, header, rows) of the per-marker tables, shared by every format."""
    displaced = [[x["line_id"], d["marker_id"], d["condition"], _distance(d["displacement_m"]), d["inspected_on"]]
                 for x in data["lines"] for d in x["displaced"]]
    actions = [[x["line_id"], a["marker_id"], a["condition"], a["action"], a["notes"] or ""]
               for x in data["lines"] for a in x["actions"]]
    missing = [[x["line_id"], x["name"], len(x["not_inspected"]), "、".join(x["not_inspected"])]
               for x in data["lines"] if x["not_inspected"]]
    findings = [[f["rule"], f["severity"], f["id"], f["message"]] for f in data["findings"]]
    return [
        (f"移位界桩 (位移容差 {data['tolerance_m']:g} 米)", ["界线编号", "界桩编号", "状况", "位移(米)", "检查日期"],
         displaced, (25, 30, 25, 30, 163)),
        ("需处理界桩", ["界线编号", "界桩编号", "状况", "处理意见", "备注"], actions, (25, 30, 25, 30, 163)),
        ("尚未检查的界桩", ["界线编号", "界线名称", "数量", "界桩编号"], missing, (25, 50, 18, 180)),
        ("检查发现的问题", ["规则", "级别", "要素", "说明"], findings, (36, 18, 25, 194)),
    ]


def _md(data, path) -> None:
    def cell(value):
        return str(value).replace("|", "\\|").replace("\n", " ")

    def md_table(header, rows):
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
        return out

    rnd = data["round"]
    lines = [f"# {_title(data)}", "",
             f"检查期限 {rnd['starts_on']} 至 {rnd['ends_on']}; 界线 {len(data['lines'])} 条; "
             f"已检界桩 {data['total']['inspected']}/{data['total']['total']}; 报告日期 {data['made_on']}。", "",
             "## 界桩状况汇总", ""] + md_table(SUMMARY_HEADER, _summary_rows(data))
    for title, header, rows, _ in _detail_tables(data):
        lines += ["", f"## {title}", ""] + (md_table(header, rows) if rows else ["无。"])
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _xlsx(data, path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from diming.layers.exports import neutralise

    book = Workbook()
    ws = book.active
    ws.title = "汇总"
    ws.append([neutralise(_title(data))])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([])
    ws.append(SUMMARY_HEADER)
    for c in ws[3]:
        c.font = Font(bold=True)
    for row in _summary_rows(data):
        ws.append([neutralise(v) for v in row])
    for title, header, rows, _ in _detail_tables(data):
        sheet = book.create_sheet(title.split(" ")[0])
        sheet.append(header)
        for c in sheet[1]:
            c.font = Font(bold=True)
        for row in rows:
            sheet.append([neutralise(v) for v in row])
    book.save(path)


def _pdf(data, path) -> None:
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    from diming.boundaries import pdf

    st = pdf.styles()
    rnd = data["round"]
    doc, on_page = pdf.document(path, _title(data), _title(data))
    story = [pdf.para(_title(data), st["title"]),
             pdf.para(f"检查期限 {rnd['starts_on']} 至 {rnd['ends_on']}; 界线 {len(data['lines'])} 条; "
                      f"已检界桩 {data['total']['inspected']}/{data['total']['total']}; 报告日期 {data['made_on']}。",
                      st["body"]),
             pdf.para("界桩状况汇总", st["h2"]),
             pdf.table(SUMMARY_HEADER, _summary_rows(data), [w * mm for w in (22, 60, 20, 20, *[25] * 6)], st=st)]
    for title, header, rows, widths in _detail_tables(data):
        story += [Spacer(1, 3 * mm), pdf.para(title, st["h2"])]
        if not rows:
            story.append(pdf.para("无。", st["body"]))
            continue
        story.append(pdf.table(header, rows, [w * mm for w in widths], st=st))
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
