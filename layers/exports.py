"""Exporting a layer: GeoJSON, GeoPackage, Shapefile, CSV, XLSX (format from the file extension).

CSV and XLSX carry the geometry as a ``wkt`` column, so they import back unchanged. Their text is
safe to open in a spreadsheet: CSV cells that would start a formula get a leading quote, XLSX cells
are written as text, never as formulas.
"""
from __future__ import annotations

import os
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
    dest.parent.mkdir(parents=True, exist_ok=True)
    if suffix in (".csv", ".xlsx"):
        table = frame.copy()
        if layer.geometry:
            table["wkt"] = table.geometry.to_wkt(rounding_precision=8)
            table = table.drop(columns=table.geometry.name)
        if suffix == ".csv":
            _write_csv(table, dest)
        else:
            _write_xlsx(table, dest, layer)
        return len(table)
    import pyogrio

    kinds = set(frame.geometry.dropna().geom_type) if layer.geometry == "GEOMETRY" else set()
    if suffix == ".shp" and len(kinds) > 1:  # place_names: points, lines and areas in one layer
        raise DimingError(f"{dest.name}: Shapefile 只能容纳一种几何类型, 图层 {layer_name} 有 {'、'.join(sorted(kinds))}; "
                          "请导出为 .gpkg、.geojson、.csv 或 .xlsx")
    options = {"encoding": "UTF-8"} if suffix == ".shp" else {}
    if suffix in (".shp", ".geojson") and dest.exists():
        dest.unlink()  # GDAL refuses to overwrite these
    with warnings.catch_warnings():
        # Shapefile field names are cut to 10 characters; import maps them back
        warnings.filterwarnings("ignore", message="Normalized/laundered field name")
        pyogrio.write_dataframe(frame, dest, layer=layer_name if suffix == ".gpkg" else None,
                                driver=FORMATS[suffix], **options)
    return len(frame)


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
    sheet.append([aliases.get(c, c) for c in table.columns])  # Chinese headers import back by alias
    for row in table.itertuples(index=False):
        sheet.append([text_cell(sheet, v) for v in row])
    book.save(dest)


def text_cell(sheet, value):
    """An XLSX cell value that is stored as data: strings are typed as text, so '=…' is no formula."""
    from openpyxl.cell import WriteOnlyCell

    if _missing(value):
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=None)
        cell.value = value
        cell.data_type = "s"
        return cell
    return value


def _missing(value):
    import pandas as pd

    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))
