"""An XLSX field sheet that goes out and comes back: key columns from the project, grey and
protected, and white entry columns with drop-down lists and a date check, printed on A4 with its
heading repeated. It is read back by :func:`diming.boundaries.sheetio.read_sheet` through the same
headings.
"""
from __future__ import annotations

import math


def write_entry_sheet(path, *, title: str, lines: list[str], key_columns, entry_columns, rows: list[dict],
                      choices: dict, date_field: str, date_range: tuple[str, str], widths: dict,
                      sheet_title: str, new_rows: int = 0, new_row: dict | None = None, new_fields=(),
                      new_choices: dict | None = None, wrap_fields=()) -> None:
    """Write the sheet to ``path``.

    ``rows``: one dict per feature with the key fields and, under ``"entered"``, entries already
    recorded (so a sheet written after part of the results came back can be corrected and brought
    back). ``choices``: entry field -> the values of its drop-down list. ``date_range``: ISO dates
    the ``date_field`` must fall between. ``new_rows`` blank rows follow for features found or set
    in the field: they hold the values of ``new_row`` (its ``"entered"`` too), and the key fields
    ``new_fields`` are open to write there, with ``new_choices`` lists; more rows may be inserted.
    Key fields in ``wrap_fields`` (long descriptions) wrap in their cells.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, NamedStyle, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from diming.layers.exports import DATE_FORMAT, border, neutralise, print_setup

    book = Workbook()
    ws = book.active
    ws.title = sheet_title
    ws["A1"] = neutralise(title)
    ws["A1"].font = Font(bold=True, size=14)
    for i, line in enumerate(lines, start=2):
        ws.cell(i, 1, neutralise(line))
    header_row = len(lines) + 2
    columns = tuple(key_columns) + tuple(entry_columns)
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
    entry_fields = {f for f, _ in entry_columns}
    blank = {"entered": {}, **(new_row or {})}
    for r, row in enumerate(list(rows) + [None] * new_rows, start=header_row + 1):
        source = row or blank
        entered = source.get("entered", {})
        for col, (field, _) in enumerate(columns, start=1):
            if field in entered:
                value = entered[field]
            else:
                value = None if field in entry_fields else source.get(field)
            cell = ws.cell(r, col, neutralise(value))
            if field == date_field:
                cell.style = "填写日期"
            elif field in entry_fields or (row is None and field in new_fields):
                cell.style = "填写"
            else:
                cell.style = "登记长文" if field in wrap_fields else "登记"
    first = header_row + 1
    last = max(header_row + len(rows) + new_rows, first)
    letter = {field: get_column_letter(i) for i, (field, _) in enumerate(columns, start=1)}
    lists = [(field, values, first) for field, values in choices.items()]
    lists += [(field, values, header_row + len(rows) + 1) for field, values in (new_choices or {}).items()]
    for field, values, start_row in lists:
        dv = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True,
                            showErrorMessage=True, errorTitle="输入有误", error="请从下拉列表中选择")
        ws.add_data_validation(dv)
        dv.add(f"{letter[field]}{start_row}:{letter[field]}{last}")
    start, end = date_range
    dates = DataValidation(type="date", operator="between", formula1=f'DATE({start.replace("-", ",")})',
                           formula2=f'DATE({end.replace("-", ",")})', allow_blank=True, showErrorMessage=True,
                           errorTitle="日期有误", error=f"{dict(columns)[date_field]}应在 {start} 至 {end} 之间")
    ws.add_data_validation(dates)
    dates.add(f"{letter[date_field]}{first}:{letter[date_field]}{last}")
    print_setup(ws, [widths.get(field, 8) for field, _ in columns], header_rows=(header_row, header_row),
                freeze=f"C{first}")
    ws.row_dimensions[header_row].height = 30
    # protection keeps the key columns from being changed by accident; no password, it is not a secret
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.insertRows = False  # more new features than the blank rows: rows may be inserted
    book.save(path)


def blank(value) -> bool:
    """Whether a cell read back holds nothing."""
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


def cell_text(value, label: str):
    """A cell read back as trimmed text, None when blank; the quote a written sheet put before
    = + - @ is taken off again. Control characters are refused, as in every import."""
    if blank(value):
        return None
    from diming.errors import DimingError
    from diming.layers.exports import restore
    from diming.layers.imports import refuse_control

    text = restore(str(value).strip())
    try:
        refuse_control(text)
    except ValueError as exc:
        raise DimingError(f"{label}: {exc}") from None
    return text
