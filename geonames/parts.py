"""Splitting a name into 专名 (specific), modifier (东, 五 …) and 通名 (generic)."""
from __future__ import annotations

from functools import lru_cache

from diming.geonames.normalize import normalize
from diming.geonames.wordlists import generics, modifiers


@lru_cache(maxsize=1)
def _endings() -> tuple[tuple[int, ...], frozenset[str]]:
    terms = generics()
    return tuple(sorted({len(t) for t in terms}, reverse=True)), frozenset(terms)


def generic_of(name: str) -> str:
    """The 通名 a (normalised) name ends with (the longest that leaves a 专名), or ``""``."""
    # one set look-up per term length, not one endswith per term: this runs for every name checked
    lengths, terms = _endings()
    for size in lengths:
        if len(name) > size and name[-size:] in terms:
            return name[-size:]
    return ""


@lru_cache(maxsize=1 << 16)  # a name's rules and its readings each split it
def split_name(name: str) -> tuple[str, str, str]:
    """(专名, modifier, 通名) of ``name`` after normalisation: 中山东路 -> (中山, 东, 路).

    A directional modifier is split off only when a 专名 of two characters or more remains
    (江南路 stays 江南 + 路); an ordinal one when any 专名 remains (经五路 -> 经, 五, 路).
    """
    name = normalize(name)
    generic = generic_of(name)
    head = name[: len(name) - len(generic)]
    kinds = modifiers()
    cut = len(head)
    while cut > 0 and head[cut - 1] in kinds:
        cut -= 1
    # keep the longest modifier that leaves an acceptable 专名
    while cut < len(head):
        modifier = head[cut:]
        need = 1 if all(kinds[ch] == "ordinal" for ch in modifier) else 2
        if cut >= need:
            return head[:cut], modifier, generic
        cut += 1
    return head, "", generic
