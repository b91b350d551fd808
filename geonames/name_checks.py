"""Name checks over a whole project (重名、同音、保护名录、单名规则): the rules of
:mod:`diming.geonames.rules`, applied to every road in use and every open proposal at once.

Nothing is compared pairwise: every distinct name is normalised, split and read once, names are
hashed into buckets by what makes them clash (the same 专名 core, modifier and 通名; the same
专名 core; a shared toneless reading) within their duplicate scope, and each bucket with more
than one name is one finding listing all of them. A feature's division is its ``district`` field,
or else the smallest admin area it lies in.
"""
from __future__ import annotations

from diming.findings import Finding, related

RULES = {"name.duplicate": "error", "name.same-specific": "warning", "name.homophone": "warning",
         "name.protected": "error", "name.forbidden-word": "error", "name.nonstandard-char": "error",
         "name.format": "error"}
_ORDER = {"road_proposals": 0, "roads": 1}  # a group is told from its newest member: the proposal


def check(data) -> list[Finding]:
    from diming.geonames.namecheck import local_rules

    local = local_rules(data.settings)
    members = _members(data)
    if not len(members):
        return []
    names = _describe(members["name"].unique(), local["overrides"])
    members = members.join(names, on="name")
    out = _single_name(members, local)
    out += _buckets(members, ["scope", "core", "modifier", "generic"], "name.duplicate", "error",
                    lambda g: "重名")
    same = members[members["core"] != ""]
    out += _buckets(same, ["scope", "core"], "name.same-specific", local["same_specific_severity"],
                    lambda g: f"专名 {g['core'].iloc[0]} 相同、通名不同", distinct=["modifier", "generic"])
    out += _homophones(members, local["overrides"])
    out += _protected(data, members[members["layer"] == "road_proposals"], local["overrides"])
    return out


def _scope(codes, scope: str):
    # the same scopes as diming.geonames.namecheck.in_scope: county = first 6 digits, city = first 4
    digits = {"district": None, "county": 6, "city": 4}[scope]
    return [c if digits is None else c[:digits] for c in codes]


def _members(data):
    """Roads in use and open proposals: layer, id, name, scope and geometry, one row each."""
    import pandas as pd

    frames = []
    for layer, key, frame in (("roads", "road_id", data.roads_in_use()),
                              ("road_proposals", "proposal_id", data.open_proposals())):
        if not len(frame):
            continue
        frames.append(pd.DataFrame({"layer": layer, "id": frame[key].values, "name": frame["name"].values,
                                    "scope": _scope(data.divisions_of(frame), data.settings["duplicate_scope"]),
                                    "geometry": frame.geometry.values}))
    if not frames:
        return pd.DataFrame(columns=["layer", "id", "name", "scope", "geometry"])
    return pd.concat(frames, ignore_index=True)


def _describe(unique_names, overrides):
    """Per distinct name: normalised form, 专名 core / modifier / 通名, toneless readings."""
    import pandas as pd

    from diming.geonames.normalize import normalize
    from diming.geonames.parts import split_name
    from diming.geonames.pinyin import reading_keys
    from diming.geonames.rules import _core  # the 新/大 rule of name.duplicate, kept in one place

    rows = []
    for name in unique_names:
        norm = normalize(name)
        specific, modifier, generic = split_name(norm)
        rows.append((name, norm, _core(specific), modifier, generic, reading_keys(norm, overrides)))
    return pd.DataFrame(rows, columns=["name", "norm", "core", "modifier", "generic", "readings"]).set_index("name")


def _finding(rule, severity, group, message, geometry=True) -> Finding:
    import shapely

    group = group.sort_values(["layer", "id"], key=lambda s: s.map(_ORDER) if s.name == "layer" else s)
    first = group.iloc[0]
    listed = "、".join(f"{n} ({i})" for n, i in zip(group["name"], group["id"]))
    return Finding(rule, severity, first["layer"], str(first["id"]), first["name"],
                   f"{message}: {listed} ({rule})",
                   related=[related(layer, i, n) for layer, i, n in
                            zip(group["layer"].iloc[1:], group["id"].iloc[1:], group["name"].iloc[1:])],
                   geometry=shapely.GeometryCollection([g for g in group["geometry"] if g is not None])
                   if geometry else None)


def _buckets(members, key, rule, severity, message, distinct=None) -> list[Finding]:
    """One finding per bucket of ``key`` holding more than one feature (and, with ``distinct``,
    more than one value of those columns)."""
    if not len(members):
        return []
    clash = members[members.duplicated(key, keep=False)]
    out = []
    for _, group in clash.groupby(key, sort=False):
        if distinct and len(group.drop_duplicates(distinct)) < 2:
            continue
        out.append(_finding(rule, severity, group, message(group)))
    return out


def _homophones(members, overrides) -> list[Finding]:
    """Names sharing a toneless reading within a scope, joined into groups (a name with several
    possible readings links the groups of each); a group fires when it holds names that are not
    already the same name by the duplicate rule."""
    from diming.geonames.pinyin import reading_keys

    units = members.drop_duplicates(["scope", "norm"])[["scope", "norm", "core", "modifier", "generic", "readings"]]
    pairs = units[["scope", "norm", "readings"]].explode("readings")
    shared = pairs[pairs.duplicated(["scope", "readings"], keep=False)]
    if not len(shared):
        return []
    parent: dict = {}

    def find(u):
        while parent.setdefault(u, u) != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    for _, bucket in shared.groupby(["scope", "readings"], sort=False):
        units_in = list(zip(bucket["scope"], bucket["norm"]))
        root = find(units_in[0])
        for u in units_in[1:]:
            parent[find(u)] = root
    groups: dict = {}
    for u in parent:
        groups.setdefault(find(u), set()).add(u)
    described = units.set_index(["scope", "norm"])
    out = []
    keyed = members.set_index(["scope", "norm"]).sort_index()
    for united in groups.values():
        kinds = {tuple(described.loc[u, ["core", "modifier", "generic"]]) for u in united}
        if len(kinds) < 2:
            continue
        group = keyed.loc[sorted(united)].reset_index()
        norms = sorted({u[1] for u in united})
        heard = set.intersection(*(set(reading_keys(n, overrides)) for n in norms))
        toned = set.intersection(*(set(reading_keys(n, overrides, tones=True)) for n in norms))
        how = f"同音 ({min(heard) if heard else '读音相连'}; {'声调也相同' if toned else '声调不同'})"
        out.append(_finding("name.homophone", "warning", group, how))
    return out


def _protected(data, proposals, overrides) -> list[Finding]:
    """Open proposals that are, or sound like, a name on the heritage list: one finding per
    listed name, with every proposal that clashes with it (the rule is rules.clash_findings')."""
    import shapely

    from diming.geonames.rules import build_index, clash_findings

    heritage = data.layer("heritage_names", "status IS NULL OR status != 'delisted'")
    if not len(heritage) or not len(proposals):
        return []
    index = build_index([{"layer": "heritage_names", "id": h, "name": n, "status": s}
                         for h, n, s in zip(heritage["heritage_id"], heritage["name"], heritage["status"])], overrides)
    hits: dict[str, list] = {}
    for pid, name, geom in zip(proposals["id"], proposals["name"], proposals["geometry"]):
        for f in clash_findings(name, index):
            if f["rule"] == "name.protected":
                hits.setdefault(f["related"][0]["id"], []).append((pid, name, geom, f["severity"], f["message"]))
    where = dict(zip(heritage["heritage_id"], zip(heritage["name"], heritage.geometry.values)))
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


def _single_name(members, local) -> list[Finding]:
    """The single-name rules (name.format, name.forbidden-word, name.nonstandard-char), run once
    per distinct name and reported on every feature that carries it."""
    from diming.geonames.rules import check_name

    out = []
    results = {name: check_name(name, max_length=local["max_length"], extra_forbidden=local["extra_forbidden"])
               for name in members["name"].unique()}
    bad = members[members["name"].map(lambda n: bool(results[n]))]
    for layer, fid, name, geom in zip(bad["layer"], bad["id"], bad["name"], bad["geometry"]):
        for f in results[name]:
            out.append(Finding(f["rule"], f["severity"], layer, str(fid), name, f"{f['message']} ({f['rule']})",
                               geometry=geom))
    return out
