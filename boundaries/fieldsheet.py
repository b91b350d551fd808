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


# --- XLSX -----------------------------------------------------------------------------------------

NEW_ROWS_XLSX = 10  # blank rows at the end for markers found or set in the field (新设)
NEW_MARKER_FIELDS = ("marker_id", "marker_type", "material", "location")  # open to write in those rows


def _xlsx(data, path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, NamedStyle, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from diming.boundaries.inspection import ENTRY_COLUMNS, ENTRY_CONDITIONS, KEY_COLUMNS, YES_NO
    from diming.layers.exports import DATE_FORMAT, border, neutralise, print_setup
    from diming.layers.schema import INSPECTION_ACTIONS, MARKER_TYPES

    rnd, left, right = data["round"], data["left"], data["right"]
    book = Workbook()
    ws = book.active
    ws.title = "界桩检查记录"
    ws["A1"] = neutralise(f"界桩检查记录表 {_heading(data)}")
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = neutralise(f"联检轮次: {rnd['round_id']} {rnd['name']}    左侧: {left['name']}（{left['code']}）"
                          f"    右侧: {right['name']}（{right['code']}）    检查期限: {rnd['starts_on']} 至 {rnd['ends_on']}")
    ws["A3"] = ("灰色列为登记信息, 已保护; 白色列填写本次检查结果。日期写 YYYY-MM-DD; 实测位置用高斯-克吕格坐标时 "
                "X 为北坐标, Y 为东坐标, 用经纬度时填 经度/纬度 和 EPSG 4490。上次状况为上一轮联检的结果。"
                f"末尾 {NEW_ROWS_XLSX} 行供填写新发现或新设的界桩: 填界桩编号、界桩状况 新设 和实测位置。")
    header_row = 4
    columns = KEY_COLUMNS + ENTRY_COLUMNS
    grey, grid = PatternFill("solid", fgColor="E6E6E6"), border()
    # a few named styles, one assigned per cell: styling 10,000 cells attribute by attribute is slow
    centred = Alignment(vertical="center")
    for style in (
            NamedStyle("表头", font=Font(bold=True), fill=grey, border=grid,
                       alignment=Alignment(horizontal="center", vertical="center", wrap_text=True)),
            NamedStyle("登记", fill=grey, border=grid, alignment=centred),
            NamedStyle("登记长文", fill=grey, border=grid, alignment=Alignment(vertical="center", wrap_text=True)),
            NamedStyle("填写", border=grid, alignment=centred, protection=Protection(locked=False)),
            NamedStyle("填写日期", border=grid, alignment=centred, protection=Protection(locked=False),
                       number_format=DATE_FORMAT)):
        book.add_named_style(style)
    for col, (_, heading) in enumerate(columns, start=1):
        ws.cell(header_row, col, heading).style = "表头"
    entry_fields = {f for f, _ in ENTRY_COLUMNS}
    markers = data["markers"]
    # a blank row measures, like the rest, in the line's registration system
    blank = {"line_id": data["line"]["line_id"], "entered": {}}
    blank_crs = markers[0]["plane_crs"] if markers else None
    rows = markers + [None] * NEW_ROWS_XLSX
    for r, marker in enumerate(rows, start=header_row + 1):
        for col, (field, _) in enumerate(columns, start=1):
            source = marker or blank
            if field in source["entered"]:
                value = source["entered"][field]
            elif field == "measured_crs":  # most teams measure in the registration system
                value = marker["plane_crs"] if marker else blank_crs
            else:
                value = None if field in entry_fields else source.get(field)
            cell = ws.cell(r, col, neutralise(value))
            if field == "inspected_on":
                cell.style = "填写日期"
            elif field in entry_fields or (marker is None and field in NEW_MARKER_FIELDS):
                cell.style = "填写"
            else:
                cell.style = "登记长文" if field == "location" else "登记"
    last = header_row + len(rows)
    letter = {field: get_column_letter(i) for i, (field, _) in enumerate(columns, start=1)}
    first_new = header_row + len(markers) + 1
    for field, choices, first in (("condition", ENTRY_CONDITIONS, header_row + 1),
                                  ("action", INSPECTION_ACTIONS, header_row + 1),
                                  ("references_complete", YES_NO, header_row + 1),
                                  ("line_recognisable", YES_NO, header_row + 1),
                                  ("marker_type", MARKER_TYPES, first_new)):
        dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
                            showErrorMessage=True, errorTitle="输入有误", error="请从下拉列表中选择")
        ws.add_data_validation(dv)
        dv.add(f"{letter[field]}{first}:{letter[field]}{last}")
    dates = DataValidation(type="date", operator="between", formula1=f'DATE({rnd["starts_on"].replace("-", ",")})',
                           formula2=f'DATE({rnd["ends_on"].replace("-", ",")})', allow_blank=True,
                           showErrorMessage=True, errorTitle="日期有误", error=f"检查日期应在 {rnd['starts_on']} 至 {rnd['ends_on']} 之间")
    ws.add_data_validation(dates)
    dates.add(f"{letter['inspected_on']}{header_row + 1}:{letter['inspected_on']}{last}")
    widths = {"location": 30, "marker_id": 12, "notes": 20, "photos": 12, "x": 13, "y": 13, "lon": 12, "lat": 12,
              "measured_x": 14, "measured_y": 14, "inspected_on": 11, "condition": 9, "action": 9,
              "inspectors_left": 10, "inspectors_right": 10}
    print_setup(ws, [widths.get(field, 8) for field, _ in columns], header_rows=(header_row, header_row),
                freeze=f"C{header_row + 1}")
    ws.row_dimensions[header_row].height = 30
    # protection keeps the key columns from being changed by accident; no password, it is not a secret
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.insertRows = False  # more new markers than the blank rows: rows may be inserted
    book.save(path)


# --- GPX and KML ----------------------------------------------------------------------------------

def _description(marker) -> str:
    parts = [f"{marker['marker_type'] or ''} {marker['material'] or ''}".strip(), marker["location"] or "",
             f"现状: {marker['condition'] or '—'}    上次状况: {marker['last_condition'] or '—'}",
             f"登记 X {marker['x']:.3f} Y {marker['y']:.3f} ({_zone_label(marker['plane_crs'])})"]
    if marker["elevation"] is not None:
        parts.append(f"高程 {marker['elevation']:g} 米")
    return "\n".join(p for p in parts if p)


def _gpx(data, path) -> None:
    import xml.etree.ElementTree as ET

    ns = "http://www.topografix.com/GPX/1/1"
    ET.register_namespace("", ns)
    root = ET.Element(f"{{{ns}}}gpx", {"version": "1.1", "creator": "diming"})
    meta = ET.SubElement(root, f"{{{ns}}}metadata")
    ET.SubElement(meta, f"{{{ns}}}name").text = f"{_heading(data)} {data['round']['name']}"
    for m in data["markers"]:
        wpt = ET.SubElement(root, f"{{{ns}}}wpt", {"lat": f"{m['lat']:.7f}", "lon": f"{m['lon']:.7f}"})
        if m["elevation"] is not None:  # GPX wants ele first
            ET.SubElement(wpt, f"{{{ns}}}ele").text = f"{m['elevation']:g}"
        ET.SubElement(wpt, f"{{{ns}}}name").text = m["marker_id"]
        ET.SubElement(wpt, f"{{{ns}}}desc").text = _description(m)
        ET.SubElement(wpt, f"{{{ns}}}sym").text = "Flag"
        ET.SubElement(wpt, f"{{{ns}}}type").text = "界桩"
    trk = ET.SubElement(root, f"{{{ns}}}trk")
    ET.SubElement(trk, f"{{{ns}}}name").text = data["line"]["name"]
    geom = data["line"]["geometry"]
    for part in getattr(geom, "geoms", [geom]):
        seg = ET.SubElement(trk, f"{{{ns}}}trkseg")
        for lon, lat in part.coords:
            ET.SubElement(seg, f"{{{ns}}}trkpt", {"lat": f"{lat:.7f}", "lon": f"{lon:.7f}"})
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def _kml_colour(hex_rgb: str, alpha: str = "ff") -> str:
    """#rrggbb as KML writes colours: aabbggrr."""
    r, g, b = hex_rgb[1:3], hex_rgb[3:5], hex_rgb[5:7]
    return f"{alpha}{b}{g}{r}"


def plain(text) -> str:
    """Text a KML viewer shows as written: Google Earth and others render ``<description>`` as HTML,
    so the text is HTML-escaped (and then XML-escaped when written), and no markup of ours is added."""
    import html

    return html.escape("" if text is None else str(text), quote=True)


# the fields a marker's placemark carries as ExtendedData, named as in the XLSX sheet
KML_FIELDS = ("marker_id", "line_id", "marker_type", "material", "x", "y", "plane_crs", "elevation", "location",
              "condition", "last_condition")


def _kml(data, path) -> None:
    import xml.etree.ElementTree as ET

    from diming.boundaries.inspection import KEY_COLUMNS
    from diming.boundaries.pdf import LINE_COLOUR
    from diming.layers.schema import MARKER_CONDITIONS
    from diming.layers.styles import CONDITION_COLOURS  # the inspection map's colours: one definition

    ns = "http://www.opengis.net/kml/2.2"
    ET.register_namespace("", ns)
    headings = dict(KEY_COLUMNS) | {"elevation": "高程(米)", "condition": "现状"}

    def sub(parent, tag, text=None):
        element = ET.SubElement(parent, f"{{{ns}}}{tag}")
        if text is not None:
            element.text = text
        return element

    root = ET.Element(f"{{{ns}}}kml")
    doc = sub(root, "Document")
    sub(doc, "name", f"{_heading(data)} {data['round']['name']}")
    line_style = sub(doc, "Style")
    line_style.set("id", "line")
    ls = sub(line_style, "LineStyle")
    sub(ls, "color", _kml_colour(LINE_COLOUR))
    sub(ls, "width", "3")
    for i, condition in enumerate(MARKER_CONDITIONS):  # one style per condition, ids c0 … by the schema's order
        style = sub(doc, "Style")
        style.set("id", f"c{i}")
        icon = sub(style, "IconStyle")
        sub(icon, "color", _kml_colour(CONDITION_COLOURS[condition]))
        # no Icon: the viewer's own pin, tinted; a link to an icon would not load in the field
        sub(sub(style, "LabelStyle"), "scale", "0.8")
    line_pm = sub(doc, "Placemark")
    sub(line_pm, "name", data["line"]["name"])
    sub(line_pm, "description", plain(data["line"]["description"]))
    sub(line_pm, "styleUrl", "#line")
    multi = sub(line_pm, "MultiGeometry")
    geom = data["line"]["geometry"]
    for part in getattr(geom, "geoms", [geom]):
        sub(sub(multi, "LineString"), "coordinates", " ".join(f"{x:.7f},{y:.7f},0" for x, y in part.coords))
    folder = sub(doc, "Folder")
    sub(folder, "name", "界桩")
    for m in data["markers"]:
        pm = sub(folder, "Placemark")
        sub(pm, "name", m["marker_id"])
        sub(pm, "description", plain(_description(m)))
        condition = m["condition"] if m["condition"] in MARKER_CONDITIONS else "未检"
        sub(pm, "styleUrl", f"#c{MARKER_CONDITIONS.index(condition)}")
        extended = sub(pm, "ExtendedData")
        for field in KML_FIELDS:
            value = m.get(field)
            item = sub(extended, "Data")
            item.set("name", field)
            sub(item, "displayName", headings[field])
            sub(item, "value", "" if value is None else str(value))
        altitude = m["elevation"] if m["elevation"] is not None else 0
        sub(sub(pm, "Point"), "coordinates", f"{m['lon']:.7f},{m['lat']:.7f},{altitude:g}")
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
