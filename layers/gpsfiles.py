"""GPX and KML for handheld GPS receivers and phone map apps: waypoints (with a name, a plain-text
description, a type and their elevation) and lines, in CGCS2000 longitude/latitude, which receivers
and apps taking WGS84 use as is (the difference is centimetres). Field sheets of every kind write
through these."""
from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

GPX_NS = "http://www.topografix.com/GPX/1/1"
KML_NS = "http://www.opengis.net/kml/2.2"


@dataclass
class Waypoint:
    name: str
    lon: float
    lat: float
    description: str = ""
    elevation: float | None = None
    kind: str = ""  # GPX <type>; in KML the style class (a key of ``styles``)
    data: list = field(default_factory=list)  # KML ExtendedData: (field, heading, value) each


def _parts(geometry):
    return getattr(geometry, "geoms", [geometry])


def write_gpx(path, name: str, points: list[Waypoint], lines=(), *, symbol: str | None = None) -> None:
    """``points`` as waypoints; ``lines``: (name, geometry) each, as tracks."""
    ET.register_namespace("", GPX_NS)
    root = ET.Element(f"{{{GPX_NS}}}gpx", {"version": "1.1", "creator": "diming"})
    ET.SubElement(ET.SubElement(root, f"{{{GPX_NS}}}metadata"), f"{{{GPX_NS}}}name").text = name
    for p in points:
        wpt = ET.SubElement(root, f"{{{GPX_NS}}}wpt", {"lat": f"{p.lat:.7f}", "lon": f"{p.lon:.7f}"})
        if p.elevation is not None:  # GPX wants ele first
            ET.SubElement(wpt, f"{{{GPX_NS}}}ele").text = f"{p.elevation:g}"
        ET.SubElement(wpt, f"{{{GPX_NS}}}name").text = p.name
        ET.SubElement(wpt, f"{{{GPX_NS}}}desc").text = p.description
        if symbol:
            ET.SubElement(wpt, f"{{{GPX_NS}}}sym").text = symbol
        ET.SubElement(wpt, f"{{{GPX_NS}}}type").text = p.kind
    for label, geometry in lines:
        trk = ET.SubElement(root, f"{{{GPX_NS}}}trk")
        ET.SubElement(trk, f"{{{GPX_NS}}}name").text = label
        for part in _parts(geometry):
            seg = ET.SubElement(trk, f"{{{GPX_NS}}}trkseg")
            for lon, lat in part.coords:
                ET.SubElement(seg, f"{{{GPX_NS}}}trkpt", {"lat": f"{lat:.7f}", "lon": f"{lon:.7f}"})
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def kml_colour(hex_rgb: str, alpha: str = "ff") -> str:
    """#rrggbb as KML writes colours: aabbggrr."""
    r, g, b = hex_rgb[1:3], hex_rgb[3:5], hex_rgb[5:7]
    return f"{alpha}{b}{g}{r}"


def plain(text) -> str:
    """Text a KML viewer shows as written: Google Earth and others render ``<description>`` as HTML,
    so the text is HTML-escaped (and then XML-escaped when written), and no markup of ours is added."""
    return html.escape("" if text is None else str(text), quote=True)


def write_kml(path, name: str, folder: str, points: list[Waypoint], lines=(), *, styles: dict,
              line_colour: str) -> None:
    """``points`` go into the folder ``folder``, each styled by its class (``styles``: class ->
    #rrggbb, the maps' colours) and carrying its ``data`` as ExtendedData; ``lines``
    (name, description, geometry) are drawn in ``line_colour`` before it."""
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
        sub(line_style, "color", kml_colour(line_colour))
        sub(line_style, "width", "3")
    style_ids = {}
    for i, (kind, colour) in enumerate(styles.items()):  # ids c0 … in the order of ``styles``
        style = sub(doc, "Style")
        style_ids[kind] = style.attrib["id"] = f"c{i}"
        # no Icon: the viewer's own pin, tinted; a link to an icon would not load in the field
        sub(sub(style, "IconStyle"), "color", kml_colour(colour))
        sub(sub(style, "LabelStyle"), "scale", "0.8")
    for label, description, geometry in lines:
        placemark = sub(doc, "Placemark")
        sub(placemark, "name", label)
        sub(placemark, "description", plain(description))
        sub(placemark, "styleUrl", "#line")
        multi = sub(placemark, "MultiGeometry")
        for part in _parts(geometry):
            sub(sub(multi, "LineString"), "coordinates", " ".join(f"{x:.7f},{y:.7f},0" for x, y in part.coords))
    box = sub(doc, "Folder")
    sub(box, "name", folder)
    for p in points:
        placemark = sub(box, "Placemark")
        sub(placemark, "name", p.name)
        sub(placemark, "description", plain(p.description))
        if p.kind in style_ids:
            sub(placemark, "styleUrl", f"#{style_ids[p.kind]}")
        if p.data:
            extended = sub(placemark, "ExtendedData")
            for key, heading, value in p.data:
                item = sub(extended, "Data")
                item.set("name", key)
                sub(item, "displayName", heading)
                sub(item, "value", "" if value is None else str(value))
        altitude = p.elevation if p.elevation is not None else 0
        sub(sub(placemark, "Point"), "coordinates", f"{p.lon:.7f},{p.lat:.7f},{altitude:g}")
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
