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

    from diming.geonames.rules import region_stem

    local = local_rules(data.settings)
    regions = list(data.layer("admin_areas")["name"])
    # division names whose stem added to a name still makes the same name (see rules._core)
    local["stems"] = frozenset(region_stem(r) for r in regions) - {""}
    members = _members(data)
    if not len(members):
        return []
    names = _analyse(members["name"].unique(), local)
    members = members.join(names, on="name")
    out = _single_name(members, local["width_rule"])
    out += _buckets(members, ["scope", "core", "modifier", "generic"], "name.duplicate", "error",
                    lambda key: "重名")
    same = members[members["core"] != ""].reset_index(drop=True)
    out += _buckets(same, ["scope", "core"], "name.same-specific", local["same_specific_severity"],
                    lambda key: f"专名 {key[1]} 相同、通名不同", distinct=["modifier", "generic"])
    out += _homophones(members, local["overrides"])
    out += _protected(data, members[members["layer"] == "road_proposals"], local["overrides"], regions)
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
        frames.append(pd.DataFrame({"layer": layer, "id": frame[key].to_numpy(dtype=object),
                                    "name": frame["name"].to_numpy(dtype=object),
                                    "width": frame["width_m"].to_numpy(dtype=float, na_value=float("nan"))
                                    if "width_m" in frame else float("nan"),
                                    "scope": _scope(data.divisions_of(frame), data.settings["duplicate_scope"]),
                                    "geometry": frame.geometry.to_numpy()}))
    if not frames:
        return pd.DataFrame(columns=["layer", "id", "name", "width", "scope", "geometry"])
    return pd.concat(frames, ignore_index=True)


# distinct names above which the per-name work is shared between two processes
PARALLEL_NAMES = 50_000


def _analyse(unique_names, local):
    """Per distinct name: normalised form, 专名 core / modifier / 通名, toneless readings and the
    single-name rule findings. This per-name Python work dominates at national scale, so a large
    set is split over two forked processes (the machines this runs on have two cores or more)."""
    import os

    import numpy as np
    import pandas as pd

    if len(unique_names) < PARALLEL_NAMES or (os.cpu_count() or 1) < 2 or not hasattr(os, "fork"):
        rows = _describe(list(unique_names), local)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        chunks = [list(c) for c in np.array_split(np.asarray(unique_names, dtype=object), 8)]
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
            rows = [row for part in pool.map(_describe, chunks, [local] * len(chunks)) for row in part]
    return pd.DataFrame(rows, columns=["name", "norm", "core", "modifier", "generic", "readings", "rules"]
                        ).set_index("name")


def _describe(names, local) -> list[tuple]:
    from diming.geonames.normalize import normalize
    from diming.geonames.parts import split_name
    from diming.geonames.pinyin import reading_keys
    from diming.geonames.rules import _core  # the region/新/大 rule of name.duplicate, kept in one place
    from diming.geonames.rules import check_name

    rows = []
    for name in names:
        norm = normalize(name)
        specific, modifier, generic = split_name(norm)
        rows.append((name, norm, _core(specific, local["stems"]), modifier, generic, reading_keys(norm, local["overrides"]),
                     check_name(name, max_length=local["max_length"], extra_forbidden=local["extra_forbidden"])))
    return rows


def _columns(members):
    return tuple(members[c].to_numpy() for c in ("layer", "id", "name", "geometry"))


def _finding(rule, severity, columns, rows, message) -> Finding:
    """One finding for the features at positions ``rows`` of the member ``columns``, the proposal first."""
    import shapely

    layer, ids, names, geoms = columns
    rows = sorted(rows, key=lambda r: (_ORDER[layer[r]], str(ids[r])))
    first = rows[0]
    listed = "、".join(f"{names[r]} ({ids[r]})" for r in rows)
    return Finding(rule, severity, layer[first], str(ids[first]), names[first], f"{message}: {listed} ({rule})",
                   related=[related(layer[r], ids[r], names[r]) for r in rows[1:]],
                   geometry=shapely.GeometryCollection([geoms[r] for r in rows if geoms[r] is not None]))


def _buckets(members, key, rule, severity, message, distinct=None) -> list[Finding]:
    """One finding per bucket of ``key`` holding more than one feature (and, with ``distinct``,
    more than one value of those columns)."""
    import numpy as np

    keep = members.duplicated(key, keep=False).to_numpy(copy=True)
    if distinct:
        combo = members[distinct[0]].astype(str)
        for column in distinct[1:]:
            combo = combo + "|" + members[column].astype(str)
        keep &= combo.groupby([members[k] for k in key]).transform("nunique").values >= 2
    rows = np.flatnonzero(keep)
    groups = members.iloc[rows].groupby(key, sort=False).indices
    columns = _columns(members)
    return [_finding(rule, severity, columns, rows[positions], message(key_value))
            for key_value, positions in groups.items()]


def _homophones(members, overrides) -> list[Finding]:
    """Names sharing a toneless reading within a scope, joined into groups (a name with several
    possible readings links the groups of each); a group fires when it holds names that are not
    already the same name by the duplicate rule."""
    from diming.geonames.pinyin import reading_keys

    units = members.drop_duplicates(["scope", "norm"])
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

    scopes, norms = shared["scope"].values, shared["norm"].values
    for positions in shared.groupby(["scope", "readings"], sort=False).indices.values():
        root = find((scopes[positions[0]], norms[positions[0]]))
        for p in positions[1:]:
            parent[find((scopes[p], norms[p]))] = root
    groups: dict = {}
    for u in parent:
        groups.setdefault(find(u), set()).add(u)
    kind = {(s, n): (c, m, g) for s, n, c, m, g in
            zip(*(units[c].to_numpy() for c in ("scope", "norm", "core", "modifier", "generic")))}
    rows_of: dict = {}
    for row, unit in enumerate(zip(members["scope"].to_numpy(), members["norm"].to_numpy())):
        if unit in parent:
            rows_of.setdefault(unit, []).append(row)
    out = []
    columns = _columns(members)
    for united in groups.values():
        if len({kind[u] for u in united}) < 2:
            continue
        norms_in = sorted({u[1] for u in united})
        heard = set.intersection(*(set(reading_keys(n, overrides)) for n in norms_in))
        toned = set.intersection(*(set(reading_keys(n, overrides, tones=True)) for n in norms_in))
        how = f"同音 ({min(heard) if heard else '读音相连'}; {'声调也相同' if toned else '声调不同'})"
        out.append(_finding("name.homophone", "warning", columns, [r for u in united for r in rows_of[u]], how))
    return out


def _protected(data, proposals, overrides, regions) -> list[Finding]:
    """Open proposals that are, or sound like, a name on the heritage list: one finding per
    listed name, with every proposal that clashes with it (the rule is rules.clash_findings')."""
    import shapely

    from diming.geonames.rules import build_index, clash_findings

    heritage = data.layer("heritage_names", "status IS NULL OR status != 'delisted'")
    if not len(heritage) or not len(proposals):
        return []
    index = build_index([{"layer": "heritage_names", "id": h, "name": n, "status": s}
                         for h, n, s in zip(heritage["heritage_id"], heritage["name"], heritage["status"])],
                        overrides, regions=regions)
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


def _single_name(members, width_rule) -> list[Finding]:
    """The single-name rules (name.format, name.forbidden-word, name.nonstandard-char), found once
    per distinct name and reported on every feature that carries it; with the local
    ``generic_width_rule`` also the 通名 against each road's width."""
    import math

    from diming.geonames.rules import check_width

    out = []
    columns = zip(*(members[c].to_numpy() for c in ("layer", "id", "name", "geometry", "rules", "width")))
    for layer, fid, name, geom, results, width in columns:
        if width_rule and not math.isnan(width):
            results = results + check_width(name, width, width_rule)
        for f in results:
            out.append(Finding(f["rule"], f["severity"], layer, str(fid), name, f"{f['message']} ({f['rule']})",
                               geometry=geom))
    return out
