"""``diming check --changed`` after marker edits: the numbering rules (marker.bad-id,
marker.duplicate-id, marker.sequence-gap) re-run only on the markers whose ids can clash with the
changed ones, and the result still equals a full check, after random renumberings, moves between
lines, type changes and deletions, by diming or by plain SQL, with the default numbering pattern
and with one that has no line part (where every marker with the same sequence number clashes)."""
import json
import random

import pytest
from shapely import from_wkt
from shapely.geometry import MultiLineString, MultiPolygon, Point, Polygon

from diming import incremental
from diming.check import _families, rules, run_check
from diming.findings import as_dicts
from diming.layers.gpkg import connect
from diming.layers.settings import set_setting
from diming.layers.store import read_layer, transaction

LINES = ["0001", "0002", "0003", "0004"]
TYPES = ["单立", "同号双立", "同号三立"]


def build(project):
    """Two counties side by side and four boundary lines along their shared edge (one line id
    the areas do not know: its markers are still numbered), eight markers on each."""
    areas = [{"code": code, "name": f"县{code}", "level": "county", "parent_code": None,
              "geometry": MultiPolygon([Polygon([(x, 36), (x + 0.1, 36), (x + 0.1, 36.4), (x, 36.4)])])}
             for code, x in (("379901", 120.0), ("379902", 120.1))]
    lines, markers = [], []
    for k, line_id in enumerate(LINES):
        y0, y1 = 36 + k * 0.1, 36.1 + k * 0.1
        lines.append({"line_id": line_id, "name": f"界线{line_id}", "left_code": "379901",
                      "right_code": "379902" if line_id != "0004" else "379909",
                      "geometry": MultiLineString([[(120.1, y0), (120.1, y1)]])})
        for seq in range(1, 9):
            markers.append({"marker_id": f"{line_id}{seq:03d}Q", "line_id": line_id, "marker_type": "单立",
                            "geometry": Point(120.1, y0 + seq * (y1 - y0) / 9)})
    with transaction(project, by="t") as tx:
        tx.insert("admin_areas", areas)
        tx.insert("boundary_lines", lines)
        tx.insert("boundary_markers", markers)


def renumbered(mid, rng):
    """Another id for marker ``mid``: a number of its own or another line, the same number written
    differently (case, spaces, 全角 digits), a twin or triple letter, or an id off the pattern."""
    line, seq = rng.choice(LINES), rng.randrange(1, 11)
    return rng.choice([
        f"{line}{seq:03d}{rng.choice('QABCDE')}", f"{mid[:4]}{seq:03d}Q", mid.lower(), mid[:4] + " " + mid[4:],
        mid[:-1] + rng.choice("ABCDEQ"), mid.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
        f"{line}-{seq}", mid + "x", " " + mid])


def edit(project, rng, i):
    """One random marker edit: renumber, move to another line, move off or along the line, change
    the type, delete, add (maybe a twin of an existing number); or move a line; one by plain SQL."""
    markers = list(read_layer(project, "boundary_markers", geometry=False)["marker_id"])
    mid = rng.choice(markers)
    kind = rng.choice(["renumber", "renumber", "renumber", "line", "move", "type", "delete", "insert",
                       "sql-renumber", "boundary-line"])
    new_id = renumbered(mid, rng)
    if kind == "sql-renumber":  # as a desktop GIS writes: no diming code, no audit
        con = connect(project)
        if new_id not in markers:
            con.execute("UPDATE boundary_markers SET marker_id = ? WHERE marker_id = ?", (new_id, mid))
        con.close()
        return
    with transaction(project, by="t") as tx:
        if kind == "renumber" and new_id not in markers:
            tx.update("boundary_markers", mid, {"marker_id": new_id})
        elif kind == "line":
            tx.update("boundary_markers", mid, {"line_id": rng.choice([*LINES, "0009"])})
        elif kind == "move":
            p = from_wkt(tx.get("boundary_markers", mid)["geometry"])
            tx.update("boundary_markers", mid, {"geometry": Point(p.x + rng.uniform(-3e-4, 3e-4), p.y)})
        elif kind == "type":
            tx.update("boundary_markers", mid, {"marker_type": rng.choice(TYPES)})
        elif kind == "delete" and len(markers) > 10:
            tx.delete("boundary_markers", [mid])
        elif kind == "insert" and new_id not in markers:
            tx.insert("boundary_markers", [{"marker_id": new_id, "line_id": rng.choice(LINES),
                                            "marker_type": rng.choice(TYPES),
                                            "geometry": Point(120.1 + rng.uniform(-1e-4, 1e-4), 36 + rng.random() * 0.4)}])
        elif kind == "boundary-line":
            line = rng.choice(LINES)
            g = from_wkt(tx.get("boundary_lines", line)["geometry"])
            tx.update("boundary_lines", line, {"geometry": MultiLineString([[(x + rng.uniform(-2e-4, 2e-4), y)
                                                                             for x, y in g.geoms[0].coords]])})


def full(project):
    return sorted(json.dumps(d, ensure_ascii=False, sort_keys=True) for d in as_dicts(_families(project, set(rules()))))


def changed(project):
    return sorted(json.dumps(d, ensure_ascii=False, sort_keys=True) for d in as_dicts(run_check(project, changed=True)))


def marker_rules(found):
    return {json.loads(f)["rule"] for f in found} & {"marker.bad-id", "marker.duplicate-id", "marker.sequence-gap",
                                                     "marker.off-line", "marker.unknown-line"}


@pytest.mark.parametrize("seed, pattern", [(1, None), (2, None), (3, r"^\d{4}(?P<seq>\d{3})(?P<type>[QABCDE])$")])
def test_random_marker_edits_give_the_full_checks_findings(project, seed, pattern):
    rng = random.Random(seed)
    build(project)
    if pattern:
        set_setting(project, "marker_id_pattern", pattern)
    run_check(project)  # the stored result the edits start from
    seen = set()
    for i in range(30):
        for _ in range(rng.choice([1, 1, 2, 4])):
            edit(project, rng, i)
        found = changed(project)
        assert found == full(project), f"after edit round {i}"
        seen |= marker_rules(found)
    assert seen >= {"marker.bad-id", "marker.duplicate-id", "marker.sequence-gap", "marker.off-line"}


def test_many_changed_ids_take_every_marker_as_a_candidate(project, monkeypatch, run):
    """Past the number of keys the SQL preselects by, every marker's id is looked at: the same result."""
    monkeypatch.setattr(incremental, "_MOST_CLASH_KEYS", 3)
    rng = random.Random(5)
    build(project)
    assert run(project, "check", "--format", "json").exit_code in (0, 1)
    for round_ in range(5):
        for i in range(6):
            edit(project, rng, i)
        out = run(project, "check", "--changed", "--format", "json")
        assert sorted(json.dumps(d, ensure_ascii=False, sort_keys=True)
                      for d in json.loads(out.output)["findings"]) == full(project), f"after edit round {round_}"


def test_a_renumbered_marker_reaches_the_other_lines_markers_only_through_its_ids(project, monkeypatch):
    """A marker renumbered to another line's number clashes with that line's marker; the
    duplicate-number rule reads the markers sharing a key with it, not every marker."""
    build(project)
    run_check(project)
    read = []
    real = incremental._read

    def counting(data, layer, where, *args, **kw):
        out = real(data, layer, where, *args, **kw)
        if layer == "boundary_markers":
            read.append(len(out))
        return out
    monkeypatch.setattr(incremental, "_read", counting)
    with transaction(project, by="t") as tx:
        tx.update("boundary_markers", "0001003Q", {"marker_id": "0002005q"})
    found = [f for f in run_check(project, changed=True) if f.rule == "marker.duplicate-id"]
    assert [(f.id, [r["id"] for r in f.related]) for f in found] == [("0002005Q", ["0002005q"])]
    assert max(read) <= 16  # the markers of the two lines at most, of 32
    assert changed(project) == full(project)


def test_field_values_are_tested_again_on_the_edited_rows(project):
    """field.invalid is a row's own: after plain-SQL edits (a value off the list, an emptied
    key, whose finding is named by the row's fid) the result still equals a full check."""
    build(project)
    run_check(project)
    con = connect(project)
    con.execute("UPDATE boundary_markers SET condition = '坏了' WHERE marker_id = '0001002Q'")
    con.close()
    found = changed(project)
    assert found == full(project) and '"value": "坏了"' in "".join(found)
    con = connect(project)
    con.execute("UPDATE boundary_markers SET marker_id = '' WHERE marker_id = '0002002Q'")
    con.close()
    found = changed(project)
    assert found == full(project) and '"id": "fid ' in "".join(found)
    con = connect(project)
    con.execute("UPDATE boundary_markers SET condition = NULL WHERE marker_id = '0001002Q'")
    con.execute("UPDATE boundary_lines SET name = '' WHERE line_id = '0003'")
    con.close()
    assert changed(project) == full(project)
