"""Exporting a layer: GeoJSON, GeoPackage, Shapefile, CSV, XLSX (format from the file extension).

CSV and XLSX carry the geometry as a ``wkt`` column, so they import back unchanged. Their text is
safe to open in a spreadsheet: CSV cells that would start a formula get a leading quote, XLSX cells
are written as text, never as formulas.
"""
from __future__ import annotations

import os
import shutil
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from diming.errors import DimingError
from diming.layers.schema import get_layer

FORMATS = {".geojson": "GeoJSON", ".gpkg": "GPKG", ".shp": "ESRI Shapefile", ".csv": "CSV", ".xlsx": "XLSX"}
XLSX_CELL_LIMIT = 32767  # characters a spreadsheet cell holds
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@contextmanager
def replacing(output) -> Iterator[Path]:
    """A file beside ``output`` to write to (same suffix, for tools that go by it); it replaces
    ``output`` when the block succeeds and is removed when it fails, so a failed write leaves
    neither a half-written file nor a damaged older one."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f"{output.stem}.partial{output.suffix}")
    partial.unlink(missing_ok=True)
    try:
        yield partial
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)


def neutralise(value):
    """Text a spreadsheet will show, never evaluate: formula-looking text gets a leading quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def restore(text: str) -> str:
    """The text :func:`neutralise` was given: a sheet brought back loses the quote it put there."""
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_START) else text


# --- printing a spreadsheet -----------------------------------------------------------------------
# Every XLSX diming writes is printed and filed; these give each the same page set-up.

A4 = "9"  # the paper size code of A4 in a sheet's page set-up
PORTRAIT_WIDTH = 95  # column width units (about one character) that fit across portrait A4


def write_report_file(output, writers: dict, make) -> Path:
    """Write a report to ``output`` in the format its suffix names (``writers``: suffix ->
    ``write(data, path)``, in the order the error lists them), whole or not at all; ``make()``
    gathers the data, only once the suffix is known to be good."""
    output = Path(output)
    suffix = output.suffix.lower()
    if suffix not in writers:
        raise DimingError(f"{output}: 报告格式只能是 {', '.join(writers)} (report format from the suffix)")
    data = make()
    with replacing(output) as partial:
        writers[suffix](data, partial)
    return output


def print_setup(sheet, widths, *, header_rows: tuple[int, int], freeze: str) -> None:
    """Columns ``widths`` wide, printed on A4 (landscape when they are wider than a portrait page),
    fit to one page wide and as many long as needed, rows ``header_rows`` (first, last) repeated on
    every page, and the panes frozen at cell ``freeze`` (below the header, right of the key column).
    Works on write-only sheets too, before their first row is written."""
    from openpyxl.utils import get_column_letter

    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.page_setup.paperSize = A4
    sheet.page_setup.orientation = "landscape" if sum(widths) > PORTRAIT_WIDTH else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # 0: as many pages long as the rows take
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.print_title_rows = f"{header_rows[0]}:{header_rows[1]}"
    sheet.freeze_panes = freeze


def border():
    """The thin grid every printed table cell gets."""
    from openpyxl.styles import Border, Side

    side = Side(style="thin", color="808080")
    return Border(left=side, right=side, top=side, bottom=side)


def draw_grid(sheet, first_row: int, last_row: int, columns: int) -> None:
    """Thin borders on the table from ``first_row`` to ``last_row`` (a sheet kept in memory)."""
    grid = border()
    for row in sheet.iter_rows(min_row=first_row, max_row=last_row, max_col=columns):
        for cell in row:
            cell.border = grid


def table_sheet(sheet, lines: list[str], header: list[str], rows, widths, *, freeze_column: str = "C") -> None:
    """A printable table on ``sheet`` (kept in memory): the ``lines`` above it (the first as the
    title), a bold header repeated on every printed page, the rows neutralised, wrapped and gridded,
    A4 fit to one page wide, the panes frozen below the header and right of the key columns."""
    from openpyxl.styles import Alignment, Font

    for line in lines:
        sheet.append([neutralise(line)])
    if lines:
        sheet["A1"].font = Font(bold=True, size=14)
    header_row = len(lines) + 1
    sheet.append(header)
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([neutralise(v) for v in row])
    for row in sheet.iter_rows(min_row=header_row + 1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    draw_grid(sheet, header_row, max(sheet.max_row, header_row), len(header))
    print_setup(sheet, list(widths), header_rows=(header_row, header_row), freeze=f"{freeze_column}{header_row + 1}")


def md_text(value) -> str:
    """Project text as Markdown shows it, never as markup: HTML is escaped (a viewer would run a
    <script> or an <img onerror>), and so are the characters Markdown acts on (links, emphasis, code,
    table cells)."""
    import html
    import re

    text = html.escape("" if value is None else str(value), quote=False).replace("\n", " ")
    return re.sub(r"([\\`*_\[\]|#!~])", r"\\\1", text)


def md_table(header, rows) -> list[str]:
    """A Markdown table, every cell through :func:`md_text`."""
    out = ["| " + " | ".join(md_text(h) for h in header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(md_text(v) for v in row) + " |" for row in rows]


DATE_FORMAT = "yyyy-mm-dd"


def date_cell(value):
    """A stored ISO date (``YYYY-MM-DD`` text) as a date, for a cell a spreadsheet sorts and filters
    as a date (format it with :data:`DATE_FORMAT`); other values unchanged."""
    import datetime as dt

    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value


def text_width(values, *, least: float = 6, most: float = 50) -> float:
    """A column width (in characters) for these cell values: a Chinese character counts two."""
    longest = max((sum(2 if ord(ch) > 0x2E80 else 1 for ch in line)
                   for v in values if v is not None for line in str(v).split("\n")), default=0)
    return float(min(most, max(least, longest + 2)))


def export_layer(project, layer_name: str, dest, *, crs: int | None = None) -> int:
    """Write layer ``layer_name`` to ``dest`` (导出); returns the number of features written.

    ``crs`` reprojects (EPSG code); by default coordinates stay CGCS2000 (EPSG:4490).
    """
    from diming.layers.store import read_layer

    dest = Path(dest)
    suffix = dest.suffix.lower()
    if suffix not in FORMATS:
        raise DimingError(f"{dest}: 不支持的格式 {suffix or '(无扩展名)'}; 支持 {' '.join(FORMATS)}")
    layer = get_layer(layer_name)
    frame = read_layer(project, layer_name)
    if crs is not None and layer.geometry:
        try:
            frame = frame.to_crs(epsg=int(crs))
        except Exception as exc:
            raise DimingError(f"--crs {crs}: 无法转换 ({exc})") from None
    if suffix in (".csv", ".xlsx"):
        table = frame.copy()
        if layer.geometry:
            table["wkt"] = table.geometry.to_wkt(rounding_precision=8)
            table = table.drop(columns=table.geometry.name)
        with replacing(dest) as partial:
            if suffix == ".csv":
                _write_csv(table, partial)
            else:
                _write_xlsx(table, partial, layer)
        return len(table)
    kinds = set(frame.geometry.dropna().geom_type) if layer.geometry == "GEOMETRY" else set()
    if suffix == ".shp" and len(kinds) > 1:  # place_names: points, lines and areas in one layer
        raise DimingError(f"{dest.name}: Shapefile 只能容纳一种几何类型, 图层 {layer_name} 有 {'、'.join(sorted(kinds))}; "
                          "请导出为 .gpkg、.geojson、.csv 或 .xlsx")
    if suffix == ".shp":
        with replacing_shapefile(dest) as partial:
            _write_gis(frame, partial, None, {"encoding": "UTF-8"})
        return len(frame)
    from diming.layers.gpkg import GDAL_DATASET_OPTIONS

    with replacing(dest) as partial:
        if suffix == ".gpkg" and dest.exists():  # the file's other layers stay: the layer is written into a copy
            shutil.copyfile(dest, partial)
        _write_gis(frame, partial, layer_name if suffix == ".gpkg" else None,
                   {"dataset_options": GDAL_DATASET_OPTIONS} if suffix == ".gpkg" else {})
    return len(frame)


def _write_gis(frame, dest: Path, layer_name, options) -> None:
    import pyogrio

    with warnings.catch_warnings():
        # Shapefile field names are cut to 10 characters; import maps them back
        warnings.filterwarnings("ignore", message="Normalized/laundered field name")
        pyogrio.write_dataframe(frame, dest, layer=layer_name, driver=FORMATS[dest.suffix.lower()], **options)


# the files a Shapefile is made of (the ones GDAL writes, and the indexes other programs add beside them)
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".qmd")


@contextmanager
def replacing_shapefile(output) -> Iterator[Path]:
    """:func:`replacing` for a Shapefile and its side files: written in a folder beside
    ``output``, they replace the old ones (all of them, an old spatial index too) when the block
    succeeds; a failed write leaves the old Shapefile as it was."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    folder = output.with_name(f".{output.name}.partial")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    try:
        yield folder / output.name
        written = {p.suffix.lower(): p for p in folder.iterdir()}
        for part in SHAPEFILE_PARTS:
            if part not in written:
                output.with_suffix(part).unlink(missing_ok=True)
        for part, path in written.items():
            os.replace(path, output.with_suffix(part))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _write_csv(table, dest):
    import csv

    with open(dest, "w", newline="", encoding="utf-8-sig") as out:  # BOM: Excel then reads UTF-8
        writer = csv.writer(out)
        writer.writerow(table.columns)
        for row in table.itertuples(index=False):
            writer.writerow(["" if _missing(v) else neutralise(v) for v in row])


def _write_xlsx(table, dest, layer):
    from openpyxl import Workbook

    if "wkt" in table.columns:
        too_long = table["wkt"].str.len() > XLSX_CELL_LIMIT
        if too_long.any():
            key = table[layer.key][too_long].iloc[0]
            raise DimingError(f"{dest.name}: {layer.name} {key} 的几何超过 XLSX 单元格上限 {XLSX_CELL_LIMIT} 字符 "
                              "(geometry too large for a spreadsheet cell); 请导出为 .gpkg 或 .geojson")
    book = Workbook(write_only=True)
    sheet = book.create_sheet(layer.alias)
    aliases = {f.name: f.alias for f in layer.fields}
    header = [aliases.get(c, c) for c in table.columns]  # Chinese headers import back by alias
    # widths from the header and the first thousand rows: enough to judge, cheap on a big layer
    sample = table.head(1000)
    widths = [text_width([h, *sample[c].tolist()], most=30 if c == "wkt" else 50)
              for h, c in zip(header, table.columns)]
    print_setup(sheet, widths, header_rows=(1, 1), freeze="B2")
    grid = border()
    sheet.append([text_cell(sheet, h, grid) for h in header])
    for row in table.itertuples(index=False):
        sheet.append([text_cell(sheet, v, grid) for v in row])
    book.save(dest)


def text_cell(sheet, value, grid=None):
    """An XLSX cell that is stored as data: strings are typed as text, so '=…' is no formula;
    ``grid`` (from :func:`border`) draws its borders."""
    from openpyxl.cell import WriteOnlyCell

    if _missing(value):
        value = None
    elif hasattr(value, "item"):
        value = value.item()
    cell = WriteOnlyCell(sheet, value=None if isinstance(value, str) else value)
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"
    if grid is not None:
        cell.border = grid
    return cell


def _missing(value):
    import pandas as pd

    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))
