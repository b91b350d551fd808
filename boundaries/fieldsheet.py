"""Field sheets (界桩检查记录表) for a line of an inspection round: PDF, XLSX, GPX and KML.

The PDF is printed and signed by both sides; the XLSX is filled in and brought back with
:func:`diming.boundaries.inspection.import_results`; GPX and KML put the markers on a handheld GPS,
Google Earth or a phone map app.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from diming.errors import DimingError

FORMATS = ("pdf", "xlsx", "gpx", "kml")


def _zone_label(epsg) -> str:
    from diming.layers.crs import is_gk_epsg

    if epsg is None:
        return ""
    epsg = int(epsg)
    if not is_gk_epsg(epsg):
        return f"EPSG:{epsg}"
    zone = epsg - 4488 if epsg <= 4533 else epsg - 4509
    return f"高斯-克吕格 {zone} 带 EPSG:{epsg}"


def sheet_data(project, round_id: str, line_id: str) -> dict:
    """Everything a field sheet shows: the round, the line, its two sides and its markers in order."""
    import pandas as pd

    from diming.boundaries.inspection import get_round
    from diming.layers.crs import from_lonlat, gk_epsg, gk_zone
    from diming.layers.store import read_layer

    rnd = get_round(project, round_id)
    if line_id not in rnd["line_ids"]:
        raise DimingError(f"界线 {line_id} 不在联检轮次 {round_id} 中 (line not in the round); "
                          f"本轮界线: {', '.join(rnd['line_ids'])}")
    lines = read_layer(project, "boundary_lines", where="line_id = ?", params=(line_id,))
    if lines.empty:
        raise DimingError(f"界线 {line_id} 已不在项目中 (line of the round no longer in the project)")
    line = lines.iloc[0]
    sides = []
    for code in (line.left_code, line.right_code):
        area = read_layer(project, "admin_areas", where="code = ?", params=(code,))
        if area.empty:
            raise DimingError(f"界线 {line_id}: 行政区域 {code} 不存在 (area of the line missing)")
        sides.append({"code": code, "name": area.name.iloc[0], "geometry": area.geometry.iloc[0]})
    markers = read_layer(project, "boundary_markers", where="line_id = ?", params=(line_id,))
    markers = markers.sort_values("marker_id")
    entered = _entered(project, round_id, line_id)
    rows = []
    for m in markers.itertuples():
        x, y, crs = m.x, m.y, m.plane_crs
        if pd.isna(x) or pd.isna(y) or pd.isna(crs):  # no registered plane coordinates: derive them
            crs = gk_epsg(gk_zone(m.geometry.x), prefixed=True)
            x, y = (round(float(v), 3) for v in from_lonlat(m.geometry.x, m.geometry.y, crs))
        rows.append({"line_id": line_id, "marker_id": m.marker_id, "marker_type": m.marker_type,
                     "material": m.material, "x": float(x), "y": float(y), "plane_crs": int(crs),
                     "lon": round(m.geometry.x, 7), "lat": round(m.geometry.y, 7), "location": m.location,
                     "last_condition": m.condition, "geometry": m.geometry,
                     "entered": entered.get(m.marker_id, {})})
    return {"round": rnd, "line": {"line_id": line_id, "name": line["name"], "agreement": line.agreement,
                                   "description": line.description, "geometry": line.geometry},
            "left": sides[0], "right": sides[1], "markers": rows, "made_on": dt.date.today().isoformat()}


def _entered(project, round_id: str, line_id: str) -> dict:
    """This round's records on the line, as sheet entries: {marker_id: {field: value}}.

    A sheet written after part of the results came back shows them, so it can be corrected and
    brought back again.
    """
    import pandas as pd

    from diming.boundaries.inspection import ENTRY_COLUMNS, YES_NO
    from diming.layers.store import read_layer

    records = read_layer(project, "inspections", where="round_id = ? AND line_id = ?", params=(round_id, line_id))
    out = {}
    for r in records.to_dict("records"):
        entry = {}
        for field, _ in ENTRY_COLUMNS:
            value = r.get(field)
            if pd.isna(value):
                continue
            if field in ("references_complete", "line_recognisable"):
                value = YES_NO[0] if value else YES_NO[1]
            elif field == "inspected_on":
                value = dt.date.fromisoformat(value)  # a real date, as the cell's date check expects
            entry[field] = value
        out[r["marker_id"]] = entry
    return out


def write_fieldsheet(project, round_id: str, line_id: str, fmt: str, output) -> Path:
    """Write the field sheet of one line in ``fmt`` (pdf, xlsx, gpx, kml) to ``output``."""
    if fmt not in FORMATS:
        raise DimingError(f"未知格式 {fmt!r}; 可选 {', '.join(FORMATS)}")
    from diming.layers.exports import replacing

    data = sheet_data(project, round_id, line_id)
    with replacing(output) as partial:
        {"pdf": _pdf, "xlsx": _xlsx, "gpx": _gpx, "kml": _kml}[fmt](data, partial)
    return Path(output)


def write_fieldsheets(project, round_id: str, fmt: str, folder) -> list[Path]:
    """One field sheet per line of the round into ``folder``, named ``<line>.<fmt>``."""
    from diming.boundaries.inspection import get_round

    folder = Path(folder)
    return [write_fieldsheet(project, round_id, line_id, fmt, folder / f"{line_id}.{fmt}")
            for line_id in get_round(project, round_id)["line_ids"]]


def _heading(data) -> str:
    return f"{data['line']['name']}（{data['line']['line_id']}）"


# --- PDF ------------------------------------------------------------------------------------------

def _pdf(data, path) -> None:
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Spacer

    from diming.boundaries import pdf

    st = pdf.styles()
    rnd, line, left, right = data["round"], data["line"], data["left"], data["right"]
    doc, on_page = pdf.document(path, f"界桩检查记录表 {_heading(data)}",
                                f"{_heading(data)}    联检轮次 {rnd['round_id']} {rnd['name']}")
    story = [pdf.para("行政区域界线联合检查 界桩检查记录表", st["title"])]
    info = [["界线名称", line["name"], "界线编号", line["line_id"]],
            ["左侧", f"{left['name']}（{left['code']}）", "右侧", f"{right['name']}（{right['code']}）"],
            ["联检轮次", f"{rnd['round_id']} {rnd['name']}", "检查期限", f"{rnd['starts_on']} 至 {rnd['ends_on']}"],
            ["协议书", line["agreement"] or "", "制表日期", data["made_on"]],
            ["界桩数量", str(len(data["markers"])), "走向说明", line["description"] or ""]]
    story.append(pdf.table(["项目", "内容", "项目", "内容"], info, [25 * mm, 110 * mm, 25 * mm, 113 * mm], st=st))
    story.append(Spacer(1, 4 * mm))
    story.append(pdf.overview(line["geometry"], [(m["marker_id"], m["geometry"]) for m in data["markers"]],
                              (left["name"], left["geometry"]), (right["name"], right["geometry"]),
                              width=273 * mm, height=105 * mm))
    story.append(pdf.para(f"图例: 红线为界线, 黑点为界桩; 蓝色为{left['name']}, 橙色为{right['name']}。", st["body"]))
    story.append(Spacer(1, 4 * mm))
    header = ["界桩编号", "类型", "材质", "登记坐标 X(北) / Y(东)", "经度 / 纬度", "位置说明", "上次状况",
              "本次状况", "实测位置", "处理意见", "备注"]
    rows = [[m["marker_id"], m["marker_type"], m["material"],
             f"{m['x']:.3f}\n{m['y']:.3f}\n{_zone_label(m['plane_crs'])}", f"{m['lon']:.7f}\n{m['lat']:.7f}",
             m["location"], m["last_condition"], "", "", "", ""] for m in data["markers"]]
    widths = [19, 12, 13, 36, 24, 58, 14, 16, 34, 18, 29]
    story.append(pdf.table(header, rows, [w * mm for w in widths], st=st))
    story.append(Spacer(1, 6 * mm))
    sign = [[pdf.para(f"{side['name']}检查人（签字）：\n\n单位（盖章）：\n\n日期：    年    月    日", st["body"])
             for side in (left, right)]]
    story.append(KeepTogether([pdf.para("双方签字", st["h2"]),
                               pdf.table([f"左侧 {left['name']}", f"右侧 {right['name']}"], sign,
                                         [136 * mm, 137 * mm], st=st)]))
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)


# --- XLSX (through the shared entry-sheet writer) ---------------------------------------------------

def _xlsx(data, path) -> None:
    from diming.boundaries.inspection import ENTRY_COLUMNS, ENTRY_CONDITIONS, KEY_COLUMNS, YES_NO
    from diming.layers.entrysheet import write_entry_sheet
    from diming.layers.schema import INSPECTION_ACTIONS

    rnd, left, right = data["round"], data["left"], data["right"]
    # the measured CRS comes pre-filled: most teams measure in the registration system
    rows = [{**m, "entered": {"measured_crs": m["plane_crs"], **m["entered"]}} for m in data["markers"]]
    write_entry_sheet(
        path, title=f"界桩检查记录表 {_heading(data)}", sheet_title="界桩检查记录",
        lines=[f"联检轮次: {rnd['round_id']} {rnd['name']}    左侧: {left['name']}（{left['code']}）"
               f"    右侧: {right['name']}（{right['code']}）    检查期限: {rnd['starts_on']} 至 {rnd['ends_on']}",
               "灰色列为登记信息, 已保护; 白色列填写本次检查结果。日期写 YYYY-MM-DD; 实测位置用高斯-克吕格坐标时 "
               "X 为北坐标, Y 为东坐标, 用经纬度时填 经度/纬度 和 EPSG 4490。"],
        key_columns=KEY_COLUMNS, entry_columns=ENTRY_COLUMNS, rows=rows,
        choices={"condition": ENTRY_CONDITIONS, "action": INSPECTION_ACTIONS, "references_complete": YES_NO,
                 "line_recognisable": YES_NO},
        date_field="inspected_on", date_range=(rnd["starts_on"], rnd["ends_on"]),
        widths={"location": 36, "marker_id": 12, "notes": 24, "photos": 16, "x": 14, "y": 14, "lon": 13, "lat": 13,
                "measured_x": 16, "measured_y": 16, "inspected_on": 12})


# --- GPX and KML ----------------------------------------------------------------------------------

def _description(marker) -> str:
    parts = [f"{marker['marker_type'] or ''} {marker['material'] or ''}".strip(), marker["location"] or "",
             f"上次状况: {marker['last_condition'] or '—'}",
             f"登记 X {marker['x']:.3f} Y {marker['y']:.3f} ({_zone_label(marker['plane_crs'])})"]
    return "\n".join(p for p in parts if p)


def _gpx(data, path) -> None:
    from diming.layers.gpsfiles import write_gpx

    write_gpx(path, f"{_heading(data)} {data['round']['name']}",
              [(m["marker_id"], m["lon"], m["lat"], _description(m), "界桩") for m in data["markers"]],
              [(data["line"]["name"], data["line"]["geometry"])], symbol="Flag")


def _kml(data, path) -> None:
    from diming.layers.gpsfiles import write_kml

    line = data["line"]
    write_kml(path, f"{_heading(data)} {data['round']['name']}", "界桩",
              [(m["marker_id"], m["lon"], m["lat"], _description(m)) for m in data["markers"]],
              [(line["name"], line["description"], line["geometry"])])
