"""GPX and KML for handheld GPS receivers and phone map apps: waypoints (with a name, a plain-text
description and a type) and lines, in CGCS2000 longitude/latitude, which receivers and apps taking
WGS84 use as is (the difference is centimetres). Field sheets of every kind write through these."""
from __future__ import annotations

import xml.etree.ElementTree as ET

GPX_NS = "http://www.topografix.com/GPX/1/1"
KML_NS = "http://www.opengis.net/kml/2.2"


def _parts(geometry):
    return getattr(geometry, "geoms", [geometry])


def write_gpx(path, name: str, points, lines=(), *, symbol: str | None = None) -> None:
    """``points``: (name, lon, lat, description, type) each; ``lines``: (name, geometry) each, as tracks."""
    ET.register_namespace("", GPX_NS)
    root = ET.Element(f"{{{GPX_NS}}}gpx", {"version": "1.1", "creator": "diming"})
    ET.SubElement(ET.SubElement(root, f"{{{GPX_NS}}}metadata"), f"{{{GPX_NS}}}name").text = name
    for label, lon, lat, description, kind in points:
        wpt = ET.SubElement(root, f"{{{GPX_NS}}}wpt", {"lat": f"{lat:.7f}", "lon": f"{lon:.7f}"})
        ET.SubElement(wpt, f"{{{GPX_NS}}}name").text = label
        ET.SubElement(wpt, f"{{{GPX_NS}}}desc").text = description
        if symbol:
            ET.SubElement(wpt, f"{{{GPX_NS}}}sym").text = symbol
        ET.SubElement(wpt, f"{{{GPX_NS}}}type").text = kind
    for label, geometry in lines:
        trk = ET.SubElement(root, f"{{{GPX_NS}}}trk")
        ET.SubElement(trk, f"{{{GPX_NS}}}name").text = label
        for part in _parts(geometry):
            seg = ET.SubElement(trk, f"{{{GPX_NS}}}trkseg")
            for lon, lat in part.coords:
                ET.SubElement(seg, f"{{{GPX_NS}}}trkpt", {"lat": f"{lat:.7f}", "lon": f"{lon:.7f}"})
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def write_kml(path, name: str, folder: str, points, lines=()) -> None:
    """``points`` (name, lon, lat, description) go into the folder ``folder``; ``lines``
    (name, description, geometry) are drawn red before it."""
    ET.register_namespace("", KML_NS)

    def sub(parent, tag, text=None):
        element = ET.SubElement(parent, f"{{{KML_NS}}}{tag}")
        if text is not None:
            element.text = text
        return element

    root = ET.Element(f"{{{KML_NS}}}kml")
    doc = sub(root, "Document")
    sub(doc, "name", name)
    if lines:
        style = sub(doc, "Style")
        style.set("id", "line")
        line_style = sub(style, "LineStyle")
        sub(line_style, "color", "ff2b39c0")  # aabbggrr
        sub(line_style, "width", "3")
    for label, description, geometry in lines:
        placemark = sub(doc, "Placemark")
        sub(placemark, "name", label)
        sub(placemark, "description", description or "")
        sub(placemark, "styleUrl", "#line")
        multi = sub(placemark, "MultiGeometry")
        for part in _parts(geometry):
            sub(sub(multi, "LineString"), "coordinates", " ".join(f"{x:.7f},{y:.7f},0" for x, y in part.coords))
    box = sub(doc, "Folder")
    sub(box, "name", folder)
    for label, lon, lat, description in points:
        placemark = sub(box, "Placemark")
        sub(placemark, "name", label)
        sub(placemark, "description", description)
        sub(sub(placemark, "Point"), "coordinates", f"{lon:.7f},{lat:.7f},0")
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
