"""Normalisation every name comparison uses: 長江路, 长 江 路, 长江路 with a zero-width space in it
and 长江路 are one name; so are 湛山２路, 湛山2路 and 湛山二路."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACE = re.compile(r"\s+")
_ARABIC = re.compile(r"[0-9]+")
_NUMERALS = "零一二三四五六七八九"


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _variant_table() -> dict[int, str]:
    from diming.geonames.wordlists import variants

    return str.maketrans(variants())


@lru_cache(maxsize=1 << 16)
def converted(text: str) -> str:
    """``text`` through opencc (traditional to simplified) and ``data/variants.txt`` (variants
    opencc leaves alone), each character of the table or not."""
    out = _t2s().convert(text).translate(_variant_table())
    if len(out) != len(text):  # a phrase rule changed the length: convert character by character
        out = "".join(_t2s().convert(ch).translate(_variant_table()) or ch for ch in text)
    return out


@lru_cache(maxsize=1 << 16)
def to_standard(text: str) -> str:
    """Traditional and variant characters replaced by their standard form; a character of the
    通用规范汉字表 stays as written even where opencc would change it (乾县, 於潜 are names written
    with standard characters, and 乾 qián is not 干 gān)."""
    from diming.geonames.wordlists import standard_chars

    table = standard_chars()
    new = converted(text)
    if new == text:
        return text
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
    text = _ARABIC.sub(lambda m: chinese_number(m.group()), _SPACE.sub("", text))
    return to_standard(text)
