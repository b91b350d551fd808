"""Checks of boundary lines (行政区域界线) against the areas on their two sides.

A line matches when every point along it lies within the tolerance of both areas' outlines, i.e.
on their shared edge: nothing of the line may lie outside either outline's tolerance buffer. What is left over is measured point by point (every metre or tolerance) for the report.
"""
from __future__ import annotations

from diming.findings import Finding, related

RULES = {"line.mismatch": "error", "line.unknown-area": "error"}


def check(data, rules=frozenset(RULES)) -> list[Finding]:
    import numpy as np
    import shapely

    from diming.layers.crs import feature_epsgs, project, search_degrees

    lines = data.layer("boundary_lines")
    areas = data.areas()
    geom_of = dict(zip(areas["code"].to_numpy(dtype=object), areas.geometry.to_numpy()))
    name_of = dict(zip(areas["code"].to_numpy(dtype=object), areas["name"].to_numpy(dtype=object)))
    tolerance = data.settings["line_tolerance_m"]
    # plain numpy columns: iterating pandas' arrays element by element costs more than the checks
    ids, names, lefts, rights = (lines[c].to_numpy(dtype=object) for c in ("line_id", "name", "left_code", "right_code"))
    line_geoms = lines.geometry.to_numpy()
    out, rows = [], []
    for i, (line_id, name, left, right) in enumerate(zip(ids, names, lefts, rights)):
        missing = [c for c in (left, right) if c not in geom_of]
        if missing:
            if "line.unknown-area" in rules:
                out.append(Finding("line.unknown-area", "error", "boundary_lines", line_id, name,
                                   f"{name} 的一侧区域 {'、'.join(map(str, missing))} 不在行政区域图层中 (line.unknown-area)",
                                   geometry=line_geoms[i]))
        elif line_geoms[i] is not None:
            rows.append(i)
    if not rows or "line.mismatch" not in rules:
        return out
    rows = np.array(rows)
    codes = sorted({*lefts[rows], *rights[rows]})
    number = {c: n for n, c in enumerate(codes)}
    outline_of = shapely.boundary(np.array([geom_of[c] for c in codes], dtype=object))
    sides = [np.array([number[c] for c in side[rows]]) for side in (lefts, rights)]
    # a line that runs edge for edge along both outlines (as one cut from the areas' own edges
    # does) is projected into the very pieces they are: nothing of it can be off the shared edge
    if tolerance >= 0.01:
        measured = ~_along(line_geoms[rows], sides, outline_of)
        rows, sides = rows[measured], [side[measured] for side in sides]
    # the two outlines near the line only, cut out before projecting: projecting and buffering
    # whole county outlines would cost far more
    margin = search_degrees(2 * tolerance)
    box = shapely.bounds(line_geoms[rows]) + [-margin, -margin, margin, margin]
    outlines = [np.array([shapely.clip_by_rect(g, *b) for g, b in zip(outline_of[side], box)], dtype=object)
                for side in sides]
    geoms = line_geoms[rows]
    epsgs = feature_epsgs(geoms)
    metric = project(geoms, epsgs)
    left, right = (project(o, epsgs) for o in outlines)
    near_left, near_right = shapely.buffer(left, tolerance), shapely.buffer(right, tolerance)
    shapely.prepare(near_left)
    shapely.prepare(near_right)
    step = max(tolerance, 1.0)
    # the covered test is much cheaper than the difference, and nearly every line passes it
    for k in np.flatnonzero(~(shapely.covered_by(metric, near_left) & shapely.covered_by(metric, near_right))):
        # how far the stretch outside the shared edge really goes, measured along it
        stretch = shapely.union(shapely.difference(metric[k], near_left[k]), shapely.difference(metric[k], near_right[k]))
        if not shapely.length(stretch):
            continue
        points = shapely.points(shapely.get_coordinates(shapely.segmentize(stretch, step)))
        worst = float(np.maximum(shapely.distance(points, left[k]), shapely.distance(points, right[k])).max())
        if worst <= tolerance:
            continue
        i = rows[k]
        stretch = project(np.array([stretch], dtype=object), epsgs[k], inverse=True)[0]
        lc, rc, name = lefts[i], rights[i], names[i]
        out.append(Finding("line.mismatch", "error", "boundary_lines", ids[i], name,
                           f"{name} 偏离 {name_of[lc]} 与 {name_of[rc]} 的共同边界最远 {worst:,.1f} 米 (line.mismatch)",
                           related=[related("admin_areas", lc, name_of[lc]), related("admin_areas", rc, name_of[rc])],
                           geometry=stretch, measures={"distance_m": round(worst, 2)}))
    return out


def _edges(geometries):
    """Every edge of each geometry as a row (geometry number, x, y, x, y), the lower end first,
    and the geometry number of each."""
    import numpy as np
    import shapely

    parts, of_geometry = shapely.get_parts(np.asarray(geometries, dtype=object), return_index=True)
    coords, of_part = shapely.get_coordinates(parts, return_index=True)
    inner = np.flatnonzero(of_part[1:] == of_part[:-1])
    a, b = coords[inner], coords[inner + 1]
    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    a[swap], b[swap] = b[swap], a[swap].copy()
    of_geometry = of_geometry[of_part[inner]]
    return of_geometry, np.column_stack([of_geometry.astype(float), a, b])


_MIX = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5)


def _along(lines, sides, outlines):
    """Whether every edge of each line is an edge of each of its outlines, vertex for vertex
    (``sides``: for each side, the number of each line's outline in ``outlines``). Edges are
    looked up by a hash of their five numbers and then compared whole (a hash shared by two
    edges at worst leaves a line to be measured)."""
    import numpy as np

    of_line, edges = _edges(lines)
    _, outline_edges = _edges(outlines)
    if not len(outline_edges):
        return np.zeros(len(lines), dtype=bool)

    def hashed(rows):
        bits = np.ascontiguousarray(rows).view(np.uint64)
        out = np.zeros(len(rows), dtype=np.uint64)
        for column, mix in enumerate(_MIX):
            out ^= bits[:, column] * np.uint64(mix)  # wraps modulo 2**64, as a hash should
        return out

    outline_keys = hashed(outline_edges)
    order = np.argsort(outline_keys)
    outline_keys, outline_edges = outline_keys[order], outline_edges[order]
    along = np.bincount(of_line, minlength=len(lines)) > 0
    for side in sides:
        edges[:, 0] = side[of_line]  # the edge as one of that outline's
        keys = hashed(edges)
        at = np.minimum(np.searchsorted(outline_keys, keys), len(outline_keys) - 1)
        found = (outline_keys[at] == keys) & (outline_edges[at] == edges).all(axis=1)
        along &= np.bincount(of_line[~found], minlength=len(lines)) == 0
    return along
