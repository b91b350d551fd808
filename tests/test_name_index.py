"""The name index behind namecheck: kept current whoever writes the file, rebuilt when what its
keys depend on changes, and never changing an answer."""
import sqlite3

import pytest
from shapely.geometry import MultiLineString, Polygon

from diming.geonames import name_index
from diming.geonames.namecheck import namecheck
from diming.layers.gpkg import connect
from diming.layers.settings import set_setting
from diming.layers.store import transaction

LINE = MultiLineString([[(120.0, 36.0), (120.01, 36.0)]])


def rules_of(project, name, **kw):
    return sorted((f["rule"], f["related"][0]["id"]) for f in namecheck(project, name, **kw)["findings"])


def roads(project, *rows):
    with transaction(project, by="t") as tx:
        tx.insert("roads", [{"road_id": k, "name": n, "district": "379901", "status": "in_use", "geometry": LINE}
                            for k, n in rows])


@pytest.fixture
def indexed(project):
    roads(project, ("R1", "海口路"), ("R2", "海晏路"))
    assert rules_of(project, "海口路") == [("name.duplicate", "R1")]  # builds the index
    return project


def stored_names(project):
    con = sqlite3.connect(project)
    try:
        return {r[0] for r in con.execute("SELECT f.name FROM diming_name_keys k JOIN diming_name_facts f "
                                          "ON f.id = k.name")}
    finally:
        con.close()


def test_index_narrows_the_search_to_names_sharing_a_key(indexed):
    assert stored_names(indexed) == {"海口路", "海晏路"}
    assert name_index.candidates(indexed, "海燕路", {}, frozenset()) == ["海晏路"]
    assert name_index.candidates(indexed, "长江路", {}, frozenset()) == []


def test_names_written_later_are_found_through_the_triggers(indexed):
    roads(indexed, ("R3", "長江路"))
    assert rules_of(indexed, "长江路") == [("name.duplicate", "R3")]
    with transaction(indexed, by="t") as tx:
        tx.update("roads", "R3", {"name": "黄河路"})
    assert rules_of(indexed, "长江路") == []
    assert rules_of(indexed, "黄河街") == [("name.same-specific", "R3")]


def outside_diming(project, *statements):
    """Write as a desktop GIS writes the GeoPackage: plain SQL (with the ST_ functions its R-tree
    triggers need), no audit log, no diming code."""
    con = connect(project)
    for sql in statements:
        con.execute(sql)
    con.close()


NEW_ROAD = "INSERT INTO roads (road_id, name, district, status) VALUES ('R9', '淮河路', '379901', 'in_use')"


def test_an_edit_made_outside_diming_is_found(indexed):
    outside_diming(indexed, "UPDATE roads SET name = '珠江路' WHERE road_id = 'R1'", NEW_ROAD)
    assert rules_of(indexed, "珠江路") == [("name.duplicate", "R1")]
    assert rules_of(indexed, "淮河路") == [("name.duplicate", "R9")]
    assert rules_of(indexed, "海口路") == []


def test_a_new_pinyin_override_rebuilds_the_index(indexed):
    roads(indexed, ("R3", "乐康路"))  # 乐 may read le, yue or lao
    assert rules_of(indexed, "月康路") == [("name.homophone", "R3")]
    set_setting(indexed, "pinyin_overrides", "乐康=le4 kang1")
    assert rules_of(indexed, "月康路") == []
    assert rules_of(indexed, "了康路") == [("name.homophone", "R3")]


def test_a_new_division_rebuilds_the_index(indexed):
    roads(indexed, ("R3", "桃源长江路"))
    assert rules_of(indexed, "长江路") == []
    with transaction(indexed, by="t") as tx:
        tx.insert("admin_areas", [{"code": "379901101", "name": "桃源镇", "level": "town", "parent_code": "379901",
                                   "geometry": Polygon([(120, 36), (120.1, 36), (120.1, 36.1), (120, 36)])}])
    assert rules_of(indexed, "长江路") == [("name.duplicate", "R3")]


def test_a_read_only_project_is_checked_without_the_index(project, monkeypatch):
    roads(project, ("R1", "海口路"))

    def read_only(*args):
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(name_index, "_refresh", read_only)
    assert name_index.candidates(project, "海口路", {}, frozenset()) is None
    assert rules_of(project, "海口路") == [("name.duplicate", "R1")]


def test_a_layer_re_created_by_another_tool_rebuilds_the_index(indexed):
    # dropping a table drops its triggers: the index must notice rather than go stale
    outside_diming(indexed, "DROP TRIGGER diming_roads_name_insert", NEW_ROAD)
    assert rules_of(indexed, "淮河路") == [("name.duplicate", "R9")]


def test_same_answers_with_and_without_the_index(demo_project, monkeypatch):
    from diming.layers.store import read_layer

    stored = sorted(set(read_layer(demo_project, "roads", columns=("name",), geometry=False)["name"]))
    heritage = set(read_layer(demo_project, "heritage_names", columns=("name",), geometry=False)["name"])
    names = sorted(set(stored[::4]) | heritage | {"海燕路", "壯園街", "青岚海安路", "新海口路", "海口大道", "重庆路",
                                                   "海安\u200b路", "海安２街", "大海安路", "青岚新海口街", "华路"})
    indexed = {(n, d): namecheck(demo_project, n, district=d)["findings"] for n in names for d in ("379901", None)}
    monkeypatch.setattr(name_index, "candidates", lambda *args: None)
    assert {(n, d): namecheck(demo_project, n, district=d)["findings"] for n in names for d in ("379901", None)} \
        == indexed
    assert sum(map(bool, indexed.values())) > len(names)  # most names clash with something somewhere


def test_an_index_keyed_by_an_older_diming_is_rebuilt(indexed):
    # an index whose keys were made by other key functions (the fingerprint of an older diming)
    # must not answer: it is rebuilt with the keys of this one
    roads(indexed, ("R3", "城子路"))
    assert rules_of(indexed, "新城子路") == [("name.duplicate", "R3")]
    outside_diming(indexed, "UPDATE diming_name_meta SET fingerprint = 'keys of diming 0.1'")
    outside_diming(indexed, "DELETE FROM diming_name_keys WHERE key % 3 = 1")
    assert rules_of(indexed, "新城子路") == [("name.duplicate", "R3")]


def test_the_fingerprint_covers_the_code_that_makes_the_keys(monkeypatch):
    from pathlib import Path

    import diming.geonames.rules

    # every module defining a key function is hashed, so a change to any rebuilds old indexes
    assert Path(diming.geonames.rules.__file__).stem in name_index.KEY_MODULES
    before = name_index.fingerprint({}, frozenset())
    name_index._installed.cache_clear()
    monkeypatch.setattr(name_index, "KEY_MODULES", name_index.KEY_MODULES[:-1])
    assert name_index.fingerprint({}, frozenset()) != before
    name_index._installed.cache_clear()
