"""The four maps: written by the library and the CLI, self-contained, escaped; drawn in a real
headless Chromium with the network blocked (skipped only where Chromium is not installed)."""
import json
import re

import pytest
from shapely.geometry import MultiLineString, MultiPolygon, Point, Polygon, box

from chromium import CHROMIUM, OPEN_ALL_JS, SUMMARY_JS, Browser, collect, open_page, png_pixels
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
