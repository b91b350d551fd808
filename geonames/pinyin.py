"""Pinyin of names: the sign spelling per the 1984 rules (汉语地名拼写规则) and the reading keys
that homophone checks group on.

Polyphonic characters are read as places are read: first the project's override table, then the
built-in place readings (``data/place_readings.txt``), then pypinyin's phrase data.
Overrides map a word to syllables with tone numbers: ``{"朝阳": ("chao2", "yang2")}``.
"""
from __future__ import annotations

import itertools
import math
import re
from functools import lru_cache

from diming.geonames.normalize import normalize
from diming.geonames.parts import split_name
from diming.geonames.wordlists import modifiers, place_readings, polyphones

# Cap on the readings kept per name: the product over polyphonic characters would otherwise
# explode for names such as 重长乐行单堡路 (2 × 2 × 3 × 2 × 3 × 3 …).
MAX_READINGS = 32

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ffff]")
_TONE = re.compile(r"(?<=[a-zü])[1-5]$")
_SYLLABLE = re.compile(r"[a-zü]+[1-5]")
_DIGITS = "零一二三四五六七八九"


def parse_overrides(text: str) -> dict[str, tuple[str, ...]]:
    """The project setting ``pinyin_overrides`` (``朝阳=chao2 yang2; 六安=lu4 an1``) as a table."""
    from diming.errors import DimingError

    table = {}
    for entry in filter(None, (e.strip() for e in re.split(r"[;；\n]", text or ""))):
        word, sep, reading = entry.partition("=")
        word, syllables = normalize(word), tuple(reading.split())
        if not sep or not word or len(syllables) != len(word) or not all(
                _SYLLABLE.fullmatch(s) for s in syllables):
            raise DimingError(f"拼音覆盖表: {entry!r} 应为 词=音节1 音节2 (each syllable with its tone number)")
        table[word] = syllables
    return table


@lru_cache(maxsize=8)
def _words(override_items: tuple) -> tuple[dict[str, tuple[str, ...]], re.Pattern]:
    """Place-reading and override words (an override wins) with their readings, and one pattern
    finding them, a longer word first where one starts another (十里堡 before 十里)."""
    table = {**place_readings(), **dict(override_items)}
    ordered = sorted(table, key=len, reverse=True)
    return table, re.compile("|".join(map(re.escape, ordered)) or r"(?!)")


def _segments(name: str, overrides) -> list[tuple[str, tuple[str, ...] | None]]:
    """``name`` cut into (word, fixed reading) for override/place words and (text, None) between."""
    table, pattern = _words(tuple(sorted((overrides or {}).items())))
    out, at = [], 0
    for match in pattern.finditer(name):  # one scan in C: most names hold no such word
        if match.start() > at:
            out.append((name[at:match.start()], None))
        out.append((match.group(), table[match.group()]))
        at = match.end()
    if at < len(name):
        out.append((name[at:], None))
    return out


def syllables(name: str, overrides=None) -> list[str]:
    """One syllable with tone number per character of the normalised name (place readings);
    a character without a reading (Latin letter, digit) stands for itself."""
    out = []
    for text, fixed in _segments(normalize(name), overrides):
        if fixed:
            out.extend(fixed)
            continue
        for ch, reading in zip(text, _per_char(text)):
            out.append(reading if _HAN.match(ch) else ch)
    return out


def _per_char(text: str) -> list[str]:
    """One reading per character, read in context (pypinyin's phrase data); a run of non-Han
    characters comes back split into its characters. pypinyin reads each word of its own
    segmentation on its own, so the words' readings are cached: names share most of their words,
    and spelling a million signs is then mostly segmentation."""
    from pypinyin.seg.simpleseg import seg

    return [reading for word in seg(text) for reading in _word_readings(word)]


@lru_cache(maxsize=1 << 17)
def _word_readings(word: str) -> tuple[str, ...]:
    from pypinyin import Style, lazy_pinyin

    return tuple(lazy_pinyin(word, style=Style.TONE3, neutral_tone_with_five=True, v_to_u=True,
                             errors=lambda s: list(s)))


def _toneless(syllable: str) -> str:
    return _TONE.sub("", syllable)


def _word(sylls: list[str]) -> str:
    """Syllables written as one word: capitalised, apostrophe before a non-initial a/o/e syllable."""
    text = ""
    for s in sylls:
        if not _SYLLABLE.fullmatch(s):  # a letter or digit mixed into the name stays as written
            text += s
            continue
        s = _toneless(s)
        if text and s[:1] in ("a", "o", "e"):
            text += "'"
        text += s
    return text[:1].upper() + text[1:]


def spell(name: str, overrides=None, *, ordinal: bool = False) -> str:
    """罗马字母拼写 of a name per the 1984 rules: 中山东路 -> ``Zhongshan Donglu``.

    专名 and 通名 apart, each capitalised; a one-syllable modifier joins the 通名, a longer one
    stands apart. ``ordinal``: the numeral modifier is an ordinal (经五路 -> ``Jing 5 Lu``);
    otherwise it is read as part of the 专名 (``Jingwu Lu``), which needs the officer's flag.
    """
    specific, modifier, generic = split_name(name)
    sylls = syllables(specific + modifier + generic, overrides)
    a, b = len(specific), len(specific) + len(modifier)
    spec, mod, gen = sylls[:a], sylls[a:b], sylls[b:]
    kinds = modifiers()
    numeral = modifier and all(kinds.get(ch) == "ordinal" for ch in modifier)
    words = []
    if numeral and ordinal:
        words += [_word(spec), _arabic(modifier)] + ([_word(gen)] if gen else [])
    elif numeral:
        words += [_word(spec + mod)] + ([_word(gen)] if gen else [])
    elif len(mod) == 1 and gen:
        words += [_word(spec), _word(mod + gen)]
    else:
        words += [_word(spec)] + ([_word(mod)] if mod else []) + ([_word(gen)] if gen else [])
    return " ".join(w for w in words if w)


def sign(name: str, overrides=None, *, ordinal: bool = False) -> str:
    """The all-capital sign form, keeping the apostrophe: 西安路 -> ``XI'AN LU``."""
    return spell(name, overrides, ordinal=ordinal).upper()


def _arabic(numeral: str) -> str:
    """一 -> 1, 十二 -> 12, 二十 -> 20 (ordinals on signs are Arabic digits); 第 is dropped."""
    numeral = numeral.lstrip("第").replace("〇", "零")
    if "百" in numeral or not numeral:
        return numeral
    if "十" in numeral:
        tens, _, ones = numeral.partition("十")
        return str((_DIGITS.index(tens) if tens else 1) * 10 + (_DIGITS.index(ones) if ones else 0))
    return "".join(str(_DIGITS.index(ch)) for ch in numeral)


@lru_cache(maxsize=65536)
def _char_options(ch: str) -> tuple[str, ...]:
    """The readings (tone numbers) one character contributes to reading keys: all its place-name
    readings if it is a listed polyphone (``data/polyphones.txt``), else its usual reading."""
    from pypinyin import Style, pinyin

    listed = polyphones().get(ch)
    if listed:
        return listed
    if not _HAN.match(ch):
        return (ch,)
    return (pinyin(ch, style=Style.TONE3, neutral_tone_with_five=True, v_to_u=True)[0][0],)


@lru_cache(maxsize=65536)
def _char_keys(ch: str, tones: bool) -> tuple[str, ...]:
    """:func:`_char_options` without tones unless ``tones``, each reading once."""
    return tuple(dict.fromkeys(s if tones else _toneless(s) for s in _char_options(ch)))


def reading_keys(name: str, overrides=None, *, tones: bool = False) -> frozenset[str]:
    """The possible readings of a name, syllables joined by spaces (toneless unless ``tones``).

    Two names are homophones when their key sets intersect. Words with a place reading (or a
    project override) keep it; listed polyphones contribute all their readings, the product capped
    at :data:`MAX_READINGS` (beyond it a character keeps its first reading). Only cached
    per-character look-ups, so a million names take seconds and can be grouped by key in one pass
    (``{key: [names]}``), never compared pairwise.
    """
    options: list[tuple[str, ...]] = []
    for text, fixed in _segments(normalize(name), overrides):
        if fixed:
            options.extend((s if tones else _toneless(s),) for s in fixed)
        else:
            options.extend([_char_keys(ch, tones) for ch in text])
    total = math.prod(map(len, options))
    if total == 1:  # no polyphone: the usual case, and worth skipping the product for
        return frozenset((" ".join([opts[0] for opts in options]),))
    if total > MAX_READINGS:
        total = 1
        for k, opts in enumerate(options):
            if total * len(opts) > MAX_READINGS:
                options[k] = opts = opts[:1]
            total *= len(opts)
    return frozenset(" ".join(combo) for combo in itertools.product(*options))
