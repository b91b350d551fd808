"""The rural names campaign: progress, model-village candidates, batches for map platforms."""
import csv
import json

import pytest
from shapely.geometry import MultiLineString, Point

from diming.errors import DimingError
from diming.geonames.rural import candidates, confirm_batch, export_batch, progress
from diming.layers.settings import set_setting
from diming.layers.store import audit_rows, read_layer, transaction

TOWN = "379901100"
A, B = TOWN + "201", TOWN + "202"  # two villages of the town


def names(project):
    """Village A: 5 names, every one on the map, full records; village B: 5 names at each step."""
    rows = [{"place_id": f"{A}00000{i:06d}", "name": name, "category": category, "district": A, "rural": 1,
             "in_use": "current", "meaning": "含义", "history": "沿革", "photos": "p.jpg",
             "collected_on": "2026-03-01", "reviewed_on": "2026-03-10", "on_map_on": "2026-04-01",
             "geometry": Point(120.0 + i / 100, 36.0)}
            for i, (name, category) in enumerate([("石门村", "群众自治组织"), ("上石门", "22200"), ("石门河", "陆地水系"),
                                                  ("石门山", "陆地地形"), ("石门桥", "交通运输设施")], start=1)]
    steps = [{}, {"collected_on": "2026-03-01"}, {"collected_on": "2026-03-01", "reviewed_on": "2026-03-10"},
             {"collected_on": "2026-03-01", "reviewed_on": "2026-03-11"},
             {"collected_on": "2026-03-01", "reviewed_on": "2026-03-10", "on_map_on": "2026-04-01"}]
    rows += [{"place_id": f"{B}00000{i:06d}", "name": name, "category": "22200", "district": B, "rural": 1,
              "in_use": "current", "description": f"{name}位于镇东", "geometry": Point(120.1 + i / 100, 36.0), **step}
             for i, (name, step) in enumerate(zip(["桃花村", "李家庄", "王家庄", "=赵家庄", "钱家庄"], steps), start=1)]
    rows[5]["category"] = "群众自治组织"
    rows.append({"place_id": "379901000000000000099", "name": "青溪河", "category": "陆地水系", "district": "379901",
                 "in_use": "current", "geometry": MultiLineString([[(120.0, 36.0), (120.2, 36.1)]])})  # not rural
    with transaction(project, by="测试员") as tx:
        tx.insert("admin_areas", [{"code": TOWN, "name": "桃源镇", "level": "town", "parent_code": "379901"}])
        tx.insert("place_names", rows)


def test_progress_per_township_and_village(project, run):
    names(project)
    result = progress(project)
    [town] = result["townships"]
    assert (town["code"], town["name"], town["names"], town["collected"], town["reviewed"], town["on_map"]) == \
        (TOWN, "桃源镇", 10, 9, 8, 6)
    assert [(v["name"], v["names"], v["on_map"], v["done"]) for v in town["by_village"]] == \
        [("石门村", 5, 5, True), ("桃花村", 5, 1, False)]
    assert (town["villages"], town["villages_done"], town["done_share"]) == (2, 1, 0.5)
    assert result["total"]["done_share"] == 0.5
    text = run(project, "rural", "progress").output
    assert "379901100 桃源镇" in text and "全部上图的村 1/2 (50%)" in text and "✓ 全部上图" in text
    assert json.loads(run(project, "rural", "progress", "--format", "json").output)["total"]["names"] == 10


def test_candidates_rank_villages_by_completeness(project, run):
    names(project)
    ranked = candidates(project)
    assert [(v["rank"], v["name"]) for v in ranked] == [(1, "石门村"), (2, "桃花村")]
    first, second = ranked
    assert first["score"] == 100.0 and first["categories"] == 1.0
    assert (second["categories"], second["meaning"], second["photos"], second["on_map"]) == (0.5, 0.0, 0.0, 0.2)
    assert second["score"] == pytest.approx(100 * (0.25 * 0.5 + 0.25 * 0.2), abs=0.1)
    set_setting(project, "model_village_criteria", "on_map=1")
    assert [v["score"] for v in candidates(project)] == [100.0, 20.0]
    set_setting(project, "model_village_min_names", "6")
    assert candidates(project) == []
    with pytest.raises(DimingError, match="示范村评分项"):
        set_setting(project, "model_village_criteria", "beauty=1")
    assert "石门村" not in run(project, "rural", "candidates").output  # min 6 names now


def test_batch_export_and_confirm(project, tmp_path, run):
    names(project)
    result = run(project, "rural", "export", "--batch", "2026-01", "--output", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "批次 2026-01: 2 条地名" in result.output  # reviewed, not on the map: 王家庄 and =赵家庄
    collection = json.loads((tmp_path / "out" / "2026-01.geojson").read_text(encoding="utf-8"))
    assert collection["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::4490"
    props = [f["properties"] for f in collection["features"]]
    assert [p["标准名称"] for p in props] == ["王家庄", "=赵家庄"]
    assert props[0]["类别"] == "农村居民点" and props[0]["所在行政区"] == "桃花村" and props[0]["经度"] == 120.13
    assert props[0]["罗马字母拼写"] == "" and props[0]["地理实体描述"] == "王家庄位于镇东"
    with open(tmp_path / "out" / "2026-01.csv", encoding="utf-8-sig", newline="") as f:
        table = list(csv.DictReader(f))
    assert [r["标准名称"] for r in table] == ["王家庄", "'=赵家庄"]  # formula text neutralised
    assert set(read_layer(project, "place_names", where="map_batch = '2026-01'")["name"]) == {"王家庄", "=赵家庄"}
    with pytest.raises(DimingError, match="已导出过"):
        export_batch(project, "2026-01", tmp_path / "again")
    with pytest.raises(DimingError, match="没有待上图"):
        export_batch(project, "2026-02", tmp_path / "again")
    assert not (tmp_path / "again").exists() or not list((tmp_path / "again").iterdir())
    with pytest.raises(DimingError, match="早于"):
        confirm_batch(project, "2026-01", "天地图", on="2026-03-10")
    result = run(project, "rural", "confirm", "2026-01", "--platform", "天地图", "--date", "2026-04-15")
    assert result.exit_code == 0 and "2 条地名" in result.output
    done = read_layer(project, "place_names", where="map_batch = '2026-01'")
    assert set(done["on_map_on"]) == {"2026-04-15"} and set(done["platforms"]) == {"天地图"}
    confirm_batch(project, "2026-01", "高德地图", on="2026-04-20")
    done = read_layer(project, "place_names", where="map_batch = '2026-01'")
    assert set(done["on_map_on"]) == {"2026-04-15"} and set(done["platforms"]) == {"天地图,高德地图"}
    actions = [r["action"] for r in audit_rows(project, layer="place_names")]
    assert actions.count("rural-export") == 2 and actions.count("rural-confirm") == 4
    assert progress(project)["total"]["on_map"] == 8
