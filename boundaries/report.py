"""The round report (联合检查报告) that goes to the approving authority: .pdf, .xlsx or .md.

Per line and in total: markers by condition, displaced markers with their distances, actions
needed, markers not yet inspected, and the check findings on the round's lines, all in Chinese
(rule and severity names from :mod:`diming.rule_names`).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from diming.rule_names import rule_name, severity_name

CONDITION_ORDER = ("完好", "损坏", "丢失", "移位", "新设", "未检")


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
    """What ``diming check`` finds on the round's lines: the lines and their markers, and the areas
    either side where the problem lies on the line (within ``line_tolerance_m``): a gap between two
    towns inside one county is that county's business, not the boundary's. Markers not yet inspected
    (``inspection.missing``) are left out: the report lists them once, in their own table."""
    import shapely

    from diming.check import run_check
    from diming.layers.crs import gk_epsg, gk_zone, project as to_gk
    from diming.layers.settings import get_settings
    from diming.layers.store import read_layer

    lines = read_layer(project, "boundary_lines", columns=["line_id", "left_code", "right_code"])
    lines = lines[lines.line_id.isin(line_ids)]
    keys = {f"boundary_lines:{i}" for i in lines.line_id}
    keys |= {f"boundary_markers:{m}" for m in markers.marker_id[markers.line_id.isin(line_ids)]}
    sides = {f"admin_areas:{c}" for c in (*lines.left_code, *lines.right_code)}
    tolerance = get_settings(project)["line_tolerance_m"]
    line_geometry = shapely.union_all(lines.geometry.values)

    def on_the_line(f) -> bool:
        if f.geometry is None or f.geometry.is_empty:  # nothing to place: the finding is about the area itself
            return f"{f.layer}:{f.id}" in sides
        epsg = gk_epsg(gk_zone(f.geometry.centroid.x))
        problem, line = to_gk([f.geometry, line_geometry], epsg)
        return shapely.distance(problem, line) <= tolerance

    # the name rules only ever involve roads and proposals, and are most of a large project's check
    families = ["area", "line", "marker", "inspection", "proposal"]
    out = []
    for f in run_check(project, families):
        if f.accepted or f.rule == "inspection.missing":
            continue
        involved = set(f.keys)
        if keys & involved or (f.rule.startswith("area.") and sides & involved and on_the_line(f)):
            out.append({"rule": f.rule, "severity": f.severity, "layer": f.layer, "id": f.id, "name": f.name,
                        "message": f.message})
    return out


def write_report(project, round_id: str, output) -> Path:
    """Write the round report; the format follows the suffix of ``output`` (.pdf, .xlsx, .md)."""
    from diming.layers.exports import write_report_file

    return write_report_file(output, {".pdf": _pdf, ".xlsx": _xlsx, ".md": _md},
                             lambda: round_report(project, round_id))


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


def _feature(f) -> str:
    """The feature a finding is about, as the report names it: 界桩 9101004Q, 行政区域 379901 云溪区."""
    from diming.layers.schema import get_layer

    name = f["name"] if f["name"] != f["id"] else None  # a marker's name is its number
    return " ".join(p for p in (get_layer(f["layer"]).alias, f["id"], name) if p)


def _message(f) -> str:
    """The finding's message without the rule code (and English gloss) it ends with, "(area.gap)" or
    "(inspection.displaced: marker moved)": the report names the rule in Chinese."""
    import re

    return re.sub(rf"\s*\({re.escape(f['rule'])}[^)]*\)\s*$", "", f["message"])


def _detail_tables(data):
    """(title, header, rows) of the per-marker tables, shared by every format."""
    displaced = [[x["line_id"], d["marker_id"], d["condition"], _distance(d["displacement_m"]), d["inspected_on"]]
                 for x in data["lines"] for d in x["displaced"]]
    actions = [[x["line_id"], a["marker_id"], a["condition"], a["action"], a["notes"] or ""]
               for x in data["lines"] for a in x["actions"]]
    missing = [[x["line_id"], x["name"], len(x["not_inspected"]), "、".join(x["not_inspected"])]
               for x in data["lines"] if x["not_inspected"]]
    findings = [[rule_name(f["rule"]), severity_name(f["severity"]), _feature(f), _message(f)]
                for f in data["findings"]]
    return [
        (f"移位界桩 (位移容差 {data['tolerance_m']:g} 米)", ["界线编号", "界桩编号", "状况", "位移(米)", "检查日期"],
         displaced, (25, 30, 25, 30, 163)),
        ("需处理界桩", ["界线编号", "界桩编号", "状况", "处理意见", "备注"], actions, (25, 30, 25, 30, 163)),
        ("尚未检查的界桩", ["界线编号", "界线名称", "数量", "界桩编号"], missing, (25, 50, 18, 180)),
        ("检查发现的问题", ["问题", "级别", "要素", "说明"], findings, (40, 14, 50, 169)),
    ]


def _md(data, path) -> None:
    from diming.layers.exports import md_table, md_text

    rnd = data["round"]
    lines = [f"# {md_text(_title(data))}", "",
             f"检查期限 {rnd['starts_on']} 至 {rnd['ends_on']}; 界线 {len(data['lines'])} 条; "
             f"已检界桩 {data['total']['inspected']}/{data['total']['total']}; 报告日期 {data['made_on']}。", "",
             "## 界桩状况汇总", ""] + md_table(SUMMARY_HEADER, _summary_rows(data))
    for title, header, rows, _ in _detail_tables(data):
        lines += ["", f"## {md_text(title)}", ""] + (md_table(header, rows) if rows else ["无。"])
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _xlsx(data, path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from diming.layers.exports import draw_grid, neutralise, print_setup

    book = Workbook()
    ws = book.active
    ws.title = "汇总"
    ws.append([neutralise(_title(data))])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([])
    ws.append(SUMMARY_HEADER)
    for row in _summary_rows(data):
        ws.append([neutralise(v) for v in row])
    print_setup(ws, [10, 24, 9, 8, *[8] * len(CONDITION_ORDER)], header_rows=(3, 3), freeze="C4")
    sheets = [(ws, 3)]
    for title, header, rows, widths in _detail_tables(data):
        sheet = book.create_sheet(title.split(" ")[0])
        sheet.append(header)
        for row in rows:
            sheet.append([neutralise(v) for v in row])
        # the PDF's widths (mm) as character widths: about 2 mm a character
        print_setup(sheet, [max(8, w / 2) for w in widths], header_rows=(1, 1), freeze="C2")
        sheets.append((sheet, 1))
    for sheet, header_row in sheets:
        for c in sheet[header_row]:
            c.font = Font(bold=True)
        for row in sheet.iter_rows(min_row=header_row + 1):
            for c in row:
                c.alignment = Alignment(wrap_text=True, vertical="top")
        draw_grid(sheet, header_row, max(sheet.max_row, header_row), sheet.max_column)
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
