"""The four maps: written by the library and the CLI, self-contained, escaped; drawn in a real
headless Chromium with the network blocked (skipped only where Chromium is not installed)."""
import json
import re

import pytest
from shapely.geometry import MultiLineString, MultiPolygon, Point, Polygon, box

from chromium import CHROMIUM, OPEN_ALL_JS, SUMMARY_JS, Browser, click, collect, open_page, png_pixels
from diming.errors import DimingError
from diming.layers.store import transaction
from diming.maps.check import check_map
from diming.maps.heritage import heritage_map
from diming.maps.inspection import inspection_map
from diming.maps.page import script_json
from diming.rule_names import rule_name
from diming.maps.proposals import proposals_map

EVIL = "<img src=x onerror=alert(1)>"
TICKS = "`${alert(2)}`</script><script>alert(3)</script>"

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")


def _fill(project):
    """Two counties and their line with three markers, a round, roads, proposals, heritage names;
    names carry markup and backticks that must show as text."""
    west, east = box(120.0, 36.0, 120.1, 36.1), box(120.1, 36.0, 120.2, 36.1)
    line = MultiLineString([[(120.1, 36.0), (120.1, 36.05), (120.1, 36.1)]])
    with transaction(project, by="测试") as tx:
        tx.insert("admin_areas", [
            {"code": "379901", "name": EVIL, "level": "county", "geometry": MultiPolygon([west])},
            {"code": "379902", "name": "松阳区", "level": "county", "geometry": MultiPolygon([east])},
            {"code": "379990", "name": "远区", "level": "county",
             "geometry": MultiPolygon([box(121.0, 37.0, 121.1, 37.1)])}])
        tx.insert("boundary_lines", [
            {"line_id": "9101", "name": "云溪—松阳线", "left_code": "379901", "right_code": "379902",
             "description": TICKS, "geometry": line},
            {"line_id": "9199", "name": "远线", "left_code": "379990", "right_code": "379990",
             "geometry": MultiLineString([[(121.0, 37.0), (121.1, 37.1)]])}])
        tx.insert("boundary_markers", [
            {"marker_id": f"9101{i:03d}Q", "line_id": "9101", "marker_type": "单立", "x": 3990000.0 + i,
             "y": 509000.0, "plane_crs": 4549, "location": EVIL if i == 2 else "路口",
             "geometry": Point(120.1, 36.0 + 0.02 * i)} for i in (1, 2, 3)]
            + [{"marker_id": "9199001Q", "line_id": "9199", "geometry": Point(121.05, 37.05)}])
        tx.insert("inspection_rounds", [{"round_id": "R5", "name": "第五轮联检", "year": 2026,
                                         "line_ids": json.dumps(["9101"])}])
        tx.insert("inspections", [
            {"inspection_id": "I1", "round_id": "R5", "marker_id": "9101001Q", "line_id": "9101",
             "inspected_on": "2026-05-01", "condition": "丢失", "notes": EVIL, "photos": "p1.jpg; p2.jpg",
             "geometry": Point(120.1, 36.02)},
            {"inspection_id": "I0", "round_id": "R4", "marker_id": "9101002Q", "line_id": "9101",
             "inspected_on": "2021-05-01", "condition": "损坏", "geometry": Point(120.1, 36.04)}])
        tx.insert("roads", [
            {"road_id": "R1", "name": "海安路", "status": "in_use",
             "geometry": MultiLineString([[(120.02, 36.05), (120.08, 36.05)]])},
            {"road_id": "R2", "name": EVIL, "status": "in_use",
             "geometry": MultiLineString([[(120.12, 36.05), (120.18, 36.05)]])}])
        tx.insert("road_proposals", [
            {"proposal_id": "P1", "name": "海安路", "pinyin": "Hai'an Lu", "status": "in_review",
             "geometry": MultiLineString([[(120.02, 36.07), (120.08, 36.07)]])},
            {"proposal_id": "P2", "name": TICKS, "status": "approved",
             "geometry": MultiLineString([[(120.12, 36.07), (120.18, 36.07)]])},
            {"proposal_id": "P3", "name": "云帆路", "status": "withdrawn",
             "geometry": MultiLineString([[(120.12, 36.08), (120.18, 36.08)]])}])
        tx.insert("heritage_names", [
            {"heritage_id": "H1", "name": "状元街", "category": "地名文化遗产", "meaning": "出过状元",
             "history": TICKS, "geometry": Point(120.05, 36.03)},
            {"heritage_id": "H2", "name": EVIL, "category": "历史地名", "geometry": Point(120.15, 36.03)}])
    return project


FINDINGS = [
    {"rule": "area.overlap", "severity": "error", "layer": "admin_areas", "id": "379901", "name": EVIL,
     "message": "乡镇重叠 120000 平方米", "related": ["379902"],
     "geometry": Polygon([(120.09, 36.0), (120.11, 36.0), (120.11, 36.02)])},
    {"rule": "marker.off-line", "severity": "warning", "layer": "boundary_markers", "id": "9101002Q",
     "name": "9101002Q", "message": TICKS, "related": [], "lon": 120.1006, "lat": 36.04},
    {"rule": EVIL, "severity": "info", "layer": "roads", "id": "R1", "name": "海安路", "message": "提示",
     "geometry": {"type": "LineString", "coordinates": [[120.02, 36.05], [120.08, 36.05]]}},
    {"rule": "name.duplicate", "severity": "warning", "layer": "roads", "id": "R9", "message": "无位置"},
    {"rule": "area.overlap", "severity": "error", "layer": "admin_areas", "id": "379902", "message": "已认可的重叠",
     "related": [{"layer": "admin_areas", "id": "379901", "name": EVIL}], "exception_id": "E1",
     "geometry": Point(120.105, 36.09)},
]


@pytest.fixture
def filled(project):
    return _fill(project)


def specs(path) -> dict[str, dict]:
    """The layers of a written map as map.js reads them: {layer name: spec}."""
    page = path.read_text(encoding="utf-8")
    found, start = {}, "diming.layer(JSON.parse('"
    at = page.find(start)
    while at >= 0:
        i, chars = at + len(start), []
        while page[i] != "'":
            if page[i] == "\\":
                i += 1
                chars.append(page[i] if page[i] in "\\'" else "\\" + page[i])
            else:
                chars.append(page[i])
            i += 1
        spec = json.loads("".join(chars))
        found[spec["name"]] = spec
        at = page.find(start, i)
    return found


def values(spec, column) -> list:
    """A column of a layer spec as one value per feature."""
    if isinstance(column, str):
        column = spec[column]
    if isinstance(column, list):
        return column
    if column.get("f") == "t":
        return values(spec, "t")
    if column.get("f") == "k":
        return [spec["cats"][k] for k in values(spec, "k")]
    return [column["d"][i] for i in column.get("i", [0] * spec["n"])]


def categories(path, layer) -> list[str]:
    spec = specs(path)[layer]
    return [spec["cats"][k] for k in values(spec, "k")]


def _maps(project, folder):
    return {
        "inspection": inspection_map(project, folder / "inspection.html"),
        "proposals": proposals_map(project, folder / "proposals.html"),
        "heritage": heritage_map(project, folder / "heritage.html"),
        "check": check_map(project, folder / "check.html", FINDINGS),
    }


def test_script_json_cannot_close_the_script_element():
    text = script_json({"name": "</script><script>alert(1)</script>", "amp": "&", "ls": "\u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text)["name"] == "</script><script>alert(1)</script>"


def test_maps_are_self_contained_and_escape_project_values(filled, tmp_path):
    for kind, result in _maps(filled, tmp_path).items():
        page = result["output"].read_text(encoding="utf-8")
        # nothing is loaded from elsewhere: no <script src>, no stylesheet link, no external url()
        assert not re.search(r"<script[^>]*\bsrc=", page), kind
        assert "<link" not in page, kind
        assert not re.search(r"url\((?!data:|#default)", page), kind
        assert "sourceMappingURL" not in page, kind
        assert "L.map(" in page and "diming.layer(" in page and "L.control.scale(" in page
        # project values appear only JSON-escaped, never as markup
        assert EVIL not in page and "alert(3)</script>" not in page, kind
        assert page.count("<script>") == page.count("</script>") == 3, kind
    assert "1 条检查结果没有位置" in (tmp_path / "check.html").read_text(encoding="utf-8")


def test_demo_writes_the_maps(tmp_path, run):
    result = run(tmp_path / "unused.gpkg", "demo", "--output", tmp_path / "demo")
    assert result.exit_code == 0, result.output
    for kind in ("inspection", "proposals", "heritage"):
        assert f"地图 {tmp_path / 'demo' / f'map-{kind}.html'}" in result.output
        assert (tmp_path / "demo" / f"map-{kind}.html").stat().st_size > 100_000


def test_inspection_map_counts_and_filters(filled, tmp_path):
    result = inspection_map(filled, tmp_path / "all.html")
    assert result["counts"] == {"界线两侧行政区域": 3, "行政区域界线": 2, "界桩": 4}
    result = inspection_map(filled, tmp_path / "r5.html", round_id="R5")
    assert result["counts"] == {"界线两侧行政区域": 2, "行政区域界线": 1, "界桩": 3}
    assert "第五轮联检" in (tmp_path / "r5.html").read_text(encoding="utf-8")
    # the 2021 record of round R4 does not colour the marker in round R5: not visited yet
    assert sorted(categories(tmp_path / "r5.html", "界桩")) == ["丢失", "未检", "未检"]
    assert sorted(categories(tmp_path / "all.html", "界桩")) == ["丢失", "损坏", "未检", "未检"]
    result = inspection_map(filled, tmp_path / "line.html", line_id="9199")
    assert result["counts"] == {"界线两侧行政区域": 1, "行政区域界线": 1, "界桩": 1}
    with pytest.raises(DimingError, match="R9"):
        inspection_map(filled, tmp_path / "x.html", round_id="R9")
    with pytest.raises(DimingError, match="9199"):
        inspection_map(filled, tmp_path / "x.html", round_id="R5", line_id="9199")
    assert not (tmp_path / "x.html").exists()


def test_maps_of_an_empty_project_say_so(project, tmp_path):
    for kind, result in _maps(project, tmp_path).items():
        page = result["output"].read_text(encoding="utf-8")
        assert "没有可显示的要素" in page or kind == "check", kind
    assert "检查未发现问题" not in (tmp_path / "check.html").read_text(encoding="utf-8")
    check_map(project, tmp_path / "none.html", [])
    assert "检查未发现问题" in (tmp_path / "none.html").read_text(encoding="utf-8")


def test_proposals_map_highlights_name_clashes_and_takes_other_rules(filled, tmp_path):
    result = proposals_map(filled, tmp_path / "p.html")
    assert result["counts"]["名称冲突"] == 1 and result["counts"]["道路命名申报"] == 3
    page = (tmp_path / "p.html").read_text(encoding="utf-8")
    assert "与现有道路 海安路 重名" in page and "审查中" in page
    result = proposals_map(filled, tmp_path / "q.html", clashes=lambda project, proposals: {"P3": ["与状元街同音"]})
    assert result["counts"]["名称冲突"] == 1
    assert "与状元街同音" in (tmp_path / "q.html").read_text(encoding="utf-8")


def test_demo_proposals_map_shows_the_seeded_clashes(demo_project, tmp_path):
    from diming.layers.store import read_layer
    from diming.maps.proposals import name_rule_clashes

    proposals = read_layer(demo_project, "road_proposals")
    clashes = name_rule_clashes(demo_project, proposals)
    by_name = dict(zip(proposals["proposal_id"], proposals["name"]))
    assert any(by_name[pid] == "壮园街" and any("状元街" in m for m in messages) for pid, messages in clashes.items())
    result = proposals_map(demo_project, tmp_path / "demo.html")
    assert result["counts"]["名称冲突"] == len(clashes)


def test_basemaps(filled, tmp_path, monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    out = tmp_path / "m.html"
    heritage_map(filled, out, basemap="osm")
    assert "tile.openstreetmap.org/{z}/{x}/{y}.png" in out.read_text(encoding="utf-8")
    with pytest.raises(DimingError, match="TIANDITU_KEY"):
        heritage_map(filled, out, basemap="tianditu")
    monkeypatch.setenv("TIANDITU_KEY", "abc123")
    heritage_map(filled, out, basemap="tianditu")
    page = out.read_text(encoding="utf-8")
    assert "vec_w/wmts" in page and "img_w/wmts" in page and "cva_w/wmts" in page and "tk=abc123" in page
    heritage_map(filled, out, basemap="http://tiles.city.local/{z}/{x}/{y}.png")
    assert "tiles.city.local" in out.read_text(encoding="utf-8")
    with pytest.raises(DimingError, match="底图"):
        heritage_map(filled, out, basemap="javascript:alert(1)")


def test_cli_writes_every_map(filled, tmp_path, run):
    for kind in ("inspection", "proposals", "heritage"):
        result = run(filled, "map", kind, "--output", tmp_path / f"{kind}.html", "--title", "青岚市 地图")
        assert result.exit_code == 0, result.output
        assert f"{kind}.html" in result.output
        assert "<title>青岚市 地图</title>" in (tmp_path / f"{kind}.html").read_text(encoding="utf-8")
    result = run(filled, "map", "inspection", "-o", tmp_path / "r.html", "--round", "R5", "--line", "9101")
    assert result.exit_code == 0 and "界桩 3" in result.output
    findings = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [120.1, 36.05]},
         "properties": {"rule": "marker.off-line", "severity": "warning", "message": EVIL,
                        "related": json.dumps(["9101"])}}]}
    (tmp_path / "f.geojson").write_text(json.dumps(findings), encoding="utf-8")
    result = run(filled, "map", "check", "--findings", tmp_path / "f.geojson", "-o", tmp_path / "c.html")
    assert result.exit_code == 0 and "检查: 界桩偏离界线 1" in result.output
    result = run(filled, "map", "inspection", "-o", tmp_path / "bad.html", "--round", "R9")
    assert result.exit_code == 1 and result.output.startswith("Error: 联检轮次 R9")
    result = run(filled, "map", "heritage", "-o", tmp_path / "bad.html", "--basemap", "tianditu",
                 "--tianditu-key", "")
    assert result.exit_code == 1
    assert not (tmp_path / "bad.html").exists()


def test_title_is_escaped(filled, tmp_path):
    heritage_map(filled, tmp_path / "t.html", title=EVIL)
    page = (tmp_path / "t.html").read_text(encoding="utf-8")
    assert "<title>&lt;img src=x onerror=alert(1)&gt;</title>" in page and EVIL not in page


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    chromium = Browser()
    yield chromium
    chromium.close()


EXPECTED = {
    "inspection": {"界线两侧行政区域": 3, "行政区域界线": 2, "界桩": 4},
    "proposals": {"行政区域": 3, "现有道路": 2, "名称冲突": 1, "道路命名申报": 3},
    "heritage": {"行政区域": 3, "地名保护名录": 2},
    "check": {"行政区域": 3, "行政区域界线": 2, "检查: 区域重叠": 2, "检查: 界桩偏离界线": 1,
              "检查: &lt;img src=x onerror=alert(1)&gt;": 1},
}


@needs_chromium
def test_maps_draw_offline_in_chromium_and_injected_names_stay_text(filled, tmp_path, browser):
    for kind, result in _maps(filled, tmp_path).items():
        page = open_page(browser, result["output"])
        summary = page.evaluate(SUMMARY_JS)
        assert summary["container"] and summary["scale"], kind
        # the layer control shows names as HTML: the escaped rule name shows as the literal text
        assert {k.strip(): v for k, v in summary["layers"].items()} == EXPECTED[kind], kind
        assert summary["drawn"] == sum(EXPECTED[kind].values()), kind
        assert summary["legend"] and summary["date"].startswith("生成日期 ")
        # Leaflet's credit as plain text: no flag, no link out of a government map
        assert summary["attribution"] == "Leaflet", kind
        opened = page.evaluate(OPEN_ALL_JS)
        collect(page)
        assert opened["foreign"] == 0, kind
        # every feature's popup, and a tooltip for each shape and symbol
        assert len(opened["texts"]) >= summary["drawn"] + summary["symbols"], kind
        # the labels on the map are project values too
        assert all("<" not in t or t == EVIL for t in summary["labels"]), kind
        assert page.requests == [], kind
        assert page.errors == [], kind
        assert page.dialogs == [], kind
        if kind != "heritage":
            assert any(EVIL in t for t in opened["texts"]), kind
        if kind == "check":
            assert EVIL in summary["control"]
            assert any(TICKS in t for t in opened["texts"])
            assert any("乡镇重叠 120000 平方米" in t for t in opened["texts"])
            assert any("已认可 E1" in t and f"admin_areas:379901 {EVIL}" in t for t in opened["texts"])
            assert "区域重叠 (已认可) (1)" in summary["legend"]


@needs_chromium
def test_screenshot_shows_the_map(filled, tmp_path, browser):
    out = inspection_map(filled, tmp_path / "i.html", round_id="R5")["output"]
    page = open_page(browser, out)
    width, height, pixels = png_pixels(page.screenshot())
    assert (width, height) == (1200, 800)
    # the map area between the controls: background, area fills, the line and the markers
    middle = [p for row in pixels[150:650] for p in row[200:1000]]
    background = (0xF4, 0xF3, 0xEE)
    assert sum(p != background for p in middle) > 0.3 * len(middle)
    assert len(set(middle)) > 20
    red_line = sum(1 for p in middle if p[0] > 150 and p[1] < 80 and p[2] < 80)
    assert red_line > 100  # the boundary line and the lost marker


@needs_chromium
def test_osm_basemap_only_asks_for_tiles(filled, tmp_path, browser):
    out = heritage_map(filled, tmp_path / "osm.html", basemap="osm")["output"]
    page = open_page(browser, out, settle=1.0)
    assert page.requests, "tiles were requested"
    assert all(r.startswith("https://tile.openstreetmap.org/") for r in page.requests), page.requests


def test_cli_check_map_runs_the_check_itself(demo_project, tmp_path, run):
    result = run(demo_project, "map", "check", "-o", tmp_path / "c.html")
    assert result.exit_code == 0, result.output
    off_line, gap = f"检查: {rule_name('marker.off-line')} 1", f"检查: {rule_name('area.gap')} 1"
    assert off_line in result.output and gap in result.output
    only = run(demo_project, "map", "check", "--rules", "marker", "-o", tmp_path / "m.html")
    assert off_line in only.output and gap not in only.output


MAP = "const map = Object.values(window).find(v => v instanceof L.Map);"


def view(page, lat, lon, zoom):
    """Move the map and wait until its symbols and labels are redrawn."""
    # a closed popup fades out for a moment, still covering what is above its marker: take it away
    page.evaluate(f"""(() => {{ {MAP} map.closePopup();
                  document.querySelectorAll('.leaflet-popup').forEach(e => e.remove());
                  map.setView([{lat}, {lon}], {zoom}, {{animate: false}}); }})()""")
    settle(page)


def settle(page):
    page.evaluate("new Promise(r => setTimeout(() => requestAnimationFrame(() => requestAnimationFrame(r)), 50))")


LABEL_BOXES_JS = """[...document.querySelectorAll('.leaflet-dm-labels-pane span')].map(e => {
  const r = e.getBoundingClientRect();
  return {text: e.textContent, box: [r.left, r.top, r.right, r.bottom], elements: e.children.length};
})"""


def _overlapping(labels):
    return [(a["text"], b["text"]) for n, a in enumerate(labels) for b in labels[n + 1:]
            if a["box"][0] < b["box"][2] - 0.5 and b["box"][0] < a["box"][2] - 0.5
            and a["box"][1] < b["box"][3] - 0.5 and b["box"][1] < a["box"][3] - 0.5]


@needs_chromium
def test_labels_show_where_they_fit_and_never_overlap(filled, tmp_path, browser):
    maps = _maps(filled, tmp_path)
    page = open_page(browser, maps["inspection"]["output"])
    seen = {}
    for zoom in (9, 11, 12, 13, 14, 15, 16):
        view(page, 36.04, 120.1, zoom)
        labels = page.evaluate(LABEL_BOXES_JS)
        assert not _overlapping(labels), (zoom, _overlapping(labels))
        assert all(label["elements"] == 0 for label in labels)  # text, never markup
        seen[zoom] = {label["text"] for label in labels}
    # close in: every marker number and the line's number and name
    assert {"9101001Q", "9101002Q", "9101003Q", "9101 云溪—松阳线"} <= seen[14]
    assert EVIL in seen[12] | seen[13] and "松阳区" in seen[12] | seen[13]  # the areas on both sides
    # far out the markers merge and only their count is written
    assert "9101002Q" not in seen[9] and "2" in seen[9]
    assert not page.errors
    page = open_page(browser, maps["proposals"]["output"])
    for zoom in (10, 12, 13, 14):
        view(page, 36.06, 120.1, zoom)
        labels = page.evaluate(LABEL_BOXES_JS)
        assert not _overlapping(labels), (zoom, _overlapping(labels))
        seen[zoom] = {label["text"] for label in labels}
    assert {"海安路 Hai'an Lu", TICKS, "云帆路"} <= seen[13]


def _two_counties_and_a_short_line(project):
    with transaction(project, by="测试") as tx:
        tx.insert("admin_areas", [
            {"code": "379901", "name": "云溪县", "level": "county", "geometry": MultiPolygon([box(120, 36, 121, 37)])},
            {"code": "379902", "name": "松阳县", "level": "county", "geometry": MultiPolygon([box(121, 36, 122, 37)])}])
        tx.insert("boundary_lines", [
            {"line_id": "9101", "name": "云溪—松阳线", "left_code": "379901", "right_code": "379902",
             "geometry": MultiLineString([[(121, 36.40), (121, 36.45)]])},
            {"line_id": "9102", "name": "北段", "left_code": "379901", "right_code": "379902",
             "geometry": MultiLineString([[(121, 36.45), (121, 37)]])}])
        tx.insert("boundary_markers", [{"marker_id": "9101001Q", "line_id": "9101", "geometry": Point(121, 36.42)}])
    return project


@needs_chromium
def test_line_option_fits_the_map_to_that_line(project, tmp_path, browser):
    _two_counties_and_a_short_line(project)
    bounds = f"""(() => {{ {MAP} const b = map.getBounds();
                 return [map.getZoom(), b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }})()"""
    whole = open_page(browser, inspection_map(project, tmp_path / "all.html")["output"]).evaluate(bounds)
    assert whole[1] <= 120 and whole[3] >= 122  # both counties
    zoom, west, south, east, north = open_page(
        browser, inspection_map(project, tmp_path / "line.html", line_id="9101")["output"]).evaluate(bounds)
    assert south <= 36.40 and north >= 36.45 and west < 121 < east  # the line …
    assert north - south < 0.1 and zoom >= whole[0] + 3  # … and not the two whole counties around it


def _markers_project(project, count: int, *, spacing: float = 1e-4, stacked: int = 0):
    """One line with ``count`` markers ``spacing`` degrees apart, and ``stacked`` more on one spot."""
    markers = [{"marker_id": f"9101{i:03d}Q", "line_id": "9101", "marker_type": "单立", "material": "花岗岩",
                "condition": ("完好", "损坏", "丢失")[i % 3], "x": 4000000.0 + i, "y": 500000.0 + 2 * i,
                "plane_crs": 4549, "location": EVIL if i == 5 else f"第{i}号田埂",
                "geometry": Point(120.1, 36.0 + spacing * i)} for i in range(1, count + 1)]
    markers += [{"marker_id": f"9101{900 + i}Q", "line_id": "9101", "geometry": Point(120.1003, 36.0)}
                for i in range(stacked)]
    with transaction(project, by="测试") as tx:
        tx.insert("admin_areas", [
            {"code": "379901", "name": "云溪县", "level": "county",
             "geometry": MultiPolygon([box(120.0, 36.0, 120.1, 36.1)])},
            {"code": "379902", "name": "松阳县", "level": "county",
             "geometry": MultiPolygon([box(120.1, 36.0, 120.2, 36.1)])}])
        tx.insert("boundary_lines", [{"line_id": "9101", "name": "云溪—松阳线", "left_code": "379901",
                                      "right_code": "379902",
                                      "geometry": MultiLineString([[(120.1, 36.0), (120.1, 36.1)]])}])
        tx.insert("boundary_markers", markers)
    return markers


def test_markers_are_encoded_compactly(tmp_path):
    """Each marker costs tens of bytes (its popup is built on click), and what the page reads back
    is each marker's number, fields and position."""
    from diming.layers.store import init_project

    sizes = {}
    for count in (0, 2000):
        project = init_project(tmp_path / f"m{count}.gpkg")
        markers = _markers_project(project, count, spacing=2e-5)
        out = inspection_map(project, tmp_path / f"m{count}.html")["output"]
        sizes[count] = out.stat().st_size
    assert (sizes[2000] - sizes[0]) / 2000 < 60, sizes
    spec = specs(out)["界桩"]
    assert values(spec, "t") == [m["marker_id"] for m in markers]
    fields = dict(zip(spec["fields"], spec["cols"]))
    assert values(spec, fields["位置"])[4] == EVIL and values(spec, fields["登记X(北)"])[9] == "4000010"
    assert values(spec, fields["现状"])[:3] == ["损坏", "丢失", "完好"]
    assert fields["经度"] == {"f": "lon"} and fields["界桩编号"] == {"f": "t"}
    x = y = 0
    for n, marker in enumerate(markers):
        x, y = x + spec["g"][2 * n], y + spec["g"][2 * n + 1]
        assert (x / spec["scale"], y / spec["scale"]) == pytest.approx(marker["geometry"].coords[0], abs=1e-9)


CLICK_TARGET_JS = """((id) => { %s
  const layer = map._dm.layers.find(l => l.spec.name === '界桩');
  for (const symbol of Object.values(layer._drawn)) {
    const c = symbol._dmCluster;
    if (c.members.some(m => layer.title(m.i) === id)) {
      const p = map.latLngToContainerPoint(symbol.getLatLng());
      return {x: p.x, y: p.y, members: c.members.length};
    }
  }
  return null;
})""" % MAP

# the popup opened last (a closed one fades out for a moment before it leaves the page)
POPUP_JS = """(() => { const el = [...document.querySelectorAll('.leaflet-popup-content')].pop();
  if (!el) return null;
  const links = [...el.querySelectorAll('.dm-popup-link')].map(e => {
    const r = e.getBoundingClientRect();
    return {text: e.textContent, x: (r.left + r.right) / 2, y: (r.top + r.bottom) / 2};
  });
  return {title: el.querySelector('.dm-popup-title').textContent, text: el.textContent, links: links}; })()"""


@needs_chromium
def test_every_marker_is_drawn_and_opens_its_popup_on_click(project, tmp_path, browser):
    markers = _markers_project(project, 40, spacing=1e-4, stacked=3)
    page = open_page(browser, inspection_map(project, tmp_path / "m.html")["output"])
    summary = page.evaluate(SUMMARY_JS)
    # at the fitted view 10 m apart overlap: fewer symbols, yet every marker is in one of them
    assert summary["layers"]["界桩"] == 43 and summary["drawn"] == 2 + 1 + 43
    assert summary["clusters"] >= 1 and summary["symbols"] < 43
    # merged only where they overlap: each cluster's markers lie within one symbol's width (13.5 px)
    # of its centre, and no two symbols are closer than that
    spread = page.evaluate(f"""(() => {{ {MAP}
      const layer = map._dm.layers.find(l => l.spec.name === '界桩');
      const px = at => map.latLngToContainerPoint(at);
      const symbols = Object.values(layer._drawn).map(s => px(s.getLatLng()));
      let farthest = 0, closest = Infinity;
      Object.values(layer._drawn).forEach(s => s._dmCluster.members.forEach(m =>
        farthest = Math.max(farthest, px(m.at).distanceTo(px(s.getLatLng())))));
      symbols.forEach((a, n) => symbols.slice(n + 1).forEach(b => closest = Math.min(closest, a.distanceTo(b))));
      return [farthest, closest];
    }})()""")
    assert spread[0] < 13.6 and spread[1] > 13.4, spread
    # a click on a cluster zooms in on its markers
    target = page.evaluate(CLICK_TARGET_JS + "('9101020Q')")
    assert target["members"] > 1
    click(page, target["x"], target["y"])
    settle(page)
    assert page.evaluate(SUMMARY_JS)["zoom"] > summary["zoom"]
    for marker in markers:
        lon, lat = marker["geometry"].coords[0]
        view(page, lat, lon, 18)
        target = page.evaluate(CLICK_TARGET_JS + f"('{marker['marker_id']}')")
        assert target, marker["marker_id"]
        click(page, target["x"], target["y"])
        settle(page)
        popup = page.evaluate(POPUP_JS)
        if popup["links"]:  # markers on one spot stay together at the deepest zoom: a list of them
            assert marker["marker_id"].startswith("9101" + "9") and len(popup["links"]) == 3
            link = next(link for link in popup["links"] if link["text"] == marker["marker_id"])
            click(page, link["x"], link["y"])
            settle(page)
            popup = page.evaluate(POPUP_JS)
        assert popup["title"] == marker["marker_id"]
        assert f"经度{lon:.6f}纬度{lat:.6f}" in popup["text"]
        if marker.get("location"):
            assert f"位置{marker['location']}" in popup["text"]
    collect(page)
    assert page.errors == [] and page.dialogs == [] and page.requests == []


@needs_chromium
def test_small_findings_are_marked_at_full_extent(project, tmp_path, browser):
    _two_counties_and_a_short_line(project)
    sliver = Polygon([(121.0, 36.5), (121.0002, 36.5), (121.0002, 36.5003), (121.0, 36.5003)])
    findings = [{"rule": "area.gap", "severity": "error", "layer": "admin_areas", "id": "379901",
                 "message": "县界缝隙 600 平方米", "geometry": sliver}]
    page = open_page(browser, check_map(project, tmp_path / "c.html", findings)["output"])
    ring = f"""(() => {{ {MAP}
      const layer = map._dm.layers.find(l => l.spec.name === '检查: 区域缝隙');
      const rings = Object.values(layer._drawn).filter(s => s._dmCluster.rep.ring);
      return rings.map(s => {{ const p = map.latLngToContainerPoint(s.getLatLng()); return [p.x, p.y]; }});
    }})()"""
    rings = page.evaluate(ring)
    assert len(rings) == 1  # a few metres at the scale of two counties: a ring shows where
    click(page, *rings[0])
    settle(page)
    assert "县界缝隙 600 平方米" in page.evaluate(POPUP_JS)["text"]
    view(page, 36.50015, 121.0001, 18)
    assert page.evaluate(ring) == []  # close in the gap itself is drawn


def test_check_map_names_rules_and_severities_in_chinese(demo_project, tmp_path):
    from diming.check import run_check

    findings = run_check(demo_project)
    out = check_map(demo_project, tmp_path / "c.html", findings)
    rules = {f.rule for f in findings if f.geometry is not None}
    assert {name for name in out["counts"] if name.startswith("检查: ")} == {f"检查: {rule_name(r)}" for r in rules}
    page = out["output"].read_text(encoding="utf-8")
    legend = json.loads(re.search(r"diming\.frame\(\w+, (\{.*?\})\);", page).group(1))["legend"]
    labels = " ".join(entry["label"] for entry in legend)
    assert not re.search("[A-Za-z]", labels), labels  # no rule codes, no English severities
    assert f"{rule_name('area.gap')} (错误)" in labels or f"{rule_name('area.gap')} (警告)" in labels


def test_basemap_help_warns_of_offset_tiles(run, project):
    result = run(project, "map", "inspection", "--help")
    assert "GCJ-02" in result.output and "BD-09" in result.output and "偏移数百米" in result.output


@needs_chromium
def test_proposals_stay_above_the_roads_when_layers_are_switched(filled, tmp_path, browser):
    page = open_page(browser, proposals_map(filled, tmp_path / "p.html")["output"])
    order = f"""(() => {{ {MAP}
      const names = {{}};
      map._dm.layers.forEach(l => l.eachLayer(p => {{ names[L.stamp(p)] = l.spec.name; }}));
      const out = [];
      for (let o = map._renderer._drawFirst; o; o = o.next) out.push(names[L.stamp(o.layer)]);
      return out.filter((name, n) => name !== out[n - 1]);
    }})()"""
    assert page.evaluate(order) == ["行政区域", "现有道路", "名称冲突", "道路命名申报"]
    toggle = """((name) => { const label = [...document.querySelectorAll('.leaflet-control-layers-overlays label')]
      .find(l => l.textContent.trim() === name); const r = label.querySelector('input').getBoundingClientRect();
      return [(r.left + r.right) / 2, (r.top + r.bottom) / 2]; })"""
    for _ in range(2):  # off, and on again: drawn last it would cover the proposals
        click(page, *page.evaluate(toggle + "('现有道路')"))
        settle(page)
    assert page.evaluate(order) == ["行政区域", "现有道路", "名称冲突", "道路命名申报"]


@needs_chromium
def test_signs_and_gazetteer_maps_draw_offline_and_keep_names_as_text(demo_project, tmp_path, browser):
    from diming.maps.gazetteer import gazetteer_map
    from diming.maps.signs import signs_map

    with transaction(demo_project, by="测试") as tx:  # project text with markup, in both maps
        tx.update("road_signs", read_first_key(demo_project, "road_signs", "sign_id"), {"text": EVIL})
        tx.update("place_names", read_first_key(demo_project, "place_names", "place_id"), {"meaning": EVIL})
    for write in (signs_map, gazetteer_map):
        result = write(demo_project, tmp_path / f"{write.__name__}.html")
        page = open_page(browser, result["output"])
        summary = page.evaluate(SUMMARY_JS)
        assert summary["container"] and summary["scale"] and summary["drawn"] > 20, write.__name__
        assert summary["attribution"] == "Leaflet"
        opened = page.evaluate(OPEN_ALL_JS)
        collect(page)
        assert opened["foreign"] == 0 and page.requests == [] and page.errors == [] and page.dialogs == []
        assert any(EVIL in t for t in opened["texts"]), write.__name__  # shown as the literal text


def read_first_key(project, layer, key):
    from diming.layers.store import read_layer

    return read_layer(project, layer, columns=[key], geometry=False)[key].iloc[0]
