"""Check findings (检查结果) and the forms they are written in: text, JSON, GeoJSON, GeoPackage.

A finding names one rule (a stable English code such as ``area.overlap``), its severity, the
feature it is about, the other features involved, a message in Chinese and, where it has one, the
real geometry of the problem (the overlap polygon, the gap, the shared stretch of road …) in
EPSG:4490. Its identity for accepted exceptions is the rule plus the sorted keys of every feature
involved (``layer:id``).
"""
from __future__ import annotations

import gc
import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

from diming.errors import DimingError

SEVERITIES = ("error", "warning", "info")
FORMATS = ("text", "json", "geojson", "gpkg")
MEASURES = ("area_m2", "length_m", "distance_m")  # the only numbers a finding may carry
DETAILS = ("field", "value", "allowed")  # the only other facts a finding may carry (field.invalid)


@dataclass
class Finding:
    rule: str
    severity: str
    layer: str
    id: str
    name: str | None
    message: str
    related: list[dict] = field(default_factory=list)  # [{"layer", "id", "name"}]
    geometry: object = None  # shapely geometry in EPSG:4490, or None
    measures: dict = field(default_factory=dict)  # subset of MEASURES, rounded
    details: dict = field(default_factory=dict)  # subset of DETAILS
    exception_id: str | None = None  # set when the user accepted this finding
    group: str | None = None  # what it was found from, where its keys do not say (area.gap: level|parent)

    @cached_property  # a finding is not changed once made; sorting and matching ask for its keys often
    def keys(self) -> list[str]:
        """Every feature involved as ``layer:id``, sorted: the finding's identity with its rule."""
        return sorted({f"{self.layer}:{self.id}", *(f"{r['layer']}:{r['id']}" for r in self.related)})

    @property
    def accepted(self) -> bool:
        return self.exception_id is not None


@contextmanager
def collector_paused():
    """Pause the cyclic garbage collector while many small objects are built. Reference counting
    frees them all the same, but once pypinyin's phrase table (half a million lists) is loaded,
    every full collection rescans it: seconds over a national project's check and report.

    What the pause made and kept (the findings, a stored result read back) is long-lived: it is
    moved to the oldest generation unscanned (freeze, then unfreeze), not gone through at once by
    a young collection and again as it ages (0.1 s for a national result each time). A cycle
    among it is still freed by the next full collection. Left as it is where the caller froze
    objects itself."""
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            if not gc.get_freeze_count():
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def related(layer: str, id, name=None) -> dict:
    return {"layer": layer, "id": str(id), "name": None if name is None else str(name)}


def summary(findings: list[Finding]) -> dict:
    counts = {s: 0 for s in SEVERITIES} | {"accepted": 0}
    for f in findings:
        counts["accepted" if f.accepted else f.severity] += 1
    return counts


def _lonlats(findings: list[Finding]) -> list[tuple]:
    """(lon, lat) of a point on each finding's geometry, rounded; (None, None) where it has none."""
    import numpy as np
    import shapely

    geometries = np.empty(len(findings), dtype=object)
    geometries[:] = [f.geometry for f in findings]
    points = shapely.point_on_surface(geometries)
    # Python floats at once, not a numpy scalar each; NaN (no geometry) is the one unequal to itself
    return [(None, None) if x != x else (round(x, 7), round(y, 7))
            for x, y in zip(shapely.get_x(points).tolist(), shapely.get_y(points).tolist())]


def as_dicts(findings: list[Finding]) -> list[dict]:
    """The documented JSON form of each finding (see README, "diming check")."""
    out = []
    for f, (lon, lat) in zip(findings, _lonlats(findings)):
        d = {"rule": f.rule, "severity": f.severity, "layer": f.layer, "id": f.id, "name": f.name,
             "message": f.message, "related": f.related, "lon": lon, "lat": lat, "keys": f.keys,
             "accepted": f.accepted, "exception_id": f.exception_id}
        d.update(f.measures)
        d.update(f.details)
        out.append(d)
    return out


def as_json(findings: list[Finding]) -> str:
    """``{"summary": …, "findings": […]}`` with one finding per line: as readable as indented
    JSON and easy to grep, yet written by json's C encoder (``indent`` falls back to the pure
    Python one, which takes seconds for a national project's findings); one encoder for them all
    (``json.dumps`` makes one a call)."""
    rows = ",\n    ".join(map(json.JSONEncoder(ensure_ascii=False).encode, as_dicts(findings)))
    listed = f"[\n    {rows}\n  ]" if rows else "[]"
    return f'{{\n  "summary": {json.dumps(summary(findings))},\n  "findings": {listed}\n}}'


def as_text(findings: list[Finding]) -> str:
    """Grouped by rule, errors first, with a summary line an officer reads at a glance. Each group is
    headed by the rule's Chinese name (:mod:`diming.rule_names`) and its code, which ``diming accept``
    and ``--rules`` take."""
    from diming.layers.schema import get_layer
    from diming.rule_names import rule_name, severity_name

    order = {s: i for i, s in enumerate(SEVERITIES)}
    by_rule: dict[str, list[Finding]] = {}
    for f in sorted(findings, key=lambda f: (order[f.severity], f.rule)):
        by_rule.setdefault(f.rule, []).append(f)
    lines = []
    for rule, group in by_rule.items():
        lines.append(f"{rule_name(rule)} {rule} ({len(group)})")
        for f in group:
            mark = f"已认可 {f.exception_id}" if f.accepted else severity_name(f.severity)
            label = f"{get_layer(f.layer).alias} {f.id}" + (f" {f.name}" if f.name and f.name != f.id else "")
            lines.append(f"  [{mark}] {label}: {f.message}")
        lines.append("")
    s = summary(findings)
    lines.append(f"共 {len(findings)} 项: 错误 {s['error']}, 警告 {s['warning']}, 提示 {s['info']}, "
                 f"已认可 {s['accepted']}")
    return "\n".join(lines)


def as_frame(findings: list[Finding]):
    """The error layer: one feature per finding with its geometry, for desktop GIS."""
    import geopandas as gpd

    rows = as_dicts(findings)
    for d in rows:
        for key in ("related", "keys", "value", "allowed"):  # lists, and values of any type, as JSON text
            if key in d:
                d[key] = json.dumps(d[key], ensure_ascii=False)
    columns = list(as_dicts([Finding("", "info", "", "", None, "")])[0]) + list(MEASURES) + list(DETAILS)
    frame = gpd.GeoDataFrame(rows, columns=columns, geometry=[f.geometry for f in findings], crs="EPSG:4490")
    return frame


def as_geojson(findings: list[Finding]) -> str:
    import shapely

    features = []
    for f, properties in zip(findings, as_dicts(findings)):
        geometry = None if f.geometry is None or f.geometry.is_empty else json.loads(shapely.to_geojson(f.geometry))
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def write(findings: list[Finding], fmt: str, output=None) -> str | None:
    """Write ``findings`` in ``fmt`` to file ``output``, or return the text when ``output`` is None.

    A GeoPackage needs a file; it is written beside its name and moved into place, so a failed
    write leaves nothing half-written.
    """
    if fmt not in FORMATS:
        raise DimingError(f"未知输出格式 {fmt!r}; 可用: {', '.join(FORMATS)}")
    with collector_paused():
        return _write(findings, fmt, output)


def _write(findings: list[Finding], fmt: str, output) -> str | None:
    from diming.layers.exports import replacing
    from diming.layers.gpkg import GDAL_DATASET_OPTIONS

    if fmt == "gpkg":
        if output is None:
            raise DimingError("gpkg 格式需要 --output 文件 (a GeoPackage needs an output file)")
        import pyogrio

        with replacing(output) as partial:
            pyogrio.write_dataframe(as_frame(findings), partial, layer="check_findings", driver="GPKG",
                                    geometry_type="Unknown", dataset_options=GDAL_DATASET_OPTIONS)
        return None
    text = {"text": as_text, "json": as_json, "geojson": as_geojson}[fmt](findings)
    if output is None:
        return text
    with replacing(output) as partial:
        partial.write_text(text + "\n", encoding="utf-8")
    return None
