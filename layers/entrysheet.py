"""An XLSX field sheet that goes out and comes back: key columns from the project, grey and
protected, and white entry columns with drop-down lists and a date check. It is read back by
:func:`diming.boundaries.sheetio.read_sheet` through the same headings.
"""
from __future__ import annotations


def write_entry_sheet(path, *, title: str, lines: list[str], key_columns, entry_columns, rows: list[dict],
                      choices: dict, date_field: str, date_range: tuple[str, str], widths: dict,
                      sheet_title: str) -> None:
    """Write the sheet to ``path``.

    ``rows``: one dict per feature with the key fields and, under ``"entered"``, entries already
    recorded (so a sheet written after part of the results came back can be corrected and brought
    back). ``choices``: entry field -> the values of its drop-down list. ``date_range``: ISO dates
    the ``date_field`` must fall between.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from diming.layers.exports import neutralise

    book = Workbook()
    ws = book.active
    ws.title = sheet_title
    ws["A1"] = neutralise(title)
    ws["A1"].font = Font(bold=True, size=14)
    for i, line in enumerate(lines, start=2):
        ws.cell(i, 1, neutralise(line))
    header_row = len(lines) + 2
    columns = tuple(key_columns) + tuple(entry_columns)
    grey = PatternFill("solid", fgColor="E6E6E6")
    for col, (_, heading) in enumerate(columns, start=1):
        cell = ws.cell(header_row, col, heading)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
        cell.fill = grey
    entry_fields = {f for f, _ in entry_columns}
    for r, row in enumerate(rows, start=header_row + 1):
        for col, (field, _) in enumerate(columns, start=1):
            value = row.get("entered", {}).get(field) if field in entry_fields else row.get(field)
            cell = ws.cell(r, col, neutralise(value))
            if field in entry_fields:
                cell.protection = Protection(locked=False)
            else:
                cell.fill = grey
            if field == date_field:
                cell.number_format = "yyyy-mm-dd"
    first, last = header_row + 1, max(header_row + len(rows), header_row + 1)
    letter = {field: get_column_letter(i) for i, (field, _) in enumerate(columns, start=1)}
    for field, values in choices.items():
        dv = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True,
                            showErrorMessage=True, errorTitle="输入有误", error="请从下拉列表中选择")
        ws.add_data_validation(dv)
        dv.add(f"{letter[field]}{first}:{letter[field]}{last}")
    start, end = date_range
    dates = DataValidation(type="date", operator="between", formula1=f'DATE({start.replace("-", ",")})',
                           formula2=f'DATE({end.replace("-", ",")})', allow_blank=True, showErrorMessage=True,
                           errorTitle="日期有误", error=f"{dict(columns)[date_field]}应在 {start} 至 {end} 之间")
    ws.add_data_validation(dates)
    dates.add(f"{letter[date_field]}{first}:{letter[date_field]}{last}")
    for field, col in letter.items():
        ws.column_dimensions[col].width = widths.get(field, 10)
    ws.freeze_panes = ws.cell(first, 3)
    # protection keeps the key columns from being changed by accident; no password, it is not a secret
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    book.save(path)
