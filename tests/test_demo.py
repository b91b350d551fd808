import shutil
import subprocess

import pytest
import shapely

from diming.layers.crs import to_metric
from diming.layers.store import layer_summary, read_layer


def test_demo_project_contents(demo_project):
    counts = {r["layer"]: r["count"] for r in layer_summary(demo_project)}
    assert counts["admin_areas"] == 1 + 3 + 9
    assert counts["boundary_lines"] == 3
    assert 30 <= counts["boundary_markers"] <= 60
    assert 150 <= counts["roads"] <= 400
    assert counts["road_proposals"] >= 5 and counts["heritage_names"] >= 5
    assert 200 <= counts["place_names"] <= 400


def test_demo_seeded_geometry_problems(demo_project):
    areas = to_metric(read_layer(demo_project, "admin_areas"))
    assert areas.is_valid.all()
    for county, expected_overlap, expected_gap in (("379901", 0, 120_000), ("379902", 120_000, 0), ("379903", 0, 0)):
        towns = areas[areas.parent_code == county].geometry
        whole = areas[areas.code == county].geometry.iloc[0]
        overlap = towns.area.sum() - shapely.union_all(towns.values).area
        gap = whole.area - shapely.union_all(towns.values).area
        assert abs(overlap - expected_overlap) < 10 and abs(gap - expected_gap) < 10, county
    markers = to_metric(read_layer(demo_project, "boundary_markers"))
    lines = to_metric(read_layer(demo_project, "boundary_lines")).set_index("line_id").geometry
    distance = shapely.distance(markers.geometry.values, lines.loc[markers.line_id].values)
    off = markers[distance > 1.0]
    assert list(off.marker_id) == ["9103005Q"]


def test_demo_marker_plane_coordinates_match_geometry(demo_project):
    from diming.layers.crs import to_lonlat

    markers = read_layer(demo_project, "boundary_markers")
    lon, lat = to_lonlat(markers.x.values, markers.y.values, 4528)
    assert abs(lon - markers.geometry.x).max() < 1e-7 and abs(lat - markers.geometry.y).max() < 1e-7


def test_demo_cli_writes_project(tmp_path):
    from click.testing import CliRunner

    from diming.cli import main

    result = CliRunner().invoke(main, ["demo", "--output", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "diming.gpkg").is_file()
    assert "boundary_markers" in result.output
    from openpyxl import load_workbook

    for xlsx in sorted((tmp_path / "out").rglob("*.xlsx")):  # every sheet diming writes prints on A4
        for sheet in load_workbook(xlsx).worksheets:
            assert sheet.page_setup.paperSize in (9, "9"), (xlsx.name, sheet.title)
            assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth in (1, "1")
            assert sheet.print_title_rows and sheet.freeze_panes, (xlsx.name, sheet.title)
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts (poppler-utils) not installed")
    pdfs = sorted((tmp_path / "out").glob("*.pdf"))
    assert len(pdfs) >= 6
    for pdf in pdfs:  # every document diming prints embeds every font it names
        fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()
        emb = fonts[0].index("emb")
        assert fonts[2:] and all(line[emb:emb + 3] == "yes" for line in fonts[2:]), (pdf.name, fonts)
