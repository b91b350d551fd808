"""Field sheets of a sign patrol (路名牌巡查记录表): PDF to print, XLSX to fill in, GPX and KML.

The XLSX comes back through :func:`diming.geonames.patrols.import_results`; GPX and KML put the
signs on a handheld GPS or a phone map app (CGCS2000 longitude/latitude, used as WGS84).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from diming.errors import DimingError

FORMATS = ("pdf", "xlsx", "gpx", "kml")


def sheet_data(project, patrol_id: str, district: str | None = None) -> dict:
    """The patrol, the division names, and one row per sign (with what was already entered)."""
    import pandas as pd

    from diming.geonames.patrols import ENTRY_COLUMNS, get_patrol, patrol_signs
    from diming.layers.store import read_layer

    patrol = get_patrol(project, patrol_id)
    signs = patrol_signs(project, patrol)
    if district:
        signs = signs[signs.district.str.startswith(district)]
        if not len(signs):
            raise DimingError(f"巡查 {patrol_id} 在政区 {district} 没有路牌 (no sign of the patrol there)")
    areas = read_layer(project, "admin_areas", columns=["code", "name"], geometry=False)
    names = dict(zip(areas.code, areas.name))
    records = read_layer(project, "sign_patrol_records", where="patrol_id = ?", params=(patrol_id,))
    entered = {}
    for r in records.to_dict("records"):
        entry = {f: r[f] for f, _ in ENTRY_COLUMNS if not pd.isna(r.get(f))}
        if "patrolled_on" in entry:
            entry["patrolled_on"] = dt.date.fromisoformat(entry["patrolled_on"])  # a real date cell
        entered[r["sign_id"]] = entry
    rows = []
    for s in signs.itertuples():
        rows.append({"district": s.district, "district_name": names.get(s.district, ""), "road_name": s.road_name,
                     "sign_id": s.sign_id, "sign_type": _plain(s.sign_type), "text": _plain(s.text),
                     "pinyin": _plain(s.pinyin), "facing": _plain(s.facing), "lon": round(s.geometry.x, 7),
                     "lat": round(s.geometry.y, 7), "last_condition": _plain(s.condition), "geometry": s.geometry,
                     "entered": entered.get(s.sign_id, {})})
    scope = "、".join(f"{names.get(c, '')}（{c}）" for c in ([district] if district else patrol["districts"]))
    return {"patrol": patrol, "scope": scope, "signs": rows, "made_on": dt.date.today().isoformat()}


def _plain(value):
    import pandas as pd

    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def write_patrol_sheet(project, patrol_id: str, fmt: str, output, *, district: str | None = None) -> Path:
    """Write the field sheet of a patrol (or of one division of it) in ``fmt`` to ``output``."""
    if fmt not in FORMATS:
        raise DimingError(f"未知格式 {fmt!r}; 可选 {', '.join(FORMATS)}")
    from diming.layers.exports import replacing

    data = sheet_data(project, patrol_id, district)
    with replacing(output) as partial:
        {"pdf": _pdf, "xlsx": _xlsx, "gpx": _gpx, "kml": _kml}[fmt](data, partial)
    return Path(output)


def _title(data) -> str:
    return f"路名牌巡查记录表 {data['patrol']['patrol_id']} {data['patrol']['name']}"


def _pdf(data, path) -> None:
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Spacer

    from diming.boundaries import pdf

    st = pdf.styles()
    patrol = data["patrol"]
    doc, on_page = pdf.document(path, _title(data), f"{_title(data)}    {data['scope']}")
    story = [pdf.para("路名牌巡查记录表", st["title"]),
             pdf.table(["项目", "内容", "项目", "内容"],
                       [["巡查", f"{patrol['patrol_id']} {patrol['name']}", "巡查期限",
                         f"{patrol['starts_on']} 至 {patrol['ends_on']}"],
                        ["巡查范围", data["scope"], "路牌数量", str(len(data["signs"]))],
                        ["制表日期", data["made_on"], "填写说明", "现状: 完好 污损 损毁 缺失 倾斜 内容错误; "
                         "处理: 无需处理 清洗 扶正 更换 新设 上报市局"]],
                       [25 * mm, 110 * mm, 25 * mm, 113 * mm], st=st),
             Spacer(1, 4 * mm)]
    header = ["道路名称", "路牌编号", "类型", "牌面名称 / 拼音", "朝向", "经度 / 纬度", "上次状况", "巡查日期",
              "现状", "处理", "照片", "备注"]
    rows = [[s["road_name"], s["sign_id"], s["sign_type"], f"{s['text'] or ''}\n{s['pinyin'] or ''}", s["facing"],
             f"{s['lon']:.6f}\n{s['lat']:.6f}", s["last_condition"], "", "", "", "", ""] for s in data["signs"]]
    story.append(pdf.table(header, rows, [w * mm for w in (28, 22, 14, 40, 12, 24, 15, 20, 16, 20, 20, 42)], st=st))
    story.append(Spacer(1, 6 * mm))
    story.append(KeepTogether([pdf.para("巡查人（签字）：            复核人（签字）：            日期：    年    月    日",
                                        st["body"])]))
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)


def _xlsx(data, path) -> None:
    from diming.geonames.patrols import ENTRY_COLUMNS, KEY_COLUMNS
    from diming.layers.entrysheet import write_entry_sheet
    from diming.layers.schema import SIGN_ACTIONS, SIGN_CONDITIONS

    patrol = data["patrol"]
    write_entry_sheet(
        path, title=_title(data), sheet_title="路名牌巡查记录",
        lines=[f"巡查范围: {data['scope']}    巡查期限: {patrol['starts_on']} 至 {patrol['ends_on']}",
               "灰色列为登记信息, 已保护; 白色列填写本次巡查结果。日期写 YYYY-MM-DD; 路牌不完好时须填写处理。"],
        key_columns=KEY_COLUMNS, entry_columns=ENTRY_COLUMNS, rows=data["signs"],
        choices={"condition": SIGN_CONDITIONS, "action": SIGN_ACTIONS}, date_field="patrolled_on",
        date_range=(patrol["starts_on"], patrol["ends_on"]),
        widths={"road_name": 14, "sign_id": 14, "text": 14, "pinyin": 22, "lon": 13, "lat": 13, "notes": 24,
                "photo": 16, "patrolled_on": 12})


def _description(s) -> str:
    parts = [f"{s['road_name']} {s['sign_type'] or ''}".strip(), f"{s['text'] or ''} {s['pinyin'] or ''}".strip(),
             f"上次状况: {s['last_condition'] or '—'}"]
    return "\n".join(p for p in parts if p)


def _waypoints(data, kind=None) -> list:
    from diming.layers.gpsfiles import Waypoint

    return [Waypoint(s["sign_id"], s["lon"], s["lat"], _description(s), kind=kind or s["last_condition"] or "")
            for s in data["signs"]]


def _gpx(data, path) -> None:
    from diming.layers.gpsfiles import write_gpx

    write_gpx(path, _title(data), _waypoints(data, "路名牌"))


def _kml(data, path) -> None:
    from diming.layers.gpsfiles import write_kml
    from diming.layers.styles import SIGN_CONDITION_COLOURS

    write_kml(path, _title(data), "路名牌", _waypoints(data), styles=SIGN_CONDITION_COLOURS, line_colour="#000000")
