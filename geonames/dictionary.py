"""The place-name dictionary (地名词典): the gazetteer as a book (PDF, or a Word document).

Entries are grouped by county-level division (区县) and, within it, by census class (地名类别),
sorted by pinyin; each gives the name, its pinyin, category, location (divisions and longitude/
latitude), meaning and history. A title page, a table of contents and a pinyin index (拼音索引,
with page numbers) frame them, on A5 pages with running heads. The PDF is built with the
building blocks of :mod:`diming.boundaries.pdf` (its Chinese font and styles).

Page numbers of the contents and the index come from a first layout pass: the second pass is
laid out identically (the same lines, only the numbers differ), so the numbers hold.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from diming.errors import DimingError



def entries(project, *, district: str | None = None, categories=()) -> list[dict]:
    """The dictionary's entries, in book order: ``{"id", "name", "pinyin", "category", "class",
    "county", "county_name", "location", "meaning", "history", "historical"}``. ``district``:
    only names in that division (a code prefix); ``categories``: only these codes or classes."""
    import shapely

    from diming.geonames.categories import categories as known
    from diming.geonames.categories import class_of
    from diming.geonames.gazetteer import division_names, project_rows
    from diming.geonames.pinyin import spell

    by_name = {name: code for code, (name, _) in known().items()}
    unknown = [c for c in categories if c not in known()]
    if unknown:
        raise DimingError(f"--category {unknown[0]}: 未知地名类别; 可用: {', '.join(known())}")
    wanted = set(categories)
    areas = division_names(project)
    out = []
    for row in project_rows(project):
        code = (row["所在(跨)行政区"] or "").split(",")[0].strip()
        if district and not code.startswith(district):
            continue
        category = by_name.get(row["类别"], row["类别"])
        klass = class_of(category)
        if wanted and category not in wanted and klass not in wanted:
            continue
        chain = [areas[code[:n]] for n in (6, 9, 12) if len(code) >= n and code[:n] in areas]
        where = "".join(chain)
        if row["wkt"]:
            point = shapely.from_wkt(row["wkt"]).representative_point()
            where += f"（东经 {point.x:.4f}°，北纬 {point.y:.4f}°）"
        out.append({"id": row["地名代码"], "name": row["标准名称"], "pinyin": row["罗马字母拼写"] or spell(row["标准名称"]),
                    "category": row["类别"], "class": klass, "county": code[:6],
                    "county_name": areas.get(code[:6], code[:6] or "未定区划"), "location": where,
                    "meaning": row["地名含义"], "history": row["历史沿革"],
                    "historical": row["使用时间"] == "历史地名"})
    order = {klass: i for i, klass in enumerate(_classes())}
    out.sort(key=lambda e: (e["county"], order.get(e["class"], len(order)), e["pinyin"].lower(), e["name"]))
    return out


def _classes() -> list[str]:
    from diming.geonames.categories import classes

    return classes()


def write_dictionary(project, output, *, district: str | None = None, categories=(), title: str | None = None) -> dict:
    """Write the dictionary to ``output``: ``.pdf`` (the book) or ``.docx`` (the same text for
    Word, which lays out the pages and fills the contents); returns ``{"output", "entries",
    "pages"}`` (``pages`` None for .docx)."""
    from diming.layers.exports import replacing

    output = Path(output)
    suffix = output.suffix.lower()
    if suffix not in (".pdf", ".docx"):
        raise DimingError(f"{output}: 地名词典输出为 .pdf 或 .docx")
    items = entries(project, district=district, categories=categories)
    if not items:
        raise DimingError("没有符合条件的地名 (no names for the dictionary)")
    title = title or _title(project, district)
    count = None
    with replacing(output) as partial:
        if suffix == ".docx":
            _build_docx(partial, title, items)
        else:
            pages: dict = {}
            _build(partial, title, items, pages)  # first pass: where every heading and entry falls
            located = dict(pages)
            count = _build(partial, title, items, pages, located)
    return {"output": str(output), "entries": len(items), "pages": count}


def _entry_parts(e) -> list[str]:
    """The text of an entry after its name and pinyin: category, location, meaning, history."""
    parts = [f"〔{e['category']}{'，历史地名' if e['historical'] else ''}〕"]
    if e["location"]:
        parts.append(f"位于{e['location']}。")
    if e["meaning"]:
        parts.append(f"含义：{e['meaning']}")
    if e["history"]:
        parts.append(f"沿革：{e['history']}")
    return parts


def _build_docx(path, title, items) -> None:
    """The dictionary as a Word document: A5, a contents field Word fills when the file opens,
    headings per district and class, the entries, and the pinyin index (names and pinyin; Word
    paginates, so the index has no page numbers)."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(148), Mm(210)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(15))
    for name in ("Normal", "Title", "Heading 1", "Heading 2"):
        fonts = document.styles[name].element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), "宋体")  # Chinese glyphs from the reader's system font
    document.core_properties.title = title
    document.core_properties.author = "diming"
    heading = document.add_paragraph(title, style="Title")
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph(f"收录地名 {len(items)} 条　·　{dt.date.today().isoformat()} 编").alignment = \
        WD_ALIGN_PARAGRAPH.CENTER
    document.add_page_break()
    document.add_heading("目　录", level=1)
    contents = OxmlElement("w:fldSimple")
    contents.set(qn("w:instr"), 'TOC \\o "1-2" \\h \\z \\u')
    document.add_paragraph()._p.append(contents)
    update = OxmlElement("w:updateFields")  # Word fills the contents (with pages) on opening
    update.set(qn("w:val"), "true")
    document.settings.element.append(update)
    county = klass = None
    for e in items:
        if e["county"] != county:
            county, klass = e["county"], None
            document.add_page_break()
            document.add_heading(e["county_name"], level=1)
        if (e["class"] or e["category"]) != klass:
            klass = e["class"] or e["category"]
            document.add_heading(klass, level=2)
        paragraph = document.add_paragraph()
        paragraph.add_run(e["name"]).bold = True
        paragraph.runs[0].font.size = Pt(12)
        paragraph.add_run(f"　{e['pinyin']}　").font.name = "Times New Roman"
        paragraph.add_run("　".join(_entry_parts(e)))
    document.add_page_break()
    document.add_heading("拼音索引", level=1)
    for e in sorted(items, key=lambda e: (e["pinyin"].lower(), e["name"])):
        document.add_paragraph(f"{e['pinyin']}　{e['name']}（{e['county_name']}）")
    document.save(str(path))


def _title(project, district) -> str:
    from diming.layers.store import read_layer

    areas = read_layer(project, "admin_areas", columns=("code", "name", "level"), geometry=False)
    if district:
        named = areas[areas["code"] == district]
        return f"{named['name'].iloc[0] if len(named) else district}地名词典"
    top = areas.sort_values("code", key=lambda c: c.str.len())
    return f"{top['name'].iloc[0]}地名词典" if len(top) else "地名词典"


def _build(path, title, items, pages: dict, located: dict | None = None) -> int:
    """Lay the book out into ``path``; ``pages`` collects the page of each heading and entry,
    ``located`` holds those of the first pass (None on it: numbers are placeholders)."""
    from reportlab.lib.pagesizes import A5
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import BaseDocTemplate, Frame, PageBreak, PageTemplate, Paragraph

    from diming.boundaries.pdf import register_font, styles

    font = register_font()
    base = styles()["body"]
    st = {
        "cover": ParagraphStyle("cover", parent=base, fontSize=26, leading=34, alignment=1, spaceBefore=60 * mm),
        "sub": ParagraphStyle("sub", parent=base, fontSize=11, leading=16, alignment=1, spaceBefore=8 * mm),
        "h1": ParagraphStyle("h1", parent=base, fontSize=16, leading=22, alignment=1, spaceAfter=4 * mm),
        "h2": ParagraphStyle("h2", parent=base, fontSize=12, leading=16, spaceBefore=3 * mm, spaceAfter=2 * mm),
        "entry": ParagraphStyle("entry", parent=base, fontSize=9, leading=13.5, spaceAfter=2.2 * mm,
                                firstLineIndent=0),
        "toc": ParagraphStyle("toc", parent=base, fontSize=10, leading=15),
        "toc2": ParagraphStyle("toc2", parent=base, fontSize=9, leading=13.5, leftIndent=6 * mm),
        "index": ParagraphStyle("index", parent=base, fontSize=8.5, leading=12),
    }
    page_no = (lambda key: str(located.get(key, "")) if located is not None else "000")

    def esc(text):
        from xml.sax.saxutils import escape

        return escape("" if text is None else str(text)).replace("\n", "<br/>")

    def dotted(label, key, style):
        return Paragraph(f"{label} ······ {esc(page_no(key))}", style)

    class Marked(Paragraph):
        """A paragraph that notes the page it lands on under ``key``."""

        def __init__(self, text, style, key):
            super().__init__(text, style)
            self.key = key

        def draw(self):
            pages[self.key] = self.canv.getPageNumber()
            super().draw()

    story = [Paragraph(esc(title), st["cover"]),
             Paragraph(f"收录地名 {len(items)} 条　·　{dt.date.today().isoformat()} 编", st["sub"]), PageBreak(),
             Paragraph("目　录", st["h1"])]
    counties = list(dict.fromkeys((e["county"], e["county_name"]) for e in items))
    for county, county_name in counties:
        story.append(dotted(esc(county_name), ("county", county), st["toc"]))
        for klass in dict.fromkeys(e["class"] or e["category"] for e in items if e["county"] == county):
            story.append(dotted(esc(klass), ("class", county, klass), st["toc2"]))
    story.append(dotted("拼音索引", ("index",), st["toc"]))
    for county, county_name in counties:
        story += [PageBreak(), Marked(esc(county_name), st["h1"], ("county", county))]
        shown = None
        for e in (e for e in items if e["county"] == county):
            klass = e["class"] or e["category"]
            if klass != shown:
                story.append(Marked(esc(klass), st["h2"], ("class", county, klass)))
                shown = klass
            parts = [f'<font size="11">{esc(e["name"])}</font>　{esc(e["pinyin"])}', *map(esc, _entry_parts(e))]
            story.append(Marked("　".join(parts), st["entry"], ("entry", e["id"])))
    story += [PageBreak(), Marked("拼音索引", st["h1"], ("index",))]
    for e in sorted(items, key=lambda e: (e["pinyin"].lower(), e["name"])):
        story.append(Paragraph(f"{esc(e['pinyin'])}　{esc(e['name'])} ······ {esc(page_no(('entry', e['id'])))}",
                               st["index"]))

    def on_page(canvas, doc):
        canvas.saveState()
        number = canvas.getPageNumber()
        if number > 1:
            canvas.setFont(font, 8)
            canvas.drawCentredString(doc.pagesize[0] / 2, doc.pagesize[1] - 9 * mm, title)
            canvas.drawCentredString(doc.pagesize[0] / 2, 8 * mm, str(number))
        canvas.restoreState()

    doc = BaseDocTemplate(str(path), pagesize=A5, title=title, author="diming", initialFontName=font,
                          leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=15 * mm)
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=on_page)])
    doc.build(story)
    return doc.page
