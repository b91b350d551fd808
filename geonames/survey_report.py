"""The abnormal-roads survey report (异常道路摸排整治报告, .xlsx or .pdf): per division, the
abnormalities by category and how far their rectification has come, and the register's list."""
from __future__ import annotations

import datetime as dt
from pathlib import Path


LIST_HEADER = ["台账编号", "政区代码", "政区名称", "异常类别", "名称", "情况说明", "发现日期", "整治状态", "责任单位",
               "整治期限", "整治措施", "完成日期", "不需整治理由"]


def survey_report(project) -> dict:
    """The report's content as plain data: ``categories`` (code, Chinese name), ``divisions``
    (code, name, count per category, open and closed), ``total`` and the register ``rows``."""
    from diming.geonames.survey import CODES, OPEN_STATUSES, register
    from diming.layers.store import read_layer
    from diming.rule_names import rule_name

    records = register(project)
    areas = read_layer(project, "admin_areas", columns=["code", "name"], geometry=False)
    names = dict(zip(areas.code, areas.name))
    by_division: dict[str, dict] = {}
    for r in records:
        code = r["district"] or ""
        d = by_division.setdefault(code, {"district": code, "name": names.get(code, "未定政区" if not code else ""),
                                          "counts": dict.fromkeys(CODES, 0), "open": 0, "closed": 0})
        d["counts"][r["code"]] = d["counts"].get(r["code"], 0) + 1
        d["open" if r["status"] in OPEN_STATUSES else "closed"] += 1
    divisions = [by_division[k] for k in sorted(by_division)]
    total = {"counts": {c: sum(d["counts"][c] for d in divisions) for c in CODES},
             "open": sum(d["open"] for d in divisions), "closed": sum(d["closed"] for d in divisions)}
    rows = [[r["rectification_id"], r["district"] or "", names.get(r["district"] or "", ""), rule_name(r["code"]),
             r["name"] or "", r["description"] or "", r["found_on"], r["status"], r["unit"] or "", r["due_on"] or "",
             r["action"] or "", r["closed_on"] or "", r["reason"] or ""]
            for r in sorted(records, key=lambda r: (r["district"] or "", CODES.index(r["code"]), r["rectification_id"]))]
    return {"categories": [(c, rule_name(c)) for c in CODES], "divisions": divisions, "total": total, "rows": rows,
            "made_on": dt.date.today().isoformat()}


def _summary(data) -> tuple[list[str], list[list]]:
    header = ["政区代码", "政区名称", *[name for _, name in data["categories"]], "合计", "待整治/整治中", "已整治/不需整治"]
    rows = []
    for d in [*data["divisions"], {"district": "合计", "name": "", **data["total"]}]:
        counts = [d["counts"][c] for c, _ in data["categories"]]
        rows.append([d["district"], d["name"], *counts, sum(counts), d["open"], d["closed"]])
    return header, rows


TITLE = "异常道路摸排整治报告"


def write_survey_report(project, output) -> Path:
    """Write the survey report; the format follows the suffix of ``output`` (.xlsx, .pdf)."""
    from diming.layers.exports import write_report_file

    return write_report_file(output, {".xlsx": _xlsx, ".pdf": _pdf}, lambda: survey_report(project))


def _intro(data) -> str:
    t = data["total"]
    return (f"异常道路 {t['open'] + t['closed']} 处: 待整治/整治中 {t['open']}, 已整治/不需整治 {t['closed']}; "
            f"报告日期 {data['made_on']}。")


def _xlsx(data, path) -> None:
    from openpyxl import Workbook

    from diming.layers.exports import table_sheet

    book = Workbook()
    ws = book.active
    ws.title = "汇总"
    header, rows = _summary(data)
    table_sheet(ws, [TITLE, _intro(data)], header, rows, [12, 16, *[10] * (len(header) - 2)])
    table_sheet(book.create_sheet("整治台账"), [], LIST_HEADER, data["rows"],
                (10, 10, 12, 12, 14, 48, 12, 10, 16, 12, 10, 12, 20))
    book.save(path)


def _pdf(data, path) -> None:
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    from diming.boundaries import pdf

    st = pdf.styles()
    doc, on_page = pdf.document(path, TITLE, TITLE)
    header, rows = _summary(data)
    story = [pdf.para(TITLE, st["title"]), pdf.para(_intro(data), st["body"]), pdf.para("按政区和类别统计", st["h2"]),
             pdf.table(header, rows, [w * mm for w in (18, 26, *[19] * len(data["categories"]), 14, 22, 22)], st=st),
             Spacer(1, 3 * mm), pdf.para("整治台账", st["h2"])]
    if data["rows"]:
        columns = [0, 2, 3, 4, 5, 7, 8, 9, 10]
        story.append(pdf.table([LIST_HEADER[c] for c in columns], [[row[c] for c in columns] for row in data["rows"]],
                               [w * mm for w in (18, 22, 20, 24, 92, 16, 30, 20, 16)], st=st))
    else:
        story.append(pdf.para("无。", st["body"]))
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
