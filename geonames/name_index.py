"""The name index (地名索引) kept in the project, so that ``diming namecheck`` answers from a
national gazetteer in well under a second: instead of normalising and reading a million names on
every check, it looks up the few names that share a clash key with the new one.

Each distinct name of the roads, proposals, heritage list and gazetteer is stored with its clash
keys (:func:`diming.geonames.rules.clash_keys`: normalised form, 专名 and its shorter forms, toneless
readings), in the project's own tables ``diming_name_keys``, ``diming_name_pending`` and
``diming_name_meta``.

- SQLite triggers on the four layers put every name written into ``diming_name_pending``, whoever
  writes it (diming or a desktop GIS editing the GeoPackage), and the next look-up keys those names
  first. Removed names need nothing: candidates are looked up in the layers themselves.
- The keys depend on the code that makes them (its source is hashed), the word lists (the
  character table, place readings …), the text libraries, the ``pinyin_overrides`` setting and
  the division names; their :func:`fingerprint` is stored with the index, and a look-up that finds
  it changed rebuilds the index (seconds, once, for a million roads).

The index only narrows the search: the clash rules still run on every name it returns, in scope
and status, exactly as without it. It is derived data, so keeping it is not an audited change.
"""
from __future__ import annotations

import hashlib
import sqlite3
from functools import lru_cache

LAYERS = ("roads", "road_proposals", "heritage_names", "place_names")
_FORMAT = "3"  # bump when what is stored changes (3: the gazetteer's names)
# the modules whose code makes the keys (normalize, split_name, reading_keys, clash_keys): their
# source is part of the fingerprint, so an index keyed by another version of them is rebuilt
KEY_MODULES = ("normalize", "parts", "pinyin", "rules", "wordlists")


def fingerprint(overrides, stems) -> str:
    """A digest of everything the clash keys depend on."""
    digest = hashlib.sha256(_installed().encode())
    digest.update(repr(sorted((overrides or {}).items())).encode())
    digest.update("\n".join(sorted(stems)).encode())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def _installed() -> str:
    """The part of the fingerprint fixed for the life of the process: the index format, the text
    libraries' versions, the code that makes the keys and diming's word lists (the character
    table, the place readings …)."""
    from importlib.metadata import version
    from pathlib import Path

    from diming.geonames.wordlists import DATA

    digest = hashlib.sha256(_FORMAT.encode())
    for package in ("pypinyin", "opencc"):
        digest.update(f"{package}={version(package)};".encode())
    for module in KEY_MODULES:
        digest.update((Path(__file__).parent / f"{module}.py").read_bytes())
    for path in sorted(DATA.glob("*.txt")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def candidates(project, name: str, overrides, stems) -> list[str] | None:
    """The stored names sharing a clash key with ``name`` (after bringing the index up to date),
    or None when the index cannot be brought up to date now (a read-only file, or another
    process writing to it): the caller then compares with every name."""
    from diming.geonames.rules import clash_keys
    from diming.layers.store import connect

    con = connect(project)
    try:
        try:
            _refresh(con, fingerprint(overrides, stems), overrides, stems)
        except sqlite3.OperationalError as e:
            if "readonly" in str(e) or "locked" in str(e):  # another process is writing: look without
                return None
            raise
        keys = _keys(*clash_keys(name, overrides, stems))
        rows = con.execute("SELECT DISTINCT name FROM diming_name_keys WHERE key IN (SELECT value FROM json_each(?))",
                           (_json(keys),)).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]


def refresh(project, overrides, stems) -> bool:
    """Bring the index up to date now (built, or its pending names keyed); False when it cannot
    be now (a read-only file, or another process writing to it)."""
    from diming.layers.store import connect

    con = connect(project)
    try:
        _refresh(con, fingerprint(overrides, stems), overrides, stems)
        return True
    except sqlite3.OperationalError as e:
        if "readonly" in str(e) or "locked" in str(e):
            return False
        raise
    finally:
        con.close()


def sharing(project, names, overrides, stems) -> set[str] | None:
    """``names`` with every stored name sharing a clash key with one of them, with every name
    sharing a key with those, and so on until no more join (a clash group is joined transitively:
    a name with several readings links the homophones of each, the prefix rule links 新城子 and
    城子); None when the index cannot be brought up to date now (as for :func:`candidates`)."""
    from diming.geonames.rules import clash_keys
    from diming.layers.store import connect

    if not refresh(project, overrides, stems):
        return None
    con = connect(project)
    try:
        found, new = set(), set(names)
        while new:
            found |= new
            keys = {k for n in new for k in _keys(*clash_keys(n, overrides, stems))}
            new = {r[0] for r in con.execute("SELECT DISTINCT name FROM diming_name_keys WHERE key IN "
                                             "(SELECT value FROM json_each(?))", (_json(keys),))} - found
    finally:
        con.close()
    return found


def _keys(norm: str, specifics, readings) -> list[str]:
    # one column for all three kinds, told apart by a prefix, so one index serves every look-up
    return [f"n:{norm}", *(f"c:{s}" for s in sorted(specifics)), *(f"r:{r}" for r in readings)]


def _json(values) -> str:
    import json

    return json.dumps(list(values), ensure_ascii=False)


def _current(con, stamp: str) -> bool:
    try:
        pending = con.execute("SELECT 1 FROM diming_name_pending LIMIT 1").fetchone()
    except sqlite3.OperationalError:  # no index yet
        return False
    return _built_for(con, stamp) and pending is None


def _built_for(con, stamp: str) -> bool:
    """Whether the index was built with this fingerprint and its triggers are all in place (a
    tool that drops and re-creates a layer table takes that table's triggers with it)."""
    if not _has_index(con):
        return False
    stored = con.execute("SELECT fingerprint FROM diming_name_meta").fetchone()
    triggers = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    return stored is not None and stored[0] == stamp and set(_triggers()) <= triggers


def _triggers() -> dict[str, tuple[str, str]]:
    """Trigger name -> (layer, event) of the triggers that feed the pending names."""
    return {f"diming_{layer}_name_{event.split()[0].lower()}": (layer, event)
            for layer in LAYERS for event in ("INSERT", "UPDATE OF name")}


def _refresh(con, stamp: str, overrides, stems) -> None:
    """Rebuild the index if its fingerprint differs; key the pending names. One transaction,
    taken only when there is something to write."""
    from diming.geonames.rules import clash_keys

    if _current(con, stamp):
        return
    con.execute("BEGIN IMMEDIATE")
    try:
        if not _built_for(con, stamp):
            _rebuild(con, stamp)
        pending = [r[0] for r in con.execute("SELECT name FROM diming_name_pending")]
        con.execute("DELETE FROM diming_name_keys WHERE name IN (SELECT name FROM diming_name_pending)")
        con.executemany("INSERT INTO diming_name_keys (name, key) VALUES (?, ?)",
                        ((n, k) for n in pending for k in _keys(*clash_keys(n, overrides, stems))))
        con.execute("DELETE FROM diming_name_pending")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _has_index(con) -> bool:
    return con.execute("SELECT 1 FROM sqlite_master WHERE name = 'diming_name_meta'").fetchone() is not None


def _rebuild(con, stamp: str) -> None:
    """Empty index tables, the triggers that feed them, an index on each layer's name, and every
    stored name pending."""
    from diming.layers.gpkg import quote
    from diming.layers.store import _upgrade

    _upgrade(con)  # a project made before a name layer existed gets it (empty), so its triggers can be made
    for table in ("diming_name_keys", "diming_name_pending", "diming_name_meta"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute("CREATE TABLE diming_name_keys (name TEXT NOT NULL, key TEXT NOT NULL)")
    con.execute("CREATE INDEX diming_name_keys_key ON diming_name_keys (key)")
    con.execute("CREATE INDEX diming_name_keys_name ON diming_name_keys (name)")
    con.execute("CREATE TABLE diming_name_pending (name TEXT PRIMARY KEY)")
    con.execute("CREATE TABLE diming_name_meta (fingerprint TEXT NOT NULL)")
    con.execute("INSERT INTO diming_name_meta VALUES (?)", (stamp,))
    for trigger, (layer, event) in _triggers().items():
        con.execute(f"DROP TRIGGER IF EXISTS {quote(trigger)}")
        con.execute(f"CREATE TRIGGER {quote(trigger)} AFTER {event} ON {quote(layer)} WHEN NEW.name IS NOT NULL "
                    "BEGIN INSERT OR IGNORE INTO diming_name_pending (name) VALUES (NEW.name); END")
    for layer in LAYERS:
        con.execute(f"CREATE INDEX IF NOT EXISTS {quote(f'diming_{layer}_name')} ON {quote(layer)} (name)")
        con.execute(f"INSERT OR IGNORE INTO diming_name_pending (name) SELECT name FROM {quote(layer)} "
                    "WHERE name IS NOT NULL")
