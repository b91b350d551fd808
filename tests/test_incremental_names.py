"""``diming check --changed`` after edits of the name and sign layers only: the name family re-runs
on the names the edits reach (their clash-key closure), the sign rules on the signs they reach,
and the result still equals a full check's, after random edits (seeded) that make and break
duplicates, homophones, prefix-rule and region-stem links, proposal/road links, scopes (districts,
roads placed by their area, gazetteer categories), the heritage list, the width rule, signs and
their patrol records."""
import json
import random
import sqlite3

import pytest
from shapely.geometry import MultiLineString, MultiPolygon, Point, Polygon

from diming.check import _families, rules, run_check
from diming.findings import as_dicts
from diming.layers.gpkg import connect
from diming.layers.settings import set_setting
from diming.layers.store import transaction

# 常江/长江/张江 and 重庆/中庆 sound alike (长, 重 have two readings); 新黄河 and 青岚黄河 are
# 黄河 by the prefix rule (新; the stem of 青岚市); 新城子/城子 too, 大城子 only shares 城子 with 新城子
SPECIFICS = ["长江", "常江", "张江", "黄河", "新黄河", "青岚黄河", "城子", "新城子", "大城子", "海晏", "海燕",
             "重庆", "中庆", "乐安", "月安", "桃源", "青岚"]
GENERICS = ["路", "街", "东路"]
COUNTIES = ["379901", "379902", "379903", "379904"]
CATEGORIES = ["居民点", "22100", "21500", "群众自治组织", "陆地水系", "建筑物"]


def square(x, y, size=0.1):
    return MultiPolygon([Polygon([(x, y), (x + size, y), (x + size, y + size), (x, y + size)])])


def name(rng):
    return rng.choice(SPECIFICS) + rng.choice(GENERICS)


def line(rng):
    x, y = 120 + rng.random() * 0.2, 36 + rng.random() * 0.2
    return MultiLineString([[(x, y), (x + 0.01 * rng.random(), y + 0.01)]])


def district(rng):
    """A county, a town in it, or none (then the road's scope is the area it lies in)."""
    county = rng.choice(COUNTIES)
    return rng.choice([county, county, f"{county}100", None])


def build(project, rng):
    areas = [{"code": "3799", "name": "青岚市", "level": "city", "geometry": square(120, 36, 0.2)}]
    for code, (x, y) in zip(COUNTIES, [(120, 36), (120.1, 36), (120, 36.1), (120.1, 36.1)]):
        areas.append({"code": code, "name": f"桃源{code[-1]}县", "level": "county", "parent_code": "3799",
                      "geometry": square(x, y)})
        areas.append({"code": f"{code}100", "name": f"乐安{code[-1]}镇", "level": "town", "parent_code": code,
                      "geometry": square(x, y, 0.05)})
    roads = [{"road_id": f"R{i:03d}", "name": name(rng), "district": district(rng), "status": "in_use",
              "width_m": rng.choice([None, 12.0, 35.0, 50.0]), "geometry": line(rng)} for i in range(60)]
    proposals = [{"proposal_id": f"P{i:02d}", "name": name(rng), "district": rng.choice(COUNTIES),
                  "status": "submitted", "geometry": line(rng)} for i in range(8)]
    places = [{"place_id": f"G{i:03d}", "name": name(rng)[:-1] + rng.choice(["村", "镇", "河", "路"]),
               "category": rng.choice(CATEGORIES), "district": rng.choice(COUNTIES), "geometry": Point(120.05, 36.05)}
              for i in range(12)]
    heritage = [{"heritage_id": "H1", "name": "海晏路", "geometry": Point(120.05, 36.05)},
                {"heritage_id": "H2", "name": "城子街", "status": "historical", "geometry": Point(120.15, 36.05)}]
    # signs on the roads of two counties (they keep a register: road.no-sign for the others there)
    signs = [sign(rng, f"S{i:03d}", r) for i, r in enumerate(roads) if r["district"] and r["district"][:6] in COUNTIES[:2]
             and rng.random() < 0.7]
    roads[0].update(status="cancelled", district=COUNTIES[0])  # its sign still stands
    signs.append({**sign(rng, "SC", roads[0]), "condition": "完好"})
    with transaction(project, by="t") as tx:
        tx.insert("admin_areas", areas)
        tx.insert("roads", roads)
        tx.insert("road_proposals", proposals)
        tx.insert("place_names", places)
        tx.insert("heritage_names", heritage)
        tx.insert("road_signs", signs)
        tx.insert("sign_patrols", [{"patrol_id": "X1", "name": "巡查"}])
    set_setting(project, "generic_width_rule", "街:40; 路:30; 道:22")


def sign(rng, sign_id, road):
    """A sign of ``road``: its name or another text, its pinyin right or not, near the road or not."""
    from diming.geonames.pinyin import sign as spelled

    text = rng.choice([road["name"], road["name"], name(rng)])
    x, y = road["geometry"].geoms[0].coords[0]
    return {"sign_id": sign_id, "road_id": road["road_id"], "text": text,
            "pinyin": rng.choice([spelled(text), spelled(text).lower(), None]),
            "condition": rng.choice(["完好", "完好", "缺失", "污损"]),
            "geometry": Point(x + rng.choice([0.0, 0.0, 0.01]), y)}


def keys(project, layer, key):
    con = sqlite3.connect(project)
    try:
        return [r[0] for r in con.execute(f"SELECT {key} FROM {layer} ORDER BY fid")]
    finally:
        con.close()


def edit(project, rng, i):
    """One random edit of a name layer, by diming or (sql-*) as a desktop GIS writes."""
    kind = rng.choice(["rename", "rename", "rename", "district", "status", "delete", "insert", "width",
                       "proposal", "proposal-link", "become-road", "place", "place-category", "place-use",
                       "heritage", "heritage-add", "heritage-status", "sql-rename", "sql-delete", "sql-field",
                       "sign", "sign", "sign-road", "sign-add", "sign-delete", "patrol"])
    roads, proposals = keys(project, "roads", "road_id"), keys(project, "road_proposals", "proposal_id")
    places, heritage = keys(project, "place_names", "place_id"), keys(project, "heritage_names", "heritage_id")
    if kind.startswith("sql-"):
        con = connect(project)
        if kind == "sql-rename":
            con.execute("UPDATE roads SET name = ? WHERE road_id = ?", (name(rng), rng.choice(roads)))
        elif kind == "sql-field":  # values only other programs write (field.invalid), a key left empty
            field, value = rng.choice([("status", "用着"), ("status", None), ("status", "in_use"),
                                       ("approved_on", "2024/13/01"), ("approved_on", None), ("road_id", "")])
            if field != "road_id" or "" not in roads:
                con.execute(f"UPDATE roads SET {field} = ? WHERE road_id = ?", (value, rng.choice(roads)))
        else:
            con.execute("DELETE FROM road_proposals WHERE proposal_id = ?", (rng.choice(proposals),))
        con.close()
        return
    with transaction(project, by="t") as tx:
        if kind == "rename":
            tx.update("roads", rng.choice(roads), {"name": name(rng)})
        elif kind == "district":
            tx.update("roads", rng.choice(roads), {"district": district(rng)})
        elif kind == "status":
            tx.update("roads", rng.choice(roads), {"status": rng.choice(["in_use", "cancelled"])})
        elif kind == "delete":
            tx.delete("roads", [rng.choice(roads)])
        elif kind == "insert":
            tx.insert("roads", [{"road_id": f"N{i:03d}-{rng.randrange(10**9)}", "name": name(rng),
                                 "district": district(rng), "status": "in_use", "geometry": line(rng)}])
        elif kind == "width":
            tx.update("roads", rng.choice(roads), {"width_m": rng.choice([10.0, 25.0, 45.0])})
        elif kind == "proposal" and proposals:
            tx.update("road_proposals", rng.choice(proposals),
                      {"name": name(rng), "status": rng.choice(["submitted", "in_review", "rejected"])})
        elif kind == "proposal-link" and proposals:  # a proposal naming an existing road, or a road its proposal
            if rng.random() < 0.5:
                tx.update("road_proposals", rng.choice(proposals), {"road_id": rng.choice(roads)})
            else:
                tx.update("roads", rng.choice(roads), {"proposal_id": rng.choice(proposals)})
        elif kind == "become-road" and proposals:  # announced: the proposal becomes a road of its name
            pid = rng.choice(proposals)
            proposal = tx.get("road_proposals", pid)
            tx.update("road_proposals", pid, {"status": rng.choice(["announced", "approved"])})
            tx.insert("roads", [{"road_id": f"B{i:03d}-{rng.randrange(10**9)}", "name": proposal["name"],
                                 "district": proposal["district"], "status": "in_use", "proposal_id": pid,
                                 "geometry": line(rng)}])
        elif kind == "place":
            tx.update("place_names", rng.choice(places), {"name": name(rng)[:-1] + rng.choice(["村", "镇", "路"])})
        elif kind == "place-category":
            tx.update("place_names", rng.choice(places), {"category": rng.choice(CATEGORIES),
                                                          "district": rng.choice(COUNTIES + [f"{COUNTIES[0]},379902"])})
        elif kind == "place-use":
            tx.update("place_names", rng.choice(places), {"in_use": rng.choice(["current", "historical"])})
        elif kind == "heritage":
            tx.update("heritage_names", rng.choice(heritage), {"name": name(rng)})
        elif kind == "heritage-add":
            tx.insert("heritage_names", [{"heritage_id": f"H{i:03d}-{rng.randrange(10**6)}", "name": name(rng),
                                          "geometry": Point(120.1, 36.1)}])
        elif kind in ("sign", "sign-road", "sign-add", "sign-delete", "patrol"):
            from diming.layers.store import read_layer

            signs = list(read_layer(project, "road_signs", geometry=False)["sign_id"])
            road = tx.get("roads", rng.choice(roads))
            road["geometry"] = line(rng)
            if kind == "sign-add" or not signs:
                tx.insert("road_signs", [sign(rng, f"T{i:03d}-{rng.randrange(10**6)}", road)])
            elif kind == "sign-delete":
                tx.delete("road_signs", [rng.choice(signs)])
            elif kind == "patrol":
                tx.insert("sign_patrol_records", [{
                    "record_id": f"K{i:03d}-{rng.randrange(10**6)}", "patrol_id": "X1", "sign_id": rng.choice(signs),
                    "patrolled_on": f"2024-0{rng.randrange(1, 10)}-01", "condition": rng.choice(["完好", "损毁", "倾斜"]),
                    "action": rng.choice([None, "扶正", "更换"])}])
            else:  # its text, pinyin, condition and place, or the road it stands on
                changes = sign(rng, "", road)
                del changes["sign_id"]
                if kind == "sign":
                    del changes["road_id"]
                tx.update("road_signs", rng.choice(signs), changes)
        elif kind == "heritage-status":
            tx.update("heritage_names", rng.choice(heritage), {"status": rng.choice(["in_use", "historical",
                                                                                       "delisted"])})


def full(project):
    return sorted(json.dumps(d, ensure_ascii=False, sort_keys=True) for d in as_dicts(_families(project, set(rules()))))


def changed(project):
    return sorted(json.dumps(d, ensure_ascii=False, sort_keys=True) for d in as_dicts(run_check(project, changed=True)))


@pytest.fixture
def reached(monkeypatch):
    """The ``names`` each run of the name family was restricted to (None: all)."""
    from diming.geonames import name_checks

    seen = []
    check = name_checks.check

    def spy(data, rules=frozenset(name_checks.RULES), *, names=None):
        seen.append(names)
        return check(data, rules, names=names)
    monkeypatch.setattr(name_checks, "check", spy)
    return seen


def test_random_name_and_sign_edits_give_the_full_checks_findings(tmp_path, reached):
    from diming.layers.store import init_project

    found = set()
    for seed in (11, 12, 13):
        rng = random.Random(seed)
        project = init_project(tmp_path / f"p{seed}.gpkg")
        build(project, rng)
        run_check(project)
        for i in range(25):
            for _ in range(rng.choice([1, 1, 1, 2, 3])):
                edit(project, rng, i)
            expected = full(project)
            reached.clear()
            assert changed(project) == expected, f"seed {seed}, after edit round {i}"
            assert None not in reached  # the name family was not run whole
            found |= {json.loads(f)["rule"] for f in expected}
    # the sequences held something of each kind to find
    assert {"name.duplicate", "name.same-specific", "name.homophone", "name.protected", "name.format",
            "field.invalid", "sign.wrong-name", "sign.wrong-pinyin", "sign.cancelled-road", "sign.far-from-road",
            "sign.damaged", "road.no-sign"} <= found


def test_one_rename_reaches_only_its_names(project, reached):
    rng = random.Random(21)
    build(project, rng)
    with transaction(project, by="t") as tx:
        tx.insert("roads", [{"road_id": k, "name": n, "district": "379901", "status": "in_use", "geometry": line(rng)}
                            for k, n in (("X1", "桃源路"), ("X2", "城子路"), ("X3", "长江路"))])
    run_check(project)
    with transaction(project, by="t") as tx:
        tx.update("roads", "X1", {"name": "新城子路"})
    reached.clear()
    assert changed(project) == full(project)
    names = reached[0]
    # old and new name, the prefix rule both ways (城子, 新城子 through 新城子's shorter form) …
    assert {"桃源路", "新城子路", "城子路", "城子街"} <= names
    assert not {"长江路", "海燕路"} & names  # … and not what shares no key with them


def test_an_area_edit_or_a_read_only_index_runs_the_whole_family(project, reached, monkeypatch):
    from diming.geonames import name_index
    from diming.layers.store import read_geometries

    rng = random.Random(22)
    build(project, rng)
    run_check(project)
    geom = read_geometries(project, "admin_areas", ["379901100"])["379901100"]
    with transaction(project, by="t") as tx:
        tx.update("admin_areas", "379901100", {"name": "青岚镇", "geometry": geom})
    assert changed(project) == full(project)
    assert reached[0] is None
    monkeypatch.setattr(name_index, "sharing", lambda *a: None)  # as on a file that cannot be written
    with transaction(project, by="t") as tx:
        tx.update("roads", "R001", {"name": "长江路"})
    reached.clear()
    assert changed(project) == full(project)
    assert reached[0] is None


def test_triggers_of_an_older_diming_are_made_again(project):
    """A project whose queue triggers did not keep the old name (an older diming): the next check
    replaces them, and --changed sees a rename's old name from then on."""
    build(project, random.Random(23))
    run_check(project)
    con = connect(project)
    con.execute("DROP TRIGGER diming_check_roads_update")
    con.execute("CREATE TRIGGER diming_check_roads_update AFTER UPDATE ON roads BEGIN INSERT INTO "
                "diming_check_changes (layer, key) VALUES ('roads', NEW.road_id); END")
    con.close()
    from diming import incremental

    assert incremental._stored(project) is None
    run_check(project)
    with transaction(project, by="t") as tx:
        tx.update("roads", "R002", {"name": "重庆路"})
    assert incremental._stored(project)[2]["roads"][0][1]["name"] is not None
    assert changed(project) == full(project)


def test_cli_check_changed_after_name_edits(project, run):
    build(project, random.Random(24))
    assert run(project, "check", "--format", "json").exit_code in (0, 1)
    with transaction(project, by="t") as tx:
        tx.update("roads", "R003", {"name": "常江路"})
        tx.update("heritage_names", "H1", {"name": "重庆路"})
    out = run(project, "check", "--changed", "--format", "json")
    assert sorted(json.dumps(d, ensure_ascii=False, sort_keys=True) for d in json.loads(out.output)["findings"]) \
        == full(project)
    text = run(project, "check", "--changed", "--rules", "name")
    assert "重名" in text.output or "同音" in text.output


def test_a_road_and_its_proposals_are_read_together(project, reached):
    """A road and a proposal it is linked to are one road to the clash rules, whatever their
    names: the proposals linked to a road of the reached names are reached too."""
    rng = random.Random(25)
    build(project, rng)
    roads = [{"road_id": k, "name": n, "district": "379902", "status": "in_use", "proposal_id": p,
              "geometry": line(rng)} for k, n, p in (("L1", "海口路", None), ("L2", "白沙路", "Q2"), ("L3", "白沙街", "Q2"))]
    proposals = [{"proposal_id": "Q1", "name": "月安街", "district": "379902", "status": "submitted", "road_id": "L1"},
                 {"proposal_id": "Q2", "name": "乐安街", "district": "379902", "status": "submitted"},
                 {"proposal_id": "Q3", "name": "桃源街", "district": "379902", "status": "submitted", "road_id": "L1"}]
    with transaction(project, by="t") as tx:
        tx.insert("roads", roads)
        tx.insert("road_proposals", proposals)
    run_check(project)
    with transaction(project, by="t") as tx:
        # Q3 takes the name of the road it names, L1, which Q1 named first: Q1 and L1 are one road,
        # so L1 and Q3 are two and clash; L3 takes the name of L2, both of proposal Q2: one road, no clash
        tx.update("road_proposals", "Q3", {"name": "海口路"})
        tx.update("roads", "L3", {"name": "白沙路"})
    reached.clear()
    expected = full(project)
    assert changed(project) == expected
    assert {"海口路", "白沙路", "月安街", "乐安街"} <= reached[-1]
    clashes = [json.loads(f)["keys"] for f in expected if json.loads(f)["rule"] == "name.duplicate"]
    assert ["road_proposals:Q3", "roads:L1"] in clashes and ["roads:L2", "roads:L3"] not in clashes
