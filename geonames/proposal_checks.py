"""Checks of where open road-naming proposals (道路命名申报) lie: on a road that already has a
name, across a county boundary, or outside the division written in their ``district`` field.
"""
from __future__ import annotations

from diming.findings import Finding, related

RULES = {"proposal.overlaps-road": "error", "proposal.crosses-boundary": "warning",
         "proposal.district-mismatch": "warning"}


def check(data, rules=frozenset(RULES)) -> list[Finding]:
    proposals = data.open_proposals()
    proposals = proposals[~proposals.geometry.isna()].reset_index(drop=True)
    if not len(proposals):
        return []
    return ((_overlaps_road(data, proposals) if "proposal.overlaps-road" in rules else [])
            + (_areas(data, proposals) if rules & {"proposal.crosses-boundary", "proposal.district-mismatch"} else []))


def _overlaps_road(data, proposals) -> list[Finding]:
    """The stretch of each proposal within the tolerance of a named road, when it is longer than
    the crossing of two streets can make it."""
    import numpy as np
    import shapely

    from diming.layers.crs import feature_epsgs, project, search_degrees

    tolerance = data.settings["proposal_tolerance_m"]
    minimum = data.settings["proposal_min_length_m"]
    geoms = proposals.geometry.values
    search = shapely.buffer(shapely.envelope(geoms), search_degrees(tolerance))
    roads = data.roads_near(search)
    roads = roads[~roads.geometry.isna()].reset_index(drop=True)
    if not len(roads):
        return []
    p, r = shapely.STRtree(roads.geometry.values).query(search, predicate="intersects")
    if not len(p):
        return []
    epsgs = feature_epsgs(geoms)[p]
    shared = shapely.intersection(project(geoms[p], epsgs),
                                  shapely.buffer(project(roads.geometry.values[r], epsgs), tolerance))
    length = shapely.length(shared)
    hits = np.flatnonzero(length > minimum)
    stretches = project(shared[hits], epsgs[hits], inverse=True)
    pids, names = proposals["proposal_id"].to_numpy(dtype=object), proposals["name"].to_numpy(dtype=object)
    road_ids, road_names = roads["road_id"].to_numpy(dtype=object), roads["name"].to_numpy(dtype=object)
    out = []
    for k, stretch in zip(hits, stretches):
        i, j = p[k], r[k]
        name, road_name = names[i], road_names[j]
        out.append(Finding("proposal.overlaps-road", "error", "road_proposals", pids[i], name,
                           f"申报 {name} 与已命名道路 {road_name} 重合 {length[k]:,.0f} 米，同一道路不能两次命名 "
                           "(proposal.overlaps-road)",
                           related=[related("roads", road_ids[j], road_name)], geometry=stretch,
                           measures={"length_m": round(float(length[k]), 1)}))
    return out


def _areas(data, proposals) -> list[Finding]:
    """How long a stretch of each proposal lies in each admin area; crossings and mismatches."""
    import shapely

    from diming.layers.crs import feature_epsgs, project

    areas = data.areas()
    if not len(areas):
        return []
    minimum = data.settings["proposal_min_length_m"]
    geoms = proposals.geometry.values
    tree = shapely.STRtree(areas.geometry.values)
    p, a = tree.query(geoms, predicate="intersects")
    epsgs = feature_epsgs(geoms)[p]
    inside = shapely.length(project(shapely.intersection(geoms[p], areas.geometry.values[a]), epsgs))
    total = shapely.length(project(geoms, feature_epsgs(geoms)))
    lies_in: dict[int, list[int]] = {}
    for i, j, metres in zip(p, a, inside):
        # a short proposal counts where most of it lies; a long one everywhere it runs a real stretch
        if metres > min(minimum, total[i] / 2.0):
            lies_in.setdefault(i, []).append(j)
    codes, area_names, levels = (areas[c].to_numpy(dtype=object) for c in ("code", "name", "level"))
    level_of = dict(zip(codes, levels))
    columns = (proposals[c].to_numpy(dtype=object) for c in ("proposal_id", "name", "district"))
    out = []
    for i, (pid, name, district) in enumerate(zip(*columns)):
        found = sorted(lies_in.get(i, []))  # in the layer's order, whatever else the tree holds
        counties = [j for j in found if levels[j] == "county"]
        if len(counties) > 1:
            sides = [related("admin_areas", codes[j], area_names[j]) for j in counties]
            out.append(Finding("proposal.crosses-boundary", "warning", "road_proposals", pid, name,
                               f"申报 {name} 跨越 {'、'.join(s['name'] for s in sides)} 界线，须由双方共同申报同意 "
                               "(proposal.crosses-boundary)", related=sides, geometry=geoms[i]))
        if not isinstance(district, str) or not district:
            continue
        level = level_of.get(district)
        there = [j for j in found if levels[j] == level] if level else []
        if level and district in {codes[j] for j in there}:
            continue
        if level is None:
            message = f"申报 {name} 的所属政区 {district} 不在行政区域图层中"
        elif there:
            message = f"申报 {name} 填报所属政区 {district}，但位于 {'、'.join(area_names[j] for j in there)}"
        else:
            message = f"申报 {name} 填报所属政区 {district}，但不在该政区内"
        out.append(Finding("proposal.district-mismatch", "warning", "road_proposals", pid, name,
                           message + " (proposal.district-mismatch)",
                           related=[related("admin_areas", codes[j], area_names[j]) for j in there],
                           geometry=geoms[i]))
    return out
