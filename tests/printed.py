"""What every XLSX diming writes must satisfy to print as a bureau files it (read back with openpyxl)."""


def assert_prints(ws, *, header_rows: str, freeze: str, landscape: bool | None = None, grid_row: int | None = None):
    """A4, fit to one page wide, ``header_rows`` ("4:4") repeated on each page, panes frozen at
    ``freeze``, every column given a width, and cell borders on row ``grid_row`` (the header's
    first row by default)."""
    assert ws.page_setup.paperSize in ("9", 9), "A4"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws.page_setup.fitToHeight == 0
    if landscape is not None:
        assert ws.page_setup.orientation == ("landscape" if landscape else "portrait")
    first, last = header_rows.split(":")
    assert ws.print_title_rows == f"${first}:${last}"
    assert ws.freeze_panes == freeze
    for col in range(1, ws.max_column + 1):
        letter = ws.cell(int(first), col).column_letter
        assert ws.column_dimensions[letter].width, f"column {letter} has no width"
        cell = ws.cell(grid_row or int(first), col)
        assert cell.border.left.style == "thin" and cell.border.bottom.style == "thin", cell.coordinate
