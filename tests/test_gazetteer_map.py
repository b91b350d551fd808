"""The gazetteer map (地名录图): names by category and rural names by campaign state, drawn in headless
Chromium with the network blocked (skipped where Chromium is not installed)."""
import pytest
from shapely.geometry import MultiLineString, MultiPolygon, Point, Polygon

from chromium import CHROMIUM, OPEN_ALL_JS, SUMMARY_JS, Browser, collect, open_page
from diming.layers.store import transaction
from diming.maps.gazetteer import gazetteer_map

EVIL = "<img src=x onerror=alert(1)>"


def fill(project):
    with transaction(project, by="测试员") as tx:
        tx.insert("admin_areas", [{"code": "379901", "name": "云溪区", "level": "county",
                                   "geometry": MultiPolygon([Polygon([(119.9, 35.9), (120.3, 35.9), (120.3, 36.3),
                                                                      (119.9, 36.3)])])}])
        tx.insert("place_names", [
            {"place_id": "1", "name": "石门村", "category": "22200", "district": "379901", "rural": 1,
             "collected_on": "2026-03-01", "reviewed_on": "2026-03-02", "on_map_on": "2026-03-05",
             "platforms": "天地图", "geometry": Point(120.1, 36.1)},
            {"place_id": "2", "name": EVIL, "category": "群众自治组织", "district": "379901", "rural": 1,
             "collected_on": "2026-03-01", "geometry": Point(120.12, 36.1)},
            {"place_id": "3", "name": "青溪河", "category": "陆地水系", "district": "379901",
             "geometry": MultiLineString([[(120.0, 36.0), (120.2, 36.1)]])},
            {"place_id": "4", "name": "石门山", "category": "陆地地形", "district": "379901", "in_use": "historical",
             "geometry": MultiPolygon([Polygon([(120.0, 36.2), (120.05, 36.2), (120.05, 36.25)])])}])


def test_gazetteer_map_layers_and_cli(project, tmp_path, run):
    fill(project)
    result = gazetteer_map(project, tmp_path / "g.html")
    assert result["counts"] == {"行政区域": 1, "地名(面)": 1, "地名(线)": 1, "地名(点)": 2, "乡村地名上图进度": 2}
    html = (tmp_path / "g.html").read_text(encoding="utf-8")
    assert EVIL not in html and "已采集待审核" in html and "历史地名" in html
    cli = run(project, "map", "gazetteer", "-o", tmp_path / "c.html")
    assert cli.exit_code == 0 and "乡村地名上图进度 2" in cli.output


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_gazetteer_map_draws_offline(project, tmp_path):
    fill(project)
    out = gazetteer_map(project, tmp_path / "g.html")["output"]
    browser = Browser()
    try:
        page = open_page(browser, out)
        summary = page.evaluate(SUMMARY_JS)
        assert {k.strip(): v for k, v in summary["layers"].items()} == \
            {"行政区域": 1, "地名(面)": 1, "地名(线)": 1, "地名(点)": 2, "乡村地名上图进度": 2}
        opened = page.evaluate(OPEN_ALL_JS)
        collect(page)
        assert any(EVIL in t for t in opened["texts"]) and opened["foreign"] == 0
        assert page.requests == [] and page.errors == [] and page.dialogs == []
    finally:
        browser.close()
