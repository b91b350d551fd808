"""Check rules of road signs (路名牌) against the gazetteer, for ``diming check``.

Every rule works on whole columns: one pass over the signs, names normalised only where a sign's
text differs from the stored name, the standard spelling computed once per distinct name, distances
projected only for signs not plainly next to their road (README: national-scale figures). A sign's
latest state is its ``condition`` (which follows its patrol records) and its latest patrol record.
"""
from __future__ import annotations

import re

from diming.findings import Finding, related
from diming.geonames.pinyin import sign
from diming.geonames.wordlists import modifiers

RULES = {
    "sign.wrong-name": "error",
    "sign.wrong-pinyin": "error",
    "sign.cancelled-road": "warning",
    "sign.far-from-road": "warning",
    "sign.damaged": "warning",
    "road.no-sign": "info",  # or warning: setting no_sign_severity
}
# metres in one degree at most (of latitude): a distance in degrees times this bounds the metres
_M_PER_DEG_MAX = 111700.0
_APOSTROPHES = re.compile("[\u2019\u2018\u02bc\u2032`´]")
_SPACES = re.compile(r"\s+")


_ROADS = ("road_id", "name", "status", "former_names", "proposal_id", "district")


def check(data, rules=frozenset(RULES), *, signs=None) -> list[Finding]:
    """The chosen ``rules``; ``signs``: only the rules of each sign (not ``road.no-sign``), for the
    signs with these ids (``diming check --changed`` after edits of a few signs or roads)."""
    import json

    only = None if signs is None else json.dumps(sorted(signs), ensure_ascii=False)
    signs = data.layer("road_signs", *(() if only is None else ("sign_id IN (SELECT value FROM json_each(?))", (only,))),
                       columns=("sign_id", "road_id", "text", "pinyin", "condition"))
    if not len(signs):
        return []
    if only is None:
        roads = data.layer("roads", columns=_ROADS, geometry=False)
    else:  # the roads of these signs
        roads = data.layer("roads", "road_id IN (SELECT value FROM json_each(?))",
                           (json.dumps(sorted(set(signs["road_id"].dropna())), ensure_ascii=False),),
                           columns=_ROADS, geometry=False)
        rules = rules - {"road.no-sign"}
    signs = signs.reset_index(drop=True)
    road_at = roads.reset_index(drop=True).reset_index().set_index("road_id")["index"]
    index = signs["road_id"].map(road_at)
    known = index.notna().to_numpy()
    signs, index = signs[known].reset_index(drop=True), index[known].astype(int).to_numpy()
    wanted = rules
    out = []
    if wanted & {"sign.wrong-name", "sign.wrong-pinyin", "sign.cancelled-road"}:
        out += _names(data, signs, roads, index)
    if "sign.far-from-road" in wanted:
        out += _far(data, signs, roads, index)
    if "sign.damaged" in wanted:
        out += _damaged(data, signs, roads, only)
    if "road.no-sign" in wanted:
        out += _no_sign(data, signs, roads)
    return out


def _column(frame, name):
    return frame[name].to_numpy(dtype=object)


def _each(func, values):
    """``func`` of every value, computed once per distinct value (None stays None)."""
    import pandas as pd

    series = pd.Series(values, dtype=object)
    table = {v: func(v) for v in series.dropna().unique()}
    # map() gives NaN where there is no value (a sign without pinyin): None, as documented
    return series.map(table).astype(object).where(series.notna(), None).to_numpy(dtype=object)


def _names(data, signs, roads, index) -> list[Finding]:
    """sign.wrong-name, sign.cancelled-road and sign.wrong-pinyin, per sign of a known road."""
    import numpy as np

    from diming.geonames.normalize import normalize
    from diming.geonames.pinyin import parse_overrides

    overrides = parse_overrides(data.settings["pinyin_overrides"])
    flags = _ordinal_flags(data, roads)[index]
    road_ids, road_names, statuses, former = (_column(roads, c)[index]
                                              for c in ("road_id", "name", "status", "former_names"))
    ids, texts, pinyins, conditions = (_column(signs, c) for c in ("sign_id", "text", "pinyin", "condition"))
    geoms = signs.geometry.values
    standing = conditions != "缺失"
    cancelled = statuses == "cancelled"
    out = []

    def finding(rule, i, message):
        out.append(Finding(rule, RULES[rule], "road_signs", ids[i], texts[i], message,
                           [related("roads", road_ids[i], road_names[i])], geoms[i]))

    for i in np.flatnonzero(cancelled & standing):
        finding("sign.cancelled-road", i, f"路牌 {ids[i]} 所属道路 {road_names[i]} 已销名, 路牌仍在 (sign.cancelled-road)")
    # a text written as the name is stored is right: only the others need normalising
    differ = np.flatnonzero(~cancelled & (texts != road_names) & np.array([isinstance(t, str) for t in texts], dtype=bool))
    got = np.full(len(texts), None, dtype=object)
    got[differ] = _each(lambda t: normalize(t) or None, texts[differ])
    wrong = np.zeros(len(texts), dtype=bool)
    wrong[differ] = (got[differ] != None) & (got[differ] != _each(normalize, road_names[differ]))  # noqa: E711
    for i in np.flatnonzero(wrong):
        old = {normalize(n) for n in former[i].split("、")} if isinstance(former[i], str) else set()
        if got[i] in old:
            if standing[i]:
                finding("sign.cancelled-road", i, f"路牌 {ids[i]} 仍为更名前的旧名 {texts[i]}, 现名 {road_names[i]} "
                                                  "(sign.cancelled-road)")
        else:
            finding("sign.wrong-name", i, f"路牌 {ids[i]} 牌面名称 {texts[i]} 与标准名称 {road_names[i]} 不符 "
                                          "(sign.wrong-name)")
    if "sign.wrong-pinyin" not in data.rules:
        return out
    shown = _each(lambda p: _SPACES.sub(" ", _APOSTROPHES.sub("'", p)).strip() or None, pinyins)
    spelled = np.flatnonzero(~cancelled & ~wrong & (shown != None))  # noqa: E711
    keys = list(zip(road_names[spelled], flags[spelled]))
    spellings = {key: _expected(key[0], overrides, key[1]) for key in dict.fromkeys(keys)}
    for i, key in zip(spelled, keys):
        expected = spellings[key]
        if shown[i] not in expected:
            finding("sign.wrong-pinyin", i, f"路牌 {ids[i]} 拼音 {pinyins[i].strip()} 应为 {' 或 '.join(expected)}: "
                                            f"{_why(shown[i], expected[0])} (sign.wrong-pinyin)")
    return out


def _ordinal_flags(data, roads):
    """Per road: True when its proposal flagged the numeral as an ordinal, False when it said
    cardinal, None when nobody said (both spellings are then accepted)."""
    import numpy as np
    import pandas as pd

    flags = np.full(len(roads), None, dtype=object)
    with_proposal = roads["proposal_id"].notna().to_numpy()
    if with_proposal.any():
        proposals = data.layer("road_proposals", columns=("proposal_id", "ordinal"), geometry=False)
        by_key = dict(zip(proposals.proposal_id, proposals.ordinal))
        keys = _column(roads, "proposal_id")
        for i in np.flatnonzero(with_proposal):
            value = by_key.get(keys[i])
            flags[i] = None if value is None or pd.isna(value) else bool(value)
    return flags


def _expected(name, overrides, ordinal) -> tuple[str, ...]:
    """The sign spellings accepted for ``name``: both readings of a numeral nobody flagged (a name
    without a numeral character has one; which numeral is a modifier is for :func:`sign` to say)."""
    kinds = modifiers()
    if ordinal is not None or not any(kinds.get(ch) == "ordinal" for ch in name):
        return (sign(name, overrides, ordinal=bool(ordinal)),)
    return tuple(dict.fromkeys((sign(name, overrides), sign(name, overrides, ordinal=True))))


def _why(shown: str, expected: str) -> str:
    """What differs between the sign's pinyin and the standard sign spelling, in words."""
    def letters(text):
        return re.sub(r"[\s']", "", text).upper()

    if shown.upper() == expected:
        return "路牌上应全用大写字母"
    if letters(shown) != letters(expected):
        return "拼写有误"
    if shown.upper().replace("'", "") == expected.replace("'", ""):
        return "隔音符号 ' 缺失或多余"
    return "专名与通名应分写, 单音节修饰词与通名连写"


def _far(data, signs, roads, index) -> list[Finding]:
    """sign.far-from-road: metres from the sign to its road's line in the sign's GK zone above
    ``sign_road_tolerance_m``. Distances in degrees screen out the signs plainly within it."""
    import numpy as np
    import shapely

    from diming.layers.crs import feature_epsgs, project

    tolerance = data.settings["sign_road_tolerance_m"]
    if len(signs) > max(len(roads) // 10, 10_000):  # a scan of the layer beats a million key look-ups
        every = data.layer("roads", columns=("road_id",))
        position = dict(zip(every.road_id, range(len(every))))
        lines = every.geometry.values[[position[r] for r in _column(roads, "road_id")[index]]]
    else:
        lines = np.array(data.geometries("roads", _column(roads, "road_id")[index]), dtype=object)
    points = signs.geometry.values
    ok = ~shapely.is_missing(lines) & ~shapely.is_missing(points)
    degrees = np.full(len(points), np.nan)
    degrees[ok] = shapely.distance(points[ok], lines[ok])
    # within the tolerance whatever the latitude: no need to project
    maybe = np.flatnonzero(ok & (degrees * _M_PER_DEG_MAX > tolerance))
    if not len(maybe):
        return []
    epsgs = feature_epsgs(points[maybe])
    metres = shapely.distance(project(points[maybe], epsgs), project(lines[maybe], epsgs))
    far = maybe[metres > tolerance]
    metres = metres[metres > tolerance]
    names = _column(roads, "name")[index]
    ids, texts = _column(signs, "sign_id"), _column(signs, "text")
    out = []
    for i, m in zip(far, metres):
        out.append(Finding("sign.far-from-road", "warning", "road_signs", ids[i], texts[i],
                           f"路牌 {ids[i]} 距所属道路 {names[i]} {m:,.0f} 米, 超过容差 {tolerance:g} 米 "
                           "(sign.far-from-road)", [related("roads", roads["road_id"].iat[index[i]], names[i])],
                           shapely.shortest_line(points[i], lines[i]), {"distance_m": round(float(m), 1)}))
    return out


def _damaged(data, signs, roads, only=None) -> list[Finding]:
    """sign.damaged: a sign whose latest patrol record found it not 完好 and records no repair:
    neither done on the spot (清洗, 扶正) nor fixed since (``diming sign fixed``, or a later 完好).
    ``only``: the records of these signs only (JSON list of ids)."""
    from diming.geonames.signs import SPOT_ACTIONS

    records = data.layer("sign_patrol_records", "condition IS NOT NULL", ()) if only is None else \
        data.layer("sign_patrol_records", "condition IS NOT NULL AND sign_id IN (SELECT value FROM json_each(?))", (only,))
    if not len(records):
        return []
    latest = records.sort_values(["patrolled_on", "record_id"]).groupby("sign_id").tail(1)
    open_ = latest[(latest.condition != "完好") & latest.fixed_on.isna() & ~latest.action.isin(SPOT_ACTIONS)]
    at = dict(zip(signs.sign_id, range(len(signs))))
    road_names = dict(zip(roads.road_id, roads.name))
    texts, geoms, road_ids = _column(signs, "text"), signs.geometry.values, _column(signs, "road_id")
    out = []
    for r in open_.itertuples():
        i = at.get(r.sign_id)
        if i is None:
            continue
        action = r.action if isinstance(r.action, str) else "未处理"
        out.append(Finding("sign.damaged", "warning", "road_signs", r.sign_id, texts[i],
                           f"路牌 {r.sign_id} {r.patrolled_on} 巡查为{r.condition} ({action}), 尚无修复记录 "
                           "(sign.damaged)", [related("roads", road_ids[i], road_names.get(road_ids[i]))], geoms[i]))
    return out


def _no_sign(data, signs, roads, registered=None) -> list[Finding]:
    """road.no-sign (有名无牌): a road in use without a standing sign, in a county that keeps a sign
    register (has registered any sign): a project or county without signs is not flooded.
    ``registered``: the counties known to keep one (else those of the ``signs``' roads)."""
    import numpy as np

    severity = data.settings["no_sign_severity"]
    in_use = roads[roads.status == "in_use"]
    county = in_use["district"].fillna("").str[:6]
    if registered is None:
        registered = county[in_use.road_id.isin(signs.road_id)].unique()
    standing = in_use.road_id.isin(signs.road_id[signs.condition != "缺失"])
    lacking = np.flatnonzero((county.isin(registered) & ~standing).to_numpy())
    ids = _column(in_use, "road_id")
    if not len(lacking):
        return []
    geoms = data.geometries("roads", ids[lacking])
    names = _column(in_use, "name")
    return [Finding("road.no-sign", severity, "roads", ids[i], names[i],
                    f"道路 {names[i]} 有名无牌: 没有立着的路名牌 (road.no-sign)", [], geom)
            for i, geom in zip(lacking, geoms)]
