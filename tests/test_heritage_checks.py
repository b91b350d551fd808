"""The heritage-list rule over a project (name.protected) takes every proposal's and listed name's
facts from the name index; its findings are those the one-name rule (rules.clash_findings, as
namecheck applies it) gives each open proposal against the list, on random projects."""
import random
import subprocess
import sys

import pytest
from shapely.geometry import MultiLineString, Point

from diming.check import run_check
from diming.layers.store import read_layer, transaction

# the same name written otherwise (traditional characters, a space), the same 专名 with another 通名,
# with 新/大 or a division name (青岚) added, homophones with and without the same tones, unrelated names
NAMES = ["状元街", "狀元街", "状元 街", "状元巷", "新状元街", "大状元巷", "青岚状元街", "壮园街", "壮元街", "撞远街",
         "城子路", "新城子路", "老鸦巷", "老雅巷", "桃李巷", "松风路"]


def random_project(project, rng):
    with transaction(project, by="测试员") as tx:
        tx.insert("admin_areas", [{"code": "379901", "name": "青岚区", "level": "county",
                                   "geometry": Point(120.0, 36.0).buffer(0.1)}])
        tx.insert("heritage_names", [
            {"heritage_id": f"H{k:02d}", "name": rng.choice(NAMES),
             "status": rng.choice(["in_use", "in_use", "historical", "delisted"]),
             "geometry": rng.choice([None, Point(120.0 + k / 100, 36.0)])} for k in range(8)])
        tx.insert("road_proposals", [
            {"proposal_id": f"P{k:02d}", "name": rng.choice(NAMES), "district": "379901",
             "status": rng.choice(["submitted", "in_review", "rejected"]),
             "geometry": rng.choice([None, MultiLineString([[(120.0, 36.0 + k / 100), (120.01, 36.0 + k / 100)]])])}
            for k in range(12)])


def one_by_one(project):
    """name.protected as the one-name rule gives it to each open proposal, gathered per listed name."""
    from diming.geonames.namecheck import OPEN_STATES
    from diming.geonames.rules import build_index, clash_findings

    heritage = read_layer(project, "heritage_names")
    heritage = heritage[heritage["status"] != "delisted"]
    index = build_index([{"layer": "heritage_names", "id": h, "name": n, "status": s}
                         for h, n, s in zip(heritage["heritage_id"], heritage["name"], heritage["status"])],
                        regions=list(read_layer(project, "admin_areas")["name"]))
    proposals = read_layer(project, "road_proposals")
    hits = {}
    for pid, name, status in zip(proposals["proposal_id"], proposals["name"], proposals["status"]):
        if status in OPEN_STATES:
            for f in clash_findings(name, index):
                hits.setdefault(f["related"][0]["id"], []).append((pid, name, f["severity"], f["message"]))
    return sorted((clashes[0][0], tuple(c[0] for c in clashes[1:]) + (hid,),
                   "error" if any(c[2] == "error" for c in clashes) else "warning",
                   "；".join(f"{c[1]} ({c[0]}) {c[3]}" for c in clashes) + " (name.protected)")
                  for hid, clashes in hits.items())


@pytest.mark.parametrize("seed", range(8))
def test_the_rule_over_the_project_is_the_one_name_rule(tmp_path, seed):
    from diming.layers.store import init_project

    project = init_project(tmp_path / "p.gpkg")
    random_project(project, random.Random(seed))
    found = run_check(project, ["name.protected"])
    assert sorted((f.id, tuple(r["id"] for r in f.related), f.severity, f.message) for f in found) \
        == one_by_one(project)
    assert found  # the random names make some
    # a proposal written after the index was made is described with the others
    with transaction(project, by="测试员") as tx:
        tx.insert("road_proposals", [{"proposal_id": "P99", "name": "壮园街", "status": "submitted"}])
    found = run_check(project, ["name.protected"])
    assert sorted((f.id, tuple(r["id"] for r in f.related), f.severity, f.message) for f in found) \
        == one_by_one(project)


def test_a_check_of_an_indexed_project_reads_no_pinyin(project):
    """Nor does ``check --changed`` after a rename to a name already written (one new to the
    project is described once, then): the old and new names' clash keys come from their stored
    descriptions."""
    with transaction(project, by="测试员") as tx:
        tx.insert("heritage_names", [{"heritage_id": "H1", "name": "状元街"}])
        tx.insert("road_proposals", [{"proposal_id": "P1", "name": "松风路", "status": "submitted"},
                                     {"proposal_id": "P2", "name": "壮园街", "status": "rejected"}])
    run_check(project)  # the name index made
    script = """if True:
        import sys
        from diming.check import run_check
        from diming.layers.store import transaction
        assert not run_check(sys.argv[1]) and 'pypinyin' not in sys.modules
        with transaction(sys.argv[1], by="测试员") as tx:
            tx.update("road_proposals", "P1", {"name": "壮园街"})
        print(*[f.rule for f in run_check(sys.argv[1], changed=True)], 'pypinyin' in sys.modules)"""
    out = subprocess.run([sys.executable, "-c", script, str(project)], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["name.protected", "False"]  # its tables take half a second and 60 MB to load
