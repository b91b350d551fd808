"""检查结果图: every finding of ``diming check`` with its geometry (overlaps, gaps, markers off
their line …), one layer per rule named in Chinese (:mod:`diming.rule_names`), coloured by
severity; an overlap or gap too small to see at the current zoom is also drawn as a ring.

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
from diming.maps.areas import add_areas
from diming.layers.styles import ACCEPTED_COLOUR, SEVERITY_COLOURS
from diming.maps.page import Page, legend_entry, line_style, rows, text
from diming.rule_names import SEVERITY_NAMES, rule_name, severity_name

# least to most important: accepted findings grey, then by severity (the cluster of overlapping
# findings takes the colour of the most important)
COLOURS = {"已认可": ACCEPTED_COLOUR, **{severity_name(s): c for s, c in SEVERITY_COLOURS.items()}}
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


def _style(colour: str) -> dict:
    """One style for a finding's polygon, line or point (radius)."""
    return {"color": colour, "weight": 3, "fillColor": colour, "fillOpacity": 0.45, "radius": 7}


def _severity(finding: dict) -> str:
    """The Chinese severity of a finding (codes or, from older files, the Chinese names); 已认可 when
    accepted."""
    if finding.get("exception_id") or finding.get("accepted"):
        return "已认可"
    severity = text(finding.get("severity"))
    return severity if severity in COLOURS else SEVERITY_NAMES.get(severity, "提示")


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
    page.add("行政区域界线", lines.geometry, [{"k": "line", "t": f"{text(i)} {text(n)}".strip(),
                                            "p": rows(("界线编号", i))} for i, n in zip(lines["line_id"], lines["name"])],
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
    styles = {label: _style(colour) for label, colour in COLOURS.items()}
    for rule, items in sorted(by_rule.items()):
        geoms, props, legend = [], [], {}
        name = rule_name(rule)
        for finding, geometry in items:
            label = _severity(finding)
            shape = SHAPES.get(geometry.geom_type, "area")
            legend.setdefault(label, {}).setdefault(shape, 0)
            legend[label][shape] += 1
            props.append({"k": label, "t": text(finding.get("message")) or name, "p": rows(
                ("规则", name), ("规则代码", rule if name != rule else ""),
                ("严重程度", severity_name(text(finding.get("severity")))),
                ("认可", f"已认可 {text(finding.get('exception_id'))}".strip() if label == "已认可" else ""),
                ("图层", finding.get("layer")), ("编号", finding.get("id")),
                ("名称", finding.get("name")), ("说明", finding.get("message")),
                ("相关要素", _related(finding.get("related") or [])))})
            geoms.append(geometry)
        entries = []
        for label in reversed(COLOURS):  # most important first
            if label in legend:
                shape = max(legend[label], key=legend[label].get)
                entries.append(legend_entry(f"{name} ({label})", styles[label], shape, sum(legend[label].values())))
        page.add(f"检查: {name}", geoms, props, styles, shape="area", legend=entries, small=True)
    note = f"{unplaced} 条检查结果没有位置, 未画出" if unplaced else None
    if not findings:
        note = "检查未发现问题"
    return page.save(output, note=note)
