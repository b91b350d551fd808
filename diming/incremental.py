"""``diming check --changed``: the check again after edits, re-running only what they can affect.

The last full or incremental check's findings are kept in the project (table
``diming_check_findings``, derived data outside ``gpkg_contents``, like the name index). SQLite
triggers on the checked layers queue every insert, update and delete in ``diming_check_changes``
(with the old row's fields that decide what it touches and its old geometry), whoever writes:
diming or a desktop GIS. An incremental check then re-runs, per rule family, only on what the
queued features reach, drops the stored findings of that part and adds the new ones:

- names: after edits of the name layers (roads, proposals, heritage list, gazetteer), the name
  and heritage families on the names they reach: the edited features' old and new names, closed over shared
  clash keys in the name index and over road/proposal links (:func:`_reach`); whole after an
  edit of the areas (division names make the region-name rule; areas place roads without a
  ``district``);
- signs: the rules of each sign for the signs of the edited signs, roads, proposals and patrol
  records; ``road.no-sign`` whole only when a county's register or a road's standing sign may
  have changed;
- field values: the edited rows; the gazetteer family: whole again after a gazetteer edit;
- proposals: the changed ones and those near a changed road or area;
- areas: the changed ones, the overlaps they take part in, the gaps of the parents they lie in or
  are the parent of;
- lines: the changed ones and those along a changed area; markers: the changed ones and every
  marker of a touched line; for the duplicate-number rule (ids compared across lines), the
  markers sharing an id or a line and sequence number with a changed id, old or new.

Anything the queue cannot localise (a settings change, a new diming, no stored result, a trigger
dropped by a tool re-creating a table, a change of division names or of the areas of roads that
have no ``district``) runs that part in full. The result equals a full check's; tests compare
the two on random edit sequences.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import sqlite3
from functools import lru_cache
from operator import itemgetter
from pathlib import Path

from diming.findings import Finding
from diming.geonames.name_index import LAYERS as NAME_LAYERS  # the layers whose names the name family compares
from diming.layers.schema import LAYERS

# the old fields a change of these layers is located by
_LOCATED = {"admin_areas": ("level", "parent_code"), "boundary_lines": ("left_code", "right_code"),
            "boundary_markers": ("line_id",), **{layer: ("name",) for layer in NAME_LAYERS},
            # what decides road.no-sign besides names (see _signs), and a patrol record's sign
            "roads": ("name", "status", "district"), "road_signs": ("road_id", "condition"),
            "sign_patrol_records": ("sign_id",)}
# the layers whose edits can change a finding: every layer (field.invalid reads them all) and the settings
WATCHED = {**{name: _LOCATED.get(name, ()) for name, layer in LAYERS.items() if not layer.system}, "settings": ()}
# what the families re-run whole read: an edit of one of these layers re-runs the family
_WHOLE = {"diming.geonames.gazetteer_checks": ("place_names",)}
# columns an incremental check looks features up by, indexed in the layer
_LOOKED_UP = (("road_signs", "road_id"), ("sign_patrol_records", "sign_id"))
# past this many queued changes (a bulk import) the whole check is quicker than following each
_MOST_CHANGES = 20_000


def begin(project) -> int | None:
    """Before a full check: the triggers and tables in place; the last queued change the check
    will see (None when the project cannot be written: nothing is kept then)."""
    from diming.layers.store import connect

    con = connect(project)
    try:
        con.execute("BEGIN IMMEDIATE")
        _install(con)
        upto = con.execute("SELECT coalesce(max(rowid), 0) FROM diming_check_changes").fetchone()[0]
        con.execute("COMMIT")
        return upto
    except sqlite3.OperationalError as e:
        if "readonly" in str(e) or "locked" in str(e):
            return None
        raise
    finally:
        con.close()


def keep(project, findings: list[Finding], upto: int, *, removed=None) -> None:
    """Store ``findings`` as the project's last check result, seen changes up to ``upto`` done;
    with ``removed`` (row ids of stored findings), only take those out and add ``findings``."""
    import shapely

    from diming.layers.store import connect

    con = connect(project)
    try:
        con.execute("BEGIN IMMEDIATE")
        if removed is None:
            con.execute("DELETE FROM diming_check_findings")
        else:
            con.execute("DELETE FROM diming_check_findings WHERE rowid IN (SELECT value FROM json_each(?))",
                        (json.dumps(sorted(removed)),))
        wkb = shapely.to_wkb(_array([f.geometry for f in findings]))
        con.executemany("INSERT INTO diming_check_findings (finding, geom) VALUES (?, ?)", zip(_encoded(findings), wkb))
        con.execute("DELETE FROM diming_check_changes WHERE rowid <= ?", (upto,))
        con.execute("DELETE FROM diming_check_meta")
        con.execute("INSERT INTO diming_check_meta (fingerprint) VALUES (?)", (_fingerprint(con),))
        con.execute("COMMIT")
    except sqlite3.OperationalError as e:  # read-only or busy: the result is not kept, the queue stays
        if con.in_transaction:
            con.execute("ROLLBACK")
        if not ("readonly" in str(e) or "locked" in str(e)):
            raise
    finally:
        con.close()


def check_changed(project) -> list[Finding]:
    """Every finding of every rule, as a full check would give them now, from the stored result
    and the queued changes (a full check when there is nothing usable stored); stored again."""
    from diming.check import CheckData, full_check

    stored = _stored(project)
    if stored is None:
        return full_check(project)
    findings, rowids, changes, upto = stored
    if not changes:
        return findings
    if "settings" in changes:
        return full_check(project)
    data = CheckData(project)
    new, dropped = [], {}
    parts = [(part.__name__, part(data, changes)) for part in (_names, _proposals, _areas, _lines, _markers,
                                                                 _inspection, _fields)]
    parts.append(("_signs", _signs(data, changes, findings)))
    for name, (found, drop) in parts:
        new += found
        if drop is not None:
            for family in _FAMILY[name]:
                for rule in importlib.import_module(family).RULES:
                    dropped.setdefault(rule, []).append(drop)
    for family, layers in _WHOLE.items():
        if any(layer in changes for layer in layers):
            module = importlib.import_module(family)
            new += module.check(data)
            for rule in module.RULES:
                dropped.setdefault(rule, []).append(lambda f: True)
    # each stored finding asks only the parts re-run for its rule's family (mostly one)
    drops = {rule: ds[0] if len(ds) == 1 else (lambda f, ds=ds: any(d(f) for d in ds)) for rule, ds in dropped.items()}
    kept = lambda f: False  # noqa: E731
    gone = [drops.get(f.rule, kept)(f) for f in findings]
    keep(project, new, upto, removed=[r for r, g in zip(rowids, gone) if g])
    return [f for f, g in zip(findings, gone) if not g] + new


# the rule families each part re-runs
_FAMILY = {"_names": ("diming.geonames.name_checks", "diming.geonames.heritage_checks"),
           "_proposals": ("diming.geonames.proposal_checks",), "_areas": ("diming.boundaries.area_checks",),
           "_lines": ("diming.boundaries.line_checks",), "_markers": ("diming.boundaries.marker_checks",),
           "_inspection": ("diming.boundaries.inspection_checks",), "_fields": ("diming.field_checks",),
           "_signs": ("diming.geonames.sign_checks",)}


def _stored(project):
    """(stored findings, their row ids, queued changes by layer, last change id), or None when
    no result is kept, it was made by another diming or with other settings, a trigger is
    missing, or so many changes are queued that the whole check is the quicker way."""
    import shapely

    from diming.layers.store import connect

    con = connect(project)
    try:
        if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'diming_check_meta'").fetchone() is None:
            return None
        meta = con.execute("SELECT fingerprint FROM diming_check_meta").fetchone()
        triggers = dict(con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
        if meta is None or meta[0] != _fingerprint(con) or any(triggers.get(n) != sql for n, sql in _triggers(con).items()):
            return None
        if con.execute("SELECT count(*) FROM diming_check_changes").fetchone()[0] > _MOST_CHANGES:
            return None
        rows = con.execute("SELECT rowid, finding, geom FROM diming_check_findings ORDER BY rowid").fetchall()
        queued = con.execute("SELECT rowid, layer, key, old, old_geom FROM diming_check_changes").fetchall()
    finally:
        con.close()
    geoms = shapely.from_wkb([r[2] for r in rows])
    # one parse for all rows: json's C decoder over one document, not a call per finding
    fields = json.loads("[" + ",".join([r[1] for r in rows]) + "]")
    findings = []
    for (rule, severity, layer, key, name, message, related, measures, details, group, keys), geom in \
            zip(fields, geoms):
        f = Finding(rule, severity, layer, key, name, message, related, geom, measures, details, None, group)
        f.__dict__["keys"] = keys  # as stored: the same as Finding.keys computes
        findings.append(f)
    changes: dict[str, list] = {}
    for _, layer, key, old, old_geom in queued:
        changes.setdefault(layer, []).append((key, json.loads(old) if old else None, old_geom))
    return findings, [r[0] for r in rows], changes, max((r[0] for r in queued), default=0)


def _encoded(findings: list[Finding]) -> list[str]:
    """Each finding as stored: one JSON array of its fields, keys included (its geometry is stored
    beside it as WKB; whether it was accepted is marked at each check). One encoder for them all:
    ``json.dumps`` makes one a call."""
    encode = json.JSONEncoder(ensure_ascii=False).encode
    return [encode([f.rule, f.severity, f.layer, f.id, f.name, f.message, f.related, f.measures, f.details, f.group,
                    f.keys]) for f in findings]


def _fingerprint(con) -> str:
    """What a stored result depends on besides the layers: the settings and diming's rules."""
    digest = hashlib.sha256(_code().encode())
    digest.update(repr(con.execute("SELECT * FROM settings ORDER BY 1").fetchall()).encode())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def _code() -> str:
    from diming.geonames.name_index import _installed

    digest = hashlib.sha256(_installed().encode())
    root = Path(__file__).resolve().parent.parent
    for path in sorted((*root.glob("geonames/*.py"), *root.glob("boundaries/*.py"), *root.glob("layers/*.py"),
                        *root.glob("diming/*.py"))):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _triggers(con) -> dict[str, str]:
    """Trigger name -> its SQL, for the watched layers present in the file."""
    from diming.layers.gpkg import quote
    from diming.layers.schema import get_layer

    out = {}
    for layer, fields in WATCHED.items():
        columns = {r[1] for r in con.execute(f"PRAGMA table_info({quote(layer)})")}
        if not columns:
            continue
        key = quote(get_layer(layer).key)
        old = "json_object(" + ", ".join(f"'{f}', OLD.{quote(f)}" for f in fields if f in columns) + ")"
        geom = "OLD.geom" if "geom" in columns else "NULL"
        table = quote(layer)
        queue_old = (f"INSERT INTO diming_check_changes (layer, key, old, old_geom) "
                     f"VALUES ('{layer}', OLD.{key}, {old}, {geom});")
        queue_new = f"INSERT INTO diming_check_changes (layer, key) VALUES ('{layer}', NEW.{key});"
        for event, body in (("insert", queue_new), ("update", queue_old + " " + queue_new), ("delete", queue_old)):
            name = f"diming_check_{layer}_{event}"
            out[name] = f"CREATE TRIGGER {quote(name)} AFTER {event.upper()} ON {table} BEGIN {body} END"
    return out


def _install(con) -> None:
    from diming.layers.gpkg import quote

    con.execute("CREATE TABLE IF NOT EXISTS diming_check_changes (layer TEXT NOT NULL, key TEXT, old TEXT, "
                "old_geom BLOB)")
    # the result as diming kept it before it was a row of one JSON array a finding: of no use now (an
    # older diming reading this project makes it again, and finds this one's fingerprint not its own)
    con.execute("DROP TABLE IF EXISTS diming_check_result")
    con.execute("CREATE TABLE IF NOT EXISTS diming_check_findings (finding TEXT NOT NULL, geom BLOB)")
    con.execute("CREATE TABLE IF NOT EXISTS diming_check_meta (fingerprint TEXT NOT NULL)")
    for table, column in _LOOKED_UP:  # the signs of a road, the patrol records of a sign: see _signs
        if column in {r[1] for r in con.execute(f"PRAGMA table_info({quote(table)})")}:
            con.execute(f"CREATE INDEX IF NOT EXISTS {quote(f'diming_{table}_{column}')} ON {quote(table)} ({quote(column)})")
    present = dict(con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
    for name, sql in _triggers(con).items():
        # a tool re-creating a table drops its triggers, an older diming queued other fields: made again here
        if present.get(name) != sql:
            if name in present:
                con.execute(f"DROP TRIGGER {quote(name)}")
            con.execute(sql)


def _array(values):
    import numpy as np

    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


# -- what each rule family re-runs on ------------------------------------------------------------

def _keys_of(changes, layer) -> set[str]:
    return {key for key, _, _ in changes.get(layer, ()) if key is not None}


def _olds(changes, layer, field) -> set:
    return {old.get(field) for _, old, _ in changes.get(layer, ()) if old and old.get(field) is not None}


def _read(data, layer, where, params=(), geometry=True, columns=None):
    from diming.layers.store import read_layer

    return read_layer(data.project, layer, where=where, params=params, geometry=geometry, columns=columns)


def _read_in(data, layer, column, values, **kw):
    """The features of ``layer`` whose ``column`` holds one of ``values``."""
    return _read(data, layer, f"{column} IN (SELECT value FROM json_each(?))", (_in(values),), **kw)


def _in(values) -> str:
    return json.dumps(sorted(map(str, values)), ensure_ascii=False)


def _boxes(geoms, margin=0.0):
    import numpy as np
    import shapely

    geoms = _array([g for g in geoms if g is not None and not g.is_empty])
    if not len(geoms):
        return np.empty((0, 4))
    return shapely.bounds(geoms) + [-margin, -margin, margin, margin]


def _old_geoms(changes, layer) -> list:
    from diming.layers.gpkg import decode

    return list(decode([g for _, _, g in changes.get(layer, ()) if g is not None]))


def _fids(data, layer, boxes=None, where=None, params=()) -> set[int]:
    """fids of the features whose bounding box meets one of ``boxes``, and of those matching ``where``."""
    from diming.layers.gpkg import quote
    from diming.layers.store import connect

    con = connect(data.project)
    try:
        out = set()
        for b in (boxes if boxes is not None else ()):
            out |= {r[0] for r in con.execute(
                f"SELECT id FROM {quote(f'rtree_{layer}_geom')} WHERE minx <= ? AND maxx >= ? AND miny <= ? "
                "AND maxy >= ?", (float(b[2]), float(b[0]), float(b[3]), float(b[1])))}
        if where:
            out |= {r[0] for r in con.execute(f"SELECT fid FROM {quote(layer)} WHERE {where}", params)}
        return out
    finally:
        con.close()


def _by_fid(data, layer, fids, **kw):
    return _read(data, layer, "fid IN (SELECT value FROM json_each(?))", (json.dumps(sorted(fids)),), **kw)


def _valid(areas):
    import shapely

    geoms = areas.geometry.values
    return areas[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms) & shapely.is_valid(geoms)]


class _Near:
    """CheckData for a part of the project: these areas and layers instead of the whole ones."""

    def __init__(self, data, areas=None, layers=None):
        self._data, self._areas, self._layers = data, areas, layers or {}

    def __getattr__(self, name):
        return getattr(self._data, name)

    def areas(self):
        return self._data.areas() if self._areas is None else self._areas

    def layer(self, name, *args, **kw):
        # a layer given whole serves any choice of its columns
        return self._layers[name] if name in self._layers and not args and set(kw) <= {"columns"} \
            else self._data.layer(name, *args, **kw)


def _names(data, changes):
    """The name and heritage families on the names the edits can reach (:func:`_reach`); whole after an edit of
    the areas (their names make the region-name rule, they decide the scope of a road without a
    ``district``) or when the reach cannot be told."""
    from diming.geonames import heritage_checks, name_checks

    if not any(layer in changes for layer in (*NAME_LAYERS, "admin_areas")):
        return [], None
    names = None if "admin_areas" in changes else _reach(data, changes)
    if names is None:
        return name_checks.check(data) + heritage_checks.check(data), lambda f: True
    # a finding is one clash group (or one feature's name): a group holding one of these names
    # holds only such names, so each is found again whole
    return name_checks.check(data, names=names) + heritage_checks.check(data, names=names), \
        lambda f: f.name in names or not names.isdisjoint(map(itemgetter("name"), f.related))


def _reach(data, changes) -> set[str] | None:
    """The names whose findings the queued edits of the name layers can change: the old and new
    name of every edited feature (whatever field changed: its scope, status or link may have),
    every name sharing a clash key with one of those, transitively (the name index), and the names
    of the open proposals a road of these names is one road with. None when the name index cannot
    be brought up to date (a read-only project) or an edited feature has no key."""
    from diming.geonames.name_checks import division_names
    from diming.geonames.name_index import sharing
    from diming.geonames.pinyin import parse_overrides
    from diming.layers.schema import get_layer

    names = set()
    for layer in NAME_LAYERS:
        queued = changes.get(layer, ())
        if any(key is None or (old is not None and old.get("name") is None) for key, old, _ in queued):
            return None
        names |= {old["name"] for _, old, _ in queued if old is not None}
        if queued:
            names |= set(_read_in(data, layer, get_layer(layer).key, _keys_of(changes, layer), geometry=False,
                                  columns=("name",))["name"])
    regions = division_names(data)
    overrides = parse_overrides(data.settings["pinyin_overrides"])
    while True:  # sharing() takes one step; clash groups are joined transitively
        reached = sharing(data.project, names, overrides, regions)
        if reached is None:
            return None
        reached |= _one_road(data, reached | names)
        if reached <= names:
            return names
        names |= reached


def _one_road(data, names) -> set[str]:
    """The names of the open proposals linked to a road in use carrying one of ``names``: the
    proposal it came from (its ``proposal_id``) and those naming it (their ``road_id``). The clash
    rules take a road and its proposal as one road (name_checks._entities), so they are read together."""
    from diming.geonames.namecheck import OPEN_STATES

    roads = data.roads_in_use(names)
    proposals = _read(data, "road_proposals", f"status IN ({', '.join('?' * len(OPEN_STATES))}) AND "
                      "(proposal_id IN (SELECT value FROM json_each(?)) OR road_id IN (SELECT value FROM json_each(?)))",
                      (*OPEN_STATES, _in(roads["proposal_id"].dropna()), _in(roads["road_id"])), geometry=False,
                      columns=("name",))
    return set(proposals["name"])


def _signs(data, changes, stored):
    """The rules of each sign for the edited signs, those of the edited roads, of roads whose
    proposal was edited (its ordinal flag) and of edited patrol records. ``road.no-sign`` again
    for every road when a sign came, went or changed road or condition, or a road came, went or
    changed status or district (a county's register and a road's standing sign depend on them);
    otherwise only the findings ``stored`` of renamed or redrawn roads, made again."""
    import pandas as pd

    from diming.geonames import sign_checks

    if not any(layer in changes for layer in ("road_signs", "roads", "road_proposals", "sign_patrol_records")):
        return [], None
    roads = _keys_of(changes, "roads")
    if "road_proposals" in changes:
        roads |= set(_read_in(data, "roads", "proposal_id", _keys_of(changes, "road_proposals"), geometry=False,
                              columns=("road_id",))["road_id"])
    signs = _keys_of(changes, "road_signs") | _olds(changes, "sign_patrol_records", "sign_id")
    if "sign_patrol_records" in changes:
        signs |= set(_read_in(data, "sign_patrol_records", "record_id", _keys_of(changes, "sign_patrol_records"),
                              geometry=False, columns=("sign_id",))["sign_id"].dropna())
    if roads:
        signs |= set(_read_in(data, "road_signs", "road_id", roads, geometry=False, columns=("sign_id",))["sign_id"])
    found = sign_checks.check(data, signs=signs)
    if _same(data, changes, "road_signs", ("road_id", "condition")) and _same(data, changes, "roads", ("status", "district")):
        again = {f.id for f in stored if f.rule == "road.no-sign" and f.id in roads}
        if again:  # the county keeps a register and the road has no standing sign, as before
            rows = _read_in(data, "roads", "road_id", again, geometry=False, columns=sign_checks._ROADS)
            none = pd.DataFrame({"road_id": [], "condition": []})
            found += sign_checks._no_sign(data, none, rows, registered=set(rows["district"].fillna("").str[:6]))
        no_sign = again
    else:
        found += sign_checks.check(data, {"road.no-sign"})
        no_sign = None
    return found, lambda f: (f.layer == "road_signs" and f.id in signs) if f.rule != "road.no-sign" \
        else (no_sign is None or f.id in no_sign)


def _same(data, changes, layer, fields) -> bool:
    """Whether every queued feature of ``layer`` was an update keeping its key and these fields."""
    from diming.layers.schema import get_layer

    queued = changes.get(layer, ())
    if not queued:
        return True
    key = get_layer(layer).key
    olds = {k: old for k, old, _ in queued if old is not None}
    now = _read_in(data, layer, key, _keys_of(changes, layer), geometry=False, columns=(key, *fields))
    rows = {r[key]: r for r in now.to_dict("records")}
    return all(k in olds and k in rows and all(_equal(olds[k].get(f), rows[k][f]) for f in fields)
               for k, _, _ in queued)


def _equal(old, now) -> bool:
    import pandas as pd

    return (pd.isna(now) and old is None) or old == now


def _proposals(data, changes):
    from diming.geonames import proposal_checks
    from diming.geonames.namecheck import OPEN_STATES
    from diming.layers.crs import search_degrees

    if not any(layer in changes for layer in ("roads", "road_proposals", "admin_areas")):
        return [], None
    margin = search_degrees(data.settings["proposal_tolerance_m"])
    near = [*_old_geoms(changes, "roads"), *data.geometries("roads", sorted(_keys_of(changes, "roads"))),
            *_old_geoms(changes, "admin_areas"), *data.geometries("admin_areas", sorted(_keys_of(changes, "admin_areas")))]
    fids = _fids(data, "road_proposals", _boxes(near, margin), "proposal_id IN (SELECT value FROM json_each(?))",
                 (_in(_keys_of(changes, "road_proposals")),))
    proposals = _by_fid(data, "road_proposals", fids)
    proposals = proposals[proposals["status"].isin(OPEN_STATES) & ~proposals.geometry.isna()].reset_index(drop=True)
    ids = set(proposals["proposal_id"]) | _keys_of(changes, "road_proposals")
    drop = lambda f: f.rule in proposal_checks.RULES and f.id in ids  # noqa: E731
    if not len(proposals):
        return [], drop
    codes = set(proposals["district"].dropna())
    areas = _valid(_by_fid(data, "admin_areas", _fids(data, "admin_areas", _boxes(proposals.geometry.values),
                                                         "code IN (SELECT value FROM json_each(?))", (_in(codes),))))
    near = _Near(data, areas=areas)
    return proposal_checks._overlaps_road(near, proposals) + proposal_checks._areas(near, proposals), drop


def _lines(data, changes):
    from diming.boundaries import line_checks

    areas = _keys_of(changes, "admin_areas")
    if "boundary_lines" not in changes and not areas:
        return [], None
    lines = _read(data, "boundary_lines", "line_id IN (SELECT value FROM json_each(?)) OR left_code IN "
                  "(SELECT value FROM json_each(?)) OR right_code IN (SELECT value FROM json_each(?))",
                  (_in(_keys_of(changes, "boundary_lines")), _in(areas), _in(areas)))
    ids = set(lines["line_id"]) | _keys_of(changes, "boundary_lines")
    codes = set(lines["left_code"]) | set(lines["right_code"])
    sides = _valid(_read_in(data, "admin_areas", "code", codes))
    found = line_checks.check(_Near(data, areas=sides, layers={"boundary_lines": lines}))
    return found, lambda f: f.rule in line_checks.RULES and f.id in ids


def _markers(data, changes):
    from diming.boundaries import marker_checks

    if "boundary_markers" not in changes and "boundary_lines" not in changes:
        return [], None
    changed = _keys_of(changes, "boundary_markers")
    touched = (_keys_of(changes, "boundary_lines") | _olds(changes, "boundary_markers", "line_id")
               | set(_read_in(data, "boundary_markers", "marker_id", changed, geometry=False,
                              columns=("line_id",))["line_id"]))
    on_touched = _read_in(data, "boundary_markers", "line_id", touched)
    lines = _read_in(data, "boundary_lines", "line_id", touched)
    found = marker_checks.check(_Near(data, layers={"boundary_markers": on_touched, "boundary_lines": lines}),
                                frozenset(marker_checks.RULES) - {"marker.duplicate-id"})
    clashing, duplicates = _duplicate_ids(data, changed)
    mine = set(on_touched["marker_id"]) | changed

    def drop(f):
        if f.rule == "marker.duplicate-id":
            return bool({f.id, *(r["id"] for r in f.related)} & (clashing | changed))
        if f.rule == "marker.sequence-gap":
            return f.id in touched
        return f.rule in marker_checks.RULES and f.id in mine
    return found + duplicates, drop


# past this many clash keys the SQL preselection (a term per key) is slower than taking every marker's id
_MOST_CLASH_KEYS = 200


def _duplicate_ids(data, changed):
    """marker.duplicate-id compares ids across lines: the markers sharing a clash key with a
    changed id, old or new (those whose findings may differ), and their findings. Each of those
    findings is found whole among the markers sharing a key with one of them."""
    import numpy as np

    from diming.boundaries import marker_checks
    from diming.layers.settings import marker_pattern

    if not changed:
        return set(), []
    pattern = marker_pattern(data.settings["marker_id_pattern"])

    def keys_of(ids):
        return [marker_checks.clash_keys(m, pattern) for m in ids]

    def sharing(keys):
        where, params = marker_checks.may_clash(keys) if len(keys) <= _MOST_CLASH_KEYS else (None, ())
        markers = _read(data, "boundary_markers", where, params)
        return markers, keys_of(markers["marker_id"])

    keys = set().union(*keys_of(changed))
    near, near_keys = sharing(keys)
    clashing = {m for m, k in zip(near["marker_id"], near_keys) if k & keys}
    wider = set().union(keys, *keys_of(clashing))
    if not wider <= keys:  # a clashing marker has a key of its own: its group too
        near, near_keys = sharing(wider)
    near = near[np.array([bool(k & wider) for k in near_keys], dtype=bool)]
    found = marker_checks.check(_Near(data, layers={"boundary_markers": near}), frozenset({"marker.duplicate-id"}))
    return clashing, [f for f in found if {f.id, *(r["id"] for r in f.related)} & clashing]


def _fields(data, changes):
    """field.invalid tests a row's own values: the changed rows again, by key; a whole layer again
    when a changed row had or has no key, or a row of it has none now (its finding is named by fid)."""
    from diming import field_checks
    from diming.layers.gpkg import quote
    from diming.layers.store import connect

    only = {}
    con = connect(data.project)
    try:
        for layer, queued in changes.items():
            if layer not in LAYERS or LAYERS[layer].system:
                continue
            key = quote(LAYERS[layer].key)
            keys = {k for k, _, _ in queued}
            # two look-ups the key's index answers (its OR is a scan of a million roads)
            keyless = None in keys or "" in keys or con.execute(
                f"SELECT EXISTS (SELECT 1 FROM {quote(layer)} WHERE {key} IS NULL) "
                f"OR EXISTS (SELECT 1 FROM {quote(layer)} WHERE {key} = '')").fetchone()[0]
            only[layer] = None if keyless else set(map(str, keys))
    finally:
        con.close()
    if not only:
        return [], None
    found = field_checks.check(data, only=only)
    return found, lambda f: f.layer in only and (only[f.layer] is None or f.id in only[f.layer])


def _inspection(data, changes):
    from diming.boundaries import inspection_checks

    if not any(layer in changes for layer in ("inspections", "inspection_rounds", "boundary_markers", "boundary_lines")):
        return [], None
    return inspection_checks.check(data), lambda f: f.rule in inspection_checks.RULES


def _areas(data, changes):
    import numpy as np
    import shapely

    from diming.boundaries import area_checks

    changed = _keys_of(changes, "admin_areas")
    if not changed:
        return [], None
    settings = data.settings
    now = _read_in(data, "admin_areas", "code", changed)
    valid_now = _valid(now)
    out = area_checks._invalid(now[~now.index.isin(valid_now.index)])
    drops = [lambda f: f.rule == "area.invalid" and f.id in changed]
    geoms = [*_old_geoms(changes, "admin_areas"), *now.geometry.values]
    boxes = _boxes(geoms)
    levels = {*now["level"].dropna(), *_olds(changes, "admin_areas", "level")}
    # the overlaps a changed area takes part in, with the areas of its level near it
    near = _valid(_by_fid(data, "admin_areas", _fids(data, "admin_areas", boxes)))
    width = settings["area_sliver_width_m"]
    for level in levels:
        subset = near[near["level"] == level].reset_index(drop=True)
        found = area_checks._overlaps(subset, np.zeros(len(subset), dtype=bool), settings["area_overlap_tolerance_m2"], width)
        out += [f for f in found if {f.id, *(r["id"] for r in f.related)} & changed]
    drops.append(lambda f: f.rule == "area.overlap" and bool({f.id, *(r["id"] for r in f.related)} & changed))
    # the gaps of every parent a changed area lies in or is the parent of
    # (level, parent) of each group: the changed areas' own (old and new), their neighbours', and
    # those of every area near them as a parent (a hole in it may be filled or opened by them)
    groups = {(level, p) for level, p in zip(near["level"], near["parent_code"].fillna("")) if level in levels}
    old_parents = _olds(changes, "admin_areas", "parent_code")
    groups |= {(lv, p) for lv in levels for p in {*now["parent_code"].fillna(""), *old_parents}}
    parents = {p for _, p in groups} | changed | set(near["code"])
    children = _read_in(data, "admin_areas", "parent_code", parents, geometry=False, columns=("level", "parent_code"))
    groups |= set(zip(children["level"], children["parent_code"]))
    by_level: dict = {}
    for level, parent in groups:
        by_level.setdefault(level, set()).add(parent or "")
    for level, wanted in by_level.items():
        subset, parent_areas = _gap_subset(data, level, wanted)
        if subset is None:
            continue
        matched = shapely.is_empty(shapely.coverage_invalid_edges(subset.geometry.values))
        out += area_checks._gaps(subset, matched, dict(zip(parent_areas["code"], parent_areas.geometry.values)),
                                 dict(zip(parent_areas["code"], parent_areas["name"])),
                                 settings["area_gap_tolerance_m2"], width, only=wanted)
        tags = {f"{level}|{p}" for p in wanted}
        drops.append(lambda f, tags=tags: f.rule == "area.gap" and f.group in tags)
    return out, lambda f: any(d(f) for d in drops)


def _gap_subset(data, level, parents):
    """The areas of ``level`` whose gaps under ``parents`` ('' for those without a parent) are to
    be found, with every area of the level they may meet (neighbours decide which edges match
    and fill enclaves), in the layer's order; and the parents' areas. (None, None) when none."""
    named = [p for p in parents if p]
    parent_areas = _valid(_read_in(data, "admin_areas", "code", named))
    where = ("level = ? AND (parent_code IN (SELECT value FROM json_each(?))"
             + (" OR parent_code IS NULL OR parent_code = ''" if "" in parents else "") + ")")
    children = _fids(data, "admin_areas", None, where, (level, _in(named)))
    if not children:
        return None, None
    boxes = _boxes([*_by_fid(data, "admin_areas", children).geometry.values, *parent_areas.geometry.values])
    areas = _valid(_by_fid(data, "admin_areas", children | _fids(data, "admin_areas", boxes)))
    return areas[areas["level"] == level].reset_index(drop=True), parent_areas
