"""Name checks over a whole project (重名、同音、单名规则): the rules of
:mod:`diming.geonames.rules`, applied to every road in use, every open proposal and (the clash
rules) every gazetteer name in use at once, each within the duplicate scope of its category
(:mod:`diming.geonames.categories`). Proposals against the heritage list are
:mod:`diming.geonames.heritage_checks`.

Nothing is compared pairwise, and no name is normalised, split or read here: every distinct name
was described once, when first written, in the project's name index (:mod:`diming.geonames.name_index`:
its texts as integer ids), and the check reads those integers. Names are hashed into buckets by
what makes them clash (the same 专名, modifier and 通名; the same 专名; a
shared toneless reading) within their duplicate scope, buckets are joined where the prefix rule
links them (新城子 and 城子), and each bucket with more than one name is one finding listing all of
them. Buckets are integer keys grouped with numpy; the texts of the ids (for messages) and the
geometry of a road are read only when a finding is about them; asked for the duplicates alone,
the check reads only the roads SQL finds can be in a group (:func:`_duplicate_roads`). A
feature's division is its ``district`` field, or else the smallest admin area it lies in.
"""
from __future__ import annotations

from diming.findings import Finding, related

RULES = {"name.duplicate": "error", "name.same-specific": "warning", "name.homophone": "warning",
         "name.forbidden-word": "error", "name.nonstandard-char": "error", "name.format": "error"}
_DIVISION = "\0"  # marks, among the distinct names, a name of a division itself
_ORDER = {"road_proposals": 0, "roads": 1, "place_names": 2}  # a group is told from its newest member: the proposal


_CLASHES = ("name.duplicate", "name.same-specific", "name.homophone")
_SINGLE = ("name.forbidden-word", "name.nonstandard-char", "name.format")


def check(data, rules=frozenset(RULES), *, names: set[str] | None = None) -> list[Finding]:
    """The chosen ``rules`` of this family: a rule not asked for is not worked out. ``names``:
    only the members carrying one of these names (a check of what an edit can reach)."""
    from diming.geonames.name_index import linked
    from diming.geonames.namecheck import local_rules

    local, regions = local_rules(data.settings), division_names(data)
    narrow = None  # every road, unless only the duplicates are asked for and the index can say which roads
    if names is None and "name.duplicate" in rules and not rules & {*_CLASHES[1:], *_SINGLE}:
        narrow = linked(data.project, local["overrides"], regions)
    members = _members(data, names, narrow)
    if not len(members):
        return []
    # the work on the members' integers is done, and let go, before the findings are made
    groups, flagged = _grouped(data, members, rules, local, regions)
    columns = _columns(data, members, [r for _, _, rows, _ in groups for r in rows] + [r for r, _ in flagged])
    out = _findings(groups, columns)
    layer, ids, carried, geoms = columns
    out += [Finding(f["rule"], f["severity"], layer[r], str(ids[r]), carried[r], f"{f['message']} ({f['rule']})",
                    geometry=geoms[r]) for r, found in flagged for f in found]
    return out


def _grouped(data, members, rules, local, regions) -> tuple[list, list]:
    """The clash groups of ``members`` under the chosen ``rules`` (rule, severity, member rows,
    message), and the members the single-name rules flag (row, rule findings)."""
    import numpy as np
    import pandas as pd

    from diming.geonames.name_index import described

    # a division's own name is described apart (marked): its shorter forms are those without the region-name rule
    spelt = members["name"].to_numpy(dtype=object).copy()
    divisions = np.flatnonzero(members["division"].to_numpy(dtype=bool))
    spelt[divisions] = [_DIVISION + str(n) for n in spelt[divisions]]
    name_of, distinct = pd.factorize(spelt, use_na_sentinel=False)
    division = np.fromiter((n.startswith(_DIVISION) for n in distinct), dtype=bool, count=len(distinct))
    plain = [n[1:] if d else n for n, d in zip(distinct, division)]
    # every distinct name's norm, 专名, modifier, 通名, shorter forms and readings as integer ids, from
    # the name index (described once, when the name was first written); only what the chosen rules read
    wanted = ("norm", "specific", "modifier", "generic", "shorter", "bare") \
        + (("length", "clean") if rules & set(_SINGLE) else ()) \
        + (("readings", "toned") if "name.homophone" in rules else ())
    named = described(data.project, plain, local["overrides"], regions, wanted)
    text = named["text"]
    scope_of = _codes(members["scope"])
    specific, specifics = pd.factorize(named["specific"], use_na_sentinel=False)
    # per distinct name: its 专名, and its (专名, modifier, 通名), as integers; the shorter forms of its 专名
    # that are the 专名 of some name, as (distinct name, 专名 code) pairs; a division's own name has
    # those without the division stems
    tail = _pair(_codes(named["modifier"]), _codes(named["generic"]))
    whole = _codes(_pair(specific, tail))
    stemmed, bare = ~division[named["shorter_of"]], division[named["bare_of"]]
    owner = np.r_[named["shorter_of"][stemmed], named["bare_of"][bare]]
    form = pd.Index(specifics).get_indexer(np.r_[named["shorter"][stemmed], named["bare"][bare]])
    owner, form = owner[form >= 0], form[form >= 0]
    # the same name: the same 专名, modifier and 通名 in a scope, or one 专名 a shorter form of the other
    same = _linked(_pair(scope_of, whole[name_of]), scope_of, name_of, owner, form, specific, tail)
    flagged = []
    if rules & set(_SINGLE):  # the rules of naming a road: not on gazetteer names, which get the clash rules only
        road = members["layer"].to_numpy() != "place_names"
        of_roads = np.zeros(len(distinct), dtype=bool)
        of_roads[name_of[road]] = True
        results = np.where(road, _single_rules(plain, named, of_roads, local)[name_of], None)
        flagged = _single_name(members, results, local["width_rule"])
    # a group of one normalised name is 重名; one joined by the prefix rule holds several
    duplicates = _groups(same)
    norm = named["norm"][name_of[np.concatenate(duplicates)]] if duplicates else np.zeros(0, dtype=np.int64)
    mixed = _varies(np.repeat(np.arange(len(duplicates)), [len(rows) for rows in duplicates]), norm)
    groups = [("name.duplicate", "error", rows, "仅差地区名或“新”“大”，视为重名" if mixed[start] else "重名")
              for rows, start in zip(duplicates, np.cumsum([0, *map(len, duplicates)]))]
    if "name.same-specific" in rules:
        # the same 专名 (or one a shorter form of the other) held by names that are not all the same name
        kin = _linked(_pair(scope_of, specific[name_of]), scope_of, name_of, owner, form, specific)
        has_specific = (named["specific"] != named["blank"])[name_of]
        several = _varies(kin, same) & has_specific
        kins = _groups(np.where(several, kin, -1), skip=-1)
        held = [np.unique(specifics[specific[name_of[rows]]]) for rows in kins]
        wanted_ids = np.unique(np.concatenate(held)) if held else []
        written = dict(zip(wanted_ids, text(wanted_ids)))  # the texts of just these 专名
        groups += [("name.same-specific", local["same_specific_severity"], rows,
                    _specifics_text([written[i] for i in specific_ids])) for rows, specific_ids in zip(kins, held)]
    if "name.homophone" in rules:
        groups += _homophones(named, name_of, scope_of, same)
    # a proposal and the road it became are one road: a group of just the two is no clash
    one = _entities(members)
    return [g for g in groups if g[0] in rules and len(set(one[g[2]])) > 1], flagged


def index_names(data) -> None:
    """Bring the project's name index up to date, as :func:`check` would first. The one write of
    a check: done before the families run at once, since a writer holds up the others' reads of
    the file (a first check after an import describes every name)."""
    from diming.geonames.name_index import refresh
    from diming.geonames.pinyin import parse_overrides

    refresh(data.project, parse_overrides(data.settings["pinyin_overrides"]), division_names(data))


def division_names(data) -> list[str]:
    """The names of the divisions (the region-name rule), as the name rules read them: kept in
    ``data`` for the rules of one check."""
    return list(data.layer("admin_areas", columns=("name",), geometry=False)["name"])


def _gazetteer(data, only=None):
    """Gazetteer names in use (现今地名): key, name, category and first division code, without
    geometry (read for the few a finding is about, as for roads); ``only``: those carrying one of these names."""
    from diming.geonames.gazetteer_checks import names_of

    names = names_of(data, only)  # None: a project from before the gazetteer
    if names is None:
        return None
    current = (names["in_use"].fillna("current") == "current").to_numpy()
    frame = names.loc[current, ["place_id", "name", "category", "district"]].reset_index(drop=True)
    # a name across divisions (跨行政区) lists their codes; its scope is that of the first
    several = frame["district"].str.contains(",", regex=False).fillna(False).to_numpy(dtype=bool)
    if several.any():  # few do: split just those (a national gazetteer has millions of names)
        frame.loc[several, "district"] = frame.loc[several, "district"].str.split(",", n=1).str[0].str.strip()
    return frame


def _members(data, names=None, narrow=None):
    """Roads in use, open proposals and gazetteer names in use: layer, id, name, scope, whether
    it names a division itself, link (a road's proposal, a proposal's road) and geometry, one row
    each. The scope is the category group and division (geonames.categories). ``names``: only
    those carrying one of these names; ``narrow`` (the name index's :func:`linked` names): only
    the roads that can be in a 重名 group (:func:`_duplicate_roads`)."""
    import numpy as np
    import pandas as pd

    from diming.geonames.categories import DIVISION_CATEGORIES, scope_keys

    def member(layer, key, link, frame):
        kinds = frame["category"].to_numpy(dtype=object) if layer == "place_names" else None
        return pd.DataFrame({"layer": layer, "id": frame[key].to_numpy(dtype=object),
                             "name": frame["name"].to_numpy(dtype=object),
                             "width": frame["width_m"].to_numpy(dtype=float, na_value=float("nan"))
                             if "width_m" in frame else float("nan"),
                             "scope": scope_keys(data.divisions_of(frame, layer), kinds, data.settings),
                             "division": np.isin(kinds, DIVISION_CATEGORIES) if kinds is not None else False,
                             "link": frame[link].to_numpy(dtype=object) if link in frame else None,
                             "geometry": frame.geometry.to_numpy() if "geometry" in frame else None})

    frames = [member(*source) for source in (("road_proposals", "proposal_id", "road_id", data.open_proposals(names)),
                                             ("place_names", "place_id", None, _gazetteer(data, names)))
              if source[3] is not None and len(source[3])]
    # the roads last: which of them can be in a 重名 group depends on the others' names and scopes
    roads = data.roads_in_use(names) if narrow is None \
        else _duplicate_roads(data, pd.concat(frames, ignore_index=True) if frames else None, narrow)
    if len(roads):
        frames.append(member("roads", "road_id", "proposal_id", roads))
    if not frames:
        return pd.DataFrame(columns=["layer", "id", "name", "width", "scope", "division", "link", "geometry"])
    return pd.concat(frames, ignore_index=True)


def _duplicate_roads(data, others, linked: set[str]):
    """The roads in use that can be in a 重名 group, found in SQL (the roads' name index holds
    their name, district and status): a million roads are mostly alone in their scope, and reading
    them is most of the rule's time. A name the index links to no other distinct name (``linked``:
    those it does) is a duplicate only of itself in the same scope, so a road is read if its name
    is linked, if another road has its name and district, or a proposal or gazetteer name of the
    roads' group (``others``) its name and scope; and if its scope is not its district field
    written out (no district: the area it lies in; a code longer than the scope's), every road of
    its name. Every road is read where looking so many up would cost more."""
    import json

    from diming.geonames.categories import DIGITS, STREET, group_of
    from diming.layers.store import connect

    digits = DIGITS[group_of(None, data.settings)[1]]  # of the district code, the roads' scope (None: all of it)
    unscoped_sql = "district IS NULL OR district = ''" + (f" OR length(district) > {digits}" if digits else "")
    con = connect(data.project)
    try:
        roads = con.execute("SELECT coalesce(max(fid), 0) FROM roads").fetchone()[0]  # how many, near enough, unscanned
        # one pass over the index: the names and districts of several roads, and those not making a scope
        groups = con.execute(f"SELECT name, district, {unscoped_sql} FROM roads WHERE status = 'in_use' "
                             f"GROUP BY name, district HAVING count(*) > 1 OR {unscoped_sql}").fetchall()
    finally:
        con.close()
    unscoped = {name for name, _, off in groups if off}
    street = f"{STREET}|"  # scope_keys' key of the roads' group: group|code prefix
    shared = others["scope"].str.startswith(street).to_numpy(dtype=bool) if others is not None else []
    if len(unscoped) + sum(shared) > roads // 4:  # many roads without a district; a gazetteer's millions of villages
        return data.roads_in_use()
    pairs = {(name, district) for name, district, off in groups if not off}
    if len(shared):
        pairs.update((n, k[len(street):]) for n, k in zip(*(others[c].to_numpy(dtype=object)[shared].tolist()
                                                              for c in ("name", "scope"))))
    in_use = "SELECT fid FROM roads WHERE status = 'in_use' AND"
    among = (f"fid IN ({in_use} name IN (SELECT value FROM json_each(?)) "
             f"UNION {in_use} (name, district) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') "
             "FROM json_each(?)))")
    return data.roads_in_use(among=(among, (json.dumps(sorted({*linked, *unscoped}), ensure_ascii=False),
                                            json.dumps(list(pairs), ensure_ascii=False))))


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


def _single_rules(plain, named, of_roads, local):
    """Per distinct name, the findings of the single-name rules (rules.check_name), for the names
    flagged in ``of_roads``: worked out only where the stored description says there may be any
    (not clean, longer than the project's limit, or holding one of its own forbidden words)."""
    import re

    import numpy as np
    import pandas as pd

    from diming.geonames.normalize import normalize
    from diming.geonames.rules import check_name

    suspect = ~named["clean"] | (named["length"] > local["max_length"])
    words = [w for w in map(normalize, local["extra_forbidden"]) if w]
    if words:  # the project's own words: looked for in every normalised name
        norms = pd.Series(named["text"](named["norm"]), dtype=object)
        suspect |= norms.str.contains("|".join(map(re.escape, words))).to_numpy(dtype=bool)
    # () for the many clean names: an empty list each would be a million objects to track
    out = np.empty(len(plain), dtype=object)
    out[:] = [()] * len(plain)
    for i in np.flatnonzero(suspect & of_roads):
        out[i] = check_name(plain[i], max_length=local["max_length"], extra_forbidden=local["extra_forbidden"]) or ()
    return out


def _linked(unit, scope_of, name_of, owner, form, specific, tail=None):
    """Per member, a label shared by the members of ``unit`` (integer keys per member) and of
    every unit linked to it by the prefix rule: a member whose name (distinct name ``owner``) has
    the shorter form ``form`` links to the members, in its scope, whose 专名 is that form (and,
    given ``tail``, whose modifier and 通名 are its own)."""
    import numpy as np
    import pandas as pd

    unit = _codes(unit)
    if not len(owner):
        return unit
    short = pd.DataFrame({"name": owner, "form": form})
    members = pd.DataFrame({"unit": unit, "scope": scope_of, "name": name_of, "specific": specific[name_of]})
    if tail is not None:
        members["tail"] = tail[name_of]
    members = members.drop_duplicates("unit")  # a unit's members share scope, 专名 and tail
    keys = ["scope", "form"] + (["tail"] if tail is not None else [])
    longer = members.merge(short, on="name")[["unit", *keys]]
    edges = longer.merge(members.drop(columns="name").rename(columns={"specific": "form"}), on=keys,
                         suffixes=("", "_to"))
    parent = np.arange(unit.max() + 1)

    def find(u):
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    pairs = set(zip(edges["unit"].tolist(), edges["unit_to"].tolist()))
    for a, b in pairs:
        parent[find(a)] = find(b)
    for u in {u for pair in pairs for u in pair}:  # every linked unit straight to its root
        parent[u] = find(u)
    return parent[unit]


def _specifics_text(held) -> str:
    """The message of a same-specific group holding the 专名 ``held``: 专名 新华 相同, or the 专名 that
    differ only by the prefix rule."""
    held = sorted(set(held), key=lambda s: (len(s), s))
    if len(held) == 1:
        return f"专名 {held[0]} 相同、通名不同"
    return f"专名 {'、'.join(held)} 仅差地区名或“新”“大”、通名不同"


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
    import pandas as pd

    key_of = _codes(keys)
    pairs = pd.unique(_pair(key_of, values))  # a hash of integers: no sort of a million
    distinct = np.bincount(pairs // (int(values.max(initial=0)) + 1), minlength=key_of.max(initial=0) + 1)
    return distinct[key_of] >= 2


def _groups(keys, skip=None) -> list:
    """Positions sharing a key, ascending, for every key held by more than one position (except ``skip``)."""
    import numpy as np

    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    held = np.flatnonzero(sizes > 1)  # most keys are held once: leave those out before looping
    if skip is not None:
        held = held[ordered[starts[held]] != skip]
    return [order[start:start + size] for start, size in zip(starts[held].tolist(), sizes[held].tolist())]


def _columns(data, members, rows):
    """Layer, id, name and geometry of the members, with the geometry of the road and gazetteer
    ``rows`` a finding is about read now (they come without it: see CheckData.roads_in_use)."""
    import numpy as np

    layer, ids, names = (members[c].to_numpy(dtype=object) for c in ("layer", "id", "name"))
    geoms = members["geometry"].to_numpy(dtype=object).copy()
    rows = np.unique(np.asarray(rows, dtype=np.int64))
    for unread in ("roads", "place_names"):
        these = rows[layer[rows] == unread]
        if len(these):
            geoms[these] = data.geometries(unread, ids[these])
    return layer, ids, names, geoms


def _findings(groups, columns) -> list[Finding]:
    """One finding per group ``(rule, severity, rows, message)`` for the features at positions
    ``rows`` of the member ``columns``, the proposal first; the geometry collections made in one call."""
    import numpy as np
    import shapely

    layer, ids, names, geoms = columns
    ordered = [sorted(rows, key=lambda r: (_ORDER[layer[r]], str(ids[r]))) for _, _, rows, _ in groups]
    flat = np.fromiter((r for rows in ordered for r in rows), dtype=np.int64)
    # a missing geometry (None) is left out of its collection
    collections = shapely.geometrycollections(geoms[flat], indices=np.repeat(np.arange(len(ordered)),
                                                                             [len(rows) for rows in ordered])) \
        if len(flat) else []
    out = []
    for (rule, severity, _, message), rows, geometry in zip(groups, ordered, collections):
        first = rows[0]
        listed = "、".join(f"{names[r]} ({ids[r]})" for r in rows)
        out.append(Finding(rule, severity, layer[first], str(ids[first]), names[first], f"{message}: {listed} ({rule})",
                           related=[related(layer[r], ids[r], names[r]) for r in rows[1:]], geometry=geometry))
    return out


def _homophones(named, name_of, scope_of, same) -> list[tuple]:
    """Names sharing a toneless reading within a scope, joined into groups (a name with several
    possible readings links the groups of each); a group fires when it holds names that are not
    already the same name by the duplicate rule (``same``: per member, its duplicate label)."""
    import numpy as np

    from diming.geonames.name_index import fact_lists

    # a unit is one normalised name in one scope; its readings are those of any of its names
    norm = _codes(named["norm"])
    unit_of = _codes(_pair(scope_of, norm[name_of]))
    first = np.unique(unit_of, return_index=True)[1]
    unit_scope, unit_name = scope_of[first], name_of[first]
    # every reading of every distinct name as an integer, flat (by name), then each unit's taken from its name's
    per_name = np.bincount(named["readings_of"], minlength=len(norm))
    flat = _codes(named["readings"])
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
    groups = [rows for rows in _groups(root_of[unit_of], skip=-1) if (same[rows] != same[rows[0]]).any()]
    # the readings all names of a group share, without and with tones (one normalised name, one set of readings)
    held = np.unique(name_of[np.concatenate(groups)]) if groups else np.zeros(0, dtype=np.int64)
    lists = {fact: fact_lists(named, fact, held) for fact in ("readings", "toned")}
    shared = []
    for rows in groups:
        names = set(name_of[rows].tolist())
        shared.append([set.intersection(*(set(lists[fact][n]) for n in names)) for fact in ("readings", "toned")])
    heard = {i for toneless, _ in shared for i in toneless}
    spelt = dict(zip(sorted(heard), named["text"](sorted(heard))))
    return [("name.homophone", "warning", rows,
             f"同音 ({min(spelt[i] for i in toneless) if toneless else '读音相连'}; {'声调也相同' if toned else '声调不同'})")
            for rows, (toneless, toned) in zip(groups, shared)]


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
