"""PDF building blocks for field sheets and round reports (reportlab, A4, Chinese).

Chinese text is set in WenQuanYi Micro Hei (文泉驿微米黑, Apache-2.0), a TrueType font with glyf
outlines that reportlab can subset and embed: the PDF reads the same on a machine without any Chinese
font, and it covers Latin, "m²", circled numbers and the tick boxes the sheets print. The font comes
from the PyPI package ``paperang-p2-fonts-cjk`` (see setup.cfg); a system copy of a TrueType CJK font
is the fallback. reportlab cannot embed CFF-outline fonts (.otf, Noto CJK), so those are not used.
Every text, the page footer and the drawings included, uses :data:`FONT`, so no PDF names a font it
does not carry (the canvas starts in it too, instead of the unembedded Helvetica).
"""
from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from diming.errors import DimingError

FONT = "WenQuanYiMicroHei"
# (package, file inside it, font index in a .ttc) first; then system TrueType CJK fonts, same order of choice
PACKAGE_FONT = ("paperang_p2_fonts_cjk", "fonts/wqy-microhei.ttc", 0)
SYSTEM_FONTS = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
)
LEFT_FILL, RIGHT_FILL = "#dbe8f5", "#f7e6cc"
LINE_COLOUR = "#c0392b"


def font_file() -> tuple[Path, int]:
    """The TrueType file (and index in a collection) Chinese text is set in."""
    import importlib.resources

    package, name, index = PACKAGE_FONT
    try:
        path = Path(str(importlib.resources.files(package) / name))
        if path.is_file():
            return path, index
    except ModuleNotFoundError:
        pass
    for name, index in SYSTEM_FONTS:
        if Path(name).is_file():
            return Path(name), index
    raise DimingError("找不到可嵌入的中文字体 (no embeddable CJK TrueType font): "
                      "请安装 paperang-p2-fonts-cjk 或 fonts-wqy-microhei")


def register_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        path, index = font_file()
        # subset embedding is reportlab's default for TrueType: only the glyphs used go into the file
        pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=index))
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


# the look of every table: thin grey grid, cells padded 2 pt, text in the embedded font
GRID = [
    ("FONTNAME", (0, 0), (-1, -1), FONT),
    ("GRID", (0, 0), (-1, -1), 0.4, "#808080"),
    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
]


def table(header: list[str], rows: list[list], widths: list[float], *, st=None) -> object:
    """A grid table whose header row repeats on every page it flows onto."""
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    st = st or styles()
    data = [[para(h, st["head"]) for h in header]]
    data += [[c if hasattr(c, "wrap") else para(c, st["cell"]) for c in row] for row in rows]
    t = Table(data, colWidths=widths, repeatRows=1)
    t.setStyle(TableStyle(GRID + [("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8"))]))
    return t


def document(path, title: str, footer: str):
    """An A4 landscape document and the page callback that prints ``footer`` and the page number."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    register_font()
    doc = SimpleDocTemplate(str(path), pagesize=landscape(A4), title=title, author="diming", lang="zh-CN",
                            initialFontName=FONT, initialFontSize=9,
                            leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm, bottomMargin=14 * mm)

    def on_page(canvas, doc):
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.drawString(doc.leftMargin, 7 * mm, footer)
        canvas.drawRightString(doc.pagesize[0] - doc.rightMargin, 7 * mm, f"第 {doc.page} 页")
        canvas.restoreState()

    return doc, on_page


def build_with_running_header(doc, on_page, story: list, header) -> None:
    """Build ``doc`` with ``header`` (a table's heading rows) at the top of every page after the
    first. A long table set as one row group per flowable (each kept whole on its page) then reads
    like one table whose heading repeats, without reportlab splitting one huge table page by page,
    which grows with the square of its length."""
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

    width = doc.width
    _, height = header.wrap(width, doc.height)

    def later(canvas, doc):
        on_page(canvas, doc)
        header.wrapOn(canvas, width, height)
        header.drawOn(canvas, doc.leftMargin, doc.bottomMargin + doc.height - height)

    doc.addPageTemplates([
        # SimpleDocTemplate moves from "First" to "Later" on its own
        PageTemplate("First", [Frame(doc.leftMargin, doc.bottomMargin, width, doc.height, id="first",
                                     leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)], onPage=on_page),
        PageTemplate("Later", [Frame(doc.leftMargin, doc.bottomMargin, width, doc.height - height, id="later",
                                     leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)], onPage=later)])
    BaseDocTemplate.build(doc, story)  # with these templates rather than those SimpleDocTemplate.build makes


def overview(line, markers, left, right, *, width: float, height: float):
    """A drawing of ``line`` with its ``markers`` (id, point) and the ``left``/``right`` areas (name, geometry).

    Geometries are in EPSG:4490; the figure is drawn in the GK zone of the line, north up, the line
    fitted to the frame (the areas fill the rest of it), with a north arrow and a scale bar. Marker
    numbers are placed where they collide with nothing else drawn; a number that finds no free place
    is left out rather than printed over another.
    """
    import geopandas as gpd
    import shapely
    from reportlab.graphics.shapes import Circle, Drawing, PolyLine, Polygon, Rect, String
    from reportlab.lib import colors
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from diming.layers.crs import to_metric

    register_font()
    frame = gpd.GeoSeries([line, left[1], right[1], *[p for _, p in markers]], crs="EPSG:4490")
    metric = to_metric(frame)
    line_m, left_m, right_m, points = metric.iloc[0], metric.iloc[1], metric.iloc[2], list(metric.iloc[3:])
    minx, miny, maxx, maxy = shapely.union_all([line_m, *points]).bounds
    margin = 16.0  # points kept free on each side for labels
    span = max(maxx - minx, maxy - miny, 500.0)
    scale = min((width - 2 * margin) / max(maxx - minx, span / 20), (height - 2 * margin) / max(maxy - miny, span / 20))
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    # the view is the whole frame around the line's centre: the areas either side fill it
    minx, miny = cx - width / 2 / scale, cy - height / 2 / scale
    view = shapely.box(minx, miny, minx + width / scale, miny + height / scale)

    def to_page(geom):
        return shapely.transform(geom, lambda c: (c - (minx, miny)) * scale)

    def xy(coords):
        return [v for x, y in coords for v in (x, y)]

    d = Drawing(width, height, initialFontName=FONT)
    taken = _Boxes()
    for (name, _), geom, fill in ((left, left_m, LEFT_FILL), (right, right_m, RIGHT_FILL)):
        clipped = to_page(shapely.intersection(geom, view).simplify(1 / scale))
        for poly in getattr(clipped, "geoms", [clipped]):
            if poly.geom_type == "Polygon" and not poly.is_empty:
                d.add(Polygon(xy(poly.exterior.coords), fillColor=colors.HexColor(fill),
                              strokeColor=colors.HexColor("#999999"), strokeWidth=0.3))
    line_p = to_page(line_m)
    for part in getattr(line_p, "geoms", [line_p]):
        d.add(PolyLine(xy(part.coords), strokeColor=colors.HexColor(LINE_COLOUR), strokeWidth=1.6))
    radius = 2.2 if len(points) <= 60 else 1.2  # dense markers must not hide the line
    page_points = [to_page(p) for p in points]
    for p in page_points:
        d.add(Circle(p.x, p.y, radius, fillColor=colors.black, strokeColor=None))
        taken.add((p.x - radius, p.y - radius, p.x + radius, p.y + radius))
    # north arrow (top right) and scale bar (bottom left) first: labels keep clear of them
    ax, ay = width - 14, height - 38
    d.add(Polygon([ax, ay + 22, ax - 5, ay, ax, ay + 5, ax + 5, ay], fillColor=colors.black, strokeColor=None))
    d.add(String(ax, ay + 25, "北", fontName=FONT, fontSize=9, textAnchor="middle"))
    taken.add((ax - 8, ay - 2, ax + 8, ay + 36))
    bar = _nice_length(width / scale / 5)
    length = bar * scale
    d.add(Rect(4, 3, length + 40, 14, fillColor=colors.white, strokeColor=None, fillOpacity=0.8))
    for i in range(4):  # alternate black and white quarters, as on a printed map
        d.add(Rect(8 + i * length / 4, 6, length / 4, 3, strokeWidth=0.4, strokeColor=colors.black,
                   fillColor=colors.black if i % 2 == 0 else colors.white))
    label = f"{bar / 1000:g} 千米" if bar >= 1000 else f"{bar:g} 米"
    d.add(String(8, 11, "0", fontName=FONT, fontSize=6, textAnchor="middle"))
    d.add(String(8 + length, 11, label, fontName=FONT, fontSize=6, textAnchor="start"))
    taken.add((4, 3, 12 + length + stringWidth(label, FONT, 6), 17))
    # area names where each area has most room away from the line
    clear = shapely.buffer(line_p, 0.12 * min(width, height))
    for (name, _), geom in ((left, left_m), (right, right_m)):
        room = to_page(shapely.intersection(geom, view)).difference(clear)
        if room.is_empty:
            continue
        parts = shapely.get_parts(room)
        at = parts[shapely.area(parts).argmax()].representative_point()
        w = stringWidth(name, FONT, 11)
        box = (at.x - w / 2, at.y - 2, at.x + w / 2, at.y + 10)
        if not taken.hits(box):
            d.add(String(at.x, at.y, name, fontName=FONT, fontSize=11, fillColor=colors.HexColor("#555555"),
                         textAnchor="middle"))
            taken.add(box)
    size = 5.5
    for (marker_id, _), p in zip(markers, page_points):
        w, h = stringWidth(marker_id, FONT, size), size
        for dx, dy in ((3, 2), (3, -2 - h), (-3 - w, 2), (-3 - w, -2 - h), (4, -h / 2), (-4 - w, -h / 2),
                       (-w / 2, 3.5), (-w / 2, -3.5 - h)):
            box = (p.x + dx, p.y + dy, p.x + dx + w, p.y + dy + h)
            if 0 <= box[0] and box[2] <= width and 0 <= box[1] and box[3] <= height and not taken.hits(box):
                d.add(Rect(box[0] - 0.3, box[1] - 0.5, w + 0.6, h + 0.6, fillColor=colors.white, strokeColor=None,
                           fillOpacity=0.7))
                d.add(String(box[0], box[1] + 0.6, marker_id, fontName=FONT, fontSize=size))
                taken.add(box)
                break
    d.add(Rect(0, 0, width, height, fillColor=None, strokeColor=colors.grey, strokeWidth=0.5))
    return d


class _Boxes:
    """Rectangles already drawn on a figure, bucketed on a grid so a thousand labels test quickly."""

    CELL = 24.0

    def __init__(self):
        self._grid: dict[tuple, list] = {}

    def _cells(self, box):
        x0, y0, x1, y1 = (int(v // self.CELL) for v in box)
        return [(i, j) for i in range(x0, x1 + 1) for j in range(y0, y1 + 1)]

    def add(self, box) -> None:
        for cell in self._cells(box):
            self._grid.setdefault(cell, []).append(box)

    def hits(self, box) -> bool:
        x0, y0, x1, y1 = box
        return any(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1
                   for cell in self._cells(box) for b in self._grid.get(cell, ()))


def _nice_length(metres: float) -> float:
    """The largest 1, 2 or 5 × 10^n not above ``metres``."""
    import math

    power = 10 ** math.floor(math.log10(metres))
    return max(m * power for m in (1, 2, 5) if m * power <= metres)
