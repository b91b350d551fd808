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
    previous = _previous(project, rnd, line_id, markers, entered)
    rows = []
    for m in markers.itertuples():
        x, y, crs = m.x, m.y, m.plane_crs
        if pd.isna(x) or pd.isna(y) or pd.isna(crs):  # no registered plane coordinates: derive them
            crs = gk_epsg(gk_zone(m.geometry.x), prefixed=True)
            x, y = (round(float(v), 3) for v in from_lonlat(m.geometry.x, m.geometry.y, crs))
        rows.append({"line_id": line_id, "marker_id": m.marker_id, "marker_type": m.marker_type,
                     "material": m.material, "x": float(x), "y": float(y), "plane_crs": int(crs),
                     "lon": round(m.geometry.x, 7), "lat": round(m.geometry.y, 7), "location": m.location,
                     "elevation": None if pd.isna(m.elevation) else float(m.elevation),
                     "last_condition": previous[m.marker_id], "condition": m.condition, "geometry": m.geometry,
                     "entered": entered.get(m.marker_id, {})})
    return {"round": rnd, "line": {"line_id": line_id, "name": line["name"], "agreement": line.agreement,
                                   "description": line.description, "geometry": line.geometry},
            "left": sides[0], "right": sides[1], "markers": rows, "made_on": dt.date.today().isoformat()}


def _previous(project, rnd: dict, line_id: str, markers, entered: dict) -> dict:
    """上次状况 of each marker: what the latest earlier round found. A marker no earlier round
    visited shows its condition before this round's results came in (the registered one); a marker
    this round set has none (None)."""
    import json

    from diming.boundaries.inspection import condition_note, new_marker_note
    from diming.layers.store import connect, read_layer

    earlier = read_layer(project, "inspections", where="line_id = ? AND round_id != ? AND inspected_on < ? "
                         "AND condition IS NOT NULL", params=(line_id, rnd["round_id"], rnd["starts_on"]),
                         columns=["marker_id", "inspected_on", "condition"], geometry=False)
    found = dict(earlier.sort_values("inspected_on")[["marker_id", "condition"]].itertuples(index=False))
    # only a marker this round's results reached, and no earlier round did, may have changed since
    changed = [m for m in markers.marker_id if m in entered and m not in found]
    before = {}
    if changed:
        con = connect(project)
        try:  # the first change this round's results made to its condition holds the one before
            for key, value in con.execute(
                    "SELECT key, before FROM audit_log WHERE layer = 'boundary_markers' AND note IN (?, ?) "
                    f"AND key IN ({', '.join('?' * len(changed))}) ORDER BY fid",
                    (condition_note(rnd["round_id"]), new_marker_note(rnd["round_id"]), *changed)):
                before.setdefault(key, json.loads(value).get("condition") if value else None)
        finally:
            con.close()
    return {m: found.get(m, before.get(m, c)) for m, c in zip(markers.marker_id, markers.condition)}


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
    """One field sheet per line of the round into ``folder``, named ``<line>.<fmt>``. A folder name
    with a file extension (``sheet.pdf``) is refused: it is a file name given without ``--line``."""
    from diming.boundaries.inspection import get_round

    folder = Path(folder)
    if folder.suffix and not folder.is_dir():
        raise DimingError(f"{folder}: 不指定 --line 时输出为文件夹 (每条界线一个文件), 文件夹名不能带扩展名 "
                          f"{folder.suffix}; 只要一条界线请加 --line (a folder is written without --line)")
    return [write_fieldsheet(project, round_id, line_id, fmt, folder / f"{line_id}.{fmt}")
            for line_id in get_round(project, round_id)["line_ids"]]


def _heading(data) -> str:
    return f"{data['line']['name']}（{data['line']['line_id']}）"


# --- PDF ------------------------------------------------------------------------------------------

NEW_ROWS_PDF = 4  # blank rows on paper for markers found or set in the field (新设)

# Each marker takes two table rows, one field per cell in the same twelve columns (None: a cell
# left free to write in). Together they carry every column of the XLSX sheet, under the same
# headings, so the paper records everything the import reads.
PDF_ROWS = (
    ("marker_id", "marker_type", "x", "lon", "inspected_on", "last_condition", "condition", "references_complete",
     "line_recognisable", "action", "photos", "notes"),
    ("line_id", "measured_crs", "location", "measured_x", "measured_y", None, "inspectors_left", None, None,
     "inspectors_right", None, None),
)
# cells that hold two or three columns of the XLSX sheet, one under the other
PDF_STACKED = {"marker_type": ("marker_type", "material"), "x": ("x", "y", "plane_crs"), "lon": ("lon", "lat")}
PDF_WIDTHS = (20, 17, 38, 22, 22, 13, 37, 15, 15, 30, 20, 24)  # mm, the 273 mm between the margins


def pdf_headings() -> list[list[str]]:
    """The headings of the PDF's two header rows, cell by cell (a stacked cell lists each heading)."""
    from diming.boundaries.inspection import ENTRY_COLUMNS, KEY_COLUMNS

    headings = dict(KEY_COLUMNS + ENTRY_COLUMNS)
    return [["\n".join(headings[f] for f in PDF_STACKED.get(field, (field,))) if field else "" for field in row]
            for row in PDF_ROWS]


def _ticks(choices, chosen=None, per_line: int = 3) -> str:
    """Choices printed to tick: □完好 □损坏 …, ``per_line`` a line; the one already brought back filled in."""
    boxes = [("■" if c == chosen else "□") + c for c in choices]
    return "\n".join(" ".join(boxes[i:i + per_line]) for i in range(0, len(boxes), per_line))


def _pdf_cell(field: str, marker: dict | None, line_id: str, crs) -> str:
    """What the cell of ``field`` shows for ``marker`` (None: a blank row for a new marker, measured in ``crs``)."""
    from diming.boundaries.inspection import ENTRY_CONDITIONS, YES_NO
    from diming.layers.schema import INSPECTION_ACTIONS

    entered = marker["entered"] if marker else {}
    value = entered.get(field)
    if field == "condition":
        return _ticks(ENTRY_CONDITIONS, value)
    if field in ("references_complete", "line_recognisable"):
        return _ticks(YES_NO, value)
    if field == "action":
        return _ticks(INSPECTION_ACTIONS, value, per_line=2)
    if field == "inspected_on":
        return value.isoformat() if value else "\n　　年　 月　 日"
    if field in ("measured_x", "measured_y") and value is not None:
        return f"{value:.3f}" if abs(value) > 1000 else f"{value:.7f}"  # metres, or degrees
    if field in entered:
        return str(value)
    if field == "line_id":
        return line_id + "\n"  # a second line: room to write under it
    if field == "measured_crs":  # pre-filled as in the XLSX; 4490 for longitude/latitude
        return f"{marker['plane_crs'] if marker else crs}\n(或 4490)"
    if marker is None:
        return "—" if field == "last_condition" else ""
    if field == "marker_type":
        return f"{marker['marker_type'] or ''}\n{marker['material'] or ''}"
    if field == "x":
        return f"{marker['x']:.3f}\n{marker['y']:.3f}\n{_zone_label(marker['plane_crs'])}"
    if field == "lon":
        return f"{marker['lon']:.7f}\n{marker['lat']:.7f}"
    if field in ("marker_id", "location"):
        return marker[field] or ""
    if field == "last_condition":
        return marker[field] or "—"
    return ""


def _pdf(data, path) -> None:
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Spacer, Table, TableStyle

    from diming.boundaries import pdf

    st = pdf.styles()
    rnd, line, left, right = data["round"], data["line"], data["left"], data["right"]
    doc, on_page = pdf.document(path, f"界桩检查记录表 {_heading(data)}",
                                f"{_heading(data)}    联检轮次 {rnd['round_id']} {rnd['name']}")
    story = [pdf.para("行政区域界线联合检查 界桩检查记录表", st["title"])]
    info = [["界线名称", f"{line['name']}（{line['line_id']}）", "联检轮次", f"{rnd['round_id']} {rnd['name']}"],
            ["左侧", f"{left['name']}（{left['code']}）", "右侧", f"{right['name']}（{right['code']}）"],
            ["协议书", line["agreement"] or "", "检查期限", f"{rnd['starts_on']} 至 {rnd['ends_on']}"],
            ["界桩数量", str(len(data["markers"])), "制表日期", data["made_on"]],
            ["走向说明", line["description"] or "", "填写说明",
             "在□中打√; 实测位置用高斯-克吕格坐标时 X 为北坐标、Y 为东坐标, 用经纬度时填 经度/纬度 和 4490; "
             "上次状况为上一轮联检的结果"]]
    story.append(pdf.table(["项目", "内容", "项目", "内容"], info, [20 * mm, 116 * mm, 20 * mm, 117 * mm], st=st))
    story.append(Spacer(1, 2 * mm))
    story.append(pdf.overview(line["geometry"], [(m["marker_id"], m["geometry"]) for m in data["markers"]],
                              (left["name"], left["geometry"]), (right["name"], right["geometry"]),
                              width=273 * mm, height=72 * mm))
    story.append(pdf.para(f"图例: 红线为界线, 黑点为界桩; 蓝色为{left['name']}, 橙色为{right['name']}。", st["body"]))
    story.append(Spacer(1, 2 * mm))

    def cells(fields, texts, style):
        # plain strings (lines split at "\n") where the text is ours and short: a Paragraph per cell
        # would be most of the time of a 500-marker sheet; the location is wrapped as a Paragraph
        return [pdf.para(text, style) if field == "location" or style is st["head"] else text
                for field, text in zip(fields, texts)]

    head = pdf_headings()
    widths = [w * mm for w in PDF_WIDTHS]
    header = Table([cells(PDF_ROWS[0], head[0], st["head"]), cells(PDF_ROWS[1], head[1], st["head"])],
                   colWidths=widths)
    header.setStyle(TableStyle(pdf.GRID + [("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#e8e8e8")),
                                           ("LINEBELOW", (0, 1), (-1, 1), 0.9, colors.black)]))
    story.append(header)
    # one small table per marker, its two rows kept on one page, a heavier rule below it; the
    # heading is repeated at the top of each later page (pdf.build_with_running_header)
    block_style = TableStyle(pdf.GRID + [("FONTSIZE", (0, 0), (-1, -1), st["cell"].fontSize),
                                         ("LEADING", (0, 0), (-1, -1), st["cell"].leading),
                                         ("LINEBELOW", (0, 1), (-1, 1), 0.9, colors.black),
                                         ("NOSPLIT", (0, 0), (-1, -1))])
    crs = data["markers"][0]["plane_crs"] if data["markers"] else 4490
    for marker in data["markers"] + [None] * NEW_ROWS_PDF:
        block = Table([cells(fields, [_pdf_cell(f, marker, line["line_id"], crs) if f else "" for f in fields],
                             st["cell"]) for fields in PDF_ROWS], colWidths=widths)
        block.setStyle(block_style)
        story.append(block)
    story.append(Spacer(1, 6 * mm))
    sign = [[pdf.para(f"{side['name']}检查人（签字）：\n\n单位（盖章）：\n\n日期：　　　　年　　月　　日", st["body"])
             for side in (left, right)]]
    story.append(KeepTogether([pdf.para("双方签字", st["h2"]),
                               pdf.table([f"左侧 {left['name']}", f"右侧 {right['name']}"], sign,
                                         [136 * mm, 137 * mm], st=st)]))
    pdf.build_with_running_header(doc, on_page, story, header)


# --- XLSX (through the shared entry-sheet writer) ---------------------------------------------------

NEW_ROWS_XLSX = 10  # blank rows at the end for markers found or set in the field (新设)
NEW_MARKER_FIELDS = ("marker_id", "marker_type", "material", "location")  # open to write in those rows


def _xlsx(data, path) -> None:
    from diming.boundaries.inspection import ENTRY_COLUMNS, ENTRY_CONDITIONS, KEY_COLUMNS, YES_NO
    from diming.layers.entrysheet import write_entry_sheet
    from diming.layers.schema import INSPECTION_ACTIONS, MARKER_TYPES

    rnd, left, right = data["round"], data["left"], data["right"]
    markers = data["markers"]
    # the measured CRS comes pre-filled: most teams measure in the registration system, and a
    # blank row in the line's
    rows = [{**m, "entered": {"measured_crs": m["plane_crs"], **m["entered"]}} for m in markers]
    new_row = {"line_id": data["line"]["line_id"],
               "entered": {"measured_crs": markers[0]["plane_crs"] if markers else None}}
    write_entry_sheet(
        path, title=f"界桩检查记录表 {_heading(data)}", sheet_title="界桩检查记录",
        lines=[f"联检轮次: {rnd['round_id']} {rnd['name']}    左侧: {left['name']}（{left['code']}）"
               f"    右侧: {right['name']}（{right['code']}）    检查期限: {rnd['starts_on']} 至 {rnd['ends_on']}",
               "灰色列为登记信息, 已保护; 白色列填写本次检查结果。日期写 YYYY-MM-DD; 实测位置用高斯-克吕格坐标时 "
               "X 为北坐标, Y 为东坐标, 用经纬度时填 经度/纬度 和 EPSG 4490。上次状况为上一轮联检的结果。"
               f"末尾 {NEW_ROWS_XLSX} 行供填写新发现或新设的界桩: 填界桩编号、界桩状况 新设 和实测位置。"],
        key_columns=KEY_COLUMNS, entry_columns=ENTRY_COLUMNS, rows=rows,
        choices={"condition": ENTRY_CONDITIONS, "action": INSPECTION_ACTIONS, "references_complete": YES_NO,
                 "line_recognisable": YES_NO},
        date_field="inspected_on", date_range=(rnd["starts_on"], rnd["ends_on"]),
        widths={"location": 30, "marker_id": 12, "notes": 20, "photos": 12, "x": 13, "y": 13, "lon": 12, "lat": 12,
                "measured_x": 14, "measured_y": 14, "inspected_on": 11, "condition": 9, "action": 9,
                "inspectors_left": 10, "inspectors_right": 10},
        new_rows=NEW_ROWS_XLSX, new_row=new_row, new_fields=NEW_MARKER_FIELDS,
        new_choices={"marker_type": MARKER_TYPES}, wrap_fields=("location",))


# --- GPX and KML ----------------------------------------------------------------------------------

# the fields a marker's placemark carries as ExtendedData, named as in the XLSX sheet
KML_FIELDS = ("marker_id", "line_id", "marker_type", "material", "x", "y", "plane_crs", "elevation", "location",
              "condition", "last_condition")


def _description(marker) -> str:
    parts = [f"{marker['marker_type'] or ''} {marker['material'] or ''}".strip(), marker["location"] or "",
             f"现状: {marker['condition'] or '—'}    上次状况: {marker['last_condition'] or '—'}",
             f"登记 X {marker['x']:.3f} Y {marker['y']:.3f} ({_zone_label(marker['plane_crs'])})"]
    if marker["elevation"] is not None:
        parts.append(f"高程 {marker['elevation']:g} 米")
    return "\n".join(p for p in parts if p)


def _waypoints(data) -> list:
    from diming.boundaries.inspection import KEY_COLUMNS
    from diming.layers.gpsfiles import Waypoint
    from diming.layers.schema import MARKER_CONDITIONS

    headings = dict(KEY_COLUMNS) | {"elevation": "高程(米)", "condition": "现状"}
    return [Waypoint(m["marker_id"], m["lon"], m["lat"], _description(m), m["elevation"],
                     m["condition"] if m["condition"] in MARKER_CONDITIONS else "未检",
                     [(f, headings[f], m.get(f)) for f in KML_FIELDS]) for m in data["markers"]]


def _gpx(data, path) -> None:
    from diming.layers.gpsfiles import write_gpx

    points = _waypoints(data)
    for p in points:
        p.kind = "界桩"
    write_gpx(path, f"{_heading(data)} {data['round']['name']}", points,
              [(data["line"]["name"], data["line"]["geometry"])], symbol="Flag")


def _kml(data, path) -> None:
    from diming.boundaries.pdf import LINE_COLOUR
    from diming.layers.gpsfiles import write_kml
    from diming.layers.styles import CONDITION_COLOURS  # the inspection map's colours: one definition

    line = data["line"]
    write_kml(path, f"{_heading(data)} {data['round']['name']}", "界桩", _waypoints(data),
              [(line["name"], line["description"], line["geometry"])], styles=CONDITION_COLOURS,
              line_colour=LINE_COLOUR)
