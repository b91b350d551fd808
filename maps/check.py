"""检查结果图: every finding of ``diming check`` with its geometry (overlaps, gaps, markers off
their line …), one layer per rule, coloured by severity.

A finding is a dict ``{"rule", "severity", "layer", "id", "name", "message", "related", "lon",
"lat"}`` (or an object with those attributes) with an optional ``geometry`` (shapely geometry or
GeoJSON mapping); without one it is drawn at ``lon``/``lat``. ``related`` lists feature keys or
``{"layer", "id", "name"}`` dicts. Accepted findings (``exception_id`` or ``accepted`` set) are drawn
grey. Findings can also come from a GeoJSON file (:func:`read_findings`).
"""
from __future__ import annotations

import json
from pathlib import Path

from diming.errors import DimingError
from diming.layers.styles import ACCEPTED_COLOUR, SEVERITY_COLOURS
from diming.maps.areas import add_areas
from diming.maps.page import Page, area_style, legend_entry, line_style, point_style, rows, text

SEVERITIES = {  # severity -> (Chinese label, colour); both spellings are accepted
    "error": ("错误", SEVERITY_COLOURS["error"]), "错误": ("错误", SEVERITY_COLOURS["error"]),
    "warning": ("警告", SEVERITY_COLOURS["warning"]), "警告": ("警告", SEVERITY_COLOURS["warning"]),
    "info": ("提示", SEVERITY_COLOURS["info"]), "提示": ("提示", SEVERITY_COLOURS["info"]),
}
ACCEPTED = ("已认可", ACCEPTED_COLOUR)
SHAPES = {"Point": "point", "MultiPoint": "point", "LineString": "line", "MultiLineString": "line",
          "Polygon": "area", "MultiPolygon": "area"}


def read_findings(path) -> list[dict]:
    """Findings from a GeoJSON FeatureCollection whose properties are the finding's fields."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        features = data["features"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DimingError(f"{path}: 不是 GeoJSON FeatureCollection ({exc})") from None
    findings = []
    for i, feature in enumerate(features, start=1):
        finding = dict(feature.get("properties") or {})
        if isinstance(finding.get("related"), str):
            try:
                finding["related"] = json.loads(finding["related"])
            except ValueError:
                finding["related"] = [finding["related"]]
        finding["geometry"] = feature.get("geometry")
        if not finding.get("rule"):
            raise DimingError(f"{path}: 第 {i} 个要素没有 rule 字段 (finding without rule)")
        findings.append(finding)
    return findings


def _geometry(finding: dict):
    import shapely
    from shapely.geometry import shape

    geometry = finding.get("geometry")
    if isinstance(geometry, dict):
        return shape(geometry)
    if isinstance(geometry, shapely.Geometry) and not geometry.is_empty:
        return geometry
    lon, lat = finding.get("lon"), finding.get("lat")
    if text(lon) and text(lat):
        return shapely.Point(float(lon), float(lat))
    return None


def _related(related) -> str:
    if not isinstance(related, list):
        return text(related)
    return ", ".join(
        " ".join(filter(None, (f"{text(r.get('layer'))}:{text(r.get('id'))}", text(r.get("name")))))
        if isinstance(r, dict) else text(r) for r in related)


def _style(shape: str, colour: str) -> dict:
    if shape == "point":
        return point_style(colour, 7)
    if shape == "line":
        return line_style(colour, 5)
    return area_style(colour, colour, 0.45)


def check_map(project, output, findings: list[dict], *, basemap: str | None = None,
              tianditu_key: str | None = None, title: str | None = None) -> dict:
    """Write the map of check findings (检查结果图) over the areas and boundary lines of ``project``.

    Findings without a location are counted in the title's note. Returns ``{"output", "counts"}``.
    """
    from diming.layers.settings import get_settings
    from diming.layers.store import read_layer

    page = Page(title or "检查结果图", basemap=basemap or get_settings(project)["basemap"],
                tianditu_key=tianditu_key)
    add_areas(page, read_layer(project, "admin_areas"), opacity=0.08)
    lines = read_layer(project, "boundary_lines")
    page.add("行政区域界线", lines.geometry, [{"k": "line", "t": text(n), "p": rows(("界线编号", i))}
                                           for i, n in zip(lines["line_id"], lines["name"])],
             {"line": line_style("#7f0000", 2, "8 5", 0.7)}, shape="line")

    by_rule: dict[str, list[tuple]] = {}
    unplaced = 0
    for finding in findings:
        finding = finding if isinstance(finding, dict) else vars(finding)
        geometry = _geometry(finding)
        if geometry is None:
            unplaced += 1
            continue
        by_rule.setdefault(text(finding.get("rule")), []).append((finding, geometry))
    for rule, items in sorted(by_rule.items()):
        geoms, props, styles, legend = [], [], {}, {}
        for finding, geometry in items:
            label, colour = SEVERITIES.get(text(finding.get("severity")), SEVERITIES["info"])
            if finding.get("exception_id") or finding.get("accepted"):
                label, colour = ACCEPTED
            shape = SHAPES.get(geometry.geom_type, "area")
            key = f"{label}-{shape}"
            styles[key] = _style(shape, colour)
            legend.setdefault(key, [label, shape, 0])[2] += 1
            props.append({"k": key, "t": text(finding.get("message")) or rule, "p": rows(
                ("规则", rule), ("严重程度", label), ("图层", finding.get("layer")), ("编号", finding.get("id")),
                ("名称", finding.get("name")), ("说明", finding.get("message")),
                ("相关要素", _related(finding.get("related") or [])))})
            geoms.append(geometry)
        page.add(f"检查: {rule}", geoms, props, styles, shape="area",
                 legend=[legend_entry(f"{rule} ({label})", styles[key], shape, count)
                         for key, (label, shape, count) in legend.items()])
    note = f"{unplaced} 条检查结果没有位置, 未画出" if unplaced else None
    if not findings:
        note = "检查未发现问题"
    return page.save(output, note=note)
