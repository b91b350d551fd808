"""Name rules. Each finding is a plain dict with a stable rule code:
``{"rule": "name.format", "severity": "error"|"warning", "message": "…", "related": [...]}``.

Single-name rules: :func:`check_name`. Clash rules against other names (roads, proposals, the
heritage list): :func:`build_index` once, then :func:`clash_findings` per name, by key look-ups.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from diming.geonames.normalize import converted, normalize
from diming.geonames.parts import generic_of, split_name
from diming.geonames.pinyin import reading_keys
from diming.geonames.wordlists import forbidden_words, modifiers, standard_chars, street_generics

_LATIN_OR_DIGIT = re.compile(r"[A-Za-z0-9]")


def finding(rule: str, severity: str, message: str, related=()) -> dict:
    return {"rule": rule, "severity": severity, "message": message, "related": list(related)}


def check_name(name: str, *, max_length: int = 12, extra_forbidden=()) -> list[dict]:
    """Findings of the single-name rules: ``name.format``, ``name.forbidden-word``,
    ``name.nonstandard-char``. ``extra_forbidden``: the project's own words to avoid."""
    norm = normalize(name)
    if not norm:
        return [finding("name.format", "error", "名称为空")]
    out = []
    if len(norm) > max_length:
        out.append(finding("name.format", "error", f"名称 {len(norm)} 个字，超过 {max_length} 个字"))
    specific, modifier, generic = split_name(norm)
    if not generic:
        out.append(finding("name.format", "warning", "未识别出通名 (no generic term such as 路, 街)"))
    elif not modifier and {generic, generic_of(specific)} <= street_generics():
        out.append(finding("name.format", "error", f"通名叠用: {generic_of(specific)}{generic}"))
    kinds = modifiers()
    if generic and all(kinds.get(ch) == "ordinal" for ch in specific + modifier):
        out.append(finding("name.format", "warning", f"专名只有序数 {specific + modifier}，缺少实义专名"))
    words, anywhere = _forbidden(tuple(extra_forbidden))
    if anywhere.search(norm):  # one scan for the whole list; most names contain none of it
        for word, normal, reason in words:
            if normal in norm:
                out.append(finding("name.forbidden-word", "error", f"含有不宜使用的词 {word}: {reason}"))
    out.extend(_char_findings(name))
    return out


@lru_cache(maxsize=16)
def _forbidden(extra: tuple) -> tuple[tuple[tuple[str, str, str], ...], re.Pattern]:
    """(word, normalised word, reason) of the built-in list and the project's words, normalised
    once, and a pattern matching any of them."""
    words = {**forbidden_words(), **{w: "本地禁用词 (local list)" for w in extra}}
    listed = tuple((w, normalize(w), reason) for w, reason in words.items() if normalize(w))
    return listed, re.compile("|".join(re.escape(normal) for _, normal, _ in listed) or r"(?!)")


def parse_width_rule(text: str) -> list[tuple[str, float]]:
    """The setting ``generic_width_rule`` (``街:40; 路:30; 道:22``) as (通名, least width), widest first."""
    from diming.errors import DimingError

    table = []
    for entry in filter(None, (e.strip() for e in re.split(r"[;；]", text or ""))):
        generic, _, width = entry.replace("：", ":").partition(":")
        try:
            table.append((generic.strip(), float(width)))
        except ValueError:
            raise DimingError(f"通名宽度规则: {entry!r} 应为 通名:最小宽度 (e.g. 路:30)") from None
        if not generic.strip():
            raise DimingError(f"通名宽度规则: {entry!r} 缺少通名")
    return sorted(table, key=lambda t: t[1], reverse=True)


def check_width(name: str, width, table) -> list[dict]:
    """``name.format`` when the 通名 does not fit the road's width under the local rule ``table``."""
    generic = split_name(name)[2]
    if width is None or not table or generic not in {g for g, _ in table}:
        return []
    fitting = next((g for g, least in table if width >= least), None)
    if fitting == generic:
        return []
    advice = f"宜用 {fitting}" if fitting else f"不足 {table[-1][1]:g} 米, 不宜用 {generic}"
    return [finding("name.format", "warning", f"路宽 {width:g} 米与通名 {generic} 不符: {advice}")]


def _char_findings(name: str) -> list[dict]:
    """The character rules, judged against the 通用规范汉字表 (2013): a traditional or variant form
    is an error only where it is not itself in the table and its standard form is (乾, 於 are
    standard characters: 乾县, 於潜); a level-3 character or one outside the table with no
    standard form is a warning (生僻字, worth a look)."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))
    if all(map(_plain_char, text)):
        return []
    out = []
    hidden = [ch for ch in dict.fromkeys(text) if unicodedata.category(ch) == "Cf"]
    if hidden:
        codes = "、".join(f"U+{ord(ch):04X}" for ch in hidden)
        out.append(finding("name.nonstandard-char", "error", f"含不可见的格式字符 (zero-width, BOM …): {codes}"))
    text = "".join(ch for ch in text if ch not in hidden)
    old = {ch: standard for ch in dict.fromkeys(text) if (standard := standard_form(ch))}
    if old:
        fixed = "、".join(f"{ch}→{standard}" for ch, standard in old.items())
        out.append(finding("name.nonstandard-char", "error", f"含繁体字或异体字 (不在通用规范汉字表内): {fixed}"))
    mixed = sorted(set(_LATIN_OR_DIGIT.findall(text)))
    if mixed:
        out.append(finding("name.nonstandard-char", "error", f"汉字名称中夹用字母或阿拉伯数字: {''.join(mixed)}"))
    made = [ch for ch in text if unicodedata.category(ch) == "Co"]
    if made:
        out.append(finding("name.nonstandard-char", "error", "含自造字 (private-use character)"))
    rare = [f"{ch} ({_RARE[level_of(ch)]})" for ch in dict.fromkeys(text)
            if _is_han(ch) and ch not in old and level_of(ch) in _RARE]
    if rare:
        out.append(finding("name.nonstandard-char", "warning", f"含生僻字: {'、'.join(rare)}"))
    other = [ch for ch in dict.fromkeys(text) if not (_is_han(ch) or _LATIN_OR_DIGIT.match(ch)
                                                      or unicodedata.category(ch) == "Co")]
    if other:
        out.append(finding("name.nonstandard-char", "error", f"含非汉字符号: {''.join(other)}"))
    return out


# the levels worth a warning: 三级字表 holds the characters of special fields (surnames, place
# names, science), outside the table lie the rare characters of no current standard
_RARE = {3: "通用规范汉字表三级字, 新命名宜慎用", None: "不在通用规范汉字表内"}


def level_of(ch: str) -> int | None:
    """The level (1, 2, 3) of a character in the 通用规范汉字表, or None outside it."""
    number = standard_chars().get(ch)
    return None if number is None else 1 if number <= 3500 else 2 if number <= 6500 else 3


def standard_form(ch: str) -> str | None:
    """The standard form of a traditional or variant character that is not in the 通用规范汉字表
    (長 -> 长, 峯 -> 峰), when that form is in the table; otherwise None."""
    table = standard_chars()
    if ch in table:
        return None
    standard = converted(ch)
    return standard if standard != ch and all(c in table for c in standard) else None


def _is_han(ch: str) -> bool:
    return ch in standard_chars() or unicodedata.name(ch, "").startswith("CJK UNIFIED IDEOGRAPH")


@lru_cache(maxsize=None)
def _plain_char(ch: str) -> bool:
    """A level-1 or level-2 character of the 通用规范汉字表: nothing for the character rules to say."""
    return level_of(ch) in (1, 2)


def _entry(record: dict) -> dict:
    return {"layer": record["layer"], "id": record["id"], "name": record["name"]}


def region_stems(regions) -> frozenset[str]:
    """The stems of these division names (青岚市 -> 青岚) for the region-name duplicate rule."""
    return _stems(tuple(regions))


@lru_cache(maxsize=4)  # a check asks for the stems of the same tens of thousands of divisions more than once
def _stems(regions: tuple) -> frozenset[str]:
    return frozenset(region_stem(r) for r in regions) - {""}


def clash_keys(name: str, overrides=None, stems=frozenset()) -> tuple[str, frozenset[str], frozenset[str]]:
    """What a name clashes on: its normalised form (重名), its 专名 with the forms the prefix rule
    relates it to (:func:`shorter_forms`; ``stems`` from :func:`region_stems`) and its toneless
    readings (同音). Two names can clash only if they share one of these keys."""
    norm = normalize(name)
    specific = split_name(norm)[0]
    return norm, frozenset((specific, *shorter_forms(specific, stems))), reading_keys(norm, overrides)


def build_index(records, overrides=None, regions=(), *, stems=None) -> dict:
    """Look-up tables over other names, each record ``{"layer", "id", "name"}`` (heritage
    records may add ``"status"``): by normalised name, by 专名, by the shorter forms of the 专名,
    by toneless reading key. ``regions``: names of divisions (青岚市, 桃源镇 …) whose stem added to a
    name still counts as the same name (local duplicate rule); ``stems``: their region_stems, when
    the caller has them."""
    stems = region_stems(regions) if stems is None else stems
    index = {"name": {}, "specific": {}, "shorter": {}, "reading": {}, "overrides": overrides, "stems": stems}
    for record in records:
        norm = normalize(record["name"])
        specific = split_name(norm)[0]
        index["name"].setdefault(norm, []).append(record)
        index["specific"].setdefault(specific, []).append(record)
        for form in shorter_forms(specific, stems):
            index["shorter"].setdefault(form, []).append(record)
        for key in reading_keys(norm, overrides):
            index["reading"].setdefault(key, []).append(record)
    return index


_DIVISION_SUFFIXES = ("街道", "社区", "自治县", "市", "区", "县", "镇", "乡", "村")


def region_stem(region: str) -> str:
    """A division name without its 通名: 青岚市 -> 青岚; ``""`` when less than two characters remain."""
    region = normalize(region)
    for suffix in _DIVISION_SUFFIXES:
        if region.endswith(suffix):
            region = region[: -len(suffix)]
            break
    return region if len(region) >= 2 else ""


def shorter_forms(specific: str, stems=frozenset()) -> tuple[str, ...]:
    """The 专名 with a leading division name (``stems``), a leading 新 or 大, or both dropped:
    青岚新城子 -> 新城子, 城子; 新城子 -> 城子. What remains has two characters at least, so a 新 or
    大 that belongs to a two-character 专名 stays (新华, 大同, 大连 are 专名 of their own).

    The local duplicate rule: a name is the same name as another that is one of its shorter forms
    (新城子 and 城子), not as one that merely shares a shorter form (新城子 and 大城子)."""
    forms = []
    # look the name's own prefixes up, longest first: a national project has tens of thousands of
    # division names, far too many to try one by one on every name
    for k in range(len(specific) - 2, 1, -1):
        if specific[:k] in stems:
            forms.append(specific[k:])
            break
    for form in (specific, *forms):
        if len(form) >= 3 and form[0] in "新大":
            forms.append(form[1:])
    return tuple(dict.fromkeys(forms))


def related_specifics(specific: str, index: dict) -> list[dict]:
    """The indexed records whose 专名 is this one, one of its shorter forms, or has it as a
    shorter form (the prefix rule both ways)."""
    records = [*index["specific"].get(specific, ()), *index["shorter"].get(specific, ())]
    for form in shorter_forms(specific, index["stems"]):
        records += index["specific"].get(form, ())
    return records


def clash_findings(name: str, index: dict, *, exclude=(), same_specific_severity: str = "warning") -> list[dict]:
    """``name.duplicate``, ``name.same-specific``, ``name.homophone`` and ``name.protected`` of
    ``name`` against the indexed names. ``exclude``: (layer, id) pairs to skip (the name itself)."""
    skip = set(exclude)
    norm = normalize(name)
    specific, modifier, generic = split_name(norm)
    overrides = index.get("overrides")

    def hits(records, seen=None):
        return [r for r in records if (r["layer"], r["id"]) not in skip and (seen is None or id(r) not in seen)]

    out, seen = [], set()
    same = hits(index["name"].get(norm, []))
    seen |= {id(r) for r in same}
    for r in same:
        if r["layer"] == "heritage_names":
            out.append(protected(r, "同名"))
        else:
            out.append(finding("name.duplicate", "error", f"与{_label(r)} {r['name']} 重名", [_entry(r)]))
    for r in hits(related_specifics(specific, index), seen):
        r_spec, r_mod, r_gen = split_name(r["name"])
        if (r_spec, r_mod, r_gen) != (specific, modifier, generic):
            seen.add(id(r))
            how = "专名相同" if r_spec == specific else f"专名 {r_spec} 与 {specific} 仅差地区名或“新”“大”"
            if r["layer"] == "heritage_names":
                out.append(protected(r, how))
            elif r_gen == generic and r_mod == modifier:
                out.append(finding("name.duplicate", "error", f"与{_label(r)} {r['name']} 仅差地区名或“新”“大”，视为重名",
                                   [_entry(r)]))
            else:
                out.append(finding("name.same-specific", same_specific_severity,
                                   f"与{_label(r)} {r['name']} {how}、通名不同", [_entry(r)]))
    mine, mine_toned = reading_keys(norm, overrides), None
    sounding = []
    for key in mine:
        for r in hits(index["reading"].get(key, []), seen):
            seen.add(id(r))
            sounding.append(r)
    for r in sounding:
        if mine_toned is None:
            mine_toned = reading_keys(norm, overrides, tones=True)
        toned = bool(mine_toned & reading_keys(r["name"], overrides, tones=True))
        tone_text = "声调也相同" if toned else "声调不同"
        if r["layer"] == "heritage_names":
            out.append(protected(r, f"同音 ({tone_text})"))
        else:
            out.append(finding("name.homophone", "warning", f"与{_label(r)} {r['name']} 同音 ({tone_text})",
                               [_entry(r)]))
    return out


def protected(record: dict, how: str) -> dict:
    """The ``name.protected`` finding of a name that clashes with the listed name ``record``
    (``{"layer", "id", "name", "status"}``) as ``how`` says (同名, 专名相同, 同音 …)."""
    # a historical name no longer in use may be re-used for a new road with approval; a name in use may not
    severity = "warning" if record.get("status") == "historical" and how == "同名" else "error"
    extra = "；历史地名复用须经批准" if severity == "warning" else ""
    return finding("name.protected", severity, f"与地名保护名录中的 {record['name']} {how}{extra}", [_entry(record)])


_LABELS = {"roads": "现有道路", "road_proposals": "在办申报", "heritage_names": "保护名录",
           "place_names": "地名录中的地名"}


def _label(record: dict) -> str:
    return _LABELS.get(record["layer"], record["layer"])
