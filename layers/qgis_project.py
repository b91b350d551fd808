"""A QGIS project (.qgz) over the project's GeoPackage (``diming qgis``): one double-click and the
officer has every layer in its group, styled, labelled and with Chinese forms, in CGCS2000.

The project is written as QGIS' own XML (``.qgs``) zipped, so diming needs no QGIS installed. Each
layer carries the same style as its default in ``layer_styles`` (:mod:`diming.layers.qml`). Paths
are relative, so the project and the GeoPackage can be moved or copied together.
"""
from __future__ import annotations

import os
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

from diming.errors import DimingError
from diming.layers import qml
from diming.layers.schema import LAYERS, STORAGE_EPSG

# the layer tree, top (drawn last) to bottom; a layer not listed goes into 其他图层
GROUPS = {
    "地名保护": ("heritage_names",),
    "地名录": ("place_names",),
    "联检": ("inspections", "inspection_rounds"),
    "道路名称": ("road_proposals", "roads"),
    "路牌与道路摸排": ("road_signs", "sign_patrol_records", "sign_patrols", "road_survey", "road_rectifications"),
    "行政区域与界线": ("boundary_markers", "boundary_lines", "admin_areas"),
    "项目记录": ("check_exceptions", "audit_log"),
}
NOT_SHOWN = {"settings"}  # edited with diming config, where values are checked
FINDINGS_GROUP = "检查结果"
FINDINGS_LAYER = "check_findings"
# the scales QGIS offers in its scale box: county overview down to a street
SCALES = (1_000_000, 500_000, 250_000, 100_000, 50_000, 25_000, 10_000, 5_000, 2_000)
KINDS = {"0": ("Point", "点"), "1": ("LineString", "线"), "2": ("Polygon", "面"), "4": ("None", "无图形")}
QGIS_GEOMETRY = {"0": "Point", "1": "Line", "2": "Polygon", "4": "No geometry"}


def _relative(path: Path, start: Path) -> str:
    return "./" + Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()


def _srs(parent: ET.Element) -> None:
    from pyproj import CRS

    crs = CRS.from_epsg(STORAGE_EPSG)
    srs = ET.SubElement(parent, "spatialrefsys")
    for tag, text in (("wkt", crs.to_wkt()), ("srid", str(STORAGE_EPSG)),
                      ("authid", f"EPSG:{STORAGE_EPSG}"), ("description", crs.name),
                      ("projectionacronym", "longlat"), ("ellipsoidacronym", "EPSG:1024"),
                      ("geographicflag", "true")):
        ET.SubElement(srs, tag).text = text


def _maplayer(layer_id: str, name: str, source: str, kind: str, style: list[ET.Element]) -> ET.Element:
    element = ET.Element("maplayer", type="vector", geometry=QGIS_GEOMETRY[kind],
                         labelsEnabled="1" if any(e.tag == "labeling" for e in style) else "0",
                         hasScaleBasedVisibilityFlag="0", minScale="100000000", maxScale="0", readOnly="0")
    for tag, text in (("id", layer_id), ("datasource", source), ("layername", name)):
        ET.SubElement(element, tag).text = text
    if kind != "4":
        _srs(ET.SubElement(element, "srs"))
    ET.SubElement(element, "provider", encoding="UTF-8").text = "ogr"
    element.extend(style)
    return element


def _findings_kinds(path: Path) -> list[str]:
    """The geometry kinds ("0" points, "1" lines, "2" areas, "4" none) of the findings in the
    check's error layer at ``path``."""
    import sqlite3

    import shapely

    from diming.layers.gpkg import decode

    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            blobs = [r[0] for r in con.execute(f"SELECT geom FROM {FINDINGS_LAYER}")]
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise DimingError(f"{path}: 不是 diming check 写出的 GeoPackage ({exc})") from None
    geometries = decode(blobs)
    # shapely type ids: 0/4 points, 1/2/5 lines, 3/6 polygons; -1 missing
    kinds = {"4" if t < 0 else "0" if t in (0, 4) else "1" if t in (1, 2, 5) else "2"
             for t in shapely.get_type_id(geometries).tolist() if t < 7}
    kinds |= {"4" for g in geometries if g is not None and g.is_empty}
    return sorted(kinds)


def write_project(project, output, *, findings=None, title: str | None = None) -> dict:
    """Write the QGIS project ``output`` (.qgz) over GeoPackage ``project``; with ``findings`` (a
    GeoPackage written by ``diming check --format gpkg``) its error layer on top, one layer per
    geometry kind. Returns ``{"output", "groups": {group: [layer names]}}``."""
    from diming.layers.store import connect

    project, output = Path(project), Path(output)
    if output.suffix.lower() != ".qgz":
        raise DimingError(f"{output}: QGIS 项目文件须以 .qgz 结尾 (the project file must end in .qgz)")
    con = connect(project)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}
        extent = con.execute("SELECT min(min_x), min(min_y), max(max_x), max(max_y) FROM gpkg_contents "
                             "WHERE data_type = 'features'").fetchone()
    finally:
        con.close()
    title = title or f"{project.stem} 区划地名"
    folder = output.parent.resolve()
    source = _relative(project, folder)

    root = ET.Element("qgis", projectname=title, version=qml.QGIS_VERSION)
    ET.SubElement(root, "homePath", path="")
    ET.SubElement(root, "title").text = title
    _srs(ET.SubElement(root, "projectCrs"))
    tree = ET.SubElement(root, "layer-tree-group")
    layers = ET.SubElement(root, "projectlayers")
    order: list[str] = []
    groups: dict[str, list[str]] = {}

    def add(group: ET.Element, layer_id: str, name: str, datasource: str, kind: str, style) -> None:
        ET.SubElement(group, "layer-tree-layer", id=layer_id, name=name, source=datasource, providerKey="ogr",
                      checked="Qt::Checked", expanded="0")
        layers.append(_maplayer(layer_id, name, datasource, kind, style))
        order.append(layer_id)
        groups[group.get("name")].append(name)

    def group(name: str, expanded: bool = True) -> ET.Element:
        groups[name] = []
        return ET.SubElement(tree, "layer-tree-group", name=name, checked="Qt::Checked",
                             expanded="1" if expanded else "0")

    if findings is not None:
        findings = Path(findings)
        if not findings.is_file():
            raise DimingError(f"{findings}: 检查结果文件不存在 (no such file); 先运行 diming check --format gpkg")
        node = group(FINDINGS_GROUP)
        for kind in _findings_kinds(findings):
            ogr_type, zh = KINDS[kind]
            add(node, f"diming_{FINDINGS_LAYER}_{ogr_type.lower()}", f"检查结果({zh})",
                f"{_relative(findings, folder)}|layername={FINDINGS_LAYER}|geometrytype={ogr_type}", kind,
                qml.findings_elements(kind))
    listed = {n for names in GROUPS.values() for n in names}
    others = tuple(n for n in LAYERS if n not in listed and n not in NOT_SHOWN)
    for name, members in (GROUPS | ({"其他图层": others} if others else {})).items():
        present = [m for m in members if m in tables]
        if not present:
            continue
        node = group(name, expanded=name != "项目记录")
        for table in present:
            layer = LAYERS[table]
            # QGIS keeps a layer id of more than 10 characters only (else it makes one up)
            if layer.geometry == "GEOMETRY":  # any geometry: QGIS opens it as one layer per kind
                for kind in ("0", "1", "2"):
                    ogr_type, zh = KINDS[kind]
                    add(node, f"diming_{table}_{ogr_type.lower()}", f"{layer.alias}({zh})",
                        f"{source}|layername={table}|geometrytype={ogr_type}", kind, qml.layer_elements(table))
                continue
            add(node, f"diming_{table}", layer.alias, f"{source}|layername={table}", qml.GEOMETRY_TYPES[layer.geometry],
                qml.layer_elements(table))
    layerorder = ET.SubElement(root, "layerorder")
    for layer_id in order:
        ET.SubElement(layerorder, "layer", id=layer_id)
    _properties(ET.SubElement(root, "properties"))
    view = ET.SubElement(root, "ProjectViewSettings", UseProjectScales="1", rotation="0")
    scales = ET.SubElement(view, "Scales")
    for scale in SCALES:
        ET.SubElement(scales, "Scale", value=f"1:{scale}")
    if None not in extent:  # QGIS opens on the data, not on an empty world
        xmin, ymin, xmax, ymax = map(str, extent)
        _srs(ET.SubElement(view, "DefaultViewExtent", xmin=xmin, ymin=ymin, xmax=xmax, ymax=ymax))
    ET.indent(root, " ")
    document = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode")

    from diming.layers.exports import replacing

    with replacing(output) as partial:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{output.stem}.qgs", document)
    return {"output": str(output), "groups": groups}


def _properties(properties: ET.Element) -> None:
    """Relative paths; lengths and areas on the CGCS2000 ellipsoid in metres and square metres."""
    def entry(parent, tag, kind, text):
        ET.SubElement(parent, tag, type=kind).text = text

    entry(ET.SubElement(properties, "Paths"), "Absolute", "bool", "false")
    measure = ET.SubElement(properties, "Measure")
    entry(measure, "Ellipsoid", "QString", "EPSG:1024")
    measurement = ET.SubElement(properties, "Measurement")
    entry(measurement, "DistanceUnits", "QString", "meters")
    entry(measurement, "AreaUnits", "QString", "m2")
    entry(ET.SubElement(properties, "SpatialRefSys"), "ProjectionsEnabled", "int", "1")
