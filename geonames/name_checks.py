"""Name checks over a whole project (重名、同音、保护名录、单名规则): the rules of
:mod:`diming.geonames.rules`, applied to every road in use and every open proposal at once.

Nothing is compared pairwise: names are put into buckets by what makes them clash (the same 专名
core, modifier and 通名; the same 专名 core; a shared toneless reading) within their duplicate
scope, and each bucket with more than one name is one finding listing all of them. The keys come
from the project's name index (:mod:`diming.geonames.name_index`: each distinct name normalised,
split and read once, when it is first written), as integers grouped with numpy, and the geometry
of a road is read only when a finding is about it. A feature's division is its
``district`` field, or else the smallest admin area it lies in.
"""
from __future__ import annotations

from diming.findings import Finding, related

RULES = {"name.duplicate": "error", "name.same-specific": "warning", "name.homophone": "warning",
         "name.protected": "error", "name.forbidden-word": "error", "name.nonstandard-char": "error",
         "name.format": "error"}
_ORDER = {"road_proposals": 0, "roads": 1}  # a group is told from its newest member: the proposal


CLASHES = ("name.duplicate", "name.same-specific", "name.homophone")
SINGLE = ("name.format", "name.forbidden-word", "name.nonstandard-char")  # rules of one name alone


def check(data, rules=frozenset(RULES)) -> list[Finding]:
    """The findings of the chosen ``rules`` of this family (the others are not run)."""
    local = _local(data)
    out = findings(data, _members(data), rules, local)
    if "name.protected" in rules:
        out += protected(data, local)
    return out


def _local(data) -> dict:
    from diming.geonames.name_index import stems
    from diming.geonames.namecheck import local_rules

    local = local_rules(data.settings)
    local["regions"] = list(data.layer("admin_areas", columns=("name",), geometry=False)["name"])
    # division names whose stem added to a name still makes the same name (see rules._core)
    local["stems"] = stems(data.project, local["regions"])
    return local


def keys_of(data, names: list, local: dict, *, single: bool = True):
    """The clash keys of these distinct names: from the project's name index, where each name was
    keyed once when it was first written; computed here when the index cannot be used now."""
    from diming.geonames.name_index import computed_keys, name_keys

    return (name_keys(data.project, names, local, local["stems"], single=single)
            or computed_keys(names, local, local["stems"], single=single))


def findings(data, members, rules, local) -> list[Finding]:
    """The clash and single-name findings of the chosen ``rules`` among ``members`` (every
    member of a group each member belongs to must be there: :func:`_members` of the whole
    project, or what :mod:`diming.incremental` closes over)."""
    import numpy as np
    import pandas as pd

    rules = set(rules)
    if not len(members) or not rules & {*CLASHES, *SINGLE}:
        return []
    name_of, distinct = pd.factorize(members["name"].to_numpy(dtype=object), use_na_sentinel=False)
    keys = keys_of(data, list(distinct), local, single=bool(rules & set(SINGLE)))
    scope_of = _codes(members["scope"])
    groups = []
    if "name.duplicate" in rules:
        groups += [("name.duplicate", "error", rows, "重名") for rows in _groups(_pair(scope_of, keys.same[name_of]))]
    if "name.same-specific" in rules:
        has_core = keys.core[name_of] != keys.blank
        shared_core = np.where(has_core, _pair(scope_of, keys.core[name_of]), -1)
        several = _varies(shared_core, keys.same[name_of]) & has_core  # the 专名 is shared by different names
        same_specific = _groups(np.where(several, shared_core, -1), skip=-1)
        cores = sorted({int(keys.core[name_of[rows[0]]]) for rows in same_specific})
        specifics = dict(zip(cores, keys.term(cores)))
        groups += [("name.same-specific", local["same_specific_severity"], rows,
                    f"专名 {specifics[int(keys.core[name_of[rows[0]]])]} 相同、通名不同") for rows in same_specific]
    if "name.homophone" in rules:
        groups += _homophones(keys, name_of, scope_of, local["overrides"])
    # a proposal and the road it became are one road: a group of just the two is no clash
    one = _entities(members)
    groups = [g for g in groups if len(set(one[g[2]])) > 1]
    flagged = []
    if rules & set(SINGLE):
        results = np.fromiter(keys.rules, dtype=object, count=len(keys.rules))  # one per distinct name
        flagged = _single_name(members, results[name_of], local["width_rule"])
    columns = _columns(data, members, [r for _, _, rows, _ in groups for r in rows] + [r for r, _ in flagged])
    out = [_finding(rule, severity, columns, rows, message) for rule, severity, rows, message in groups]
    layer, ids, names, geoms = columns
    out += [Finding(f["rule"], f["severity"], layer[r], str(ids[r]), names[r], f"{f['message']} ({f['rule']})",
                    geometry=geoms[r]) for r, found in flagged for f in found]
    return out


def protected(data, local) -> list[Finding]:
    """``name.protected``: the open proposals against the heritage list."""
    members = _members(data, layers=("road_proposals",))
    return _protected(data, members, local["overrides"], local["regions"])


def _scope(codes, scope: str):
    import pandas as pd

    # the same scopes as diming.geonames.namecheck.in_scope: county = first 6 digits, city = first 4
    digits = {"district": None, "county": 6, "city": 4}[scope]
    return codes if digits is None else pd.Series(codes, dtype=object).str[:digits].to_numpy(dtype=object)


def _members(data, layers=("roads", "road_proposals"), frames=None):
    """Roads in use and open proposals: layer, id, name, scope, link (a road's proposal, a
    proposal's road) and geometry, one row each. ``frames``: the features of each layer to take,
    when not all of them (as read by CheckData.roads_in_use and open_proposals)."""
    import pandas as pd

    frames = frames or {"roads": data.roads_in_use, "road_proposals": data.open_proposals}
    out = []
    for layer, key, link in (("roads", "road_id", "proposal_id"), ("road_proposals", "proposal_id", "road_id")):
        frame = frames[layer]() if layer in layers else ()
        if not len(frame):
            continue
        out.append(pd.DataFrame({"layer": layer, "id": frame[key].to_numpy(dtype=object),
                                    "name": frame["name"].to_numpy(dtype=object),
                                    "width": frame["width_m"].to_numpy(dtype=float, na_value=float("nan"))
                                    if "width_m" in frame else float("nan"),
                                    "scope": _scope(data.divisions_of(frame, layer), data.settings["duplicate_scope"]),
                                    "link": frame[link].to_numpy(dtype=object) if link in frame else None,
                                    "geometry": frame.geometry.to_numpy() if "geometry" in frame else None}))
    if not out:
        return pd.DataFrame(columns=["layer", "id", "name", "width", "scope", "link", "geometry"])
    return pd.concat(out, ignore_index=True)


def _entities(members):
    """One integer per member, shared by a proposal and the road it became (the road's
    ``proposal_id`` or the proposal's ``road_id``)."""
    import numpy as np
    import pandas as pd

    layer, ids, link = (members[c].to_numpy(dtype=object) for c in ("layer", "id", "link"))
    entity = np.arange(len(members))
    proposals, roads = np.flatnonzero(layer == "road_proposals"), np.flatnonzero(layer == "roads")
    # few features are linked: hash those, never the million road keys
    linked = pd.notna(link)
    named = roads[linked[roads]]  # roads naming their proposal
    at = pd.Index(ids[proposals]).get_indexer(link[named])
    entity[named[at >= 0]] = proposals[at[at >= 0]]
    naming = pd.Series(proposals[linked[proposals]], index=link[proposals[linked[proposals]]])
    naming = naming[~naming.index.duplicated()]  # proposals naming their road
    if len(naming):
        at = naming.index.get_indexer(ids[roads])
        entity[roads[at >= 0]] = naming.to_numpy()[at[at >= 0]]
    return entity


def _codes(values):
    """Equal values as equal small integers (int64)."""
    import pandas as pd

    values = values.to_numpy(dtype=object) if hasattr(values, "to_numpy") else values
    return pd.factorize(values, use_na_sentinel=False)[0].astype("int64")


def _pair(a, b):
    """One integer key per position for the pair of non-negative integer keys (a, b)."""
    return a * (int(b.max(initial=0)) + 1) + b


def _varies(keys, values):
    """Per position: whether its key's positions hold more than one distinct value."""
    import numpy as np

    key_of = _codes(keys)
    pairs = np.unique(_pair(key_of, values))
    distinct = np.bincount(pairs // (int(values.max(initial=0)) + 1), minlength=key_of.max(initial=0) + 1)
    return distinct[key_of] >= 2


def _groups(keys, skip=None) -> list:
    """Positions sharing a key, ascending, for every key held by more than one position (except ``skip``)."""
    import numpy as np

    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    return [order[start:start + size] for start, size in zip(starts, sizes)
            if size > 1 and (skip is None or ordered[start] != skip)]


def _columns(data, members, rows):
    """Layer, id, name and geometry of the members, with the geometry of the road ``rows`` a
    finding is about read now (roads come without it: see CheckData.roads_in_use)."""
    import numpy as np

    layer, ids, names = (members[c].to_numpy(dtype=object) for c in ("layer", "id", "name"))
    geoms = members["geometry"].to_numpy(dtype=object).copy()
    rows = np.unique(np.asarray(rows, dtype=np.int64))
    rows = rows[layer[rows] == "roads"]
    geoms[rows] = data.geometries("roads", ids[rows])
    return layer, ids, names, geoms


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


def _homophones(keys, name_of, scope_of, overrides) -> list[tuple]:
    """Names sharing a toneless reading within a scope, joined into groups (a name with several
    possible readings links the groups of each); a group fires when it holds names that are not
    already the same name by the duplicate rule."""
    import numpy as np

    from diming.geonames.pinyin import reading_keys

    # a unit is one normalised name in one scope; its readings are those of any of its names
    unit_of = _codes(_pair(scope_of, keys.norm[name_of]))
    first = np.unique(unit_of, return_index=True)[1]
    unit_scope, unit_name = scope_of[first], name_of[first]
    # every reading of every distinct name as an integer, flat, then each unit's taken from its name's
    per_name, flat = keys.counts, keys.readings
    counts = per_name[unit_name]
    units = np.repeat(np.arange(len(unit_name)), counts)
    within = np.arange(len(units)) - np.repeat(np.cumsum(counts) - counts, counts)
    unit_reading = flat[np.repeat(np.cumsum(per_name)[unit_name] - counts, counts) + within]
    parent = np.arange(len(unit_name))

    def find(u):
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    for rows in _groups(_pair(unit_scope[units], unit_reading)):
        root = find(units[rows[0]])
        for r in rows[1:]:
            parent[find(units[r])] = root
    linked = np.flatnonzero(parent != np.arange(len(parent)))
    if not len(linked):
        return []
    root_of = np.full(len(parent), -1)
    for u in np.union1d(linked, parent[linked]):
        root_of[u] = find(u)
    firing = [rows for rows in _groups(root_of[unit_of], skip=-1) if len(np.unique(keys.same[name_of[rows]])) >= 2]
    # the readings all names of a group share, from the integers each name has
    starts = np.cumsum(keys.counts) - keys.counts
    shared = [set.intersection(*(set(flat[starts[n]:starts[n] + per_name[n]].tolist()) for n in np.unique(name_of[rows])))
              for rows in firing]
    norm_ids = sorted({int(i) for rows in firing for i in keys.norm[name_of[rows]]})
    reading_ids = sorted(set().union(*shared))
    text = dict(zip(norm_ids + reading_ids, keys.term(norm_ids + reading_ids)))
    out = []
    for rows, heard in zip(firing, shared):
        norms_in = sorted({text[int(i)] for i in keys.norm[name_of[rows]]})
        heard = {text[i] for i in heard}
        toned = set.intersection(*(set(reading_keys(n, overrides, tones=True)) for n in norms_in))
        how = f"同音 ({min(heard) if heard else '读音相连'}; {'声调也相同' if toned else '声调不同'})"
        out.append(("name.homophone", "warning", rows, how))
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


def _single_name(members, results, width_rule) -> list[tuple]:
    """(member row, rule findings) of the single-name rules (name.format, name.forbidden-word,
    name.nonstandard-char), found once per distinct name (``results`` per member) and reported
    on every feature that carries it; with the local ``generic_width_rule`` also the 通名 against
    each road's width."""
    import numpy as np

    from diming.geonames.rules import check_width

    widths, names = members["width"].to_numpy(dtype=float), members["name"].to_numpy(dtype=object)
    measured = ~np.isnan(widths) if width_rule else np.zeros(len(members), dtype=bool)
    out = []
    for row in np.flatnonzero(np.fromiter(map(bool, results), dtype=bool, count=len(results)) | measured):
        found = [*results[row], *(check_width(names[row], widths[row], width_rule) if measured[row] else [])]
        if found:
            out.append((row, found))
    return out
