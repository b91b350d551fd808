"""Reading a filled field sheet (XLSX or CSV) back into rows keyed by field name.

Columns are found by their headings (by default those of :mod:`diming.boundaries.inspection`; a sign
patrol sheet passes its own), on the first row that holds the key column's heading (``界桩编号``);
the rows above it (title, round) are ignored. Cells are returned as given; the caller's
``validate_results`` judges them.
"""
from __future__ import annotations

import io
from pathlib import Path

from diming.errors import DimingError

HEADER_SEARCH_ROWS = 10


def _inspection_columns() -> tuple:
    from diming.boundaries.inspection import ENTRY_COLUMNS, KEY_COLUMNS

    return KEY_COLUMNS + ENTRY_COLUMNS


def _rows_from_table(path: Path, table: list[list], columns, required) -> list[dict]:
    by_heading = {heading: field for field, heading in columns}
    key_heading = dict(columns)[required[0]]
    for index, cells in enumerate(table[:HEADER_SEARCH_ROWS]):
        headings = [str(c).strip() if c is not None else "" for c in cells]
        if key_heading in headings:
            break
    else:
        raise DimingError(f"{path}: 找不到表头 (no heading row with {key_heading} in the first {HEADER_SEARCH_ROWS} rows)")
    columns = {i: by_heading[h] for i, h in enumerate(headings) if h in by_heading}
    missing = [h for h, f in by_heading.items() if f in required and f not in columns.values()]
    if missing:
        raise DimingError(f"{path}: 缺少列 {', '.join(missing)} (missing column)")
    rows = []
    for number, cells in enumerate(table[index + 1:], start=index + 2):
        if all(c is None or str(c).strip() == "" for c in cells):
            continue
        row = {field: cells[i] if i < len(cells) else None for i, field in columns.items()}
        row["_row"] = number
        rows.append(row)
    return rows


def read_sheet(path, columns=None, required=("marker_id", "condition", "inspected_on")) -> list[dict]:
    """Rows of an XLSX (first sheet) or CSV (UTF-8 or GB18030, as Excel saves it) results sheet.

    ``columns``: (field, heading) pairs, by default the inspection sheet's; ``required``: the fields
    whose columns must be there, the key first (its heading finds the heading row)."""
    path = Path(path)
    if not path.is_file():
        raise DimingError(f"{path}: 文件不存在 (no such file)")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:
            raise DimingError(f"{path}: 无法读取 XLSX ({exc})") from None
        table = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
        book.close()
    elif suffix == ".csv":
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise DimingError(f"{path}: 无法识别的文字编码 (not UTF-8 or GB18030)")
        from diming.layers.sources import csv_reader

        table = list(csv_reader(io.StringIO(text, newline="")))
    else:
        raise DimingError(f"{path}: 只能导入 .xlsx 或 .csv (only XLSX or CSV)")
    return _rows_from_table(path, table, columns or _inspection_columns(), required)
