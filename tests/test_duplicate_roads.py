"""``--rules name.duplicate`` alone reads only the roads that can be in a 重名 group, found in SQL
(the roads' name index, and the names the name index links to other names); its findings are
those of the whole name family's duplicate rule, on random projects in every duplicate scope."""
import random

import pytest
from shapely.geometry import MultiLineString, Point, box

from diming.check import CheckData, run_check
from diming.geonames import name_checks
from diming.layers.settings import set_setting
from diming.layers.store import transaction

# the same name written alike and not (a space, traditional characters), with 新/大 and a division
# name (青岚) added, another 通名, names linked to none
NAMES = ["海口路", "海口路 ", "新海口路", "青岚海口路", "海口街", "城子路", "新城子路", "大城子路", "长江路", "長江路",
         "黄河路", "松风路", "松风路", "桃李巷"]
FILLER = [a + b + "路" for a in "春夏秋冬东南西北" for b in "山水林田湖柳"]  # mostly alone in their scope


def a_name(rng):
    return rng.choice(NAMES) if rng.random() < 0.4 else rng.choice(FILLER)


# a county's code, another's, a town's (longer than a county scope), a city's, none; mostly a county's,
# or every road would be read
DISTRICTS = ["379901"] * 9 + ["379902"] * 9 + ["379901100", "3799", "", None]
WEST, EAST = box(120.0, 36.0, 120.1, 36.1), box(120.1, 36.0, 120.2, 36.1)  # 青岚区, 松阳区


def line_in(area, rng):
    x0, y0, x1, y1 = area.bounds
    x, y = rng.uniform(x0 + 0.01, x1 - 0.02), rng.uniform(y0 + 0.01, y1 - 0.02)
    return MultiLineString([[(x, y), (x + 0.005, y)]])


def random_project(project, rng):
    with transaction(project, by="测试员") as tx:
        tx.insert("admin_areas", [
            {"code": "3799", "name": "青州市", "level": "city", "geometry": WEST.union(EAST)},
            {"code": "379901", "name": "青岚区", "level": "county", "parent_code": "3799", "geometry": WEST},
            {"code": "379902", "name": "松阳区", "level": "county", "parent_code": "3799", "geometry": EAST},
            {"code": "379901100", "name": "桃源镇", "level": "town", "parent_code": "379901",
             "geometry": box(120.0, 36.0, 120.05, 36.05)}])
        roads = [{"road_id": f"R{k}", "name": a_name(rng), "district": rng.choice(DISTRICTS),
                  "status": rng.choice(["in_use", "in_use", "in_use", "cancelled"]),
                  "geometry": line_in(rng.choice([WEST, EAST]), rng)} for k in range(300)]
        proposals = [{"proposal_id": f"P{k}", "name": rng.choice(NAMES), "district": rng.choice(DISTRICTS),
                      "status": rng.choice(["submitted", "in_review", "rejected"]),
                      "road_id": rng.choice([None, None, f"R{rng.randrange(300)}"]),
                      "geometry": line_in(rng.choice([WEST, EAST]), rng)} for k in range(6)]
        for road in rng.sample(roads, 4):  # roads that were these proposals
            road["proposal_id"] = rng.choice(proposals)["proposal_id"]
        tx.insert("roads", roads)
        tx.insert("road_proposals", proposals)
        tx.insert("place_names", [
            {"place_id": f"G{k}", "name": rng.choice(NAMES), "category": rng.choice(["22200", "居民点", "陆地地形"]),
             "district": rng.choice(["379901", "379902", "379901100", None]), "in_use": "current",
             "geometry": Point(rng.uniform(120.0, 120.2), rng.uniform(36.0, 36.1))} for k in range(6)])


def duplicates(findings):
    return sorted((f.layer, f.id, tuple(r["id"] for r in f.related), f.message) for f in findings
                  if f.rule == "name.duplicate")


@pytest.mark.parametrize("scope", ["district", "county", "city"])
@pytest.mark.parametrize("seed", range(3))
def test_the_duplicates_alone_are_those_of_the_whole_family(tmp_path, monkeypatch, scope, seed):
    from diming.layers.store import init_project

    read = []
    narrowed = name_checks._duplicate_roads
    monkeypatch.setattr(name_checks, "_duplicate_roads", lambda *a: read.append(narrowed(*a)) or read[-1])
    project = init_project(tmp_path / "p.gpkg")
    rng = random.Random(seed * 10 + len(scope))
    random_project(project, rng)
    set_setting(project, "duplicate_scope", scope)
    run_check(project, ["name.duplicate"])  # the names indexed; those written later are linked to them
    with transaction(project, by="测试员") as tx:
        tx.insert("roads", [{"road_id": f"S{k}", "name": a_name(rng), "district": rng.choice(DISTRICTS),
                             "status": "in_use", "geometry": line_in(rng.choice([WEST, EAST]), rng)}
                            for k in range(10)])
    alone = duplicates(run_check(project, ["name.duplicate"]))
    assert alone == duplicates(run_check(project, ["name"]))
    assert alone  # the random names make some
    if scope != "city":  # (in a city's scope a county's code is longer than the scope's: all its roads are read)
        assert len(read[-1]) < len(CheckData(project).roads_in_use())  # not every road read


def test_only_the_roads_a_group_can_hold_are_read(project, monkeypatch):
    read = []
    narrowed = name_checks._duplicate_roads
    monkeypatch.setattr(name_checks, "_duplicate_roads", lambda *a: read.append(narrowed(*a)) or read[-1])

    def road(key, name, district):
        return {"road_id": key, "name": name, "district": district, "status": "in_use",
                "geometry": MultiLineString([[(120.0, 36.0), (120.01, 36.0)]])}

    with transaction(project, by="测试员") as tx:
        tx.insert("roads", [road("R1", "海口路", "379901"), road("R2", "海口路", "379901"),
                            road("R3", "海口路", "379902"), road("R4", "长江路", "379901"),
                            road("R5", "新城子路", "379902"), road("R6", "黄河路", "379903")])
        tx.insert("road_proposals", [{"proposal_id": "P1", "name": "黄河路", "district": "379903",
                                      "status": "submitted"}])
    found = run_check(project, ["name.duplicate"])
    assert sorted(f.id for f in found) == ["P1", "R1"]
    assert sorted(read[-1]["road_id"]) == ["R1", "R2", "R6"]  # not R3: its 海口路 is alone in its county
    with transaction(project, by="测试员") as tx:  # 城子路 is 新城子路 by the prefix rule: every road of both read
        tx.insert("roads", [road("R7", "城子路", "379902"), road("R8", "新城子路", "379901")])
    assert sorted(f.id for f in run_check(project, ["name.duplicate"])) == ["P1", "R1", "R5"]
    assert sorted(read[-1]["road_id"]) == ["R1", "R2", "R5", "R6", "R7", "R8"]
    with transaction(project, by="测试员") as tx:  # and 大海口路, written after 海口路, is 海口路
        tx.insert("roads", [road("R9", "大海口路", "379903")])
    assert sorted(f.id for f in run_check(project, ["name.duplicate"])) == ["P1", "R1", "R5"]
    assert sorted(read[-1]["road_id"]) == ["R1", "R2", "R3", "R5", "R6", "R7", "R8", "R9"]


def test_every_road_is_read_where_looking_each_up_costs_more(project, monkeypatch):
    read = []
    narrowed = name_checks._duplicate_roads
    monkeypatch.setattr(name_checks, "_duplicate_roads", lambda *a: read.append(narrowed(*a)) or read[-1])
    with transaction(project, by="测试员") as tx:  # a village of each road's name in its county
        tx.insert("roads", [{"road_id": f"R{k}", "name": f"{k}号路", "district": "379901", "status": "in_use"}
                            for k in range(8)])
        tx.insert("place_names", [{"place_id": f"G{k}", "name": f"{k}号路", "category": "22200", "district": "379901",
                                   "in_use": "current"} for k in range(3)])
    assert sorted(f.id for f in run_check(project, ["name.duplicate"])) == ["R0", "R1", "R2"]
    assert len(read[-1]) == 8


def test_every_road_is_read_where_the_index_cannot_answer(project, monkeypatch):
    import sqlite3

    from diming.geonames import name_index

    with transaction(project, by="测试员") as tx:
        tx.insert("roads", [{"road_id": k, "name": "海口路", "district": d, "status": "in_use"}
                            for k, d in (("R1", "379901"), ("R2", "379901"), ("R3", "379902"))])

    def read_only(*args):
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(name_index, "_refresh", read_only)
    monkeypatch.setattr(name_checks, "_duplicate_roads", None)  # not called
    [found] = run_check(project, ["name.duplicate"])
    assert (found.id, [r["id"] for r in found.related]) == ("R1", ["R2"])
