"""Checks of administrative areas (行政区域): invalid geometry, overlaps and gaps between areas of
one level.

Shapely 2's coverage functions find the areas whose edges do not match their neighbours', so the
exact overlap work is done on those few only; gaps are what each parent keeps outside the union of
its children. What is found is measured as stored: its area on the ellipsoid, with edges straight
in degrees (projecting only its vertices would bend long edges by metres and turn a T-junction into
a phantom overlap). Two tolerances decide what is a finding: its area, and its width — a piece
thinner than ``area_sliver_width_m`` everywhere is a sliver of coordinate rounding (data surveyed
in Gauss-Krüger and stored in degrees), as Esri's cluster tolerance and GEOS's gap width treat it.
"""
from __future__ import annotations

import re

from diming.findings import Finding, related

RULES = {"area.invalid": "error", "area.overlap": "error", "area.gap": "error"}

_LOCATION = re.compile(r"\[\s*(-?[\d.eE+-]+)\s+(-?[\d.eE+-]+)")


def check(data, rules=frozenset(RULES)) -> list[Finding]:
    import shapely

    areas = data.layer("admin_areas")
    valid = data.areas()
    findings = _invalid(areas[~areas.index.isin(valid.index)]) if "area.invalid" in rules else []
    if not rules & {"area.overlap", "area.gap"}:
        return findings
    # plain numpy columns: iterating pandas' arrays element by element costs more than the checks
    by_code = dict(zip(valid["code"].to_numpy(dtype=object), valid.geometry.to_numpy()))
    names = dict(zip(areas["code"].to_numpy(dtype=object), areas["name"].to_numpy(dtype=object)))
    width = data.settings["area_sliver_width_m"]
    for _, level in valid.groupby("level", sort=False):
        level = level.reset_index(drop=True)
        # the edges of each area that do not match a neighbour's: empty for a clean coverage
        matched = shapely.is_empty(shapely.coverage_invalid_edges(level.geometry.values))
        if "area.overlap" in rules:
            findings += _overlaps(level, matched, data.settings["area_overlap_tolerance_m2"], width)
        if "area.gap" in rules:
            findings += _gaps(level, matched, by_code, names, data.settings["area_gap_tolerance_m2"], width)
    return findings


def _invalid(bad) -> list[Finding]:
    """``area.invalid`` for each of the ``bad`` areas (those CheckData.areas leaves out)."""
    import shapely

    out = []
    for code, name, geom in zip(bad["code"], bad["name"], bad.geometry.values):
        if geom is None or geom.is_empty:
            reason, where = "没有几何 (no geometry)", None
        else:
            reason = shapely.is_valid_reason(geom)
            m = _LOCATION.search(reason)
            where = shapely.Point(float(m[1]), float(m[2])) if m else geom
        out.append(Finding("area.invalid", "error", "admin_areas", code, name,
                           f"{name} 几何无效: {reason} (area.invalid)", geometry=where))
    return out


def _measured(pieces, tolerance_m2, width_m):
    """The area (m²) of each piece, and whether it is a finding: larger than ``tolerance_m2`` and
    wider than ``width_m`` somewhere (what a negative buffer of half the width leaves in GK).
    GEOS's coverage gap width (``shapely.coverage_invalid_edges(gap_width=…)``) is the same test,
    but in the data's units (degrees here, not the same length east and north) and for gaps alone."""
    import numpy as np
    import shapely

    from diming.layers.crs import ellipsoidal_area, feature_epsgs, project

    area = ellipsoidal_area(pieces)
    keep = area > tolerance_m2
    if width_m > 0 and keep.any():
        big = np.asarray(pieces, dtype=object)[keep]
        keep[keep] = ~shapely.is_empty(shapely.buffer(project(big, feature_epsgs(big)), -width_m / 2))
    return area, keep


def _polygonal(geom):
    """The polygon parts of an overlay result (which may also hold the lines where edges touch)."""
    import shapely

    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else None


def _overlaps(level, matched, tolerance_m2, width_m) -> list[Finding]:
    import numpy as np
    import shapely

    geoms = level.geometry.values
    # only an area with an edge failing to match a neighbour can overlap one; GEOS does not
    # always flag both areas of an overlap (a corner of one pushed across the other's edge), so
    # each suspect is tried against every area of the level
    suspects = np.flatnonzero(~matched)
    if not len(suspects):
        return []
    left, right = shapely.STRtree(geoms).query(geoms[suspects], predicate="intersects")
    pairs = np.unique(np.sort(np.c_[suspects[left], right], axis=1), axis=0)
    pairs = pairs[pairs[:, 0] < pairs[:, 1]]
    a, b = pairs[:, 0], pairs[:, 1]
    shared = np.array([_polygonal(g) for g in shapely.intersection(geoms[a], geoms[b])], dtype=object)
    has = np.array([g is not None for g in shared], dtype=bool)
    area, keep = _measured(shared[has], tolerance_m2, width_m)
    a, b, shared, area = a[has][keep], b[has][keep], shared[has][keep], area[keep]
    out = []
    codes, names = level["code"].values, level["name"].values
    for i, j, geom, m2 in zip(a, b, shared, area):
        out.append(Finding("area.overlap", "error", "admin_areas", codes[i], names[i],
                           f"{names[i]} 与 {names[j]} 重叠 {m2:,.0f} m² (area.overlap)",
                           related=[related("admin_areas", codes[j], names[j])], geometry=geom,
                           measures={"area_m2": round(float(m2), 1)}))
    return out


def _same_outline(a, b) -> bool:
    import shapely

    a, b = shapely.normalize(a), shapely.normalize(b)
    if a.geom_type != b.geom_type:
        a, b = (shapely.normalize(shapely.multipolygons(shapely.get_parts(g))) for g in (a, b))
    return bool(shapely.equals_exact(a, b, tolerance=0.0))


def _gaps(level, matched, parents, names, tolerance_m2, width_m, only=None) -> list[Finding]:
    """Holes between areas of one level inside their parent (or, with no parent geometry, holes
    inside their union) that no other area of the level fills; ``only``: of these parent codes
    ('' for the areas without one). Areas are taken in the order of ``level`` (the layer's), so
    the same areas give the same findings whatever else ``level`` holds."""
    import numpy as np
    import shapely

    from diming.layers.crs import ellipsoidal_area

    geoms = level.geometry.to_numpy()
    codes, names_of, parent_of = (level[c].to_numpy(dtype=object) for c in ("code", "name", "parent_code"))
    tree = shapely.STRtree(geoms)
    out = []
    groups = level.groupby(level["parent_code"].fillna(""), sort=False).indices
    for parent, rows in groups.items():
        if only is not None and parent not in only:
            continue
        child_geoms = geoms[rows]
        clean = matched[rows].all()
        union = shapely.coverage_union_all(child_geoms) if clean else shapely.union_all(child_geoms)
        if parent in parents and clean and _same_outline(union, parents[parent]):
            continue  # children cut from the parent's own outline: nothing can be missing
        if parent in parents:
            holes = shapely.difference(parents[parent], union)
        else:
            rings = [r for p in shapely.get_parts(union) for r in shapely.get_interior_ring(p, range(shapely.get_num_interior_rings(p)))]
            holes = shapely.union_all(shapely.polygons(rings)) if rings else None
        holes = None if holes is None else _polygonal(holes)
        if holes is None:
            continue
        parts = shapely.get_parts(holes)
        # a part is no larger than it was before enclaves are taken out of it: measure once here first
        parts = parts[ellipsoidal_area(parts) > tolerance_m2]
        pieces = []
        for part in parts:
            # an enclave of an area of the same level under another parent is no gap
            others = sorted(tree.query(part, predicate="intersects"))
            fill = [geoms[k] for k in others if parent_of[k] != (parent or None)]
            if fill:
                part = _polygonal(shapely.difference(part, shapely.union_all(fill)))
                if part is None:
                    continue
            pieces += list(shapely.get_parts(part))
        pieces = np.array(pieces, dtype=object)
        area, keep = _measured(pieces, tolerance_m2, width_m)
        for piece, m2 in zip(pieces[keep], area[keep]):
            touching = sorted(tree.query(piece, predicate="intersects"))
            neighbours = [related("admin_areas", codes[k], names_of[k]) for k in touching]
            around = "、".join(n["name"] for n in neighbours) or "—"
            key, name = (parent, names.get(parent)) if parent else (neighbours[0]["id"], neighbours[0]["name"])
            out.append(Finding("area.gap", "error", "admin_areas", key, name,
                               f"{name or key} 内 {around} 之间有缝隙 {m2:,.0f} m² (area.gap)",
                               related=[n for n in neighbours if n["id"] != key], geometry=piece,
                               measures={"area_m2": round(float(m2), 1)}, group=f"{level['level'].iloc[0]}|{parent}"))
    return out
