"""The project opens ready to work in QGIS: default styles, Chinese forms, the .qgz project, and
edits made in QGIS audited. The QGIS tests run PyQGIS (Debian python3-qgis, for /usr/bin/python3)
headless in a subprocess: tests/qgis_probe.py."""
import json
import os
import sqlite3
import subprocess
import zipfile
from functools import lru_cache
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from diming.layers import qml, styles
from diming.layers.qgis_project import GROUPS
from diming.layers.schema import ADMIN_LEVELS, LAYERS, MARKER_CONDITIONS, PROPOSAL_STATES, label

PROBE = Path(__file__).with_name("qgis_probe.py")
SYSTEM_PYTHON = "/usr/bin/python3"
VALIDATOR = Path("/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py")


@lru_cache(maxsize=1)
def _qgis_missing() -> str | None:
    try:
        subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return "PyQGIS (Debian python3-qgis for /usr/bin/python3) not installed"
    return None


needs_qgis = pytest.mark.skipif(_qgis_missing() is not None, reason=_qgis_missing() or "")


def _probe(*args) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")  # headless
    result = subprocess.run([SYSTEM_PYTHON, str(PROBE), *map(str, args)], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_symbology_covers_every_code():
    assert set(styles.AREA_OUTLINE_WIDTH) == set(ADMIN_LEVELS)
    assert set(styles.CONDITION_COLOURS) == set(MARKER_CONDITIONS)
    assert sorted(s for states in styles.PROPOSAL_GROUPS.values() for s in states) == sorted(PROPOSAL_STATES)
    assert set(styles.PROPOSAL_GROUP_LINES) == set(styles.PROPOSAL_GROUPS)
    assert set(styles.AREA_LABEL_SCALES) == set(ADMIN_LEVELS) and set(styles.LABEL_SCALES) <= set(LAYERS)


def test_styles_follow_the_schema():
    for name, layer in LAYERS.items():
        root = ET.fromstring(qml.layer_style(name).split("\n", 1)[1])
        aliases = {a.get("field"): a.get("name") for a in root.iter("alias")}
        assert aliases == {f.name: f.alias for f in layer.fields}, name
        widgets = {f.get("name"): f.find("editWidget").get("type") for f in root.find("fieldConfiguration")}
        for f in layer.fields:
            expected = ("ValueMap" if f.choices else "CheckBox" if f.yes_no else
                        "DateTime" if f.type in ("DATE", "DATETIME") else None)
            if expected:
                assert widgets[f.name] == expected, (name, f.name)
        editable = {e.get("name"): e.get("editable") for e in root.find("editable")}
        assert set(editable.values()) == ({"0"} if name == "audit_log" else {"1"}), name
        if layer.key:
            kept = {c.get("field"): c.get("exp") for c in root.find("constraintExpressions")}[layer.key]
            assert "get_feature_by_id" in kept and layer.key in kept
        # a layer of any geometry (place_names) keeps QGIS's default symbol for each kind
        assert (root.find("renderer-v2") is not None) == (layer.geometry not in (None, "GEOMETRY")), name
    proposals = ET.fromstring(qml.layer_style("road_proposals").split("\n", 1)[1])
    value_map = {o.get("value"): o.get("name") for o in proposals.iter("Option") if o.get("value") in PROPOSAL_STATES}
    assert value_map == {s: label(s) for s in PROPOSAL_STATES}
    tabs = [c.get("name") for c in proposals.find("attributeEditorForm")]
    assert tabs == list(qml.TABS["road_proposals"])


def test_qgis_command_writes_a_zipped_project(demo_project, run, tmp_path):
    findings = tmp_path / "check.gpkg"
    run(demo_project, "check", "--format", "gpkg", "--output", findings)
    output = tmp_path / "qgis" / "项目.qgz"
    result = run(demo_project, "qgis", "--output", output, "--findings", findings)
    assert result.exit_code == 0, result.output
    assert "行政区域与界线" in result.output and "检查结果" in result.output
    with zipfile.ZipFile(output) as archive:
        assert archive.namelist() == ["项目.qgs"]
        root = ET.fromstring(archive.read("项目.qgs").decode().split("\n", 1)[1])
    groups = [g.get("name") for g in root.find("layer-tree-group").findall("layer-tree-group")]
    assert groups == ["检查结果", *GROUPS]
    sources = {m.findtext("id"): m.findtext("datasource") for m in root.iter("maplayer")}
    assert sources["diming_roads"] == "./../demo.gpkg|layername=roads"  # relative to the project file
    errors = [v for k, v in sources.items() if k.startswith("diming_check_findings_")]
    assert errors and all(v.startswith("./../check.gpkg|layername=check_findings|geometrytype=") for v in errors)
    assert root.find("projectCrs/spatialrefsys/authid").text == "EPSG:4490"


def test_findings_without_geometry_get_a_table_layer(project, tmp_path):
    import geopandas as gpd
    import shapely

    from diming.findings import Finding, write
    from diming.layers.qgis_project import write_project

    findings = tmp_path / "check.gpkg"
    write([Finding("marker.off-line", "error", "boundary_markers", "9101001Q", None, "偏离界线",
                   geometry=shapely.Point(120, 36)),
           Finding("name.duplicate", "warning", "roads", "R1", "长江路", "重名")], "gpkg", findings)
    assert gpd.read_file(findings).geometry.isna().sum() == 1
    result = write_project(project, tmp_path / "p.qgz", findings=findings)
    assert result["groups"]["检查结果"] == ["检查结果(点)", "检查结果(无图形)"]
    with zipfile.ZipFile(tmp_path / "p.qgz") as archive:
        text = archive.read("p.qgs").decode()
    assert "layername=check_findings|geometrytype=None" in text


def test_geopackages_written_through_gdal_are_1_2_too(demo_project, run, tmp_path):
    # GDAL 3.7+ (pyogrio's) writes GeoPackage 1.4 unless told; GDAL 3.6 warns on opening that
    run(demo_project, "check", "--format", "gpkg", "--output", tmp_path / "check.gpkg")
    run(demo_project, "export", "roads", tmp_path / "roads.gpkg")
    for name in ("check.gpkg", "roads.gpkg"):
        assert sqlite3.connect(tmp_path / name).execute("PRAGMA user_version").fetchone() == (10200,), name
        if VALIDATOR.exists():
            result = subprocess.run([SYSTEM_PYTHON, str(VALIDATOR), "--extra", str(tmp_path / name)],
                                    capture_output=True, text=True)
            assert result.returncode == 0 and result.stdout + result.stderr == "", result.stdout + result.stderr


def test_qgis_command_refuses_bad_arguments(project, run, tmp_path):
    wrong = run(project, "qgis", "--output", tmp_path / "p.qgs")
    assert wrong.exit_code == 1 and ".qgz" in wrong.output
    missing = run(project, "qgis", "--output", tmp_path / "p.qgz", "--findings", tmp_path / "none.gpkg")
    assert missing.exit_code == 1 and "none.gpkg" in missing.output and not (tmp_path / "p.qgz").exists()


@needs_qgis
def test_qgis_opens_every_layer_with_its_default_style(demo_project, tmp_path):
    found = _probe("layers", demo_project, tmp_path)
    for name, layer in LAYERS.items():
        info = found[name]
        assert info["valid"], name
        # QGIS 3.22 reads no aliases from gpkg_data_columns: these come from the default style
        assert {k: v for k, v in info["aliases"].items() if k != "fid"} == {f.name: f.alias for f in layer.fields}
        for f in layer.fields:
            if f.choices:
                assert info["widgets"][f.name] == "ValueMap", (name, f.name)
            elif f.yes_no:
                assert info["widgets"][f.name] == "CheckBox", (name, f.name)
            elif f.type in ("DATE", "DATETIME"):
                assert info["widgets"][f.name] == "DateTime", (name, f.name)
        assert info["read_only"] == (layer.field_names if name == "audit_log" else [])
        if name in qml.TABS:
            assert info["tabs"] == list(qml.TABS[name])
        if layer.geometry:
            assert info["renderer"] in ("categorizedSymbol", "singleSymbol")
            if info["count"]:
                assert info["drawn_pixels"] > 50, f"{name}: nothing drawn"
    assert found["roads"]["labels"] and found["admin_areas"]["labels"] and found["boundary_markers"]["labels"]
    assert found["_key"] == {"stored": True, "changed": False, "new": True}
    assert found["_shown"] == {"roads.status": "在用", "admin_areas.level": "县级",
                               "road_proposals.status": "公示中", "inspections.references_complete": "true"}


@needs_qgis
def test_an_edit_committed_in_qgis_is_audited(demo_project, run):
    before = len(json.loads(run(demo_project, "log", "--format", "json").output))
    edit = _probe("edit", demo_project)
    assert edit["committed"], edit["errors"]
    rows = json.loads(run(demo_project, "log", "--format", "json").output)[before:]
    assert sorted((r["action"], r["by"]) for r in rows) == [("delete", "GDAL"), ("insert", "GDAL"), ("update", "GDAL")]
    deleted = next(r for r in rows if r["action"] == "delete")
    assert deleted["key"] == edit["deleted"] and deleted["before"]["road_id"] == edit["deleted"]
    assert deleted["after"] is None
    renamed = next(r for r in rows if r["action"] == "update")
    assert renamed["key"] == edit["renamed"] and renamed["after"]["name"] == "改名路"
    assert renamed["before"]["name"] != "改名路" and renamed["after"]["geometry"].startswith("MULTILINESTRING")
    added = next(r for r in rows if r["action"] == "insert")
    assert added["key"] == "QGIS0001" and added["after"]["name"] == "新增路"
    assert "外部程序写入" in run(demo_project, "log", "--layer", "roads", "--key", "QGIS0001").output
    if VALIDATOR.exists():  # still a GeoPackage without a message, after QGIS wrote to it
        result = subprocess.run([SYSTEM_PYTHON, str(VALIDATOR), "--extra", str(demo_project)], capture_output=True,
                                text=True)
        assert result.returncode == 0 and result.stdout + result.stderr == "", result.stdout + result.stderr


@needs_qgis
def test_a_bad_value_written_in_qgis_is_reported_by_check_field_invalid(demo_project, run):
    _probe("edit", demo_project)  # adds road QGIS0001 with status 'bogus_status'
    result = run(demo_project, "check", "--rules", "field.invalid", "--format", "json")
    findings = json.loads(result.output)["findings"]
    assert any(f["rule"] == "field.invalid" and f["layer"] == "roads" and f["id"] == "QGIS0001" for f in findings)


@needs_qgis
def test_qgis_opens_the_project_with_its_groups(demo_project, run, tmp_path):
    findings = tmp_path / "check.gpkg"
    run(demo_project, "check", "--format", "gpkg", "--output", findings)
    output = tmp_path / "demo.qgz"
    assert run(demo_project, "qgis", "--output", output, "--findings", findings).exit_code == 0
    opened = _probe("project", output, tmp_path / "project.png")
    assert opened["read"] and opened["crs"] == "EPSG:4490"
    assert opened["view_crs"] == "EPSG:4490"  # it opens on the data
    assert all(abs(a - b) < 1e-5 for a, b in zip(opened["view"], opened["areas_extent"]))
    assert list(opened["groups"]) == ["检查结果", *GROUPS]
    assert opened["groups"]["行政区域与界线"] == ["界桩", "行政区域界线", "行政区域"]
    assert set(opened["groups"]["检查结果"]) <= {"检查结果(点)", "检查结果(线)", "检查结果(面)"}
    assert all(layer["valid"] for layer in opened["layers"].values())
    assert opened["layers"]["道路名称"]["count"] == len(sqlite3.connect(demo_project).execute(
        "SELECT fid FROM roads").fetchall())
    assert opened["layers"]["道路名称"]["labels"] and opened["layers"]["道路名称"]["alias_name"] == "标准名称"
    assert all(opened["layers"][name]["count"] > 0 for name in opened["groups"]["检查结果"])
