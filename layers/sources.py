"""Reading the files users bring: GeoJSON, GeoPackage, Shapefile, CSV and XLSX, as a stream of batches.

:func:`read_source` opens a file and returns a :class:`Source`: its column names, and ``batches()``,
which yields the rows a :data:`BATCH_ROWS` at a time — attributes as text-or-native values, geometry
in EPSG:4490 (or None for attribute tables) and each row's number: its line in a CSV (the header is
line 1; a record spanning lines is numbered by its first), its row in an XLSX sheet, its feature
number in a GIS file. CSV and XLSX are read as they are consumed, so memory stays flat however long
the file; GIS files are read whole by GDAL.

A cell that cannot be read as a value (an XLSX formula saved without its result, a coordinate that
is not a number) is handed over as :class:`Unreadable`, for the validation to report with its row
and field like any other bad value.
"""
from __future__ import annotations

import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from itertools import repeat
from typing import Callable, Iterator

from diming.errors import DimingError

GIS_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".zip"}
TABLE_SUFFIXES = {".csv", ".xlsx"}
BATCH_ROWS = 10_000
# Python's csv module refuses fields over 128 KiB; a boundary line's WKT is valid input far beyond
# that. 2 GiB - 1 is the most the module accepts on every platform.
CSV_FIELD_LIMIT = 2**31 - 1
# the defaults of the settings xlsx_max_part_mb and xlsx_max_rows (layers/settings.py)
XLSX_MAX_PART_MB = 1000
XLSX_MAX_ROWS = 1_048_576  # Excel's own sheet limit


class Unreadable:
    """A cell whose value could not be had; ``reason`` says why, in Chinese."""

    __slots__ = ("reason", "field")

    def __init__(self, reason: str, field: str | None = None):
        self.reason = reason
        self.field = field  # the source column to name, where it is not the field being read


@dataclass
class Batch:
    numbers: list[int]  # row number of each row (see the module docstring)
    columns: dict  # source column -> list of values
    # shapely geometry in EPSG:4490 (or Unreadable, or None) per row; for X/Y columns, the
    # points by their coordinates (diming.layers.gpkg.Points)
    geometry: "list | None"


@dataclass
class Source:
    path: Path
    columns: list[str]
    unit: str  # "行" for spreadsheets, "个要素" for GIS files
    batches: Callable[[], Iterator[Batch]]  # call once: the file is read as it is consumed
    progress: Callable[[], float] = lambda: 0.0  # how far through the file reading has come, 0–1
    numbers: list[int] = field(default_factory=list)  # filled by imports.validate, for where()

    def label(self, number: int) -> str:
        return f"第 {number} {self.unit}"

    def at(self, number: int, field: str | None = None) -> str:
        """``roads.csv: 第 9 行, 字段 name`` — the start of a one-line error about row ``number``."""
        place = f"{self.path.name}: {self.label(number)}"
        return f"{place}, 字段 {field}" if field else place

    def where(self, i: int, field: str | None = None) -> str:
        """:meth:`at` for the ``i``-th row returned by :func:`diming.layers.imports.validate`."""
        return self.at(self.numbers[i], field)


def read_source(path, *, source_layer=None, encoding=None, x=None, y=None, crs=None, geometry=True,
                xlsx_max_part_mb=XLSX_MAX_PART_MB, xlsx_max_rows=XLSX_MAX_ROWS) -> Source:
    """Open ``path`` for import; coordinates end up in EPSG:4490.

    GIS files carry their CRS (``crs`` sets it where the file has none). CSV and XLSX take their
    geometry from coordinate columns ``x``/``y`` in EPSG ``crs`` (X = northing for Gauss-Krüger), or
    from a ``wkt`` column; ``geometry=False`` is for attribute tables. An XLSX whose parts unpack to
    more than ``xlsx_max_part_mb`` or whose sheet holds more than ``xlsx_max_rows`` rows is refused
    before it is unpacked.
    """
    path = Path(path)
    if not path.exists():
        raise DimingError(f"{path}: 文件不存在 (no such file)")
    if crs is not None:
        crs = check_epsg(crs, f"--crs {crs}")
    suffix = path.suffix.lower()
    if suffix in GIS_SUFFIXES:
        return _read_gis(path, source_layer, encoding, crs)
    if suffix == ".csv":
        header, tables, progress = _csv_rows(path, encoding)
    elif suffix == ".xlsx":
        header, rows, progress = _xlsx_rows(path, source_layer, xlsx_max_part_mb, xlsx_max_rows)
        tables = ((numbers, [list(c) for c in zip(*table)]) for numbers, table in _chunks(rows, BATCH_ROWS))
    else:
        raise DimingError(f"{path}: 不支持的格式 {suffix or '(无扩展名)'}; 支持 .geojson .gpkg .shp .csv .xlsx")
    named = [h for h in header if h]  # a sheet's trailing columns often have no heading
    repeated = sorted({h for h in named if named.count(h) > 1})
    if repeated:
        raise DimingError(f"{path.name}: 表头中字段 {', '.join(repeated)} 重复 (repeated column heading)")
    make_geometry, columns = _table_geometry(path, named, x, y, crs) if geometry else (None, named)

    def batches():
        for numbers, table in tables:
            values = dict(zip(header, table))
            yield Batch(numbers, {c: values[c] for c in columns}, make_geometry(values) if make_geometry else None)

    return Source(path, columns, "行", batches, progress)


def check_epsg(code, what: str) -> int:
    """``code`` as an EPSG number PROJ knows, or a one-line error naming ``what``."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        number = int(code)
        CRS.from_epsg(number)
    except (ValueError, CRSError):
        raise DimingError(f"{what}: 不是已知的 EPSG 坐标系代码 (unknown EPSG code)") from None
    return number


def _chunks(rows, size):
    numbers, table = [], []
    for number, row in rows:
        numbers.append(number)
        table.append(row)
        if len(table) == size:
            yield numbers, table
            numbers, table = [], []
    if table:
        yield numbers, table


# --- GIS files ------------------------------------------------------------------------------------

def _read_gis(path, source_layer, encoding, crs) -> Source:
    import pyogrio

    kwargs = {"layer": source_layer} if source_layer else {}
    if encoding:
        kwargs["encoding"] = encoding
    if path.suffix.lower() in (".geojson", ".json"):
        kwargs["DATE_AS_STRING"] = "YES"  # GDAL would refuse 2023-02-30; validation names its row
    try:
        with warnings.catch_warnings():
            # GDAL's warnings (non-closed rings, a foreign application_id …) are not for the user:
            # what matters comes back as diming's own one-line errors
            warnings.simplefilter("ignore")
            if path.suffix.lower() == ".gpkg" and not source_layer and len(pyogrio.list_layers(path)) > 1:
                names = ", ".join(str(n) for n in pyogrio.list_layers(path)[:, 0])
                raise DimingError(f"{path.name}: 有多个图层, 用 --source-layer 指定其一 ({names})")
            frame = pyogrio.read_dataframe(path, datetime_as_string=True, **kwargs)
    except DimingError:
        raise
    except UnicodeDecodeError:
        raise DimingError(f"{path.name}: 文本无法解码 (undecodable text); 旧的 .dbf 请用 --encoding GBK") from None
    except Exception as exc:  # GDAL's own message is the most precise one there is
        raise DimingError(f"{path.name}: 无法读取 ({str(exc).splitlines()[0]})") from None
    if not len(frame):
        raise DimingError(f"{path.name}: 没有要素 (no features)")
    if path.suffix.lower() in (".geojson", ".json"):
        _refuse_nul(path)
    geometry = None
    if "geometry" in getattr(frame, "columns", []):
        if frame.crs is None:
            if crs is None:
                raise DimingError(f"{path.name}: 文件没有坐标系 (no CRS); 用 --crs EPSG 指定")
            frame = frame.set_crs(epsg=crs)
        elif crs is not None and frame.crs.to_epsg() != crs:
            raise DimingError(f"{path.name}: 文件坐标系是 {frame.crs.to_string()}, 与 --crs {crs} 不符")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PROJ on NaN coordinates; validation refuses them
            geometry = list(frame.geometry.to_crs(epsg=4490).values.to_numpy())
        frame = frame.drop(columns=frame.geometry.name)
    columns = [str(c) for c in frame.columns]
    frame = frame.astype(object).where(frame.notna(), None)
    values = {c: frame[c].tolist() for c in frame.columns}
    total = len(frame)
    read = [0]

    def batches():
        for start in range(0, total, BATCH_ROWS):
            end = min(start + BATCH_ROWS, total)
            read[0] = end
            yield Batch(list(range(start + 1, end + 1)), {str(c): v[start:end] for c, v in values.items()},
                        None if geometry is None else geometry[start:end])

    return Source(path, columns, "个要素", batches, lambda: read[0] / total)


def _refuse_nul(path) -> None:
    """GDAL cuts a GeoJSON string at an escaped NUL (``\\u0000``) without a word: find the feature
    and property that hold one and refuse the file, as NUL is refused in every other format."""
    import json

    with open(path, "rb") as handle:
        if not re.search(rb"\\u0000", handle.read()):
            return
    with open(path, encoding="utf-8") as handle:
        features = json.load(handle).get("features") or []
    for number, feature in enumerate(features, start=1):
        for name, value in ((feature or {}).get("properties") or {}).items():
            if isinstance(value, str) and "\x00" in value:
                raise DimingError(f"{path.name}: 第 {number} 个要素, 字段 {name}: 含控制字符 U+0000 (control character)")


# --- CSV ------------------------------------------------------------------------------------------

def csv_reader(lines):
    """``csv.reader`` over ``lines`` that takes fields of any length (see :data:`CSV_FIELD_LIMIT`)."""
    import csv

    csv.field_size_limit(CSV_FIELD_LIMIT)
    return csv.reader(lines)


# Encodings in which the bytes of comma, quote, CR and LF only ever stand for those characters (no
# multi-byte sequence holds them), so a run of lines can be split on them before decoding
_SPLITTABLE = {"utf-8", "utf-8-sig", "gbk", "gb18030", "gb2312", "big5"}


def _csv_rows(path, encoding):
    """(header, iterator of (row numbers, columns) a batch at a time, progress) of a CSV file,
    decoded as it is read so that an undecodable byte is reported with its line and nothing is held
    but the current batch.

    Python's csv module parses a record at a time, which costs more than everything else an import
    of a large file does. A run of lines with nothing in it that csv treats specially — no quote,
    no NUL, CR only as part of CRLF — is split on commas instead, a whole batch at once; the first
    run with a quote, and whatever follows it (a quoted field may span lines), goes to csv. Both
    give the same rows, numbers and errors (tests/test_import_csv.py compares them).
    """
    import codecs
    import csv
    from itertools import chain, islice

    try:
        name = codecs.lookup(encoding or "utf-8-sig").name
        decoder = codecs.getincrementaldecoder(encoding or "utf-8-sig")()
    except LookupError:
        raise DimingError(f"{path.name}: 未知编码 {encoding!r} (unknown encoding)") from None
    handle = open(path, "rb")
    size = max(path.stat().st_size, 1)
    physical = [0]  # lines read so far

    def lines(raws):
        for raw in raws:
            physical[0] += 1
            try:
                yield decoder.decode(raw)
            except UnicodeDecodeError:
                hint = "" if encoding else "; 试试 --encoding GBK"
                raise DimingError(f"{path.name}: 第 {physical[0]} 行: 文本无法按 {encoding or 'UTF-8'} 解码 "
                                  f"(undecodable text){hint}") from None

    def records(raws):
        """(line number, record) read by csv from the lines ``raws``; a quoted field may span lines:
        a record is numbered by the line it starts on."""
        reader = iter(csv_reader(lines(raws)))
        while True:
            start = physical[0] + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise DimingError(f"{path.name}: 第 {physical[0]} 行: 不是有效的 CSV ({exc})") from None
            yield start, row

    try:
        header = next(records(handle), None)
    except BaseException:
        handle.close()
        raise
    if header is None:
        handle.close()
        raise DimingError(f"{path.name}: 文件是空的 (empty file)")
    header = [h.strip() for h in header[1]]
    width = len(header)

    def by_csv(raws):
        rows = ((number, _pad(row, width)) for number, row in records(raws) if "".join(row).strip())
        for numbers, table in _chunks(rows, BATCH_ROWS):
            yield numbers, [list(c) for c in zip(*table)]

    def tables():
        any_row = False
        rest = None if name in _SPLITTABLE and width > 0 else handle  # what csv reads
        try:
            while rest is None:
                raws = list(islice(handle, BATCH_ROWS))
                if not raws:
                    break
                chunk = b"".join(raws)
                if b'"' in chunk:
                    rest = chain(raws, handle)
                    break
                first = physical[0] + 1
                table = _split_lines(chunk, name, width)
                if table is None:  # NUL, a lone CR, an undecodable byte …: csv says what it is
                    pieces = by_csv(raws)
                else:
                    physical[0] += len(raws)
                    pieces = [_numbered(first, *table)]
                for numbers, columns in pieces:
                    if numbers:
                        any_row = True
                        yield numbers, columns
            if rest is not None:
                for numbers, columns in by_csv(rest):
                    any_row = True
                    yield numbers, columns
        finally:
            handle.close()
        if not any_row:
            raise DimingError(f"{path.name}: 没有数据行 (no rows to import)")

    return header, tables(), lambda: 1.0 if handle.closed else handle.tell() / size


def _split_lines(chunk: bytes, encoding: str, width: int):
    """The lines ``chunk`` holds as (columns, positions of the lines csv would skip as blank), when
    splitting them on commas reads them as csv would; else None."""
    if b"\x00" in chunk or chunk.count(b"\r") != chunk.count(b"\r\n") or chunk.startswith(b"\xef\xbb\xbf"):
        return None
    try:
        text = chunk.decode("utf-8" if encoding == "utf-8-sig" else encoding)  # no BOM here, checked above
    except UnicodeDecodeError:
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    if lines[-1] == "":  # the chunk's last line break (the file's last line may have none)
        lines.pop()
    if set(map(str.count, lines, repeat(","))) == {width - 1}:
        flat = ",".join(lines).split(",")  # every line has the header's width: one split for all
        columns = [flat[j::width] for j in range(width)]
    else:
        columns = [list(c) for c in zip(*(_pad(line.split(","), width) for line in lines))]
    # csv skips a line whose fields are all blank: such a line's first field is blank too
    first = list(map(str.strip, columns[0]))
    blank = [i for i, v in enumerate(first) if not v] if "" in first else []
    return columns, [i for i in blank if not "".join(c[i] for c in columns).strip()]


def _numbered(first: int, columns: list, blank: list):
    """(row numbers, columns) of lines numbered from ``first``, without the ``blank`` ones."""
    if not blank:
        return list(range(first, first + len(columns[0]))), columns
    keep = sorted(set(range(len(columns[0]))) - set(blank))
    return [first + i for i in keep], [[c[i] for i in keep] for c in columns]


def _pad(row, width):
    return (row + [""] * width)[:width] if len(row) != width else row


# --- XLSX -----------------------------------------------------------------------------------------

_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _xlsx_parts(path, max_part_mb):
    """Refuse an XLSX whose parts would unpack beyond ``max_part_mb`` (read from the zip's directory,
    before anything is unpacked); True when a worksheet holds a formula."""
    try:
        with zipfile.ZipFile(path) as book:
            infos = book.infolist()
            for info in infos:
                if info.file_size > max_part_mb * 1_000_000:
                    raise DimingError(f"{path.name}: XLSX 部件 {info.filename} 解压后 {info.file_size / 1e6:,.0f} MB, "
                                      f"超过上限 {max_part_mb:g} MB (设置 xlsx_max_part_mb; part too large)")
            for info in infos:
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    with book.open(info) as part:
                        tail = b""
                        while chunk := part.read(1 << 20):
                            if _FORMULA.search(tail + chunk):
                                return True
                            tail = chunk[-16:]
    except zipfile.BadZipFile as exc:
        raise DimingError(f"{path.name}: 不是可读的 XLSX 文件 ({exc})") from None
    return False


_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape(text: str) -> str:
    """An XLSX string with its ``_xHHHH_`` escapes (how Office writes control characters) decoded, so
    the validation sees the characters the cell holds."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _xlsx_rows(path, sheet, max_part_mb, max_rows):
    """(header, iterator of (row number, row), progress) of a sheet, read as a stream (openpyxl's
    read-only mode). A formula cell saved without its result (a file written by a program, never
    opened in Excel) comes back as :class:`Unreadable` naming the cell."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    formulas = _xlsx_parts(path, max_part_mb)
    books = []
    try:
        for data_only in (True, False) if formulas else (True,):
            books.append(openpyxl.load_workbook(path, read_only=True, data_only=data_only))
    except Exception as exc:
        for book in books:
            book.close()
        raise DimingError(f"{path.name}: 不是可读的 XLSX 文件 ({exc})") from None
    names = books[0].sheetnames
    if sheet and sheet not in names:
        for book in books:
            book.close()
        raise DimingError(f"{path.name}: 没有工作表 {sheet!r}; 有: {', '.join(names)}")
    sheets = [book[sheet] if sheet else book.worksheets[0] for book in books]
    declared = sheets[0].max_row  # from the sheet's <dimension>, when it has one
    if declared and declared > max_rows:
        for book in books:
            book.close()
        raise DimingError(f"{path.name}: 工作表有 {declared:,} 行, 超过上限 {max_rows:,} 行 (设置 xlsx_max_rows)")
    streams = [s.iter_rows(values_only=True) for s in sheets]
    numbered = enumerate(zip(*streams) if formulas else ((r,) for r in streams[0]), start=1)
    done = [0]

    def close():
        for book in books:
            book.close()

    try:
        first = next(numbered, None)
    except Exception:
        close()
        raise
    if first is None or not any(v is not None for v in first[1][0]):
        close()
        raise DimingError(f"{path.name}: 工作表是空的 (empty sheet)" if first is None
                          else f"{path.name}: 第 1 行 (表头) 是空的 (no header)")
    header = ["" if h is None else str(h).strip() for h in first[1][0]]
    width = len(header)

    def rows():
        any_row = False
        try:
            for number, pair in numbered:
                done[0] = number
                if number > max_rows:
                    raise DimingError(f"{path.name}: 工作表超过上限 {max_rows:,} 行 (设置 xlsx_max_rows)")
                row = [_unescape(v) if isinstance(v, str) and "_x" in v else v for v in pair[0][:width]]
                if all(v is None or (isinstance(v, str) and not v.strip()) for v in row) and not formulas:
                    continue  # spreadsheets often carry formatted but empty rows at the end
                if formulas:
                    for i, (value, formula) in enumerate(zip(row, pair[1])):
                        if value is None and isinstance(formula, str) and formula.startswith("="):
                            row[i] = Unreadable(f"单元格 {get_column_letter(i + 1)}{number} 是公式 {formula[:30]}, "
                                                "但文件没有保存计算结果 (formula without a cached value); "
                                                "在 Excel 中打开后保存, 或粘贴为数值")
                    if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
                        continue
                any_row = True
                yield number, _pad(row, width)
        finally:
            close()
        if not any_row:
            raise DimingError(f"{path.name}: 没有数据行 (no rows to import)")

    return header, rows(), lambda: min(done[0] / declared, 1.0) if declared else 0.0


# --- geometry of a table --------------------------------------------------------------------------

def _column(columns, name):
    for col in columns:
        if str(col).lower() == str(name).lower():
            return col
    return None


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _table_geometry(path, header, x, y, crs):
    """(function from a batch's column values to its geometries, the columns left as attributes)."""
    epsg = crs or 4490
    if x or y:
        if not (x and y):
            raise DimingError(f"{path.name}: --x 和 --y 要同时给出")
        xcol, ycol = _column(header, x), _column(header, y)
        for given, col in ((x, xcol), (y, ycol)):
            if col is None:
                raise DimingError(f"{path.name}: 没有坐标列 {given!r}")
        return (lambda values: _points(values[xcol], values[ycol], xcol, ycol, epsg),
                [c for c in header if c not in (xcol, ycol)])
    wkt_col = _column(header, "wkt")
    if wkt_col is None:
        raise DimingError(f"{path.name}: 没有几何: 用 --x/--y 指定坐标列, 或提供 wkt 列")
    return lambda values: _from_wkt(values[wkt_col], wkt_col, epsg), [c for c in header if c != wkt_col]


def _number(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return float(str(value).strip())


def _point_problems(xs, ys, xcol, ycol) -> dict:
    """{position: Unreadable} for each pair of coordinates of which one is not a finite number."""
    import math

    bad = {}
    for i, (xv, yv) in enumerate(zip(xs, ys)):
        try:  # two finite numbers, as most are (x - x is NaN for NaN, inf)
            a, b = float(xv), float(yv)
            if a - a == 0 and b - b == 0:
                continue
        except (TypeError, ValueError, OverflowError):
            pass
        for col, value in ((xcol, xv), (ycol, yv)):
            if isinstance(value, Unreadable):
                bad.setdefault(i, Unreadable(value.reason, col))
                continue
            try:
                number = _number(value)
            except (TypeError, ValueError):
                number = None
            if number is None or not math.isfinite(number):
                reason = ("坐标为空" if _blank(value) else f"坐标 {value!r} 不是数字" if number is None
                          else f"坐标 {value!r} 不是有限的数 (NaN or infinite)")
                bad.setdefault(i, Unreadable(reason, col))
    return bad


def _points(xs, ys, xcol, ycol, epsg):
    """The points of a batch's coordinate columns, in EPSG:4490, as :class:`~diming.layers.gpkg.Points`."""
    import numpy as np

    from diming.layers.crs import outside_china, to_lonlat
    from diming.layers.gpkg import Points

    try:  # the usual case, at once: every value a finite number (numpy parses text as float() does)
        fx, fy = np.array(xs, dtype=np.float64), np.array(ys, dtype=np.float64)
        finite = bool(np.isfinite(fx).all() and np.isfinite(fy).all())
    except (TypeError, ValueError, OverflowError):
        finite = False
    bad = {} if finite else _point_problems(xs, ys, xcol, ycol)
    if not finite:
        fx = np.array([0.0 if i in bad else float(v) for i, v in enumerate(xs)])
        fy = np.array([0.0 if i in bad else float(v) for i, v in enumerate(ys)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PROJ outside its domain
        lon, lat = to_lonlat(fx, fy, epsg)
    for i in np.flatnonzero(~(np.isfinite(lon) & np.isfinite(lat))):
        # finite plane coordinates PROJ cannot place: far outside the CRS, as swapped X/Y are
        bad.setdefault(int(i), Unreadable(outside_china(fx[i], fy[i]), "geometry"))
    return Points(lon, lat, bad)


def _from_wkt(texts, col, epsg):
    import numpy as np
    import shapely

    bad = {i: Unreadable(t.reason, col) for i, t in enumerate(texts) if isinstance(t, Unreadable)}
    clean = np.array([None if i in bad or _blank(t) else str(t) for i, t in enumerate(texts)], dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        geoms = shapely.from_wkt(clean, on_invalid="ignore")
        if epsg != 4490 and len(geoms):
            import geopandas as gpd

            geoms = gpd.GeoSeries(geoms, crs=epsg).to_crs(epsg=4490).values.to_numpy()
    geoms = list(geoms)
    for i, (text, geom) in enumerate(zip(clean, geoms)):
        if text is not None and geom is None:
            bad[i] = Unreadable("不是有效的 WKT", col)
    for i, problem in bad.items():
        geoms[i] = problem
    return geoms
