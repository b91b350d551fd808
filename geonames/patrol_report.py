"""The patrol report (路牌巡查报告: .pdf, .xlsx, .md) and the maintenance list (维护清单, .xlsx) a
district sends the city bureau: the signs to replace, set up anew or repair, each with where it
stands and what was found."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from diming.errors import DimingError
from diming.layers.schema import SIGN_CONDITIONS

NOT_PATROLLED = "未巡查"
SUMMARY_HEADER = ["政区代码", "政区名称", "路牌总数", "已巡查", *SIGN_CONDITIONS, NOT_PATROLLED]
MAINTENANCE_HEADER = ["序号", "政区代码", "政区名称", "道路名称", "路牌编号", "路牌类型", "牌面名称", "经度", "纬度",
                      "现状", "处理", "巡查日期", "巡查人", "照片", "备注", "修复日期"]
MAINTENANCE_WIDTHS = (6, 10, 12, 14, 14, 10, 14, 12, 12, 8, 10, 12, 10, 16, 24, 12)


def patrol_report(project, patrol_id: str) -> dict:
    """The report's content as plain data (what every format shows)."""
    from diming.geonames.patrols import get_patrol, patrol_signs
    from diming.geonames.signs import BUREAU_ACTIONS
    from diming.layers.store import read_layer

    patrol = get_patrol(project, patrol_id)
    signs = patrol_signs(project, patrol)
    areas = read_layer(project, "admin_areas", columns=["code", "name"], geometry=False)
    names = dict(zip(areas.code, areas.name))
    records = read_layer(project, "sign_patrol_records", where="patrol_id = ? AND condition IS NOT NULL",
                         params=(patrol_id,)).set_index("sign_id")
    divisions = []
    for code, group in signs.groupby("district", sort=True):
        counts = {c: 0 for c in (*SIGN_CONDITIONS, NOT_PATROLLED)}
        for sign_id in group.sign_id:
            counts[records.condition.get(sign_id, NOT_PATROLLED)] += 1
        divisions.append({"district": code, "name": names.get(code, ""), "total": len(group),
                          "patrolled": len(group) - counts[NOT_PATROLLED], "by_condition": counts})
    maintenance = []
    for s in signs.itertuples():
        if s.sign_id not in records.index or records.action.get(s.sign_id) not in BUREAU_ACTIONS:
            continue
        r = records.loc[s.sign_id].where(records.loc[s.sign_id].notna(), None)
        maintenance.append([len(maintenance) + 1, s.district, names.get(s.district, ""), s.road_name, s.sign_id,
                            _plain(s.sign_type), _plain(s.text), round(s.geometry.x, 6), round(s.geometry.y, 6),
                            r.condition, r.action, r.patrolled_on, r.patroller, r.photo, r.notes, r.fixed_on])
    total = {"total": sum(d["total"] for d in divisions), "patrolled": sum(d["patrolled"] for d in divisions),
             "by_condition": {c: sum(d["by_condition"][c] for d in divisions)
                              for c in (*SIGN_CONDITIONS, NOT_PATROLLED)}}
    return {"patrol": patrol, "divisions": divisions, "total": total, "maintenance": maintenance,
            "made_on": dt.date.today().isoformat()}


def _plain(value):
    import pandas as pd

    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def _title(data) -> str:
    return f"路名牌巡查报告 {data['patrol']['patrol_id']} {data['patrol']['name']}"


def _summary_rows(data) -> list[list]:
    rows = [[d["district"], d["name"], d["total"], d["patrolled"], *d["by_condition"].values()]
            for d in data["divisions"]]
    t = data["total"]
    return rows + [["合计", "", t["total"], t["patrolled"], *t["by_condition"].values()]]


def _intro(data) -> str:
    p, t = data["patrol"], data["total"]
    return (f"巡查期限 {p['starts_on']} 至 {p['ends_on']}; 已巡查路牌 {t['patrolled']}/{t['total']}; "
            f"需市局维护 {len(data['maintenance'])} 块; 报告日期 {data['made_on']}。")


def write_report(project, patrol_id: str, output) -> Path:
    """Write the patrol report; the format follows the suffix of ``output`` (.pdf, .xlsx, .md)."""
    from diming.layers.exports import write_report_file

    return write_report_file(output, {".pdf": _pdf, ".xlsx": _xlsx, ".md": _md},
                             lambda: patrol_report(project, patrol_id))


def write_maintenance(project, patrol_id: str, output) -> int:
    """Write the maintenance list (维护清单) of a patrol as XLSX; returns the number of signs on it."""
    output = Path(output)
    if output.suffix.lower() != ".xlsx":
        raise DimingError(f"{output}: 维护清单只能是 .xlsx")
    from openpyxl import Workbook

    from diming.layers.exports import replacing, table_sheet

    data = patrol_report(project, patrol_id)
    book = Workbook()
    ws = book.active
    ws.title = "维护清单"
    table_sheet(ws, [f"路名牌维护清单 {data['patrol']['patrol_id']} {data['patrol']['name']}",
                     f"报送: 市地名管理部门    报送日期: {data['made_on']}    共 {len(data['maintenance'])} 块"],
                MAINTENANCE_HEADER, data["maintenance"], MAINTENANCE_WIDTHS)
    with replacing(output) as partial:
        book.save(partial)
    return len(data["maintenance"])


def _md(data, path) -> None:
    from diming.layers.exports import md_table, md_text

    lines = [f"# {md_text(_title(data))}", "", md_text(_intro(data)), "", "## 路牌状况汇总", ""]
    lines += md_table(SUMMARY_HEADER, _summary_rows(data))
    lines += ["", "## 维护清单", ""] + (md_table(MAINTENANCE_HEADER, data["maintenance"]) if data["maintenance"] else ["无。"])
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _xlsx(data, path) -> None:
    from openpyxl import Workbook

    from diming.layers.exports import table_sheet

    book = Workbook()
    ws = book.active
    ws.title = "汇总"
    table_sheet(ws, [_title(data), _intro(data)], SUMMARY_HEADER, _summary_rows(data),
                [12, 16, *[9] * (len(SUMMARY_HEADER) - 2)])
    table_sheet(book.create_sheet("维护清单"), [], MAINTENANCE_HEADER, data["maintenance"], MAINTENANCE_WIDTHS)
    book.save(path)


def _pdf(data, path) -> None:
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    from diming.boundaries import pdf

    st = pdf.styles()
    doc, on_page = pdf.document(path, _title(data), _title(data))
    story = [pdf.para(_title(data), st["title"]), pdf.para(_intro(data), st["body"]),
             pdf.para("路牌状况汇总", st["h2"]),
             pdf.table(SUMMARY_HEADER, _summary_rows(data), [w * mm for w in (20, 34, 18, 18, *[20] * 7)], st=st),
             Spacer(1, 3 * mm), pdf.para("维护清单 (报市局)", st["h2"])]
    if data["maintenance"]:
        columns = [0, 2, 3, 4, 5, 6, 9, 10, 11, 14]  # the printed list: what the bureau needs to act
        story.append(pdf.table([MAINTENANCE_HEADER[c] for c in columns],
                               [[row[c] for c in columns] for row in data["maintenance"]],
                               [w * mm for w in (10, 28, 32, 28, 18, 32, 16, 18, 22, 69)], st=st))
    else:
        story.append(pdf.para("无。", st["body"]))
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
