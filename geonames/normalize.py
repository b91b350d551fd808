"""Normalisation every name comparison uses: 長江路, 长 江 路, 长江路 with a zero-width space in it
and 长江路 are one name; so are 湛山２路, 湛山2路 and 湛山二路."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from diming.geonames.wordlists import standard_chars, variants

# whitespace (dropped) and runs of Arabic digits (read as numerals), found in one scan
_SPACE_OR_DIGITS = re.compile(r"\s+|([0-9]+)")
_NUMERALS = "零一二三四五六七八九"


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _variant_table() -> tuple[re.Pattern, dict[int, str]]:
    """A pattern finding the variants of ``data/variants.txt`` (a scan in C, where most names hold
    none of them) and the table replacing them."""
    table = variants()
    return re.compile("[" + re.escape("".join(table)) + "]" if table else r"(?!)"), str.maketrans(table)


def converted(text: str) -> str:
    """``text`` through opencc (traditional to simplified) and ``data/variants.txt`` (variants
    opencc leaves alone), whether or not a character is in the 通用规范汉字表."""
    out = _t2s().convert(text)
    if len(out) != len(text):  # a phrase rule changed the length: convert character by character
        out = "".join(_t2s().convert(ch) or ch for ch in text)
    found, table = _variant_table()
    return out.translate(table) if found.search(out) else out


def to_standard(text: str) -> str:
    """Traditional and variant characters replaced by their standard form; a character of the
    通用规范汉字表 stays as written even where opencc would change it (乾县, 於潜 are names written
    with standard characters, and 乾 qián is not 干 gān)."""
    new = converted(text)
    if new == text:
        return text
    table = standard_chars()
    return "".join(old if old in table else ch for old, ch in zip(text, new))


def chinese_number(digits: str) -> str:
    """Arabic digits as the Chinese numeral a name writes: 2 -> 二, 12 -> 十二, 105 -> 一百零五;
    digit by digit beyond 9999 or with a leading zero (05 -> 零五)."""
    n = int(digits)
    if n > 9999 or (digits[0] == "0" and len(digits) > 1):
        return "".join(_NUMERALS[int(d)] for d in digits)
    if n == 0:
        return "零"
    out, gap = "", False
    for power, unit in ((3, "千"), (2, "百"), (1, "十"), (0, "")):
        d = n // 10 ** power % 10
        if not d:
            gap = bool(out)
            continue
        out += ("零" if gap else "") + _NUMERALS[d] + unit
        gap = False
    return out[1:] if out.startswith("一十") else out


@lru_cache(maxsize=1 << 16)  # rule loops normalise the same word lists for every name checked
def normalize(name: str) -> str:
    """NFKC (full-width to half-width), format characters (Unicode Cf: zero-width space and joiner,
    BOM …) and whitespace removed, Arabic digits as Chinese numerals, traditional and variant
    characters to their standard form (:func:`to_standard`)."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKC", name)
    if not text.isprintable():  # the rare name holding format characters or odd whitespace
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return to_standard(_SPACE_OR_DIGITS.sub(_numeral, text))


def _numeral(match: re.Match) -> str:
    return chinese_number(match.group(1)) if match.group(1) else ""
