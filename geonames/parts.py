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
    (江南路 stays 江南 + 路); an ordinal one when any 专名 but a lone direction remains (经五路 ->
    经, 五, 路; 东四街道 -> 东四, 街道); 内/外 after 门 stays in the 专名 (建国门外大街 -> 建国门外, 大街).
    """
    name = normalize(name)
    generic = generic_of(name)
    head = name[: len(name) - len(generic)]
    kinds = modifiers()
    cut = len(head)
    # a 内 or 外 right after 门 belongs to the 专名: 建国门外 is the place outside the gate
    # (建国门外大街 Jianguomenwai Dajie, 永定门外街道), not a modifier of the 通名
    while cut > 0 and head[cut - 1] in kinds and not (head[cut - 1] in "内外" and head[cut - 2:cut - 1] == "门"):
        cut -= 1
    # keep the longest modifier that leaves an acceptable 专名
    while cut < len(head):
        modifier = head[cut:]
        need = 1 if all(kinds[ch] == "ordinal" for ch in modifier) else 2
        # an ordinal after a lone direction is a place of its own: 东四 (东四街道, 东四北大街)
        if cut >= need and not (cut == 1 and kinds.get(head[0]) == "direction"):
            return head[:cut], modifier, generic
        cut += 1
    return head, "", generic
