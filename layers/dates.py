"""Dates as users write them: the one validator behind every DATE field an import reads and every
date option a command takes (``--listed-on``, ``--date``, ``--starts`` …).

Accepted: ``2024-06-01``, ``2024/6/1``, ``2024.06.01``, ``2024年6月1日``, ``20240601`` (full-width
digits too, as typed with a Chinese input method), a date-time (a spreadsheet or GIS driver's
timestamp), whose date is taken, and a day number Excel shows as a date in a cell formatted General.
Anything else, or a day that does not exist (``2023-02-30``, ``2024-13-40``), is refused.
"""
from __future__ import annotations

import datetime as dt
import unicodedata

from diming.errors import DimingError

FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


def parse_date(value) -> dt.date:
    """The date ``value`` stands for, or ValueError with the reason in Chinese."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 20000 < value < 80000:
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(value))  # Excel's day count (1954–2119)
    text = str(value).strip()
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:  # the usual ISO date, without strptime's cost (an import may hold millions)
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    day = unicodedata.normalize("NFKC", text).replace("T", " ").split(" ")[0]  # a date-time's date
    for fmt in FORMATS:
        try:
            return dt.datetime.strptime(day, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} 不是日期 (YYYY-MM-DD)")


def date_option(value, what: str) -> dt.date:
    """``parse_date`` for a value a user gave a command: a one-line :class:`DimingError` naming ``what``."""
    try:
        return parse_date(value)
    except ValueError as exc:
        raise DimingError(f"{what}: {exc}") from None
