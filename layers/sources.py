"""Reading the files users bring: GeoJSON, GeoPackage, Shapefile, CSV and XLSX.

Each reader returns a :class:`Source`: the attribute table as text-or-native values, the geometry
in EPSG:4490 (or None for attribute tables), and for each row the label a user finds it by
(``第 9 行`` in a spreadsheet, counting the header as line 1; ``第 9 个要素`` in a GIS file).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from diming.errors import DimingError

GIS_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".zip"}
TABLE_SUFFIXES = {".csv", ".xlsx"}


@dataclass
class Source:
    path: Path
    frame: "object"  # pandas DataFrame of attributes
    geometry: "object | None"  # numpy array of shapely geometries in EPSG:4490, or None
    row_labels: list[str]

    def where(self, i: int, field: str | None = None) -> str:
        """``roads.csv: 第 9 行, 字段 name`` — the start of a one-line error about row ``i``."""
        place = f"{self.path.name}: {self.row_labels[i]}"
        return f"{place}, 字段 {field}" if field else place


def read_source(path, *, source_layer=None, encoding=None, x=None, y=None, crs=None, geometry=True) -> Source:
    """Read ``path`` for import; coordinates end up in EPSG:4490.

    GIS files carry their CRS (``crs`` sets it where the file has none). CSV and XLSX take their
    geometry from coordinate columns ``x``/``y`` in EPSG ``crs`` (X = northing for Gauss-Krüger), or
    from a ``wkt`` column; ``geometry=False`` is for attribute tables.
    """
    path = Path(path)
    if not path.exists():
        raise DimingError(f"{path}: 文件不存在 (no such file)")
    suffix = path.suffix.lower()
    if suffix in GIS_SUFFIXES:
        return _read_gis(path, source_layer, encoding, crs)
    if suffix in TABLE_SUFFIXES:
        frame, labels = (_read_csv(path, encoding) if suffix == ".csv" else _read_xlsx(path, source_layer))
        geoms = None
        if geometry:
            frame, geoms = _table_geometry(path, frame, labels, x, y, crs)
        return Source(path, frame, geoms, labels)
    raise DimingError(f"{path}: 不支持的格式 {suffix or '(无扩展名)'}; 支持 .geojson .gpkg .shp .csv .xlsx")


def _read_gis(path, source_layer, encoding, crs) -> Source:
    import pyogrio
    import shapely

    kwargs = {"layer": source_layer} if source_layer else {}
    if encoding:
        kwargs["encoding"] = encoding
    try:
        if path.suffix.lower() == ".gpkg" and not source_layer and len(pyogrio.list_layers(path)) > 1:
            names = ", ".join(str(n) for n in pyogrio.list_layers(path)[:, 0])
            raise DimingError(f"{path.name}: 有多个图层, 用 --source-layer 指定其一 ({names})")
        frame = pyogrio.read_dataframe(path, **kwargs)
    except DimingError:
        raise
    except UnicodeDecodeError:
        raise DimingError(f"{path.name}: 文本无法解码 (undecodable text); 旧的 .dbf 请用 --encoding GBK") from None
    except Exception as exc:  # GDAL's own message is the most precise one there is
        raise DimingError(f"{path.name}: 无法读取 ({str(exc).splitlines()[0]})") from None
    labels = [f"第 {i} 个要素" for i in range(1, len(frame) + 1)]
    geometry = None
    if "geometry" in getattr(frame, "columns", []):
        if frame.crs is None:
            if crs is None:
                raise DimingError(f"{path.name}: 文件没有坐标系 (no CRS); 用 --crs EPSG 指定")
            frame = frame.set_crs(epsg=int(crs))
        elif crs is not None and frame.crs.to_epsg() != int(crs):
            raise DimingError(f"{path.name}: 文件坐标系是 {frame.crs.to_string()}, 与 --crs {crs} 不符")
        geometry = frame.geometry.to_crs(epsg=4490).values.to_numpy() if len(frame) else \
            shapely.points([]).astype(object)
        frame = frame.drop(columns=frame.geometry.name)
    frame = frame.astype(object).where(frame.notna(), None)
    return Source(path, frame, geometry, labels)


def _read_csv(path, encoding):
    import csv
    import io

    import pandas as pd

    raw = path.read_bytes()
    try:
        text = raw.decode(encoding or "utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        hint = "" if encoding else "; 试试 --encoding GBK"
        raise DimingError(f"{path.name}: 第 {line} 行: 文本无法按 {encoding or 'UTF-8'} 解码 (undecodable text){hint}") from None
    except LookupError:
        raise DimingError(f"{path.name}: 未知编码 {encoding!r} (unknown encoding)") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise DimingError(f"{path.name}: 文件是空的 (empty file)")
    body, labels, line = [], [], reader.line_num
    for row in reader:
        # a quoted field may span lines: label a record by the line it starts on
        if any(cell.strip() for cell in row):
            body.append(_pad(row, len(header)))
            labels.append(f"第 {line + 1} 行")
        line = reader.line_num
    frame = pd.DataFrame(body, columns=[h.strip() for h in header], dtype=object)
    frame = frame.where(frame != "", None)
    return frame, labels


def _pad(row, width):
    return (row + [""] * width)[:width]


def _read_xlsx(path, sheet):
    import openpyxl
    import pandas as pd

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise DimingError(f"{path.name}: 不是可读的 XLSX 文件 ({exc})") from None
    if sheet and sheet not in book.sheetnames:
        raise DimingError(f"{path.name}: 没有工作表 {sheet!r}; 有: {', '.join(book.sheetnames)}")
    ws = book[sheet] if sheet else book.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    book.close()
    if not rows:
        raise DimingError(f"{path.name}: 工作表是空的 (empty sheet)")
    header = ["" if h is None else str(h).strip() for h in rows[0]]
    body, labels = [], []
    for number, row in enumerate(rows[1:], start=2):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue  # spreadsheets often carry formatted but empty rows at the end
        body.append(_pad(list(row), len(header)))
        labels.append(f"第 {number} 行")
    frame = pd.DataFrame(body, columns=header, dtype=object)
    frame = frame.where(frame.notna() & (frame != ""), None)
    return frame, labels


def _column(frame, name):
    for col in frame.columns:
        if str(col).lower() == str(name).lower():
            return col
    return None


def _table_geometry(path, frame, labels, x, y, crs):
    import numpy as np
    import shapely

    from diming.layers.crs import to_lonlat

    epsg = int(crs) if crs else 4490
    if x or y:
        if not (x and y):
            raise DimingError(f"{path.name}: --x 和 --y 要同时给出")
        xcol, ycol = _column(frame, x), _column(frame, y)
        for given, col in ((x, xcol), (y, ycol)):
            if col is None:
                raise DimingError(f"{path.name}: 没有坐标列 {given!r}")
        xs, ys = [], []
        for i, (xv, yv) in enumerate(zip(frame[xcol], frame[ycol])):
            for given, value, out in ((xcol, xv, xs), (ycol, yv, ys)):
                try:
                    out.append(float(str(value).strip()))
                except ValueError:
                    reason = "坐标为空" if value is None else f"坐标 {value!r} 不是数字"
                    raise DimingError(f"{path.name}: {labels[i]}, 字段 {given}: {reason}") from None
        lon, lat = to_lonlat(np.array(xs), np.array(ys), epsg)
        return frame.drop(columns=[xcol, ycol]), shapely.points(lon, lat)
    wkt_col = _column(frame, "wkt")
    if wkt_col is None:
        raise DimingError(f"{path.name}: 没有几何: 用 --x/--y 指定坐标列, 或提供 wkt 列")
    geoms = []
    for i, text in enumerate(frame[wkt_col]):
        if text is None:
            geoms.append(None)
            continue
        try:
            geoms.append(shapely.from_wkt(str(text)))
        except shapely.errors.GEOSException:
            raise DimingError(f"{path.name}: {labels[i]}, 字段 {wkt_col}: 不是有效的 WKT") from None
    geoms = np.array(geoms, dtype=object)
    if epsg != 4490 and len(geoms):
        import geopandas as gpd

        geoms = gpd.GeoSeries(geoms, crs=epsg).to_crs(epsg=4490).values.to_numpy()
    return frame.drop(columns=[wkt_col]), geoms
