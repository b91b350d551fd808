"""The heritage-list check over a whole project (与地名保护名录冲突): every open road-naming
proposal against the names on the place-name heritage protection list (地名保护名录) that are
not delisted, by the clash rules :func:`diming.geonames.rules.clash_findings` applies to one
name (the same name; the same 专名, or one a shorter form of the other; a shared reading), each
proposal and listed name taken from the project's name index (their 专名, modifier, 通名,
shorter forms and readings, described once when written), so the check reads no pinyin. A rule
family of its own: it reads only the proposals and the list, and runs beside the other name rules.
"""
from __future__ import annotations

from diming.findings import Finding, related

RULES = {"name.protected": "error"}


def check(data, rules=frozenset(RULES), *, names: set[str] | None = None) -> list[Finding]:
    """One finding per listed name, with every open proposal that clashes with it. ``names``: only
    the proposals carrying one of these names (a check of what an edit can reach)."""
    import shapely

    from diming.geonames.rules import protected

    proposals = data.open_proposals(names)
    heritage = data.layer("heritage_names", "status IS NULL OR status != 'delisted'")
    if not len(heritage) or not len(proposals):
        return []
    listed = heritage["name"].tolist()
    facts, text = _facts(data, listed + proposals["name"].tolist())
    by = {"norm": {}, "specific": {}, "shorter": {}, "readings": {}}  # fact id -> listed names (positions)
    for r, name in enumerate(listed):
        norm, whole, shorter, readings, _ = facts[name]
        for kind, ids in (("norm", (norm,)), ("specific", (whole[0],)), ("shorter", shorter), ("readings", readings)):
            for i in ids:
                by[kind].setdefault(i, []).append(r)
    records = [{"layer": "heritage_names", "id": h, "name": n, "status": s}
               for h, n, s in zip(heritage["heritage_id"], listed, heritage["status"])]
    theirs = [facts[n] for n in listed]
    clashes = [(pid, name, geom, r, how)
               for pid, name, geom in zip(proposals["proposal_id"], proposals["name"], proposals.geometry.values)
               for r, how in _clashes(facts[name], by, theirs)]
    # the 专名 the prefix rule relates, spelt out in one look-up of their texts
    ids = sorted({i for *_, how in clashes if isinstance(how, tuple) for i in how})
    spelt = dict(zip(ids, text(ids)))
    hits: dict[str, list] = {}
    for pid, name, geom, r, how in clashes:
        if isinstance(how, tuple):
            how = f"专名 {spelt[how[0]]} 与 {spelt[how[1]]} 仅差地区名或“新”“大”"
        f = protected(records[r], how)
        hits.setdefault(records[r]["id"], []).append((pid, name, geom, f["severity"], f["message"]))
    where = dict(zip(heritage["heritage_id"], zip(listed, heritage.geometry.values)))
    out = []
    for hid, clashes in sorted(hits.items()):
        hname, hgeom = where[hid]
        severity = "error" if any(c[3] == "error" for c in clashes) else "warning"
        first = clashes[0]
        detail = "；".join(f"{c[1]} ({c[0]}) {c[4]}" for c in clashes)
        out.append(Finding("name.protected", severity, "road_proposals", str(first[0]), first[1],
                           f"{detail} (name.protected)",
                           related=[related("road_proposals", c[0], c[1]) for c in clashes[1:]]
                           + [related("heritage_names", hid, hname)],
                           geometry=shapely.GeometryCollection([g for g in (*(c[2] for c in clashes), hgeom)
                                                                if g is not None])))
    return out


def _facts(data, names) -> tuple[dict, object]:
    """Name -> (its normalised form, (专名, modifier, 通名), the shorter forms of its 专名, toneless
    readings, toned readings), each as the name index's integer ids; and the function from ids
    to their texts."""
    import numpy as np

    from diming.geonames.name_checks import division_names
    from diming.geonames.name_index import described, fact_lists
    from diming.geonames.pinyin import parse_overrides

    distinct = list(dict.fromkeys(names))
    named = described(data.project, distinct, parse_overrides(data.settings["pinyin_overrides"]),
                      division_names(data), ("norm", "specific", "modifier", "generic", "shorter", "readings", "toned"))
    every = np.arange(len(distinct))
    shorter, readings, toned = (fact_lists(named, fact, every) for fact in ("shorter", "readings", "toned"))
    split = zip(*(named[part].tolist() for part in ("specific", "modifier", "generic")))
    facts = {name: (norm, whole, shorter[i], readings[i], set(toned[i]))
             for i, (name, norm, whole) in enumerate(zip(distinct, named["norm"].tolist(), split))}
    return facts, named["text"]


def _clashes(mine, by, listed):
    """(listed name's position, how it clashes) for each listed name a proposal (its facts
    ``mine``) clashes with, told as :func:`diming.geonames.rules.clash_findings` tells them: the
    same normalised name (同名); else the same 专名 (专名相同) or one a shorter form of the other
    (their two 专名 ids, to be spelt out); else a shared toneless reading (同音, with or without the
    same tones). ``listed``: the facts of each listed name; ``by``: fact id -> the listed names
    holding it."""
    norm, whole, shorter, readings, toned = mine
    out, seen = [], set()
    for r in by["norm"].get(norm, ()):
        seen.add(r)
        out.append((r, "同名"))
    kin = [*by["specific"].get(whole[0], ()), *by["shorter"].get(whole[0], ()),
           *(r for form in shorter for r in by["specific"].get(form, ()))]
    for r in [r for r in kin if r not in seen]:  # (names of another normalised form: 专名, modifier or 通名 differ)
        seen.add(r)
        theirs = listed[r][1][0]
        out.append((r, "专名相同" if theirs == whole[0] else (theirs, whole[0])))
    sounding = []
    for key in readings:
        for r in by["readings"].get(key, ()):
            if r not in seen:
                seen.add(r)
                sounding.append(r)
    for r in sounding:
        out.append((r, f"同音 ({'声调也相同' if toned & listed[r][4] else '声调不同'})"))
    return out
