"""Check rules of the joint inspection, as plain functions returning findings for ``diming check``.

Each rule takes the project (and optionally the line ids to look at) and returns a list of findings
``{"rule", "severity", "layer", "id", "name", "message", "related": [{"layer", "id", "name"}], "lon", "lat"}``
(``inspection.displaced`` adds ``distance_m``, the displacement). ``lon``/``lat`` are the measured
position for a displaced marker, the registered one for a missing one.
"""
from __future__ import annotations

import json

RULES = {"inspection.missing": "warning", "inspection.displaced": "error"}  # code -> severity


def _frames(project, line_ids):
    from diming.layers.store import read_layer

    markers = read_layer(project, "boundary_markers", columns=["marker_id", "line_id"])
    lines = read_layer(project, "boundary_lines", columns=["line_id", "name"]).set_index("line_id").name
    if line_ids is not None:
        markers = markers[markers.line_id.isin(line_ids)]
    return markers, lines


def inspection_missing(project, *, line_ids=None) -> list[dict]:
    """``inspection.missing``: a marker on a line of an active round that has no record in that round."""
    from diming.layers.store import read_layer

    rounds = read_layer(project, "inspection_rounds", where="status = ?", params=("active",))
    if not len(rounds):  # the usual case outside inspection season: no need to read every marker
        return []
    markers, lines = _frames(project, line_ids)
    records = read_layer(project, "inspections", columns=["round_id", "marker_id", "condition"])
    done = set(zip(records.round_id, records.marker_id))
    findings = []
    for rnd in rounds.itertuples():
        in_round = markers[markers.line_id.isin(json.loads(rnd.line_ids))]
        for m in in_round.itertuples():
            if (rnd.round_id, m.marker_id) in done:
                continue
            findings.append({
                "rule": "inspection.missing", "severity": RULES["inspection.missing"], "layer": "boundary_markers",
                "id": m.marker_id, "name": m.marker_id,
                "message": f"界桩 {m.marker_id} 在联检轮次 {rnd.round_id} {rnd.name} 中尚无检查记录 "
                           "(inspection.missing: marker of an active round not inspected)",
                "related": [{"layer": "inspection_rounds", "id": rnd.round_id, "name": rnd.name},
                            {"layer": "boundary_lines", "id": m.line_id, "name": lines.get(m.line_id)}],
                "lon": m.geometry.x, "lat": m.geometry.y})
    return findings


def inspection_displaced(project, *, line_ids=None) -> list[dict]:
    """``inspection.displaced``: a marker whose latest measured displacement exceeds the tolerance setting."""
    from diming.layers.settings import get_settings
    from diming.layers.store import read_layer

    tolerance = get_settings(project)["displacement_tolerance_m"]
    records = read_layer(project, "inspections", where="condition IS NOT NULL")
    if not len(records):
        return []
    markers, lines = _frames(project, line_ids)
    records = records[records.marker_id.isin(set(markers.marker_id))]
    latest = records.sort_values(["inspected_on", "round_id"]).groupby("marker_id").tail(1)
    findings = []
    for r in latest[latest.displacement_m > tolerance].sort_values("marker_id").itertuples():
        findings.append({
            "rule": "inspection.displaced", "severity": RULES["inspection.displaced"], "layer": "boundary_markers",
            "id": r.marker_id, "name": r.marker_id,
            "message": f"界桩 {r.marker_id} 实测位移 {r.displacement_m:.2f} 米, 超过容差 {tolerance:g} 米 "
                       f"({r.inspected_on} 联检 {r.round_id}) (inspection.displaced: marker moved)",
            "related": [{"layer": "inspections", "id": r.inspection_id, "name": r.inspected_on},
                        {"layer": "boundary_lines", "id": r.line_id, "name": lines.get(r.line_id)}],
            "lon": r.geometry.x, "lat": r.geometry.y, "distance_m": round(float(r.displacement_m), 2)})
    return findings


def findings(project, *, line_ids=None) -> list[dict]:
    """The findings of both inspection rules (on ``line_ids`` only, when given)."""
    return inspection_missing(project, line_ids=line_ids) + inspection_displaced(project, line_ids=line_ids)


def check(data, rules=frozenset(RULES)) -> list:
    """The chosen rules as ``diming check`` findings (a rule family of :mod:`diming.check`)."""
    import shapely

    from diming.findings import Finding

    out = []
    found = (inspection_missing(data.project) if "inspection.missing" in rules else []) \
        + (inspection_displaced(data.project) if "inspection.displaced" in rules else [])
    for f in found:
        distance = f.pop("distance_m", None)
        out.append(Finding(f["rule"], f["severity"], f["layer"], f["id"], f["name"], f["message"], f["related"],
                           geometry=shapely.Point(f["lon"], f["lat"]),
                           measures={} if distance is None else {"distance_m": distance}))
    return out
