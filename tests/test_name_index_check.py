"""diming check's name rules read every name's description from the name index: described once,
when the name is first written, never again per check; the same findings with the index, without
it (a read-only project) and with names written since; the project's own limits applied to the
stored descriptions."""
import sqlite3

import pytest
from shapely.geometry import MultiLineString

from diming.check import CheckData, run_check
from diming.geonames import name_checks, name_index
from diming.layers.gpkg import connect
from diming.layers.settings import set_setting
from diming.layers.store import transaction

LINE = MultiLineString([[(120.0, 36.0), (120.01, 36.0)]])


def roads(project, *rows):
    with transaction(project, by="t") as tx:
        tx.insert("roads", [{"road_id": k, "name": n, "district": "379901", "status": "in_use", "geometry": LINE}
                            for k, n in rows])


def outside_diming(project, *statements):
    """Write as a desktop GIS does: plain SQL, no diming code."""
    con = connect(project)
    for sql in statements:
        con.execute(sql)
    con.close()


def names_found(project, rules=("name",)):
    return [(f.rule, f.layer, f.id, f.message) for f in run_check(project, list(rules))]


def read_only(*args):
    raise sqlite3.OperationalError("attempt to write a readonly database")


def never(*args, **kw):
    raise AssertionError("a name was described again")


def test_a_check_reads_the_names_described_when_written(demo_project, monkeypatch):
    first = names_found(demo_project)  # brings the index up to date
    assert {rule for rule, *_ in first} >= {"name.duplicate", "name.homophone", "name.same-specific"}
    monkeypatch.setattr(name_index, "describe", never)
    assert names_found(demo_project) == first


def test_the_same_findings_without_the_index(demo_project, monkeypatch):
    with_index = names_found(demo_project)
    # a read-only project whose index was made by another diming: every name described in memory
    outside_diming(demo_project, "UPDATE diming_name_meta SET fingerprint = 'another diming'")
    monkeypatch.setattr(name_index, "_refresh", read_only)
    assert names_found(demo_project) == with_index


def test_a_name_written_since_is_described_with_the_stored_ones(project, monkeypatch):
    roads(project, ("R1", "海口路"), ("R2", "城子路"))
    assert names_found(project) == []  # the index is built
    # written by another program, then checked where the index cannot be brought up to date
    outside_diming(project, *(f"INSERT INTO roads (road_id, name, district, status) VALUES ('{k}', '{n}', '379901', "
                              "'in_use')" for k, n in (("R3", "海口路"), ("R4", "新城子路"), ("R5", "海扣路"))))
    monkeypatch.setattr(name_index, "_refresh", read_only)
    found = {(rule, key) for rule, _, key, _ in names_found(project)}
    assert {("name.duplicate", "R1"), ("name.duplicate", "R2"), ("name.homophone", "R1")} <= found
    monkeypatch.undo()
    assert {(rule, key) for rule, _, key, _ in names_found(project)} == found  # now from the index


def test_the_projects_own_limits_apply_to_stored_names(project):
    roads(project, ("R1", "长江路"), ("R2", "黄河路"))
    assert names_found(project, ["name.format", "name.forbidden-word"]) == []
    set_setting(project, "name_max_length", "2")
    assert {key for _, _, key, _ in names_found(project, ["name.format"])} == {"R1", "R2"}
    set_setting(project, "forbidden_words", "长江")
    [(rule, _, key, message)] = names_found(project, ["name.forbidden-word"])
    assert (rule, key) == ("name.forbidden-word", "R1") and "长江" in message


def test_only_the_members_carrying_the_names_given(project):
    roads(project, ("R1", "海口路"), ("R2", "海口路"), ("R3", "长江路"), ("R4", "長江路"))
    everything = name_checks.check(CheckData(project), frozenset({"name.duplicate"}))
    assert sorted(f.id for f in everything) == ["R1", "R3"]
    [one] = name_checks.check(CheckData(project), frozenset({"name.duplicate"}), names={"海口路"})
    assert (one.id, [r["id"] for r in one.related]) == ("R1", ["R2"])


def test_names_sharing_a_key_with_edited_names(project):
    roads(project, ("R1", "海口路"), ("R2", "海晏路"), ("R3", "长江路"))
    # 新海口路: 海口 is a shorter form of its 专名; 海燕路 sounds as 海晏路
    assert name_index.sharing(project, ["新海口路", "海燕路"], {}, []) == {"海口路", "海晏路"}


@pytest.mark.parametrize("kind", ["readonly", "locked"])
def test_sharing_says_when_the_index_cannot_answer(project, monkeypatch, kind):
    roads(project, ("R1", "海口路"))

    def cannot(*args):
        raise sqlite3.OperationalError(f"database is {kind}")

    monkeypatch.setattr(name_index, "_refresh", cannot)
    assert name_index.sharing(project, ["海口路"], {}, []) is None


def test_texts_are_not_read_from_an_index_rebuilt_meanwhile(project):
    from diming.errors import DimingError

    roads(project, ("R1", "海口路"), ("R2", "海晏路"))
    named = name_index.described(project, ["海口路", "海晏路"], {}, [])
    assert named["text"](named["norm"]) == ["海口路", "海晏路"]
    outside_diming(project, "UPDATE diming_name_meta SET fingerprint = 'rebuilt by another process'")
    with pytest.raises(DimingError, match="重建"):
        named["text"](named["norm"])
