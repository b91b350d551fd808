"""The project: one GeoPackage file. Creating it, reading layers, and writing in audited transactions.

Every change to a project goes through :func:`transaction`: the features, the spatial index and one
audit row per changed feature are written in a single SQLite transaction, so a failure anywhere
leaves the file exactly as it was.

>>> with transaction("diming.gpkg", by="张三") as tx:
...     tx.insert("roads", roads_gdf)
...     tx.update("roads", "R0001", {"status": "cancelled"}, note="道路拆除")
"""
from __future__ import annotations

import datetime as _dt
import getpass
import json
import math
import os
import sqlite3
from collections import Counter
from contextlib import contextmanager
from itertools import chain
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from diming.errors import DimingError, NoProject
from diming.layers import audit, gpkg, qml, rtree
from diming.layers.schema import LAYERS, STORAGE_EPSG, get_layer

# A write holds the project for as long as it runs: an import of a few million rows takes minutes.
# Other commands wait that long for it (readers only while it commits or spills to the file) rather
# than fail with "database is locked"; a writer that has to wait says so first.
BUSY_WAIT_S = 1800
WRITE_CACHE_MB = 128
_CHUNK_ROWS = 50_000  # rows fetched at a time by read_layer
BULK_ROWS = 1000  # an insert of this many features or more fills the spatial index itself
WAITING = "等待其他写入… (another command is writing to this project)"


def current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in a container without passwd entry
        return "unknown"


def init_project(path, *, overwrite: bool = False) -> Path:
    """Create project ``path`` (一个项目 = 一个 GeoPackage) with every layer empty.

    The file is built beside its final name and moved into place, so a failed init leaves nothing.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise DimingError(f"{path}: 文件已存在 (already exists); 用 --force 覆盖")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    con = gpkg.connect(partial)
    try:
        con.execute("BEGIN")
        gpkg.create_base(con, [STORAGE_EPSG])
        for layer in LAYERS.values():
            gpkg.create_layer(con, layer, STORAGE_EPSG)
        audit.install(con)
        qml.install(con)
        _log(con, current_user(), "init", None, None, None, None, "创建项目")
        con.execute("COMMIT")
    except BaseException:
        con.close()
        partial.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(partial, path)
    return path


def connect(path) -> sqlite3.Connection:
    """A connection to existing project ``path`` (checked to be a GeoPackage), in autocommit mode:
    a writer opens its own ``BEGIN IMMEDIATE``. While another command holds the file it waits (see
    :data:`BUSY_WAIT_S`)."""
    path = Path(path)
    if not path.is_file():
        raise NoProject(f"{path}: 项目文件不存在 (no such project); 先运行 diming init 或 diming demo")
    con = gpkg.connect(path)
    try:
        app_id = _waiting(con, lambda: con.execute("PRAGMA application_id").fetchone()[0])
    except sqlite3.DatabaseError:
        con.close()
        raise NoProject(f"{path}: 不是 GeoPackage 文件 (not a GeoPackage)") from None
    except BaseException:
        con.close()
        raise
    if app_id != gpkg.APPLICATION_ID:
        con.close()
        raise NoProject(f"{path}: 不是 GeoPackage 文件 (not a GeoPackage)")
    return con


_said_waiting = False


def _locked(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _waiting(con: sqlite3.Connection, step):
    """Run ``step`` at once if the project is free; else say so on stderr (once per process) and
    wait up to :data:`BUSY_WAIT_S` for the other command. The connection then keeps that timeout."""
    import sys

    global _said_waiting
    con.execute("PRAGMA busy_timeout = 0")
    try:
        return step()
    except sqlite3.OperationalError as exc:
        if not _locked(exc):
            raise
        if not _said_waiting:
            print(WAITING, file=sys.stderr, flush=True)
            _said_waiting = True
        con.execute(f"PRAGMA busy_timeout = {BUSY_WAIT_S * 1000}")
        try:
            return step()
        except sqlite3.OperationalError as again:
            if not _locked(again):
                raise
            raise DimingError(f"项目正由其他命令写入, 已等待 {BUSY_WAIT_S // 60} 分钟, 放弃 "
                              "(database is locked)") from None
    finally:
        con.execute(f"PRAGMA busy_timeout = {BUSY_WAIT_S * 1000}")


def _upgrade(con: sqlite3.Connection) -> None:
    """Add the layers and fields a newer diming defines to a project made by an older one, and
    bring its audit triggers and QGIS styles up to date with them."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}
    if con.execute("PRAGMA user_version").fetchone()[0] != gpkg.USER_VERSION:
        _upgrade_format(con)
    for layer in LAYERS.values():
        if layer.name not in tables:
            gpkg.create_layer(con, layer, STORAGE_EPSG)
            continue
        have = {r[1] for r in con.execute(f"PRAGMA table_info({gpkg.quote(layer.name)})")}
        for f in layer.fields:
            if f.name not in have:
                con.execute(f"ALTER TABLE {gpkg.quote(layer.name)} ADD COLUMN {gpkg.quote(f.name)} {f.type}")
                gpkg.describe_field(con, layer, f)
    audit.install(con)
    qml.install(con)


def _upgrade_format(con: sqlite3.Connection) -> None:
    """A file of an older diming (GeoPackage 1.4, microsecond DATETIMEs, value lists without
    labels) rewritten as this one writes: once, on its first write."""
    con.execute("UPDATE audit_log SET at = substr(at, 1, 23) || 'Z' "
                "WHERE at GLOB '????-??-??T??:??:??.????*Z'")
    tables = {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}
    for layer in LAYERS.values():
        if layer.name in tables:
            have = set(_columns(con, layer.name))
            for f in layer.fields:
                if f.name in have:
                    gpkg.describe_field(con, layer, f)
    con.execute(f"PRAGMA user_version = {gpkg.USER_VERSION}")


def _columns(con: sqlite3.Connection, name: str) -> list[str]:
    return [r[1] for r in con.execute(f"PRAGMA table_info({gpkg.quote(name)})")]


def stored_fields(project, name: str) -> list[str]:
    """The fields layer ``name`` has in this file (an older project may lack newer ones until its next write)."""
    con = connect(project)
    try:
        return _columns(con, name)
    finally:
        con.close()


def read_layer(project, name: str, *, where: str | None = None, params=(), columns=None, geometry: bool = True,
               boxes=None):
    """Layer ``name`` as a GeoDataFrame in EPSG:4490 (a DataFrame for attribute tables, or with
    ``geometry=False``).

    Dates stay ISO ``YYYY-MM-DD`` strings; integers are nullable ``Int64``. ``where`` is an SQL
    condition with ``?`` placeholders bound to ``params``. ``boxes``: only the features whose
    bounding box meets one of these ``(minx, miny, maxx, maxy)`` (EPSG:4490), found through the
    layer's R-tree index, so a few features near something are read out of a large layer.
    """
    import geopandas as gpd

    layer = get_layer(name)
    con = connect(project)
    try:
        present = set(_columns(con, name))
        wanted = [f for f in layer.fields if f.name in present and (columns is None or f.name in columns)]
        spatial = bool(layer.geometry) and geometry
        select = [gpkg.quote(f.name) for f in wanted] + (["geom"] if spatial else [])
        sql = f"SELECT {', '.join(select)} FROM {gpkg.quote(name)}"
        conditions, params = ([f"({where})"] if where else []), list(params)
        if boxes is not None:
            con.execute("CREATE TEMP TABLE boxes (minx REAL, miny REAL, maxx REAL, maxy REAL)")
            con.executemany("INSERT INTO boxes VALUES (?, ?, ?, ?)", [tuple(map(float, b)) for b in boxes])
            # CROSS JOIN keeps the boxes outside, so each one is a single R-tree search
            conditions.append(f"fid IN (SELECT t.id FROM boxes b CROSS JOIN {gpkg.quote(f'rtree_{name}_geom')} t "
                              "ON t.minx <= b.maxx AND t.maxx >= b.minx AND t.miny <= b.maxy AND t.maxy >= b.miny)")
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        # in chunks, each column kept as it comes: a million roads held as row tuples as well would
        # be a tenth of the read's memory more
        cursor = con.execute(sql + " ORDER BY fid", params)
        columns = [[] for _ in select]
        while rows := cursor.fetchmany(_CHUNK_ROWS):
            for i, values in enumerate(columns):
                values.extend([r[i] for r in rows])
    finally:
        con.close()
    data = {}
    for f, values in zip(wanted, columns):
        if f.type == "INTEGER":
            data[f.name] = pd.array(values, dtype="Int64")
        elif f.type == "REAL":
            data[f.name] = pd.array([math.nan if v is None else v for v in values], dtype="float64")
        else:
            column = np.empty(len(values), dtype=object)
            column[:] = values
            data[f.name] = pd.Series(column, dtype=object, copy=False)  # as stored: no inferred string dtype
    frame = pd.DataFrame(data, columns=[f.name for f in wanted], copy=False)
    if not spatial:
        return frame
    geoms = gpkg.decode(columns[-1])
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=f"EPSG:{STORAGE_EPSG}"))


def read_geometries(project, name: str, keys) -> dict:
    """The geometry (EPSG:4490) of each feature of layer ``name`` with one of these keys, by key:
    the few features a report needs, without decoding a large layer's every geometry."""
    key = gpkg.quote(get_layer(name).key)
    con = connect(project)
    try:
        rows = con.execute(f"SELECT {key}, geom FROM {gpkg.quote(name)} WHERE {key} IN (SELECT value FROM json_each(?))",
                           (json.dumps([str(k) for k in keys], ensure_ascii=False),)).fetchall()
    finally:
        con.close()
    return dict(zip([r[0] for r in rows], gpkg.decode([r[1] for r in rows])))


def layer_summary(project) -> list[dict]:
    """Each layer with its Chinese name, geometry type, CRS and feature count (``diming layers``)."""
    con = connect(project)
    try:
        contents = {r[0]: r for r in con.execute(
            "SELECT c.table_name, g.geometry_type_name, c.srs_id FROM gpkg_contents c "
            "LEFT JOIN gpkg_geometry_columns g USING (table_name)")}
        out = []
        for layer in LAYERS.values():
            if layer.name not in contents:
                continue
            _, geometry, srs_id = contents[layer.name]
            count = con.execute(f"SELECT count(*) FROM {gpkg.quote(layer.name)}").fetchone()[0]
            out.append({"layer": layer.name, "alias": layer.alias, "geometry": geometry,
                        "crs": f"EPSG:{srs_id}" if geometry else None, "count": count})
        return out
    finally:
        con.close()


def _plain(value):
    """A JSON- and SQLite-friendly Python value from whatever pandas or numpy handed over."""
    if value is None or type(value) is str or type(value) is int:  # most values (a bool's type is not int)
        return value
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalars
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    return value


_SIMPLE = {str, int, type(None), bytes}


def _plain_column(values: list) -> list:
    """:func:`_plain` over a column; a column of plain values (an import's) is left as it is."""
    kinds = set(map(type, values))
    if kinds <= _SIMPLE or (kinds <= _SIMPLE | {float} and not any(v != v for v in values if type(v) is float)):
        return values
    return [_plain(v) for v in values]


def _now() -> str:
    return gpkg.timestamp()


def _log(con, by, action, layer, key, before, after, note):
    con.execute(
        "INSERT INTO audit_log (at, by, action, layer, key, before, after, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (_now(), by, action, layer, key,
         None if before is None else json.dumps(before, ensure_ascii=False),
         None if after is None else json.dumps(after, ensure_ascii=False), note))


class KeysTaken(Exception):
    """:meth:`Transaction.insert_columns` with ``new_keys`` met keys already in the layer."""


class Transaction:
    """One open write to a project; every method records what it changed in ``audit_log``."""

    def __init__(self, con: sqlite3.Connection, by: str):
        self.con = con
        self.by = by
        self._touched: set[str] = set()
        # layer -> (R-tree entries of bulk inserts not yet written, how many): one array, grown in place
        self._unindexed: dict[str, tuple] = {}
        # (layer, field) -> how many rows of this write got the field's schema default
        self.defaults_filled: Counter = Counter()

    def log(self, action: str, layer=None, key=None, before=None, after=None, note=None) -> None:
        """An audit row for a change that is not a feature edit (settings, state changes …)."""
        _log(self.con, self.by, action, layer, key, before, after, note)

    def _record(self, layer, row: tuple, names: list[str]) -> dict:
        import shapely

        record = dict(zip(names, row))
        if layer.geometry:
            blob = record.pop("geom")
            geom = gpkg.decode([blob])[0]
            record["geometry"] = None if geom is None else shapely.to_wkt(geom, rounding_precision=8)
        return record

    def get(self, name: str, key) -> dict | None:
        """One feature by its key, as a dict (geometry as WKT), or None."""
        layer = get_layer(name)
        names = [f.name for f in layer.fields] + (["geom"] if layer.geometry else [])
        row = self.con.execute(
            f"SELECT {', '.join(map(gpkg.quote, names))} FROM {gpkg.quote(name)} WHERE {gpkg.quote(layer.key)} = ?",
            (key,)).fetchone()
        return None if row is None else self._record(layer, row, names)

    def get_many(self, name: str, keys) -> dict:
        """{key: feature as :meth:`get` returns it} of those ``keys`` in the layer, in one query."""
        layer = get_layer(name)
        names = [f.name for f in layer.fields] + (["geom"] if layer.geometry else [])
        rows = self.con.execute(
            f"SELECT {', '.join(map(gpkg.quote, names))} FROM {gpkg.quote(name)} "
            f"WHERE {gpkg.quote(layer.key)} IN (SELECT value FROM json_each(?))",
            (json.dumps([_plain(k) for k in keys], ensure_ascii=False),)).fetchall()
        records = [self._record(layer, row, names) for row in rows]
        return {r[layer.key]: r for r in records}

    def keys(self, name: str) -> set:
        layer = get_layer(name)
        return {r[0] for r in self.con.execute(f"SELECT {gpkg.quote(layer.key)} FROM {gpkg.quote(name)}")}

    def _fill_defaults(self, layer, record: dict, fields=None) -> dict:
        """``record`` with every field that has a schema default and no value (missing, None or
        ``""``) set to that default, counted in :attr:`defaults_filled`; ``fields``: only these."""
        filled = {f.name: f.default for f in layer.fields if f.default is not None
                  and (fields is None or f.name in fields) and _plain(record.get(f.name)) in (None, "")}
        for field_name in filled:
            self.defaults_filled[(layer.name, field_name)] += 1
        return {**record, **filled} if filled else record

    def _default_column(self, layer, f, values: list) -> list:
        """:meth:`_fill_defaults` for field ``f`` over a column of plain values."""
        empty = values.count(None) + values.count("")
        if not empty:
            return values
        self.defaults_filled[(layer.name, f.name)] += empty
        return [f.default if v is None or v == "" else v for v in values]

    def filled(self, name: str) -> dict[str, int]:
        """Field -> number of rows of layer ``name`` that got its default in this write."""
        return {f: n for (layer, f), n in sorted(self.defaults_filled.items()) if layer == name}

    def insert(self, name: str, records, *, action: str = "insert", note: str | None = None) -> int:
        """Add features: a (Geo)DataFrame or a list of dicts (``geometry`` as a shapely geometry).
        A field with a schema default (``roads.status`` in_use …) left empty gets the default."""
        layer = get_layer(name)
        rows = _rows(records)
        if not rows:
            return 0
        columns = {f.name: [r.get(f.name) for r in rows] for f in layer.fields
                   if f.default is not None or any(f.name in r for r in rows)}
        if layer.geometry:
            columns["geometry"] = [r.get("geometry") for r in rows]
        return self._insert(layer, columns, len(rows), action, note)

    def insert_columns(self, name: str, columns: dict, *, action: str = "insert", note: str | None = None,
                       new_keys: bool = False) -> int:
        """:meth:`insert` of features given as columns, {field: values} (``geometry`` among them),
        as an import checks them: no record is made per feature. ``new_keys``: the layer's unique
        key index finds any key already in the layer, and :class:`KeysTaken` is raised, the
        features written in part: the caller then gives the transaction up (an import that finds
        the keys of its batches this way, instead of looking each up before)."""
        layer = get_layer(name)
        count = len(next(iter(columns.values())))
        return self._insert(layer, dict(columns), count, action, note, new_keys) if count else 0

    def _insert(self, layer, columns: dict, count: int, action: str, note, new_keys: bool = False) -> int:
        # column by column: the values of a field, its defaults and the SQL parameters are made
        # without a Python call per row (an import hands over 10,000 rows at a time)
        import numpy as np
        import shapely

        name = layer.name
        geoms = columns.pop("geometry", None) if layer.geometry else None
        for f in layer.fields:
            if f.name in columns or f.default is not None:
                values = _plain_column(columns.get(f.name, [None] * count))
                columns[f.name] = self._default_column(layer, f, values) if f.default is not None else values
        names = [f.name for f in layer.fields if f.name in columns]
        cols = [gpkg.quote(n) for n in names] + (["geom"] if layer.geometry else [])
        head = f"INSERT INTO {gpkg.quote(name)} ({', '.join(cols)})"
        tail = f" ON CONFLICT ({gpkg.quote(layer.key)}) DO NOTHING" if new_keys else ""
        if isinstance(geoms, gpkg.Points):
            blobs = [geoms.blobs(STORAGE_EPSG)]
        elif layer.geometry:
            geoms = np.asarray(geoms if geoms is not None else [None] * count, dtype=object)
            blobs = [gpkg.encode(geoms, STORAGE_EPSG)]
        else:
            blobs = []
        values = list(chain.from_iterable(zip(*(columns[n] for n in names), *blobs)))
        del blobs
        table = gpkg.quote(name)
        before = self.con.execute(f"SELECT coalesce(max(fid), 0) FROM {table}").fetchone()[0]
        # a large insert sets two row-by-row insert triggers aside (and puts them back, all inside
        # the transaction): the R-tree's, which decodes each blob again through four SQL functions
        # and inserts one entry at a time (the entries are made here from the bounds at hand and
        # written by _index), and the audit trigger, which stands aside for diming's own writes
        # anyway but whose check of diming_writer costs 30% of the insert
        index_trigger = f"rtree_{name}_geom_insert"
        aside = [f"diming_audit_{name}_insert", index_trigger] if count >= BULK_ROWS else []
        try:
            with self._without(aside) as dropped:
                gpkg.insert_rows(self.con, head, len(cols), values, tail)
        except sqlite3.IntegrityError as exc:
            raise DimingError(f"{name}: 写入失败 ({exc})") from None
        del values
        first = self._new_fids(name, before, count, new_keys)
        if index_trigger in dropped:
            self._hold_index(name, np.arange(first, first + count), geoms)
        if isinstance(geoms, gpkg.Points):
            wkts = geoms.wkt()
        else:
            wkts = shapely.to_wkt(geoms, rounding_precision=8).tolist() if layer.geometry else None
        self._audit_inserted(layer, names, first, count, wkts, action, note)
        self._touched.add(name)
        return count

    def _new_fids(self, name: str, before: int, count: int, new_keys: bool = False) -> int:
        """The first fid of the ``count`` rows just inserted: they are all above ``before`` and, as
        SQLite numbers the rows one insert adds, consecutive. Fewer rows where ``new_keys`` turned
        some away: :class:`KeysTaken`."""
        first, last, n = self.con.execute(f"SELECT min(fid), max(fid), count(*) FROM {gpkg.quote(name)} "
                                          "WHERE fid > ?", (before,)).fetchone()
        if new_keys and n < count:
            raise KeysTaken(name)
        if n != count or last - first + 1 != count:
            raise AssertionError(f"{name}: {n} new rows for {count} inserted, fids {first}…{last}")
        return first

    def _audit_inserted(self, layer, names: list[str], first: int, count: int, wkts, action: str, note) -> None:
        """One audit row per inserted feature (fids ``first`` … ``first + count - 1``), its record as
        JSON built by SQLite from the row just written (json_object, no Python per row), with the
        geometry as WKT from ``wkts``. A REAL is written with 15 digits where they give the stored
        value back, else with 17."""
        pairs = []
        for n in names:
            column = f"t.{gpkg.quote(n)}"
            if layer.field(n).type == "REAL":
                column = (f"CASE WHEN typeof({column}) = 'real' AND CAST(printf('%!.15g', {column}) AS REAL) "
                          f"<> {column} THEN json(printf('%!.17g', {column})) ELSE {column} END")
            pairs += [f"'{n}'", column]
        key = f"CAST(t.{gpkg.quote(layer.key)} AS TEXT)" if layer.key else "NULL"
        insert = "INSERT INTO audit_log (at, by, action, layer, key, before, after, note) SELECT ?, ?, ?, ?, "
        params = (_now(), self.by, action, layer.name)
        if layer.geometry:
            # the n-th WKT is the row with fid first + n
            pairs += ["'geometry'", "p.value"]
            self.con.execute(
                f"{insert}{key}, NULL, json_object({', '.join(pairs)}), ? FROM json_each(?) p "
                f"JOIN {gpkg.quote(layer.name)} t ON t.fid = ? + p.key ORDER BY p.key",
                (*params, note, json.dumps(wkts, ensure_ascii=False), first))
        else:
            self.con.execute(
                f"{insert}{key}, NULL, json_object({', '.join(pairs)}), ? FROM {gpkg.quote(layer.name)} t "
                "WHERE t.fid BETWEEN ? AND ? ORDER BY t.fid", (*params, note, first, first + count - 1))

    @contextmanager
    def _without(self, triggers: list[str]):
        """Triggers ``triggers`` (those the file has) dropped for the block and created again after
        it, inside the transaction; yields the names of those dropped."""
        stored = self.con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN "
                                  "(SELECT value FROM json_each(?))", (json.dumps(triggers),)).fetchall()
        for trigger, _ in stored:
            self.con.execute(f"DROP TRIGGER {gpkg.quote(trigger)}")
        try:
            yield {trigger for trigger, _ in stored}
        finally:
            for _, sql in stored:
                self.con.execute(sql)

    def _hold_index(self, name: str, fids: list[int], geoms) -> None:
        """The R-tree entries of features just inserted, kept until :meth:`_index` writes them."""
        import numpy as np
        import shapely

        if isinstance(geoms, gpkg.Points):
            cells = rtree.cells(fids, geoms.bounds())
        else:
            geoms = np.asarray(geoms, dtype=object)
            indexed = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
            cells = rtree.cells(np.asarray(fids)[indexed], shapely.bounds(geoms[indexed]))
        held, count = self._unindexed.get(name, (np.empty(0, dtype=rtree.CELL), 0))
        if count + len(cells) > len(held):
            # grown by a quarter in place (realloc, which moves no pages of a large array): no
            # second copy of a few million entries, as appending parts and joining them makes
            held.resize(max(count + len(cells), len(held) * 5 // 4), refcheck=False)
        held[count:count + len(cells)] = cells
        self._unindexed[name] = (held, count + len(cells))

    def _index(self, name: str) -> None:
        """Put the entries the bulk inserts into layer ``name`` held back into its R-tree: all at
        once, so that an index empty before the write is packed (see :mod:`diming.layers.rtree`).
        Runs before anything else touches the layer's index (an update, a delete, the commit)."""
        held, count = self._unindexed.pop(name, (None, 0))
        if count:
            rtree.fill(self.con, f"rtree_{name}_geom", held[:count])

    def update(self, name: str, key, changes: dict, *, action: str = "update", note: str | None = None) -> dict:
        """Change fields (and ``geometry``) of the feature with this key; returns the record before.
        A field with a schema default that this leaves empty (emptied now, or empty before, as
        another program may leave it) gets the default."""
        layer = get_layer(name)
        self._index(name)
        before = self.get(name, key)
        if before is None:
            raise DimingError(f"{name}: 没有编号为 {key} 的要素 (no such feature)")
        empty = {f.name for f in layer.fields if f.default is not None and _plain(before.get(f.name)) in (None, "")}
        changes = self._fill_defaults(layer, changes, fields=set(changes) | empty)
        unknown = set(changes) - set(layer.field_names) - ({"geometry"} if layer.geometry else set())
        if unknown:
            raise DimingError(f"{name}: 未知字段 {', '.join(sorted(unknown))} (unknown field)")
        sets, params = [], []
        for field_name, value in changes.items():
            if field_name == "geometry":
                sets.append("geom = ?")
                params.append(gpkg.encode([value], STORAGE_EPSG)[0])
            else:
                sets.append(f"{gpkg.quote(field_name)} = ?")
                params.append(_plain(value))
        if sets:
            self.con.execute(f"UPDATE {gpkg.quote(name)} SET {', '.join(sets)} WHERE {gpkg.quote(layer.key)} = ?",
                             (*params, key))
        after = self.get(name, key)
        _log(self.con, self.by, action, name, str(key), before, after, note)
        self._touched.add(name)
        return before

    def delete(self, name: str, keys=None, *, action: str = "delete", note: str | None = None) -> int:
        """Remove features by key (all of them when ``keys`` is None), each with its audit row."""
        layer = get_layer(name)
        self._index(name)
        names = [f.name for f in layer.fields] + (["geom"] if layer.geometry else [])
        sql = f"SELECT {', '.join(map(gpkg.quote, names))} FROM {gpkg.quote(name)}"
        if keys is None:
            doomed = self.con.execute(sql).fetchall()
        else:
            doomed = [r for k in keys for r in self.con.execute(sql + f" WHERE {gpkg.quote(layer.key)} = ?", (k,))]
        now = _now()
        audit = []
        for row in doomed:
            before = self._record(layer, row, names)
            key = before.get(layer.key) if layer.key else None
            audit.append((now, self.by, action, name, None if key is None else str(key),
                          json.dumps(before, ensure_ascii=False), None, note))
        if keys is None:
            self.con.execute(f"DELETE FROM {gpkg.quote(name)}")
        else:
            self.con.executemany(f"DELETE FROM {gpkg.quote(name)} WHERE {gpkg.quote(layer.key)} = ?",
                                 [(k,) for k in keys])
        self.con.executemany("INSERT INTO audit_log (at, by, action, layer, key, before, after, note) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", audit)
        self._touched.add(name)
        return len(doomed)

    def _finish(self) -> None:
        for name in list(self._unindexed):
            self._index(name)
        for name in self._touched:
            if LAYERS[name].geometry:
                gpkg.refresh_extent(self.con, name)


def _rows(records) -> list[dict]:
    if isinstance(records, list):
        return records
    frame = records
    geometry_name = getattr(frame, "_geometry_column_name", None)
    rows = frame.to_dict("records")
    if geometry_name and geometry_name != "geometry":
        for r in rows:
            r["geometry"] = r.pop(geometry_name)
    return rows


@contextmanager
def transaction(project, by: str | None = None) -> Iterator[Transaction]:
    """Open a write to ``project``: everything inside commits together or not at all."""
    con = connect(project)
    try:
        _waiting(con, lambda: con.execute("BEGIN IMMEDIATE"))
        # a large write (an import in batches) keeps its pages in memory rather than spilling them
        # to the file mid-transaction, which would also lock readers out early
        con.execute(f"PRAGMA cache_size = -{WRITE_CACHE_MB * 1024}")
        _upgrade(con)
        audit.hold(con)  # diming logs its own rows: the audit triggers stand aside
        tx = Transaction(con, by or current_user())
        yield tx
        tx._finish()
        audit.release(con)
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    finally:
        con.close()


def audit_rows(project, *, layer: str | None = None, key: str | None = None):
    """The audit log (optionally of one layer or one feature), oldest first, JSON decoded."""
    con = connect(project)
    try:
        sql = "SELECT at, by, action, layer, key, before, after, note FROM audit_log"
        cond, params = [], []
        if layer:
            cond.append("layer = ?")
            params.append(layer)
        if key is not None:
            cond.append("key = ?")
            params.append(str(key))
        if cond:
            sql += " WHERE " + " AND ".join(cond)
        rows = con.execute(sql + " ORDER BY fid", params).fetchall()
    finally:
        con.close()
    names = ("at", "by", "action", "layer", "key", "before", "after", "note")
    out = []
    for r in rows:
        row = dict(zip(names, r))
        for k in ("before", "after"):
            row[k] = None if row[k] is None else _from_trigger(json.loads(row[k]))
        out.append(row)
    return out


def _from_trigger(record: dict) -> dict:
    """A record logged by an audit trigger (geometry as the blob in hex, ``geom``) as diming logs
    its own (``geometry`` as WKT)."""
    if "geom" not in record:
        return record
    import shapely

    blob = record.pop("geom")
    geom = None if blob is None else gpkg.decode([bytes.fromhex(blob)])[0]
    record["geometry"] = None if geom is None else shapely.to_wkt(geom, rounding_precision=8)
    return record
