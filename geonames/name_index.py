"""The name index (地名索引) kept in the project, so that ``diming namecheck`` answers from a
national gazetteer in well under a second: instead of normalising and reading a million names on
every check, it looks up the few names that share a clash key with the new one.

Each distinct name of the roads, proposals and heritage list is stored with its clash keys
(:func:`diming.geonames.rules.clash_keys`: normalised form, 专名 core, toneless readings), in the
project's own tables ``diming_name_keys``, ``diming_name_pending`` and ``diming_name_meta``; the
same keys as integers in ``diming_names`` (through ``diming_name_terms``), which ``diming check``
groups on (:func:`name_keys`), and the results of the single-name rules in ``diming_name_rules``.

- SQLite triggers on the three layers put every name written into ``diming_name_pending``, whoever
  writes it (diming or a desktop GIS editing the GeoPackage), and the next look-up keys those names
  first. Removed names need nothing: candidates are looked up in the layers themselves.
- The keys depend on the word lists, the pinyin libraries, the ``pinyin_overrides`` setting and the
  division names; their :func:`fingerprint` is stored with the index, and a look-up that finds it
  changed rebuilds the index (seconds, once, for a million roads).

The index only narrows the search: the clash rules still run on every name it returns, in scope
and status, exactly as without it. It is derived data, so keeping it is not an audited change.
Names no longer in any layer stay in it (so its tables only ever hold more names than the layers).
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LAYERS = ("roads", "road_proposals", "heritage_names")
_FORMAT = "3"  # bump when what is stored changes


def fingerprint(overrides, stems) -> str:
    """A digest of everything the clash keys depend on."""
    digest = hashlib.sha256(_installed().encode())
    digest.update(repr(sorted((overrides or {}).items())).encode())
    digest.update("\n".join(sorted(stems)).encode())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def _installed() -> str:
    """The part of the fingerprint fixed for the life of the process: the index format, the text
    libraries' versions and diming's word lists."""
    from importlib.metadata import version

    from diming.geonames.wordlists import DATA

    digest = hashlib.sha256(_FORMAT.encode())
    for package in ("pypinyin", "opencc"):
        digest.update(f"{package}={version(package)};".encode())
    for path in sorted(DATA.glob("*.txt")):
        digest.update(path.read_bytes())
    # and the code computing the keys: an upgraded diming must not answer from an older one's keys
    here = Path(__file__).parent
    for module in _KEY_MODULES:
        digest.update((here / module).read_bytes())
    return digest.hexdigest()


_KEY_MODULES = ("normalize.py", "parts.py", "pinyin.py", "rules.py", "name_index.py")


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


def _keys(norm: str, core: str, readings) -> list[str]:
    # one column for all three kinds, told apart by a prefix, so one index serves every look-up
    return [f"n:{norm}", f"c:{core}", *(f"r:{r}" for r in readings)]


def _json(values) -> str:
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
        # a name's keys depend on nothing but the name (and the fingerprint): one keyed already is done
        con.execute("DELETE FROM diming_name_pending WHERE name IN (SELECT name FROM diming_names)")
        pending = [r[0] for r in con.execute("SELECT name FROM diming_name_pending")]
        keyed = [(n, *_split(clash_keys(n, overrides, stems))) for n in pending]
        con.execute("DELETE FROM diming_name_keys WHERE name IN (SELECT name FROM diming_name_pending)")
        con.executemany("INSERT INTO diming_name_keys (name, key) VALUES (?, ?)",
                        ((n, k) for n, norm, core, _, readings in keyed for k in _keys(norm, core, readings)))
        terms = _term_ids(con, {t for _, norm, core, same, readings in keyed for t in (norm, core, same, *readings)})
        con.executemany("INSERT OR REPLACE INTO diming_names (name, norm, core, same, readings) VALUES (?, ?, ?, ?, ?)",
                        ((n, terms[norm], terms[core], terms[same], _blob(terms[r] for r in sorted(readings)))
                         for n, norm, core, same, readings in keyed))
        con.execute("DELETE FROM diming_name_pending")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


_TABLES = ("diming_name_keys", "diming_name_pending", "diming_name_meta", "diming_name_terms", "diming_names",
           "diming_name_rules")


def _split(keys) -> tuple:
    """(norm, core, same, readings) of a name's clash keys; ``same`` is the duplicate rule's key
    (core, modifier, 通名), the modifier and 通名 split from the normalised form as the rules split it."""
    from diming.geonames.parts import split_name

    norm, core, readings = keys
    _, modifier, generic = split_name(norm)
    return norm, core, "\x1f".join((core, modifier, generic)), readings


def _term_ids(con, terms) -> dict[str, int]:
    con.executemany("INSERT OR IGNORE INTO diming_name_terms (term) VALUES (?)", ((t,) for t in terms))
    return dict(con.execute("SELECT term, id FROM diming_name_terms WHERE term IN (SELECT value FROM json_each(?))",
                            (_json(terms),)))


def _blob(ids) -> bytes:
    import numpy as np

    return np.fromiter(ids, dtype="<i8").tobytes()


def _has_index(con) -> bool:
    return con.execute("SELECT 1 FROM sqlite_master WHERE name = 'diming_name_meta'").fetchone() is not None


def _rebuild(con, stamp: str) -> None:
    """Empty index tables, the triggers that feed them, an index on each layer's name, and every
    stored name pending."""
    from diming.layers.gpkg import quote

    for table in _TABLES:
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute("CREATE TABLE diming_name_keys (name TEXT NOT NULL, key TEXT NOT NULL)")
    # the keys again as integers, for grouping a whole project's names without hashing strings:
    # normalised form, 专名 core, the duplicate rule's (core, modifier, 通名), and the toneless
    # readings as an int64 array
    con.execute("CREATE TABLE diming_name_terms (id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE)")
    con.execute("CREATE TABLE diming_names (name TEXT PRIMARY KEY, norm INTEGER NOT NULL, core INTEGER NOT NULL, "
                "same INTEGER NOT NULL, readings BLOB NOT NULL)")
    con.execute("CREATE TABLE diming_name_rules (name TEXT PRIMARY KEY, rules TEXT)")
    con.execute("CREATE INDEX diming_name_keys_key ON diming_name_keys (key)")
    con.execute("CREATE INDEX diming_name_keys_name ON diming_name_keys (name)")
    con.execute("CREATE TABLE diming_name_pending (name TEXT PRIMARY KEY)")
    con.execute("CREATE TABLE diming_name_meta (fingerprint TEXT NOT NULL, rules_fingerprint TEXT, rules_upto INTEGER)")
    con.execute("INSERT INTO diming_name_meta (fingerprint) VALUES (?)", (stamp,))
    for trigger, (layer, event) in _triggers().items():
        con.execute(f"DROP TRIGGER IF EXISTS {quote(trigger)}")
        con.execute(f"CREATE TRIGGER {quote(trigger)} AFTER {event} ON {quote(layer)} WHEN NEW.name IS NOT NULL "
                    "BEGIN INSERT OR IGNORE INTO diming_name_pending (name) VALUES (NEW.name); END")
    for layer in LAYERS:
        con.execute(f"CREATE INDEX IF NOT EXISTS {quote(f'diming_{layer}_name')} ON {quote(layer)} (name)")
        con.execute(f"INSERT OR IGNORE INTO diming_name_pending (name) SELECT name FROM {quote(layer)} "
                    "WHERE name IS NOT NULL")


@dataclass
class NameKeys:
    """The clash keys of some distinct names, as integers aligned with those names: normalised
    form, 专名 core, the duplicate rule's key (core, modifier, 通名), the toneless readings (flat,
    ``counts`` per name) and the single-name rule findings (``()`` for a clean name). Equal keys
    are equal integers; :meth:`term` turns a few back into text for a message."""

    norm: object
    core: object
    same: object
    readings: object
    counts: object
    rules: list
    blank: int  # the integer of the empty string ("" core: a name that is all 通名), -1 if none
    _text: object

    def term(self, ids) -> list[str]:
        return self._text(list(map(int, ids)))


def name_keys(project, names: list, local: dict, stems, *, single: bool = True) -> NameKeys | None:
    """The keys of ``names`` (every distinct name of the layers' features) from the name index,
    after bringing it up to date; with ``single``, also the single-name rule findings under the
    ``local`` rules (:func:`diming.geonames.namecheck.local_rules`), cached per name. None when
    the index cannot be brought up to date now (a read-only file, or another process writing):
    the caller then computes them (:func:`computed_keys`)."""
    import numpy as np
    import pandas as pd

    from diming.layers.store import connect

    con = connect(project)
    try:
        try:
            _refresh(con, fingerprint(local["overrides"], stems), local["overrides"], stems)
            if single:
                _refresh_rules(con, local)
        except sqlite3.OperationalError as e:
            if "readonly" in str(e) or "locked" in str(e):
                return None
            raise
        # a few names (an incremental check) by their key; a project's worth by reading it all
        few = ("WHERE name IN (SELECT value FROM json_each(?))", (_json(names),)) if len(names) < 10_000 else ("", ())
        rows = con.execute(f"SELECT name, norm, core, same, readings FROM diming_names {few[0]}", few[1]).fetchall()
        flagged = dict(con.execute(f"SELECT name, rules FROM diming_name_rules {few[0] or 'WHERE 1'} "
                                   "AND rules IS NOT NULL", few[1])) if single else {}
        blank = con.execute("SELECT id FROM diming_name_terms WHERE term = ''").fetchone()
    finally:
        con.close()
    at = pd.Index([r[0] for r in rows]).get_indexer(names)
    if (at < 0).any():  # a name written after the refresh, by another process: compute them all
        return None
    columns = [np.fromiter((r[k] for r in rows), dtype=np.int64, count=len(rows))[at] for k in (1, 2, 3)]
    blobs = [rows[i][4] for i in at]
    counts = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs)) // 8
    readings = np.frombuffer(b"".join(blobs), dtype="<i8").astype(np.int64)
    rules = [tuple(json.loads(flagged[n])) if n in flagged else () for n in names]
    return NameKeys(*columns, readings, counts, rules, blank[0] if blank else -1, lambda ids: _terms(project, ids))


def computed_keys(names: list, local: dict, stems, *, single: bool = True) -> NameKeys:
    """:func:`name_keys` computed here and now, for a project whose index cannot be used."""
    import numpy as np

    from diming.geonames.rules import check_name, clash_keys

    vocabulary: dict[str, int] = {}

    def ids(*terms):
        return [vocabulary.setdefault(t, len(vocabulary)) for t in terms]

    norm, core, same, readings, counts, rules = [], [], [], [], [], []
    for name in names:
        n, c, s, r = _split(clash_keys(name, local["overrides"], stems))
        for column, value in zip((norm, core, same), ids(n, c, s)):
            column.append(value)
        readings += ids(*sorted(r))
        counts.append(len(r))
        # () for the many clean names: an empty list each would be a million objects to track
        rules.append(tuple(check_name(name, max_length=local["max_length"], extra_forbidden=local["extra_forbidden"]))
                     if single else ())
    text = list(vocabulary)
    return NameKeys(*(np.array(c, dtype=np.int64) for c in (norm, core, same, readings, counts)), rules,
                    vocabulary.get("", -1), lambda wanted: [text[i] for i in wanted])


def _terms(project, ids) -> list[str]:
    from diming.layers.store import connect

    con = connect(project)
    try:
        found = dict(con.execute("SELECT id, term FROM diming_name_terms WHERE id IN (SELECT value FROM json_each(?))",
                                 (_json(ids),)))
    finally:
        con.close()
    return [found[i] for i in ids]


def _refresh_rules(con, local) -> None:
    """Run the single-name rules on the indexed names that have no stored result under these
    rules (all of them after the rules, their settings or diming changed): once per name."""
    from diming.geonames.rules import check_name

    stamp = hashlib.sha256(repr((_installed(), local["max_length"], sorted(local["extra_forbidden"]))).encode()).hexdigest()
    # names keyed since the last run have higher row ids than it reached (a re-keyed name is
    # written anew): one look at the largest, not a scan of a million names
    done, upto = con.execute("SELECT rules_fingerprint, coalesce(rules_upto, 0) FROM diming_name_meta").fetchone()
    top = con.execute("SELECT coalesce(max(rowid), 0) FROM diming_names").fetchone()[0]
    if done == stamp and upto >= top:
        return
    con.execute("BEGIN IMMEDIATE")
    try:
        if done != stamp:
            con.execute("DELETE FROM diming_name_rules")
            upto = 0
        names = [r[0] for r in con.execute("SELECT name FROM diming_names WHERE rowid > ?", (upto,))]
        found = ((n, check_name(n, max_length=local["max_length"], extra_forbidden=local["extra_forbidden"]))
                 for n in names)
        con.executemany("INSERT OR REPLACE INTO diming_name_rules (name, rules) VALUES (?, ?)",
                        ((n, _json(f) if f else None) for n, f in found))
        con.execute("UPDATE diming_name_meta SET rules_fingerprint = ?, rules_upto = ?", (stamp, top))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def linked_names(project, names, overrides, stems) -> set[str] | None:
    """``names`` and every indexed name linked to one of them by a chain of shared clash keys:
    all the names whose clash groups an edit of these can change (in any scope, so more than
    needed, never fewer). None when the index cannot be brought up to date now."""
    from diming.layers.store import connect

    con = connect(project)
    try:
        try:
            _refresh(con, fingerprint(overrides, stems), overrides, stems)
        except sqlite3.OperationalError as e:
            if "readonly" in str(e) or "locked" in str(e):
                return None
            raise
        found = set(names)
        frontier = set(names)
        while frontier:
            rows = con.execute("SELECT DISTINCT b.name FROM diming_name_keys a JOIN diming_name_keys b ON b.key = a.key "
                               "WHERE a.name IN (SELECT value FROM json_each(?))", (_json(frontier),))
            frontier = {r[0] for r in rows} - found
            found |= frontier
    finally:
        con.close()
    return found


def stems(project, regions) -> frozenset[str]:
    """:func:`diming.geonames.rules.region_stems` of the division names, kept in the project
    (``diming_name_stems``) beside a digest of those names and of diming's key code: stemming a
    national project's 42,500 division names takes longer than a check after one edit."""
    from diming.geonames.rules import region_stems
    from diming.layers.store import connect

    digest = hashlib.sha256(_installed().encode())
    digest.update("\n".join(map(str, regions)).encode())
    digest = digest.hexdigest()
    con = connect(project)
    try:
        try:
            row = con.execute("SELECT stems FROM diming_name_stems WHERE digest = ?", (digest,)).fetchone()
        except sqlite3.OperationalError:  # not kept yet
            row = None
        if row:
            return frozenset(json.loads(row[0]))
        found = region_stems(regions)
        try:
            con.execute("BEGIN IMMEDIATE")
            con.execute("CREATE TABLE IF NOT EXISTS diming_name_stems (digest TEXT NOT NULL, stems TEXT NOT NULL)")
            con.execute("DELETE FROM diming_name_stems")
            con.execute("INSERT INTO diming_name_stems VALUES (?, ?)", (digest, _json(sorted(found))))
            con.execute("COMMIT")
        except sqlite3.OperationalError as e:  # a read-only file or a busy one: computed all the same
            if con.in_transaction:
                con.execute("ROLLBACK")
            if not ("readonly" in str(e) or "locked" in str(e)):
                raise
        return found
    finally:
        con.close()
