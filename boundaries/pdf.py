"""PDF building blocks for field sheets and round reports (reportlab, A4, Chinese).

Chinese text uses reportlab's built-in CID font STSong-Light: the PDF viewer supplies the glyphs, so
nothing is downloaded or embedded and files stay small.
"""
from __future__ import annotations

from xml.sax.saxutils import escape

FONT = "STSong-Light"
LEFT_FILL, RIGHT_FILL = "#dbe8f5", "#f7e6cc"
LINE_COLOUR = "#c0392b"


def register_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def styles() -> dict:
    from reportlab.lib.styles import ParagraphStyle

    register_font()
    # wordWrap CJK lets Chinese break between any two characters
    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=11, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=16, leading=22, alignment=1, spaceAfter=6),
        "h2": ParagraphStyle("h2", parent=base, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4),
        "body": base,
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9),
        "head": ParagraphStyle("head", parent=base, fontSize=7.5, leading=9, alignment=1),
    }


def para(text, style) -> object:
    """A Paragraph of plain text (escaped; newlines become line breaks)."""
    from reportlab.platypus import Paragraph

    return Paragraph(escape("" if text is None else str(text)).replace("\n", "<br/>"), style)


def table(header: list[str], rows: list[list], widths: list[float], *, st=None) -> object:
    """A grid table whose header row repeats on every page it flows onto."""
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    st = st or styles()
    data = [[para(h, st["head"]) for h in header]]
    data += [[c if hasattr(c, "wrap") else para(c, st["cell"]) for c in row] for row in rows]
    t = Table(data, colWidths=widths, repeatRows=1)
    t.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
    ]))
    return t


def document(path, title: str, footer: str):
    """An A4 landscape document and the page callback that prints ``footer`` and the page number."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    register_font()
    doc = SimpleDocTemplate(str(path), pagesize=landscape(A4), title=title, author="diming",
                            leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm, bottomMargin=14 * mm)

    def on_page(canvas, doc):
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.drawString(doc.leftMargin, 7 * mm, footer)
        canvas.drawRightString(doc.pagesize[0] - doc.rightMargin, 7 * mm, f"第 {doc.page} 页")
        canvas.restoreState()

    return doc, on_page


def overview(line, markers, left, right, *, width: float, height: float):
    """A drawing of ``line`` with its ``markers`` (id, point) and the ``left``/``right`` areas (name, geometry).

    Geometries are in EPSG:4490; the figure is drawn in the GK zone of the line, framed on the line
    with a margin, so that short lines stay readable; a scale bar gives the distances.
    """
    import geopandas as gpd
    import shapely
    from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Polygon, Rect, String
    from reportlab.lib import colors

    from diming.layers.crs import to_metric

    register_font()
    frame = gpd.GeoSeries([line, left[1], right[1], *[p for _, p in markers]], crs="EPSG:4490")
    metric = to_metric(frame)
    line_m, left_m, right_m, points = metric.iloc[0], metric.iloc[1], metric.iloc[2], list(metric.iloc[3:])
    minx, miny, maxx, maxy = line_m.bounds
    span = max(maxx - minx, maxy - miny, 500.0)
    pad = 0.15 * span
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    scale = min(width / (maxx - minx), (height - 14) / (maxy - miny))
    ox = (width - (maxx - minx) * scale) / 2
    oy = 14 + (height - 14 - (maxy - miny) * scale) / 2
    view = shapely.box(minx, miny, maxx, maxy)

    def xy(coords):
        return [v for x, y in coords for v in (ox + (x - minx) * scale, oy + (y - miny) * scale)]

    d = Drawing(width, height)
    d.add(Rect(0, 0, width, height, fillColor=None, strokeColor=colors.grey, strokeWidth=0.5))
    for (name, _), geom, fill in ((left, left_m, LEFT_FILL), (right, right_m, RIGHT_FILL)):
        clipped = shapely.intersection(geom, view).simplify(span / 800)
        for poly in getattr(clipped, "geoms", [clipped]):
            if poly.geom_type == "Polygon" and not poly.is_empty:
                d.add(Polygon(xy(poly.exterior.coords), fillColor=colors.HexColor(fill),
                              strokeColor=colors.HexColor("#999999"), strokeWidth=0.3))
        if not clipped.is_empty:
            at = clipped.representative_point()
            d.add(String(ox + (at.x - minx) * scale, oy + (at.y - miny) * scale, name, fontName=FONT,
                         fontSize=11, fillColor=colors.HexColor("#555555"), textAnchor="middle"))
    for part in getattr(line_m, "geoms", [line_m]):
        d.add(PolyLine(xy(part.coords), strokeColor=colors.HexColor(LINE_COLOUR), strokeWidth=1.6))
    every = max(1, len(points) // 25)  # label at most ~25 markers so the labels stay legible
    radius = 2.2 if len(points) <= 60 else 1.2  # dense markers must not hide the line
    for i, ((marker_id, _), p) in enumerate(zip(markers, points)):
        px, py = ox + (p.x - minx) * scale, oy + (p.y - miny) * scale
        d.add(Circle(px, py, radius, fillColor=colors.black, strokeColor=None))
        if i % every == 0 or i == len(points) - 1:
            d.add(String(px + 3, py + 3, marker_id, fontName="Helvetica", fontSize=5.5))
    bar = _nice_length((maxx - minx) / 5)
    d.add(Line(6, 6, 6 + bar * scale, 6, strokeWidth=1.5))
    label = f"{bar / 1000:g} 千米" if bar >= 1000 else f"{bar:g} 米"
    d.add(String(10 + bar * scale, 4, label, fontName=FONT, fontSize=7))
    d.add(String(width - 8, height - 14, "北 ↑", fontName=FONT, fontSize=9, textAnchor="end"))
    return d


def _nice_length(metres: float) -> float:
    """The largest 1, 2 or 5 × 10^n not above ``metres``."""
    import math

    power = 10 ** math.floor(math.log10(metres))
    return max(m * power for m in (1, 2, 5) if m * power <= metres)
