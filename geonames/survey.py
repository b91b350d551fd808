"""The abnormal-roads survey (异常道路摸排): survey lines (``road_survey``, roads as found on the
ground) matched to the gazetteer, each abnormality classified under a stable code, and the
rectification register (整治台账) that follows each one until it is closed.

Codes: ``survey.unnamed`` 有路无名, ``survey.many-names`` 一路多名, ``survey.split-name`` 一名多路,
``survey.generic-mismatch`` 名不副实, ``survey.unapproved-name`` 擅自命名, and from the sign register
``road.no-sign`` 有名无牌 and ``sign.wrong-name`` 牌名不符 (the rules of :mod:`diming.geonames.sign_checks`).

A survey line lies on a named road where it runs within ``survey_tolerance_m`` of it for more than
``survey_min_length_m`` (crossing streets share less); every length and distance is measured in the
Gauss-Krüger zone of the survey line. Everything is computed on whole columns (STRtree, shapely 2).
"""
from __future__ import annotations

import datetime as dt
import json
import re

from diming.errors import DimingError

SURVEY_CODES = ("survey.unnamed", "survey.many-names", "survey.split-name", "survey.generic-mismatch",
                "survey.unapproved-name")
SIGN_CODES = ("road.no-sign", "sign.wrong-name")
CODES = SURVEY_CODES + SIGN_CODES
# 名不副实 by road class: a lane's 通名 on a main road, a grand 通名 on a lane
LANE_GENERICS = ("巷", "胡同", "弄", "里")
GRAND_GENERICS = ("大道", "大街")
MAIN_CLASSES = ("快速路", "主干路", "次干路")
MINOR_CLASSES = ("支路", "街巷")
OPEN_STATUSES = ("待整治", "整治中")
_NAME_SEPARATORS = re.compile(r"[、,，;；/|]")


def observed(text) -> list[str]:
    """The names observed on a survey line (``observed_names``, separated by 、 , ; /), normalised."""
    from diming.geonames.normalize import normalize

    if not isinstance(text, str):
        return []
    return list(dict.fromkeys(n for n in (normalize(p) for p in _NAME_SEPARATORS.split(text)) if n))


def _degrees(metres: float) -> float:
    # a search box only: generous at every latitude in China (1° of longitude ≥ 60 km up to 57°N)
    return metres / 60000.0


def classify(project) -> list[dict]:
    """Every abnormality found now: ``{"code", "keys", "name", "district", "description",
    "geometry"}`` (keys: the features involved as ``layer:id``, sorted; geometry in EPSG:4490)."""
    from diming.check import CheckData

    data = CheckData(project)
    return _survey(data) + _signs(project)


def _signs(project) -> list[dict]:
    """有名无牌 and 牌名不符: the findings of the sign rules, with the division of their road."""
    from diming.check import run_check
    from diming.layers.store import read_layer

    findings = [f for f in run_check(project, list(SIGN_CODES)) if not f.accepted]
    if not findings:
        return []
    roads = read_layer(project, "roads", columns=["road_id", "district"], geometry=False)
    district = dict(zip(roads.road_id, roads.district.fillna("")))
    out = []
    for f in findings:
        road_id = f.id if f.layer == "roads" else next(r["id"] for r in f.related if r["layer"] == "roads")
        out.append({"code": f.rule, "keys": f.keys, "name": f.name, "district": district.get(road_id, ""),
                    "description": f.message, "geometry": f.geometry, "length_m": None})
    return out


def _each(func, values) -> list:
    """``func`` of every value, computed once per distinct value."""
    table = {v: func(v) for v in dict.fromkeys(values)}
    return [table[v] for v in values]


def _survey(data) -> list[dict]:
    import numpy as np
    import shapely

    from diming.geonames.normalize import normalize
    from diming.layers.crs import feature_epsgs, project

    lines = data.layer("road_survey")
    lines = lines[~shapely.is_missing(lines.geometry.values)].reset_index(drop=True)
    if not len(lines):
        return []
    s = data.settings
    tolerance, minimum = s["survey_tolerance_m"], s["survey_min_length_m"]
    geoms = lines.geometry.values
    epsgs = feature_epsgs(geoms)
    metric = project(geoms, epsgs)
    length = shapely.length(metric)
    districts = data.divisions_of(lines, "road_survey")

    # the stretch of each survey line within the tolerance of each named road near it
    pad = _degrees(tolerance)
    bounds = shapely.bounds(geoms)
    roads = data.roads_near(shapely.box(bounds[:, 0] - pad, bounds[:, 1] - pad, bounds[:, 2] + pad, bounds[:, 3] + pad))
    roads = roads[~shapely.is_missing(roads.geometry.values)].reset_index(drop=True)
    p = q = np.empty(0, dtype=int)
    near = np.empty(0, dtype=object)
    shared = np.empty(0)
    if len(roads):
        # exact distance in degrees (generous everywhere in China) before any buffer is built
        p, q = shapely.STRtree(roads.geometry.values).query(geoms, predicate="dwithin", distance=_degrees(tolerance))
        # flat ends and bevelled joints: the band only needs to be the tolerance wide along the road
        near = shapely.buffer(project(roads.geometry.values[q], epsgs[p]), tolerance, quad_segs=1, cap_style="flat",
                              join_style="bevel")
        shared = shapely.length(shapely.intersection(metric[p], near))
        on = shared > np.minimum(minimum, length[p] / 2.0)  # a short survey line counts where it lies
        p, q, near, shared = p[on], q[on], near[on], shared[on]
    covered = np.minimum(length, np.bincount(p, weights=shared, minlength=len(lines)))

    road_ids = roads["road_id"].to_numpy(dtype=object) if len(roads) else np.empty(0, dtype=object)
    road_names = roads["name"].to_numpy(dtype=object) if len(roads) else np.empty(0, dtype=object)
    norm_road = np.array(_each(normalize, list(road_names)), dtype=object)
    on_roads: dict[int, list[int]] = {}
    for i, j in zip(p.tolist(), q.tolist()):
        on_roads.setdefault(i, []).append(j)
    ids = lines["survey_id"].to_numpy(dtype=object)
    seen = _each(observed, list(lines["observed_names"]))
    out = []

    def add(code, i, name, description, extra_keys=(), geometry=None, length_m=None):
        keys = sorted({f"road_survey:{ids[i]}", *extra_keys})
        out.append({"code": code, "keys": keys, "name": name, "district": districts[i], "description": description,
                    "geometry": geoms[i] if geometry is None else geometry, "length_m": length_m})

    # 有路无名: what is left of the line once the band of every named road on it is taken away
    limit = s["survey_unnamed_length_m"]
    unnamed = np.flatnonzero(length - covered > limit)
    stretch = metric[unnamed].copy()
    pair_of = {i: [] for i in unnamed.tolist()}
    for k, i in enumerate(p.tolist()):
        if i in pair_of:
            pair_of[i].append(k)
    for rank in range(max((len(v) for v in pair_of.values()), default=0)):  # one vectorised cut per rank
        rows = [r for r, i in enumerate(unnamed.tolist()) if len(pair_of[i]) > rank]
        stretch[rows] = shapely.difference(stretch[rows], near[[pair_of[unnamed[r]][rank] for r in rows]])
    metres = shapely.length(stretch)
    back = project(stretch, epsgs[unnamed], inverse=True)
    for r in np.flatnonzero(metres > limit):
        i = unnamed[r]
        add("survey.unnamed", i, "、".join(seen[i]) or None,
            f"摸排道路 {ids[i]} 有 {metres[r]:,.0f} 米不在任何已命名道路上 (有路无名)",
            geometry=back[r], length_m=round(float(metres[r]), 1))

    gazetteer = _standard_names(data, {n for names in seen for n in names})
    for i in range(len(lines)):
        matched = on_roads.get(i, ())
        if not seen[i] and len(matched) < 2:
            continue
        names = dict.fromkeys([norm_road[j] for j in matched] + seen[i])
        # 一路多名: more than one name along the road or on the ground
        if len(names) > 1:
            listed = "、".join(sorted(names))  # sorted: the record's identity must not depend on search order
            add("survey.many-names", i, listed, f"摸排道路 {ids[i]} 有多个名称: {listed} (一路多名)",
                [f"roads:{road_ids[j]}" for j in matched])
        # 擅自命名: a name on the ground that is not a standard name
        for name in seen[i]:
            if name not in gazetteer:
                add("survey.unapproved-name", i, name, f"摸排道路 {ids[i]} 现场使用的名称 {name} 不是标准地名 (擅自命名)",
                    [f"roads:{road_ids[j]}" for j in matched])
    _generic_mismatch(data, lines, ids, seen, on_roads, roads, road_names, add)
    out += _split_names(data, lines, ids, seen, on_roads, road_ids, norm_road, districts, epsgs)
    return out


def _standard_names(data, wanted: set) -> set:
    """Those of the normalised names ``wanted`` that are names of roads in use. Gazetteer names are
    nearly always stored in their normal form: a name not found as stored can only be one whose
    stored form has a character that normalising changes, so only those names are normalised."""
    from diming.geonames.normalize import normalize

    stored = set(data.roads_in_use()["name"])
    found = wanted & stored
    if found != wanted:
        unstable = {ch for ch in {ch for n in stored for ch in n} if normalize(ch) != ch}
        found |= wanted & {normalize(n) for n in stored if not unstable.isdisjoint(n)}
    return found


def _generic_mismatch(data, lines, ids, seen, on_roads, roads, road_names, add) -> None:
    """名不副实: the 通名 of a name on the road against the road class, or the local width rule.
    Only lines with a class, or a width (their own or their road's) under a width rule, are looked at."""
    import numpy as np
    import pandas as pd

    from diming.geonames.parts import split_name
    from diming.geonames.rules import check_width, parse_width_rule

    table = parse_width_rule(data.settings["generic_width_rule"])
    classes, widths = lines["road_class"].to_numpy(dtype=object), lines["width_m"].to_numpy(dtype=float)
    road_widths = roads["width_m"].to_numpy(dtype=float) if len(roads) else np.empty(0)
    wide = ~np.isnan(widths)
    if table:
        wide |= np.array([any(not np.isnan(road_widths[j]) for j in on_roads.get(i, ())) for i in range(len(lines))],
                         dtype=bool)
    for i in np.flatnonzero(pd.notna(classes) | (wide if table else False)):
        matched = on_roads.get(i, [])
        names = dict.fromkeys([road_names[j] for j in matched] + seen[i])
        width = widths[i] if not np.isnan(widths[i]) else next(
            (road_widths[j] for j in matched if not np.isnan(road_widths[j])), None)
        for name in names:
            generic = split_name(name)[2]
            why = None
            if classes[i] in MAIN_CLASSES and generic in LANE_GENERICS:
                why = f"{classes[i]}不宜用通名 {generic}"
            elif classes[i] in MINOR_CLASSES and generic in GRAND_GENERICS:
                why = f"{classes[i]}不宜用通名 {generic}"
            elif width is not None:
                found = check_width(name, float(width), table)
                why = found[0]["message"] if found else None
            if why:
                add("survey.generic-mismatch", i, name, f"摸排道路 {ids[i]} 名称 {name}: {why} (名不副实)",
                    [f"roads:{roads['road_id'].iat[j]}" for j in matched if road_names[j] == name])


def _split_names(data, lines, ids, seen, on_roads, road_ids, norm_road, districts, epsgs) -> list[dict]:
    """一名多路: one name, in one county, on survey lines that fall into groups more than
    ``survey_split_distance_m`` apart (lines within that distance of each other are one road).

    One STRtree over every survey line gives the pairs that may be that close (in degrees, with a
    margin); their distance is then measured in metres, in the zone of the first line of each pair."""
    import shapely

    from diming.layers.crs import project

    apart = data.settings["survey_split_distance_m"]
    carriers: dict[tuple, list[int]] = {}
    for i in range(len(lines)):
        for name in dict.fromkeys([norm_road[j] for j in on_roads.get(i, ())] + seen[i]):
            carriers.setdefault((str(districts[i])[:6], name), []).append(i)
    groups = {key: members for key, members in carriers.items() if len(members) > 1}
    if not groups:
        return []
    geoms = lines.geometry.values
    a, b = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=_degrees(apart))
    keep = a < b
    a, b = a[keep], b[keep]
    close = shapely.distance(project(geoms[a], epsgs[a]), project(geoms[b], epsgs[a])) <= apart
    neighbours: dict[int, set] = {}
    for x, y in zip(a[close].tolist(), b[close].tolist()):
        neighbours.setdefault(x, set()).add(y)
    out = []
    for (county, name), members in sorted(groups.items()):
        index = {m: k for k, m in enumerate(members)}
        edges = [(index[x], index[y]) for x in members for y in neighbours.get(x, ()) if y in index]
        parts = len(set(_components(len(members), [e[0] for e in edges], [e[1] for e in edges])))
        if parts < 2:
            continue
        keys = {f"road_survey:{ids[i]}" for i in members}
        keys |= {f"roads:{road_ids[j]}" for i in members for j in on_roads.get(i, ()) if norm_road[j] == name}
        out.append({"code": "survey.split-name", "keys": sorted(keys), "name": name, "district": districts[members[0]],
                    "description": f"{name} 用于 {parts} 处相隔超过 {apart:g} 米的道路: "
                                   f"{'、'.join(ids[i] for i in members)} (一名多路)",
                    "geometry": shapely.union_all(geoms[members]), "length_m": None})
    return out


def _components(n: int, a, b) -> list[int]:
    """Connected components of ``n`` nodes with edges a[k]–b[k] (union-find)."""
    parent = list(range(n))

    def root(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for x, y in zip(a, b):
        parent[root(int(x))] = root(int(y))
    return [root(x) for x in range(n)]


# --- the rectification register (整治台账) -------------------------------------------------------

def _identity(record) -> tuple:
    keys = record["keys"] if isinstance(record["keys"], list) else json.loads(record["keys"])
    name = record.get("name")
    return record["code"], tuple(sorted(keys)), name if isinstance(name, str) else ""


def run_survey(project, *, by=None, today=None) -> dict:
    """Classify now and bring the register up to date in one audited transaction: a new
    abnormality gets a record (待整治); an open record whose abnormality is no longer found is
    closed (已整治, ``closed_on`` today). Returns ``{"abnormalities", "added", "closed", "open"}``."""
    from diming.layers.store import read_layer, transaction

    today = today or dt.date.today()
    found = classify(project)
    register = read_layer(project, "road_rectifications")
    known = {_identity(r): r for r in register.to_dict("records")}
    current = {_identity(a) for a in found}
    added = closed = 0
    with transaction(project, by=by) as tx:
        numbers = [int(k[3:]) for k in tx.keys("road_rectifications") if k.startswith("YC-") and k[3:].isdigit()]
        n = max(numbers, default=0)
        for a in found:
            if _identity(a) in known:
                a["rectification_id"] = known[_identity(a)]["rectification_id"]
                continue
            n += 1
            a["rectification_id"] = f"YC-{n:04d}"
            tx.insert("road_rectifications", [{
                "rectification_id": a["rectification_id"], "code": a["code"],
                "keys": json.dumps(a["keys"], ensure_ascii=False), "name": a["name"], "district": a["district"] or None,
                "description": a["description"], "found_on": today.isoformat(), "status": "待整治"}],
                action="survey", note="异常道路摸排")
            known[_identity(a)] = {"rectification_id": a["rectification_id"]}
            added += 1
        for identity, r in known.items():
            if identity not in current and r.get("status") in OPEN_STATUSES:
                tx.update("road_rectifications", r["rectification_id"],
                          {"status": "已整治", "closed_on": today.isoformat()}, action="survey",
                          note="复查未再发现 (no longer found by the survey)")
                closed += 1
    open_count = sum(1 for r in read_layer(project, "road_rectifications").status if r in OPEN_STATUSES)
    return {"abnormalities": found, "added": added, "closed": closed, "open": open_count}


def update_rectification(project, rectification_id: str, *, status=None, reason=None, unit=None, due_on=None,
                         action=None, notes=None, on=None, by=None) -> dict:
    """Record the progress of one abnormality's rectification (audited). 不需整治 needs its
    ``reason``, 已整治 the ``action`` taken; both set ``closed_on`` (``on`` or today)."""
    from diming.geonames.proposals import parse_date
    from diming.layers.schema import RECTIFY_ACTIONS, RECTIFY_STATUSES
    from diming.layers.store import transaction

    if status is not None and status not in RECTIFY_STATUSES:
        raise DimingError(f"整治状态: 未知值 {status!r}; 可选 {'、'.join(RECTIFY_STATUSES)}")
    if action is not None and action not in RECTIFY_ACTIONS:
        raise DimingError(f"整治措施: 未知值 {action!r}; 可选 {'、'.join(RECTIFY_ACTIONS)}")
    changes = {k: v for k, v in (("status", status), ("reason", reason), ("unit", unit), ("action", action),
                                 ("notes", notes)) if v is not None}
    if due_on is not None:
        changes["due_on"] = parse_date(due_on, "整治期限").isoformat()
    if not changes:
        raise DimingError(f"{rectification_id}: 没有要更新的内容 (give --status, --unit, --due, --action …)")
    with transaction(project, by=by) as tx:
        record = tx.get("road_rectifications", rectification_id)
        if record is None:
            raise DimingError(f"没有编号为 {rectification_id} 的整治台账 (no such record)")
        merged = {**record, **changes}
        if merged["status"] == "不需整治" and not merged.get("reason"):
            raise DimingError(f"{rectification_id}: 不需整治须说明理由 --reason")
        if merged["status"] == "已整治" and not merged.get("action"):
            raise DimingError(f"{rectification_id}: 已整治须写明整治措施 --action (命名、更名、设牌、改牌、注销)")
        if merged["status"] in ("已整治", "不需整治") and record["status"] != merged["status"]:
            changes["closed_on"] = (parse_date(on, "完成日期") if on else dt.date.today()).isoformat()
        elif merged["status"] in OPEN_STATUSES:
            changes["closed_on"] = None
        tx.update("road_rectifications", rectification_id, changes, action="rectify",
                  note=f"整治台账: {merged['status']}")
        return tx.get("road_rectifications", rectification_id)


def register(project, *, status=None, district=None) -> list[dict]:
    """The register's records (keys decoded), optionally of one status or division (code prefix)."""
    from diming.geonames.proposals import plain
    from diming.layers.store import read_layer

    frame = read_layer(project, "road_rectifications")
    out = []
    for r in frame.to_dict("records"):
        r = {k: plain(v) for k, v in r.items()}
        if (status and r["status"] != status) or (district and not str(r["district"] or "").startswith(district)):
            continue
        r["keys"] = json.loads(r["keys"])
        out.append(r)
    return out
