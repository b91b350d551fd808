"""Audit rows for writes made by other programs: SQLite triggers on every layer.

diming's own writes log themselves (who, what for, a note; see :mod:`diming.layers.store`). An
officer editing the GeoPackage in QGIS or QField, ``ogr2ogr -update`` or a script writes straight
into the tables; the triggers below put each such insert, update and delete into ``audit_log`` with
the record before and after as JSON, so the log is complete whoever writes.

- The triggers use only what every SQLite has (``json_object``, ``hex``, ``strftime`` and the
  ``pragma_module_list`` table: SQLite 3.38, or 3.31 with the JSON extension, as every current
  GDAL, QGIS and QField build has): a trigger calling a function a program lacks would make that
  program's every edit fail.
- No double entry: a diming transaction puts a row into ``diming_writer`` first and removes it just
  before it commits; the triggers skip while that row exists. The row is never visible to another
  connection (diming holds the write lock, and nothing of it is left once committed or rolled
  back), so other programs' writes are always logged.
- ``by`` names what wrote, as far as SQLite can tell cheaply: ``GDAL`` when the connection has
  SpatiaLite's virtual tables, which a GDAL built with SpatiaLite (QGIS' installers, Debian, the
  pyogrio wheels) loads into its connections; QGIS, QField and ogr2ogr all write through GDAL,
  which of them is not knowable inside SQLite, a SpatiaLite tool counts as GDAL too and a GDAL
  without SpatiaLite as external. Else ``external`` (the sqlite3 shell, a Python script …). Looking for GDAL's
  own SQL functions instead (``pragma_function_list``) would cost 2 ms a row with GDAL's 1,800
  functions: minutes for a pasted layer.
- The geometry is logged as the GeoPackage blob in hex (``geom``; SQL has no WKT writer);
  :func:`diming.layers.store.audit_rows` reads it back as WKT like diming's own rows.
"""
from __future__ import annotations

import sqlite3

from diming.layers.gpkg import NOW_SQL, quote
from diming.layers.schema import LAYERS

WRITER_TABLE = "diming_writer"
# SpatiaLite's GeoPackage virtual table: the module list is short, so this costs microseconds a row
_GDAL = "EXISTS (SELECT 1 FROM pragma_module_list WHERE name = 'VirtualGPKG')"
PROGRAM_SQL = f"CASE WHEN {_GDAL} THEN 'GDAL' ELSE 'external' END"
NOTE_SQL = f"CASE WHEN {_GDAL} THEN '外部程序写入 (经 GDAL: QGIS、QField 等)' ELSE '外部程序写入' END"


def audited_layers() -> list[str]:
    """Every layer but the log itself."""
    return [name for name in LAYERS if name != "audit_log"]


def _record(columns: list[str], row: str) -> str:
    """``json_object(...)`` of these columns for ``row`` (NEW or OLD)."""
    pairs = []
    for column in columns:
        value = f"hex({row}.geom)" if column == "geom" else f"{row}.{quote(column)}"
        pairs += ["'" + column.replace("'", "''") + "'", value]
    return f"json_object({', '.join(pairs)})"


def _columns(con, layer) -> list[str]:
    return [r[1] for r in con.execute(f"PRAGMA table_info({quote(layer)})")]


def trigger_sql(con: sqlite3.Connection, layer: str) -> dict[str, str]:
    """Trigger name -> its ``CREATE TRIGGER`` statement, for the three events on ``layer``."""
    key = LAYERS[layer].key
    new_key, old_key = (f"NEW.{quote(key)}", f"OLD.{quote(key)}") if key else ("NULL", "NULL")
    # the layer's fields, as diming logs its own rows; a column another program added is not
    # diming's and stays out, so that program can drop it again (SQLite refuses to drop a column a
    # trigger names)
    present = set(_columns(con, layer))
    columns = [f.name for f in LAYERS[layer].fields if f.name in present] + (["geom"] if "geom" in present else [])
    changed = " OR ".join(f"OLD.{quote(c)} IS NOT NEW.{quote(c)}" for c in columns)
    quiet = f"NOT EXISTS (SELECT 1 FROM {WRITER_TABLE})"
    insert = (f"INSERT INTO audit_log (at, by, action, layer, key, before, after, note) VALUES "
              f"({NOW_SQL}, {PROGRAM_SQL}, ")
    bodies = {
        "insert": (quiet, f"{insert}'insert', '{layer}', {new_key}, NULL, {_record(columns, 'NEW')}, {NOTE_SQL})"),
        "update": (f"{quiet} AND ({changed})",
                   f"{insert}'update', '{layer}', {new_key}, {_record(columns, 'OLD')}, "
                   f"{_record(columns, 'NEW')}, {NOTE_SQL})"),
        "delete": (quiet, f"{insert}'delete', '{layer}', {old_key}, {_record(columns, 'OLD')}, NULL, {NOTE_SQL})"),
    }
    return {f"diming_audit_{layer}_{event}":
            f"CREATE TRIGGER {quote(f'diming_audit_{layer}_{event}')} AFTER {event.upper()} ON {quote(layer)} "
            f"WHEN {when} BEGIN {body}; END"
            for event, (when, body) in bodies.items()}


def install(con: sqlite3.Connection) -> None:
    """Create the writer mark and (re-)create every layer's audit triggers whose statement differs
    from what the layer's fields call for (a new field, or a file from before the triggers).
    Runs inside the caller's transaction; cheap when nothing changed."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {WRITER_TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1))")
    stored = dict(con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                              "AND name LIKE 'diming\\_audit\\_%' ESCAPE '\\'").fetchall())
    tables = {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}
    for layer in audited_layers():
        if layer not in tables:
            continue
        for name, sql in trigger_sql(con, layer).items():
            if stored.get(name) != sql:
                con.execute(f"DROP TRIGGER IF EXISTS {quote(name)}")
                con.execute(sql)


def hold(con: sqlite3.Connection) -> None:
    """Mark this (open) transaction as diming's, so the triggers leave its rows to diming."""
    con.execute(f"INSERT OR REPLACE INTO {WRITER_TABLE} (id) VALUES (1)")


def release(con: sqlite3.Connection) -> None:
    """Remove the mark; called last before COMMIT."""
    con.execute(f"DELETE FROM {WRITER_TABLE}")
