"""Normalisation every name comparison uses: 長江路, 长 江 路 and 长江路 are one name."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _variant_table() -> dict[int, str]:
    from diming.geonames.wordlists import variants

    return str.maketrans(variants())


@lru_cache(maxsize=1 << 16)
def to_simplified(text: str) -> str:
    """Traditional and variant characters replaced by their simplified standard form."""
    return _t2s().convert(text).translate(_variant_table())


@lru_cache(maxsize=1 << 16)  # rule loops normalise the same word lists for every name checked
def normalize(name: str) -> str:
    """NFKC (full-width to half-width), whitespace removed, traditional to simplified."""
    if not name:
        return ""
    return to_simplified(_SPACE.sub("", unicodedata.normalize("NFKC", name)))
