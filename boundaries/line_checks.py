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
    geom_of = dict(zip(areas["code"], areas.geometry.values))
    name_of = dict(zip(areas["code"], areas["name"]))
    tolerance = data.settings["line_tolerance_m"]
    out, rows = [], []
    for i, (line_id, name, left, right) in enumerate(zip(lines["line_id"], lines["name"],
                                                         lines["left_code"], lines["right_code"])):
        missing = [c for c in (left, right) if c not in geom_of]
        if missing:
            if "line.unknown-area" in rules:
                out.append(Finding("line.unknown-area", "error", "boundary_lines", line_id, name,
                                   f"{name} 的一侧区域 {'、'.join(map(str, missing))} 不在行政区域图层中 (line.unknown-area)",
                                   geometry=lines.geometry.values[i]))
        elif lines.geometry.values[i] is not None:
            rows.append(i)
    if not rows or "line.mismatch" not in rules:
        return out
    rows = np.array(rows)
    geoms = lines.geometry.values[rows]
    epsgs = feature_epsgs(geoms)
    metric = project(geoms, epsgs)
    # the two outlines near the line only, cut out before projecting: projecting and buffering
    # whole county outlines would cost far more
    margin = search_degrees(2 * tolerance)
    box = shapely.bounds(geoms) + [-margin, -margin, margin, margin]
    outlines = []
    for side in ("left_code", "right_code"):
        outline = shapely.boundary(np.array([geom_of[c] for c in lines[side].values[rows]], dtype=object))
        outlines.append(project(np.array([shapely.clip_by_rect(g, *b) for g, b in zip(outline, box)], dtype=object),
                                epsgs))
    left, right = outlines
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
        lc, rc, name = lines["left_code"].values[i], lines["right_code"].values[i], lines["name"].values[i]
        out.append(Finding("line.mismatch", "error", "boundary_lines", lines["line_id"].values[i], name,
                           f"{name} 偏离 {name_of[lc]} 与 {name_of[rc]} 的共同边界最远 {worst:,.1f} 米 (line.mismatch)",
                           related=[related("admin_areas", lc, name_of[lc]), related("admin_areas", rc, name_of[rc])],
                           geometry=stretch, measures={"distance_m": round(worst, 2)}))
    return out
