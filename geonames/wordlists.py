"""The word lists behind the name rules, read from ``data/`` (they are data, not code)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data"


def _lines(filename: str) -> list[str]:
    text = (DATA / filename).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _pairs(filename: str) -> dict[str, str]:
    return dict(line.split("\t", 1) for line in _lines(filename))


def _generic_kinds() -> dict[str, str]:
    return {term: kind for kind, term in (line.split("\t", 1) for line in _lines("generics.txt"))}


@lru_cache(maxsize=None)
def generics() -> tuple[str, ...]:
    """通名 (generic terms), longest first so the first match at a name's end is the right one."""
    return tuple(sorted(_generic_kinds(), key=len, reverse=True))


@lru_cache(maxsize=None)
def street_generics() -> frozenset[str]:
    """The street terms that must not be stacked (长江路街)."""
    return frozenset(term for term, kind in _generic_kinds().items() if kind == "street")


@lru_cache(maxsize=None)
def modifiers() -> dict[str, str]:
    """Modifier characters (东, 五 …) -> their kind (``direction`` or ``ordinal``)."""
    return {ch: kind for kind, chars in _pairs("modifiers.txt").items() for ch in chars}


@lru_cache(maxsize=None)
def forbidden_words() -> dict[str, str]:
    """Words to avoid (大洋怪重) -> the reason."""
    return _pairs("forbidden_words.txt")


@lru_cache(maxsize=None)
def place_readings() -> dict[str, tuple[str, ...]]:
    """Polyphonic words read as places are read -> syllables with tone numbers."""
    return {word: tuple(reading.split()) for word, reading in _pairs("place_readings.txt").items()}


@lru_cache(maxsize=None)
def variants() -> dict[str, str]:
    """异体字 opencc does not convert -> the standard character."""
    return _pairs("variants.txt")


@lru_cache(maxsize=None)
def polyphones() -> dict[str, tuple[str, ...]]:
    """Polyphonic characters common in place names -> every reading they take there."""
    return {ch: tuple(readings.split()) for ch, readings in _pairs("polyphones.txt").items()}


@lru_cache(maxsize=None)
def standard_chars() -> dict[str, int]:
    """The 通用规范汉字表 (2013): character -> its number (1-3500 level 1, 3501-6500 level 2,
    6501-8105 level 3); ``data/tongyong_guifan.txt``, from Unihan's kTGH (see data/README)."""
    return {ch: int(number) for number, ch in (line.split("\t") for line in _lines("tongyong_guifan.txt"))}
