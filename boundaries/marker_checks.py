"""Checks of boundary markers (界桩): on their line, on a known line, numbered by the pattern
setting (default GB/T 17796: line code + 3-digit sequence + type letter), unique, without gaps.
"""
from __future__ import annotations

import re

from diming.findings import Finding, related
from diming.layers.settings import marker_pattern

RULES = {"marker.off-line": "error", "marker.unknown-line": "error", "marker.duplicate-id": "error",
         "marker.bad-id": "warning", "marker.sequence-gap": "warning"}

# GB/T 17796 type letters: Q single; A/B twin markers of one number; C/D/E triple markers
TYPE_LETTERS = {"Q": "单立", "A": "同号双立", "B": "同号双立", "C": "同号三立", "D": "同号三立", "E": "同号三立"}


NUMBERING = frozenset({"marker.bad-id", "marker.duplicate-id", "marker.sequence-gap"})  # rules that parse the ids


def check(data, rules=frozenset(RULES)) -> list[Finding]:
    markers = _columns(data.layer("boundary_markers", columns=("marker_id", "line_id", "marker_type")),
                       "marker_id", "line_id", "marker_type")
    lines = _columns(data.layer("boundary_lines"), "line_id", "name")
    pattern = marker_pattern(data.settings["marker_id_pattern"])
    parsed = {}
    bad = []  # the numbers are parsed for each numbering rule whether or not marker.bad-id is asked for
    for mid, mtype, geom in zip(markers["marker_id"], markers["marker_type"], markers["geometry"]) \
            if rules & NUMBERING else ():
        m = pattern.fullmatch(mid.strip())
        if not m:
            bad.append(Finding("marker.bad-id", "warning", "boundary_markers", mid, None,
                               f"界桩编号 {mid} 不符合编号格式 {pattern.pattern} (marker.bad-id)", geometry=geom))
            continue
        parts = m.groupdict()
        parsed[mid] = parts
        letter = parts.get("type")
        if letter and isinstance(mtype, str) and TYPE_LETTERS.get(letter.upper(), mtype) != mtype:
            bad.append(Finding("marker.bad-id", "warning", "boundary_markers", mid, None,
                               f"界桩编号 {mid} 的类型字母 {letter} 与界桩类型 {mtype} 不符 (marker.bad-id)",
                               geometry=geom))
    out = bad if "marker.bad-id" in rules else []
    if "marker.duplicate-id" in rules:
        out += _duplicates(markers, parsed)
    if rules & {"marker.unknown-line", "marker.off-line"}:
        out += _unknown_and_off_line(markers, lines, data.settings["marker_tolerance_m"], rules)
    if "marker.sequence-gap" in rules:
        out += _sequence_gaps(markers, lines, parsed)
    return out


def _columns(frame, *names) -> dict:
    # plain numpy columns: iterating pandas' object arrays costs more than the checks themselves
    out = {n: frame[n].to_numpy(dtype=object) for n in names}
    out["geometry"] = frame.geometry.to_numpy()
    return out


def _duplicates(markers, parsed) -> list[Finding]:
    """One finding per number used twice: the same id written differently (case, spaces), or one
    line and sequence number used by markers whose type letters do not make a twin or triple set."""
    import shapely

    geom_of = dict(zip(markers["marker_id"], markers["geometry"]))
    groups: dict[tuple, list[str]] = {}
    for mid in markers["marker_id"]:
        groups.setdefault(_id_key(mid), []).append(mid)
    for mid, parts in parsed.items():
        if "seq" in parts:
            groups.setdefault(_seq_key(parts), []).append(mid)
    out, seen = [], set()
    for key, ids in groups.items():
        ids = sorted(set(ids))
        if len(ids) < 2 or tuple(ids) in seen:
            continue
        if key[0] == "seq":
            letters = {(parsed[i].get("type") or "").upper() for i in ids}
            if letters <= set("AB") or letters <= set("CDE"):
                continue  # 同号双立 / 同号三立: one number, several markers, by design
        seen.add(tuple(ids))
        out.append(Finding("marker.duplicate-id", "error", "boundary_markers", ids[0], None,
                           f"界桩编号重复: {'、'.join(ids)} (marker.duplicate-id)",
                           related=[related("boundary_markers", i) for i in ids[1:]],
                           geometry=shapely.MultiPoint([geom_of[i] for i in ids if geom_of[i] is not None])))
    return out


# What marker.duplicate-id compares a marker's id by: the id written without spaces in capitals,
# and, for an id matching the pattern, the line and sequence number it gives. Two markers clash
# when they share a key, whatever line they are registered on.
_SPACE = re.compile(r"\s+")


def _id_key(mid: str) -> tuple:
    return ("id", _SPACE.sub("", mid).upper())


def _seq_key(parts: dict) -> tuple:
    return ("seq", parts.get("line"), parts["seq"])


def clash_keys(mid: str, pattern: re.Pattern) -> set[tuple]:
    """The keys marker.duplicate-id compares id ``mid`` by (``pattern``: the compiled ``marker_id_pattern``)."""
    m = pattern.fullmatch(mid.strip())
    parts = m.groupdict() if m else {}
    return {_id_key(mid), _seq_key(parts)} if "seq" in parts else {_id_key(mid)}


def may_clash(keys) -> tuple[str, list]:
    """An SQL condition on ``boundary_markers`` (and its parameters) true for every marker that
    may have one of ``keys`` (:func:`clash_keys`), and for few others; each key is one more term,
    so this is for a few keys. ``upper()`` folds an id as Python does only within printable ASCII,
    so an id with any other character (a space, 全角, ß …) is always taken; a line and sequence
    number are parts of the id, so an id holding both (``instr``). The exact keys of the ids it
    selects then decide."""
    import json

    ids = sorted(k[1] for k in keys if k[0] == "id")
    numbers = sorted({(k[1] or "", k[2] or "") for k in keys if k[0] == "seq"})
    terms = ["upper(marker_id) IN (SELECT value FROM json_each(?))", "marker_id GLOB '*[^!-~]*'",
             *["(instr(marker_id, ?) AND instr(marker_id, ?))"] * len(numbers)]
    return " OR ".join(terms), [json.dumps(ids, ensure_ascii=False), *(v for pair in numbers for v in pair)]


def _unknown_and_off_line(markers, lines, tolerance, rules=frozenset(RULES)) -> list[Finding]:
    import numpy as np
    import shapely

    from diming.layers.crs import feature_epsgs, project

    line_of = dict(zip(lines["line_id"], lines["geometry"]))
    name_of = dict(zip(lines["line_id"], lines["name"]))
    line_geoms = np.array([line_of.get(k) for k in markers["line_id"]], dtype=object)
    unknown = np.array([g is None for g in line_geoms], dtype=bool)
    out = [Finding("marker.unknown-line", "error", "boundary_markers", mid, None,
                   f"界桩 {mid} 所属界线 {line_id} 不在界线图层中 (marker.unknown-line)", geometry=geom)
           for mid, line_id, geom in zip(markers["marker_id"][unknown], markers["line_id"][unknown],
                                         markers["geometry"][unknown])] if "marker.unknown-line" in rules else []
    known = np.flatnonzero(~unknown & ~shapely.is_missing(markers["geometry"]))
    if not len(known) or "marker.off-line" not in rules:
        return out
    # measured in Gauss-Krüger below; most markers stand on their line, and those surely within
    # the tolerance by their distance in degrees are spared projecting
    known = known[~_surely_within(markers["geometry"][known], line_geoms[known], tolerance)]
    points = markers["geometry"][known]
    epsgs = feature_epsgs(points)
    points_m = project(points, epsgs)
    # each line projected once per zone its markers use, not once per marker
    pairs = list(zip(markers["line_id"][known], epsgs))
    unique = list(dict.fromkeys(pairs))
    projected = project(np.array([line_of[k] for k, _ in unique], dtype=object), [e for _, e in unique])
    at = {pair: i for i, pair in enumerate(unique)}
    lines_m = projected[[at[pair] for pair in pairs]]
    distance = shapely.distance(points_m, lines_m)
    far = np.flatnonzero(distance > tolerance)
    feet = project(shapely.shortest_line(points_m[far], lines_m[far]), epsgs[far], inverse=True)
    for k, foot in zip(far, feet):
        i = known[k]
        mid, line_id = markers["marker_id"][i], markers["line_id"][i]
        out.append(Finding("marker.off-line", "error", "boundary_markers", mid, None,
                           f"界桩 {mid} 距 {name_of[line_id]} {distance[k]:,.1f} 米，超过容差 {tolerance:g} 米 (marker.off-line)",
                           related=[related("boundary_lines", line_id, name_of[line_id])], geometry=foot,
                           measures={"distance_m": round(float(distance[k]), 2)}))
    return out


# At most the metres one degree spans, in any direction, in the 3° Gauss-Krüger zone of a point
# within 3° of its central meridian: 1° of latitude is at most 111,694 m (at the poles), 1° of
# longitude no more, and the zone's scale there stays under 1.0014.
_METRES_PER_DEGREE = 112_000.0


def _surely_within(points, lines, tolerance):
    """Whether each point is surely within ``tolerance`` metres of its line as measured in GK: a
    point ``d`` degrees from the line is at most 112,000·d metres from it there, plus the 5 mm a
    projected edge departs from its true course in China (:data:`diming.layers.crs.STRAIGHT_DEGREES`);
    1 cm is allowed for that. False where these do not hold: outside China, or far from the zone's
    meridian."""
    import numpy as np
    import shapely

    from diming.layers.crs import feature_epsgs, inside_china

    points = np.asarray(points, dtype=object)
    slack = tolerance - 0.01
    if not len(points) or slack <= 0:
        return np.zeros(len(points), dtype=bool)
    lines = np.array(lines, dtype=object)
    x, y = shapely.get_x(points), shapely.get_y(points)
    bounded = inside_china(x, y) & (np.abs(x - (feature_epsgs(points) - 4509) * 3.0) <= 3.0)
    return bounded & (shapely.distance(points, lines) <= slack / _METRES_PER_DEGREE)


def _sequence_gaps(markers, lines, parsed) -> list[Finding]:
    """Per line, the sequence numbers missing between 001 and the highest one in use."""
    import shapely

    name_of = dict(zip(lines["line_id"], lines["name"]))
    geom_of = dict(zip(markers["marker_id"], markers["geometry"]))
    by_line: dict[str, dict[int, str]] = {}
    for mid, line_id in zip(markers["marker_id"], markers["line_id"]):
        if mid in parsed and "seq" in parsed[mid]:
            by_line.setdefault(line_id, {}).setdefault(int(parsed[mid]["seq"]), mid)
    out = []
    for line_id, seqs in sorted(by_line.items()):
        present = sorted(seqs)
        missing, around = [], set()
        previous = 0
        for seq in present:
            if seq > previous + 1:
                missing.append(f"{previous + 1:03d}" if seq == previous + 2 else f"{previous + 1:03d}–{seq - 1:03d}")
                around |= {seqs[s] for s in (previous, seq) if s in seqs}
            previous = seq
        if not missing:
            continue
        around = sorted(around)
        out.append(Finding("marker.sequence-gap", "warning", "boundary_lines", line_id, name_of.get(line_id),
                           f"{name_of.get(line_id, line_id)} 缺少 {'、'.join(missing)} 号界桩 (marker.sequence-gap)",
                           related=[related("boundary_markers", m) for m in around],
                           geometry=shapely.MultiPoint([geom_of[m] for m in around if geom_of[m] is not None])))
    return out
