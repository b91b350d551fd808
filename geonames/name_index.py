"""The name index (地名索引) kept in the project: every distinct name of the roads, proposals,
heritage list and gazetteer described once, when it is first written, so that neither ``diming
namecheck`` (a few names that share a clash key with the new one, in well under a second) nor
``diming check`` (every name of a national project) normalises, splits and reads a million names
again.

Tables (the project's own, outside ``gpkg_contents``):

- ``diming_name_facts``: per distinct name (an integer id each), what the name rules are made of
  (:func:`describe`), every text as the integer id of ``diming_name_values`` (one table of the
  distinct normalised forms, 专名, modifiers, 通名 and readings): normalised form and its length,
  专名, modifier, 通名, whether the single-name rules find nothing in it before the project's own
  length limit and words, and as packed arrays of ids (int32) the shorter forms of its 专名 under
  the prefix rule (with the division stems, and without them as a division's own name is
  compared) and its readings without and with tones. A check reads integers, not text.
- ``diming_name_keys``: per name id, its clash keys (:func:`diming.geonames.rules.clash_keys`:
  normalised form, 专名 and its shorter forms, readings; integers made of value ids), for
  namecheck's look-ups.
- ``diming_name_linked``: the ids of the names whose duplicate class holds another distinct name
  (the same 专名, modifier and 通名 after normalisation, or a shorter form of one 专名 the other's,
  with the same modifier and 通名: the prefix rule), anywhere in the project. Every other name is a
  duplicate only of itself, written the same way in the same scope: what SQL finds in the roads
  by their name index (name, district, status), so ``--rules name.duplicate`` reads only the roads
  such a group holds (:func:`linked`). A name once linked stays so: it only widens what is read.
  The links are made from ``diming_name_shorter``, each shorter form of a name's 专名 with its
  modifier and 通名.
- ``diming_name_pending``: SQLite triggers on the four layers put every name written there,
  whoever writes it (diming or a desktop GIS editing the GeoPackage), and the next use of the
  index describes and keys those names first. Removed names need nothing: candidates are looked
  up in the layers themselves, and the check looks up only the names its features carry.
- ``diming_name_meta``: the :func:`fingerprint` of everything a description depends on: the code
  that makes it (its source is hashed), the word lists (the character table, place readings …),
  the text libraries, the ``pinyin_overrides`` setting and the division names; with it the
  division stems (rules.region_stems, a second's work for a national project's divisions). A use
  that finds the fingerprint changed rebuilds the index (seconds, once, for a million roads).

The index only narrows the search and saves the per-name work: the rules still run in scope and
status, exactly as without it, and a project that cannot be written is checked without it (or
with it where it is current, the names written since described in memory). It is derived data,
so keeping it is not an audited change.
"""
from __future__ import annotations

import hashlib
import sqlite3
import sys
from functools import lru_cache

LAYERS = ("roads", "road_proposals", "heritage_names", "place_names")
_FORMAT = "5"  # bump when what is stored changes (3: the gazetteer's names; 4: each name's description; 5: links)
# the modules whose code makes the descriptions and keys (normalize, split_name, reading_keys,
# shorter_forms, check_name): their source is part of the fingerprint, so an index made by another
# version of them is rebuilt
KEY_MODULES = ("normalize", "parts", "pinyin", "rules", "wordlists")
# what describe() gives per name, in order: texts, a length, a flag, and tuples of texts
FACTS = ("norm", "length", "specific", "modifier", "generic", "clean", "shorter", "bare", "readings", "toned")
_LISTS = ("shorter", "bare", "readings", "toned")


def fingerprint(overrides, regions) -> str:
    """A digest of everything the descriptions depend on (``regions``: the division names)."""
    digest = hashlib.sha256(_installed().encode())
    digest.update(repr(sorted((overrides or {}).items())).encode())
    digest.update(_regions_digest(tuple(regions)))
    return digest.hexdigest()


@lru_cache(maxsize=4)  # one check asks for the fingerprint of the same 42,500 divisions several times
def _regions_digest(regions: tuple) -> bytes:
    return hashlib.sha256("\n".join(sorted(set(regions))).encode()).digest()


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


def describe(names, overrides, stems) -> list[tuple]:
    """Per name, the :data:`FACTS`: normalised form and its length, 专名, modifier, 通名, ``clean``
    (the single-name rules of rules.check_name find nothing in it but for the project's own length
    limit and words, which the check applies itself), the shorter forms of the 专名
    (rules.shorter_forms, with the division ``stems``; ``bare``: without them, as a division's own
    name is compared) and the readings without and with tones. Each step is a cached
    look-up per character or per name; still, at national scale this is seconds, done once per
    name written."""
    from diming.geonames.normalize import normalize
    from diming.geonames.parts import split_name
    from diming.geonames.pinyin import reading_keys
    from diming.geonames.rules import check_name, shorter_forms

    rows = []
    for name in names:
        norm = normalize(name)
        specific, modifier, generic = split_name(norm)
        rows.append((norm, len(norm), specific, modifier, generic, not check_name(name, max_length=sys.maxsize),
                     shorter_forms(specific, stems), shorter_forms(specific),
                     tuple(reading_keys(norm, overrides)), tuple(reading_keys(norm, overrides, tones=True))))
    return rows


def described(project, names: list, overrides, regions, wanted=FACTS) -> dict:
    """The ``wanted`` :data:`FACTS` of each of ``names`` (in order), every text as an integer id: a
    dict of arrays, ``norm`` … ``generic`` (ids), ``length``, ``clean``; each list fact as two arrays,
    ``<fact>_of`` (the position of the name holding it) and ``<fact>`` (ids); ``text``, a
    function from ids to their texts; ``blank``, the id of the empty text; ``current``, whether
    the index could be brought up to date first. Taken from the index; names it does not hold (a
    read-only project without a current index, a name written since) are described here, their
    new texts given ids above the stored ones."""
    import numpy as np
    import pandas as pd

    from diming.geonames.rules import region_stems
    from diming.layers.store import connect

    con = connect(project)
    try:
        stamp = fingerprint(overrides, regions)
        # else: no index, or one of other descriptions, is not to be used
        current = _brought_up_to_date(con, stamp, overrides, regions)
        usable = current or _built_for(con, stamp)
        rows, top = [], 0
        if usable:
            where, params = "", ()
            if len(names) < _FEW:  # a few names: look them up; most: read the table
                where, params = " WHERE name IN (SELECT value FROM json_each(?))", (_json(names),)
            rows = con.execute(f"SELECT name, {', '.join(wanted)} FROM diming_name_facts{where}", params).fetchall()
            top = con.execute("SELECT coalesce(max(id), 0) FROM diming_name_values").fetchone()[0]
        stored = pd.Index([r[0] for r in rows], dtype=object)
        at = stored.get_indexer(names)
        missing = np.flatnonzero(at < 0)
        made = describe([names[i] for i in missing], overrides, _stored_stems(con) if usable else region_stems(regions)) \
            if len(missing) else []
        # the texts of the names described here: their stored ids, or new ones
        texts = sorted({t for row in made for t in _texts_in(row)})
        new = _value_ids(con, texts) if usable else {}
        for t in texts:
            if t not in new:
                top += 1
                new[t] = top
        picked = [FACTS.index(fact) for fact in wanted]
        rows += [(names[i], *(packed[j] for j in picked)) for i, packed in zip(missing, (_packed(r, new) for r in made))]
        blank = con.execute("SELECT id FROM diming_name_values WHERE value = ''").fetchone() if usable else None
        blank = blank[0] if blank else None
    finally:
        con.close()
    at[missing] = len(stored) + np.arange(len(missing))
    columns = list(zip(*rows)) if rows else [()] * (len(wanted) + 1)
    out = {}
    for k, fact in enumerate(wanted, start=1):
        if fact in _LISTS:
            blobs = np.fromiter(columns[k], dtype=object, count=len(rows))[at].tolist()
            counts = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs)) // 4
            out[f"{fact}_of"] = np.repeat(np.arange(len(names)), counts)
            out[fact] = np.frombuffer(b"".join(blobs), dtype="<i4").astype(np.int64)
        else:
            out[fact] = np.fromiter(columns[k], dtype=bool if fact == "clean" else np.int64, count=len(rows))[at]
    made_texts = {i: t for t, i in new.items()}
    out["text"] = lambda ids: _texts(project, ids, made_texts, stamp)
    out["blank"] = blank if blank is not None else new.get("", -1)  # the id of "" (a name without 专名 …)
    out["current"] = current
    return out


_FEW = 50_000


def fact_lists(named, fact, names) -> dict:
    """Position of a name in :func:`described`'s ``named`` -> its ids of list ``fact``, for these
    positions ``names`` (an integer array; ``<fact>_of`` is sorted)."""
    import numpy as np

    of, ids = named[f"{fact}_of"], named[fact]
    starts, ends = np.searchsorted(of, names), np.searchsorted(of, names, side="right")
    return {n: ids[a:b].tolist() for n, a, b in zip(names.tolist(), starts.tolist(), ends.tolist())}


def _texts_in(row):
    """The texts of a row of describe() (its normalised form, parts and lists), each to have an id."""
    yield row[0]
    yield from row[2:5]
    for texts in row[6:]:
        yield from texts


def _value_ids(con, texts) -> dict[str, int]:
    """Text -> id of those of ``texts`` the index holds."""
    if not texts:
        return {}
    return dict(con.execute("SELECT value, id FROM diming_name_values WHERE value IN (SELECT value FROM json_each(?))",
                            (_json(texts),)).fetchall())


def _packed(row, ids) -> tuple:
    """A row of describe() as stored: texts as ids, lists of texts as packed int32 ids."""
    from struct import pack

    norm, length, specific, modifier, generic, clean, *lists = row
    return (ids[norm], length, ids[specific], ids[modifier], ids[generic], int(clean),
            *(pack(f"<{len(texts)}i", *[ids[t] for t in texts]) for texts in lists))


def _texts(project, ids, made: dict, stamp: str) -> list[str]:
    """The texts of these value ids (those of names described in memory from ``made``), from the
    index of fingerprint ``stamp`` the ids were read from."""
    from diming.errors import DimingError
    from diming.layers.store import connect

    ids = [int(i) for i in ids]
    wanted = sorted({i for i in ids if i not in made})
    found = dict(made)
    if wanted:
        con = connect(project)
        try:
            # ids are only added to, but a rebuild (another process, new settings) numbers them anew
            if con.execute("SELECT fingerprint FROM diming_name_meta").fetchone() != (stamp,):
                raise DimingError(f"{project}: 名称索引在检查期间被另一进程重建, 请重新检查 (the name index was rebuilt "
                                  "during the check: run it again)")
            found.update(con.execute("SELECT id, value FROM diming_name_values WHERE id IN "
                                     "(SELECT value FROM json_each(?))", (_json(wanted),)).fetchall())
        finally:
            con.close()
    return [found[i] for i in ids]


def candidates(project, name: str, overrides, regions) -> list[str] | None:
    """The stored names sharing a clash key with ``name`` (after bringing the index up to date),
    or None when the index cannot be brought up to date now (a read-only file, or another
    process writing to it): the caller then compares with every name."""
    found = sharing(project, [name], overrides, regions)
    return None if found is None else sorted(found)


def sharing(project, names, overrides, regions) -> set[str] | None:
    """The stored names sharing a clash key (rules.clash_keys) with any of ``names`` (after
    bringing the index up to date), or None when the index cannot be brought up to date now. The
    keys of ``names`` are made from their stored descriptions (a name not held is described now):
    an edited feature's old and new names are held, so ``check --changed`` loads no pinyin."""
    import numpy as np

    from diming.layers.store import connect

    named = described(project, list(names), overrides, regions, ("norm", "specific", "shorter", "readings"))
    if not named["current"]:
        return None
    # ids above the stored ones are texts of names described here, held by no stored name
    keys = np.unique(np.concatenate([named["norm"] * 3, np.r_[named["specific"], named["shorter"]] * 3 + 1,
                                     named["readings"] * 3 + 2]))  # as _keys makes them
    con = connect(project)
    try:
        rows = con.execute("SELECT DISTINCT f.name FROM diming_name_keys k JOIN diming_name_facts f ON f.id = k.name "
                           "WHERE k.key IN (SELECT value FROM json_each(?))", (_json(keys.tolist()),)).fetchall()
    finally:
        con.close()
    return {r[0] for r in rows}


def refresh(project, overrides, regions) -> bool:
    """Bring the index up to date now (rebuilt, or the pending names described); whether it could
    be: not where the file is read-only or another process is writing to it."""
    from diming.layers.store import connect

    con = connect(project)
    try:
        return _brought_up_to_date(con, fingerprint(overrides, regions), overrides, regions)
    finally:
        con.close()


def linked(project, overrides, regions) -> set[str] | None:
    """The stored names linked to another distinct name (``diming_name_linked``), after bringing the
    index up to date; None when it cannot be brought up to date now (a read-only file, or another
    process writing to it)."""
    from diming.layers.store import connect

    con = connect(project)
    try:
        if not _brought_up_to_date(con, fingerprint(overrides, regions), overrides, regions):
            return None
        rows = con.execute("SELECT f.name FROM diming_name_linked l JOIN diming_name_facts f ON f.id = l.name").fetchall()
    finally:
        con.close()
    return {r[0] for r in rows}


def _keys(norm: int, specifics, readings) -> list[int]:
    """The clash keys of a name from the value ids of its normalised form, 专名 (with its shorter
    forms) and readings: one integer column for the three kinds (id × 3 + kind), so one index
    serves every look-up."""
    return [norm * 3, *(s * 3 + 1 for s in specifics), *(r * 3 + 2 for r in readings)]


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


def _brought_up_to_date(con, stamp: str, overrides, regions) -> bool:
    """:func:`_refresh`, and whether it could be done now: not where the file is read-only or
    another process is writing to it."""
    try:
        _refresh(con, stamp, overrides, regions)
    except sqlite3.OperationalError as e:
        if "readonly" in str(e) or "locked" in str(e):
            return False
        raise
    return True


def _refresh(con, stamp: str, overrides, regions) -> None:
    """Rebuild the index if its fingerprint differs; describe and key the pending names not yet
    held (a name's description depends on nothing but the fingerprint). One transaction, taken
    only when there is something to write."""
    from diming.geonames.rules import region_stems

    if _current(con, stamp):
        return
    con.execute("BEGIN IMMEDIATE")
    try:
        if not _built_for(con, stamp):
            _rebuild(con, stamp, region_stems(regions))
        pending = [r[0] for r in con.execute("SELECT name FROM diming_name_pending WHERE name NOT IN "
                                             "(SELECT name FROM diming_name_facts)")]
        stems = _stored_stems(con) if pending else ()
        # a share at a time: a national gazetteer's millions of descriptions would not all be held at once
        for at in range(0, len(pending), _DESCRIBED_AT_ONCE):
            _describe_into(con, pending[at:at + _DESCRIBED_AT_ONCE], overrides, stems)
        con.execute("DELETE FROM diming_name_pending")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


_DESCRIBED_AT_ONCE = 50_000


def _describe_into(con, names: list, overrides, stems) -> None:
    """Describe ``names`` and store their facts, their new texts and their clash keys."""
    facts = describe(names, overrides, stems)
    texts = {t for row in facts for t in _texts_in(row)}
    ids = _value_ids(con, sorted(texts))
    top = con.execute("SELECT coalesce(max(id), 0) FROM diming_name_values").fetchone()[0]
    new = [(top + k, t) for k, t in enumerate(sorted(texts - set(ids)), start=1)]
    con.executemany("INSERT INTO diming_name_values (id, value) VALUES (?, ?)", new)
    ids.update((t, i) for i, t in new)
    first = con.execute("SELECT coalesce(max(id), 0) + 1 FROM diming_name_facts").fetchone()[0]
    numbers = range(first, first + len(names))
    con.executemany(f"INSERT INTO diming_name_facts (id, name, {', '.join(FACTS)}) "
                    f"VALUES (?, ?{', ?' * len(FACTS)})",
                    ((i, n, *_packed(row, ids)) for i, n, row in zip(numbers, names, facts)))
    con.executemany("INSERT INTO diming_name_keys (name, key) VALUES (?, ?)",
                    ((i, k) for i, (norm, _, specific, _, _, _, shorter, _, readings, _) in zip(numbers, facts)
                     for k in _keys(ids[norm], {ids[specific], *(ids[f] for f in shorter)},
                                    [ids[r] for r in readings])))
    shorter_before = con.execute("SELECT coalesce(max(rowid), 0) FROM diming_name_shorter").fetchone()[0]
    con.executemany("INSERT INTO diming_name_shorter (form, modifier, generic, name) VALUES (?, ?, ?, ?)",
                    ((ids[f], ids[modifier], ids[generic], i)
                     for i, (_, _, _, modifier, generic, _, shorter, *_) in zip(numbers, facts)
                     for f in shorter))
    con.execute(_LINK, {"first": first, "shorter": shorter_before})


# the names described from id :first on (their shorter forms written after rowid :shorter), and
# every stored name paired with one of them: the same 专名, modifier and 通名; or a shorter form of
# one's 专名 the other's 专名, with the same modifier and 通名 (the new name the longer one, then the
# shorter one). Each look-up is of one whole key in an index: a 专名 many names share costs nothing.
_LINK = """
WITH pairs (a, b) AS (
  SELECT n.id, m.id FROM diming_name_facts n
    JOIN diming_name_facts m ON m.specific = n.specific AND m.modifier = n.modifier AND m.generic = n.generic
  WHERE n.id >= :first AND m.id != n.id
  UNION
  SELECT s.name, m.id FROM diming_name_shorter s
    JOIN diming_name_facts m ON m.specific = s.form AND m.modifier = s.modifier AND m.generic = s.generic
  WHERE s.rowid > :shorter AND m.id != s.name
  UNION
  SELECT s.name, m.id FROM diming_name_facts m
    JOIN diming_name_shorter s ON s.form = m.specific AND s.modifier = m.modifier AND s.generic = m.generic
  WHERE m.id >= :first AND s.name != m.id)
INSERT OR IGNORE INTO diming_name_linked (name) SELECT a FROM pairs UNION SELECT b FROM pairs"""


def _stored_stems(con) -> frozenset[str]:
    import json

    return frozenset(json.loads(con.execute("SELECT stems FROM diming_name_meta").fetchone()[0]))


def _has_index(con) -> bool:
    return con.execute("SELECT 1 FROM sqlite_master WHERE name = 'diming_name_meta'").fetchone() is not None


# the columns of a layer's name index (else the name alone): the roads' exact duplicates are grouped
# in SQL from the index alone, in its order (name.duplicate); led by status, it would be taken for
# every read of the roads in use, a scan of a million rows in the order of the index
_NAME_INDEX = {"roads": ("name", "district", "status")}


def _rebuild(con, stamp: str, stems) -> None:
    """Empty index tables, the triggers that feed them, an index on each layer's name (the roads':
    name, district and status), and every stored name pending; the division ``stems`` kept
    with the fingerprint (they are of its division names, and take a second to work out for a
    national project)."""
    from diming.layers.gpkg import quote
    from diming.layers.store import _upgrade

    _upgrade(con)  # a project made before a name layer existed gets it (empty), so its triggers can be made
    for table in ("diming_name_keys", "diming_name_facts", "diming_name_values", "diming_name_linked",
                  "diming_name_shorter", "diming_name_pending", "diming_name_meta"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute("CREATE TABLE diming_name_keys (name INTEGER NOT NULL, key INTEGER NOT NULL)")  # name: facts id
    con.execute("CREATE INDEX diming_name_keys_key ON diming_name_keys (key)")
    con.execute("CREATE TABLE diming_name_values (id INTEGER PRIMARY KEY, value TEXT NOT NULL UNIQUE)")
    con.execute("CREATE TABLE diming_name_facts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
                "norm INTEGER NOT NULL, length INTEGER NOT NULL, specific INTEGER NOT NULL, modifier INTEGER NOT NULL, "
                "generic INTEGER NOT NULL, clean INTEGER NOT NULL, shorter BLOB NOT NULL, bare BLOB NOT NULL, "
                "readings BLOB NOT NULL, toned BLOB NOT NULL)")
    con.execute("CREATE INDEX diming_name_facts_whole ON diming_name_facts (specific, modifier, generic)")
    con.execute("CREATE TABLE diming_name_linked (name INTEGER PRIMARY KEY)")  # facts id
    # each shorter form of a name's 专名 with its modifier and 通名, for the links
    con.execute("CREATE TABLE diming_name_shorter (form INTEGER NOT NULL, modifier INTEGER NOT NULL, "
                "generic INTEGER NOT NULL, name INTEGER NOT NULL)")
    con.execute("CREATE INDEX diming_name_shorter_whole ON diming_name_shorter (form, modifier, generic)")
    con.execute("CREATE TABLE diming_name_pending (name TEXT PRIMARY KEY)")
    con.execute("CREATE TABLE diming_name_meta (fingerprint TEXT NOT NULL, stems TEXT NOT NULL)")
    con.execute("INSERT INTO diming_name_meta VALUES (?, ?)", (stamp, _json(sorted(stems))))
    for trigger, (layer, event) in _triggers().items():
        con.execute(f"DROP TRIGGER IF EXISTS {quote(trigger)}")
        con.execute(f"CREATE TRIGGER {quote(trigger)} AFTER {event} ON {quote(layer)} WHEN NEW.name IS NOT NULL "
                    "BEGIN INSERT OR IGNORE INTO diming_name_pending (name) VALUES (NEW.name); END")
    for layer in LAYERS:
        index, columns = f"diming_{layer}_name", _NAME_INDEX.get(layer, ("name",))
        # made again only where an older diming made it on other columns: a million rows' index is a second's work
        if tuple(r[2] for r in con.execute(f"PRAGMA index_info({quote(index)})")) != columns:
            con.execute(f"DROP INDEX IF EXISTS {quote(index)}")
            con.execute(f"CREATE INDEX {quote(index)} ON {quote(layer)} ({', '.join(columns)})")
        con.execute(f"INSERT OR IGNORE INTO diming_name_pending (name) SELECT name FROM {quote(layer)} "
                    "WHERE name IS NOT NULL")
