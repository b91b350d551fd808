"""Run by tests/test_qgis.py with the system Python that has PyQGIS (Debian python3-qgis), headless:

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_probe.py layers PROJECT.gpkg IMAGES_DIR
    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_probe.py edit PROJECT.gpkg
    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_probe.py project PROJECT.qgz IMAGE.png

prints what QGIS made of the file as one JSON object, for the test to assert on.
"""
import json
import sys

from qgis.core import (QgsApplication, QgsFeature, QgsFieldConstraints, QgsGeometry, QgsMapRendererSequentialJob,
                       QgsMapSettings, QgsPointXY, QgsProject, QgsVectorLayer, QgsVectorLayerUtils)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def layer(path, name):
    return QgsVectorLayer(f"{path}|layername={name}", name, "ogr")


def shown(vl, field_name, value):
    """The text QGIS shows for ``value`` of field ``field_name`` (through its editor widget)."""
    index = vl.fields().indexOf(field_name)
    setup = vl.editorWidgetSetup(index)
    formatter = QgsApplication.fieldFormatterRegistry().fieldFormatter(setup.type())
    return formatter.representValue(vl, index, setup.config(), None, value)


def render(vl, path):
    settings = QgsMapSettings()
    settings.setLayers([vl])
    settings.setDestinationCrs(vl.crs())
    extent = vl.extent()
    extent.scale(1.1)
    settings.setExtent(extent)
    settings.setOutputSize(QSize(400, 400))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    image.save(path)
    background = QColor(255, 255, 255).rgb()
    return sum(1 for x in range(0, 400, 2) for y in range(0, 400, 2) if image.pixel(x, y) != background)


def probe_layers(path, images):
    out = {}
    from osgeo import ogr

    source = ogr.Open(path)
    names = [source.GetLayer(i).GetName() for i in range(source.GetLayerCount())]
    source = None
    for name in names:
        vl = layer(path, name)
        info = {"valid": vl.isValid(), "geometry": vl.isSpatial(),
                "style": vl.styleManager().currentStyle(),
                "renderer": vl.renderer().type() if vl.isSpatial() else None,
                "labels": vl.labelsEnabled(),
                "aliases": {f.name(): vl.attributeAlias(i) for i, f in enumerate(vl.fields())},
                "widgets": {f.name(): vl.editorWidgetSetup(i).type() for i, f in enumerate(vl.fields())},
                "read_only": [f.name() for i, f in enumerate(vl.fields()) if vl.editFormConfig().readOnly(i)],
                "tabs": [c.name() for c in vl.editFormConfig().tabs()],
                "count": vl.featureCount()}
        if vl.isSpatial() and vl.featureCount():
            info["drawn_pixels"] = render(vl, f"{images}/{name}.png")
        out[name] = info
    roads = layer(path, "roads")
    areas = layer(path, "admin_areas")
    proposals = layer(path, "road_proposals")
    inspections = layer(path, "inspections")
    # the form refuses a changed key of a stored road, and takes a new road's key
    key = roads.fields().indexOf("road_id")
    stored = next(roads.getFeatures())
    changed = QgsFeature(stored)
    changed["road_id"] = "CHANGED"
    new = QgsFeature(roads.fields())
    new["road_id"] = "NEW0001"
    hard = QgsFieldConstraints.ConstraintStrengthHard
    out["_key"] = {"stored": QgsVectorLayerUtils.validateAttribute(roads, stored, key, hard)[0],
                   "changed": QgsVectorLayerUtils.validateAttribute(roads, changed, key, hard)[0],
                   "new": QgsVectorLayerUtils.validateAttribute(roads, new, key, hard)[0]}
    out["_shown"] = {"roads.status": shown(roads, "status", "in_use"),
                     "admin_areas.level": shown(areas, "level", "county"),
                     "road_proposals.status": shown(proposals, "status", "public_notice"),
                     "inspections.references_complete": shown(inspections, "references_complete", 1)}
    return out


def probe_edit(path):
    """Rename a road, add one and delete one, as an officer would in QGIS, and commit."""
    roads = layer(path, "roads")
    features = roads.getFeatures()
    feature, doomed = next(features), next(features)
    roads.startEditing()
    roads.deleteFeature(doomed.id())
    roads.changeAttributeValue(feature.id(), roads.fields().indexOf("name"), "改名路")
    new = QgsFeature(roads.fields())
    new["road_id"] = "QGIS0001"
    new["name"] = "新增路"
    new["status"] = "bogus_status"  # a value outside the field's list: field.invalid must report it
    new.setGeometry(QgsGeometry.fromMultiPolylineXY([[QgsPointXY(120.3, 36.1), QgsPointXY(120.31, 36.11)]]))
    roads.addFeature(new)
    ok = roads.commitChanges()
    return {"committed": ok, "errors": roads.commitErrors(), "renamed": feature["road_id"],
            "deleted": doomed["road_id"]}


def probe_project(path, image):
    project = QgsProject.instance()
    ok = project.read(path)
    root = project.layerTreeRoot()
    groups = {g.name(): [child.name() for child in g.children()] for g in root.children()
              if g.nodeType() == 0}  # 0: a group
    layers = {}
    for lyr in project.mapLayers().values():
        name_field = lyr.fields().indexOf("name")
        layers[lyr.name()] = {"valid": lyr.isValid(), "count": lyr.featureCount(), "labels": lyr.labelsEnabled(),
                              "renderer": lyr.renderer().type() if lyr.isSpatial() else None,
                              "alias_name": lyr.attributeAlias(name_field) if name_field >= 0 else None}
    settings = QgsMapSettings()
    settings.setLayers([lyr for lyr in root.layerOrder()])
    settings.setDestinationCrs(project.crs())
    settings.setExtent(project.mapLayer("diming_admin_areas").extent())
    settings.setOutputSize(QSize(800, 600))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    job.renderedImage().save(image)
    view = project.viewSettings().defaultViewExtent()
    areas = project.mapLayer("diming_admin_areas").extent()
    return {"read": ok, "crs": project.crs().authid(), "groups": groups, "layers": layers, "title": project.title(),
            "view": [view.xMinimum(), view.yMinimum(), view.xMaximum(), view.yMaximum()],
            "view_crs": view.crs().authid(),
            "areas_extent": [areas.xMinimum(), areas.yMinimum(), areas.xMaximum(), areas.yMaximum()]}


def main():
    app = QgsApplication([], False)
    app.initQgis()
    command, path = sys.argv[1], sys.argv[2]
    if command == "layers":
        result = probe_layers(path, sys.argv[3])
    elif command == "edit":
        result = probe_edit(path)
    else:
        result = probe_project(path, sys.argv[3])
    print(json.dumps(result, ensure_ascii=False))
    app.exitQgis()


main()
