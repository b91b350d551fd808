"""GeoPackage at the SQLite level: creating the file and its tables, encoding geometry blobs.

diming writes through SQLite itself, not through GDAL, so that one ``BEGIN … COMMIT`` covers the
features, the spatial index and the audit rows of a change: a failure anywhere leaves the file as it
was. Reading goes through GDAL (pyogrio), which also proves the file stays a GeoPackage others open.
"""
from __future__ import annotations

import datetime as _dt
import sqlite3
import struct

import numpy as np
import shapely

from diming.layers.schema import Layer, label

APPLICATION_ID = 0x47504B47  # "GPKG"
# GeoPackage 1.2, the oldest version with everything diming uses (application_id "GPKG" with the
# version in user_version, the schema and R-tree extensions as 1.2 names them). It is what GDAL
# 3.6 itself writes; GDAL before 3.7 warns on every open of a 1.4 file. Older diming wrote 10400.
USER_VERSION = 10200
# the same for GeoPackages written through GDAL (exports, the check's error layer): GDAL 3.7 and
# later write 1.4 unless told
GDAL_DATASET_OPTIONS = {"VERSION": "1.2"}
# the DATETIME format the GeoPackage standard prescribes (milliseconds, UTC): also SQLite's
# strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), which the audit triggers use
NOW_SQL = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"


def timestamp() -> str:
    """Now as a DATETIME value as GeoPackage wants it: ``YYYY-MM-DDTHH:MM:SS.SSSZ`` (UTC)."""
    now = _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def encode(geometries, srs_id: int) -> list[bytes | None]:
    """GeoPackage geometry blobs (header with XY envelope + little-endian WKB) for an array of shapely geometries."""
    geometries = np.asarray(geometries, dtype=object)
    wkbs = shapely.to_wkb(geometries, byte_order=1)
    # the envelopes (minx, maxx, miny, maxy) of all, packed at once: 32 bytes each
    envelopes = np.ascontiguousarray(shapely.bounds(geometries)[:, [0, 2, 1, 3]], dtype="<f8").tobytes()
    srs = struct.pack("<i", srs_id)
    head = b"GP\x00\x03" + srs  # little endian, XY envelope
    blobs = [None if wkb is None else head + envelopes[at:at + 32] + wkb
             for at, wkb in zip(range(0, 32 * len(wkbs), 32), wkbs)]
    for i in np.flatnonzero(shapely.is_empty(geometries)):
        blobs[i] = b"GP\x00\x11" + srs + wkbs[i]  # no envelope, empty flag
    return blobs


# a GeoPackage blob of a 2-D point: header with XY envelope, then its little-endian WKB
_POINT_BLOB = np.dtype([("head", "S8"), ("minx", "<f8"), ("maxx", "<f8"), ("miny", "<f8"), ("maxy", "<f8"),
                        ("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])


class Points:
    """Points by their coordinates, as an import of X/Y columns has them: checked and written
    without a shapely geometry made (and freed) for each, which costs as much as the rest of
    writing a point. ``bad``: {position: problem} of the rows whose coordinates could not be had."""

    def __init__(self, x, y, bad=None):
        self.x, self.y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        self.bad = bad or {}

    def __len__(self) -> int:
        return len(self.x)

    def geometries(self) -> list:
        """A shapely Point for each row, the problem for each bad one."""
        out = list(shapely.points(self.x, self.y))
        for i, problem in self.bad.items():
            out[i] = problem
        return out

    def bounds(self) -> np.ndarray:
        return np.column_stack([self.x, self.y, self.x, self.y])

    def blobs(self, srs_id: int) -> list[bytes]:
        """The blobs :func:`encode` makes of these points, made at once."""
        rows = np.empty(len(self.x), dtype=_POINT_BLOB)
        rows["head"] = b"GP\x00\x03" + struct.pack("<i", srs_id)
        rows["minx"], rows["maxx"], rows["x"] = self.x, self.x, self.x
        rows["miny"], rows["maxy"], rows["y"] = self.y, self.y, self.y
        rows["order"], rows["type"] = 1, 1  # little endian, Point
        raw, size = rows.tobytes(), _POINT_BLOB.itemsize
        return [raw[at:at + size] for at in range(0, len(raw), size)]

    def wkt(self) -> list[str]:
        """``shapely.to_wkt(rounding_precision=8)`` of each point, formatted by Python all at once:
        GEOS rounds the shortest repr of a number to 8 decimals, half to even, which differs from
        rounding the number itself (``%.8f``) only next to a midpoint (those are done as GEOS does).
        That holds for coordinates as degrees have them, 0.001 to 1000 (the midpoints found to
        1e-12); points with others (GEOS writes numbers below 1e-4 in exponent form) go to GEOS."""
        import re
        from decimal import ROUND_HALF_EVEN, Decimal

        both = np.column_stack([self.x, self.y])
        if not len(both):
            return []
        if not (np.abs(both).min() >= 1e-3 and np.abs(both).max() < 1000):
            return shapely.to_wkt(shapely.points(self.x, self.y), rounding_precision=8).tolist()
        text = ("POINT (%.8f %.8f)\n" * len(both)) % tuple(both.ravel().tolist())
        out = re.sub(r"\.?0+(?=[ )])", "", text).split("\n")[:-1]  # trailing zeros, as GEOS trims them
        scaled = both * 1e8
        near = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-4  # within 1e-12 of a midpoint

        def half_even(v):
            return format(Decimal(repr(v)).quantize(Decimal("1e-8"), ROUND_HALF_EVEN), "f").rstrip("0").rstrip(".")

        for i in np.flatnonzero(near.any(axis=1)):
            out[i] = f"POINT ({half_even(float(self.x[i]))} {half_even(float(self.y[i]))})"
        return out


def _wkb_offset(blob: bytes) -> int:
    return 8 + _ENVELOPE_BYTES[(blob[3] >> 1) & 0x07]


def decode(blobs) -> np.ndarray:
    """Shapely geometries from GeoPackage geometry blobs (None stays None)."""
    wkbs = [None if b is None else bytes(b[_wkb_offset(b):]) for b in blobs]
    return shapely.from_wkb(np.array(wkbs, dtype=object))


def _envelope(blob):
    if blob is None:
        return None
    if (blob[3] >> 1) & 0x07:
        minx, maxx, miny, maxy = struct.unpack_from("<4d" if blob[3] & 1 else ">4d", blob, 8)
        return minx, maxx, miny, maxy
    geom = shapely.from_wkb(bytes(blob[_wkb_offset(blob):]))
    if geom.is_empty:
        return None
    minx, miny, maxx, maxy = geom.bounds
    return minx, maxx, miny, maxy


def _envelope_part(index):
    def part(blob):
        env = _envelope(blob)
        return None if env is None else env[index]
    return part


def _is_empty(blob):
    if blob is None:
        return 1
    return int(bool(blob[3] & 0x10) or _envelope(blob) is None)


def connect(path) -> sqlite3.Connection:
    """An SQLite connection to a GeoPackage with the ST_* functions its R-tree triggers call.

    Autocommit mode: callers open their own ``BEGIN IMMEDIATE`` so that a write is exactly one
    transaction.
    """
    con = sqlite3.connect(str(path), isolation_level=None)
    con.execute("PRAGMA foreign_keys = ON")
    for name, fn in (("ST_MinX", _envelope_part(0)), ("ST_MaxX", _envelope_part(1)),
                     ("ST_MinY", _envelope_part(2)), ("ST_MaxY", _envelope_part(3)),
                     ("ST_IsEmpty", _is_empty)):
        con.create_function(name, 1, fn, deterministic=True)
    return con


def _script(con: sqlite3.Connection, sql: str) -> None:
    # executescript() would commit the caller's open transaction; run statement by statement instead.
    statement = ""
    for line in sql.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            con.execute(statement)
            statement = ""


# bound parameters an SQLite statement takes in every version (SQLITE_MAX_VARIABLE_NUMBER before 3.32)
MAX_VARIABLES = 999


def insert_rows(con: sqlite3.Connection, head: str, width: int, values, tail: str = "") -> None:
    """``{head} VALUES (?, …), (?, …) … {tail}`` over ``values``, the rows' ``width`` values one
    after another: as many rows a statement as its parameters allow, which SQLite takes two to three
    times faster than a statement a row (executemany). The rows go in in their order."""
    values = values if isinstance(values, list) else list(values)
    row = "(" + ", ".join("?" * width) + ")"
    per = max(1, MAX_VARIABLES // width)
    step = per * width
    full = len(values) - len(values) % step
    if full:
        sql = f"{head} VALUES {', '.join([row] * per)}{tail}"
        for start in range(0, full, step):
            con.execute(sql, values[start:start + step])
    if full < len(values):
        con.execute(f"{head} VALUES {', '.join([row] * ((len(values) - full) // width))}{tail}", values[full:])


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def create_base(con: sqlite3.Connection, srs_ids: list[int]) -> None:
    """The mandatory GeoPackage tables, the schema extension tables and the given CRSs."""
    from pyproj import CRS
    from pyproj.enums import WktVersion

    con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    con.execute(f"PRAGMA user_version = {USER_VERSION}")
    _script(con, """
        CREATE TABLE gpkg_spatial_ref_sys (
            srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
            organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
        CREATE TABLE gpkg_contents (
            table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
            description TEXT DEFAULT '',
            last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
            min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
            CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
        CREATE TABLE gpkg_geometry_columns (
            table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
            srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
            CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
            CONSTRAINT uk_gc_table_name UNIQUE (table_name),
            CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
            CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
        CREATE TABLE gpkg_tile_matrix_set (
            table_name TEXT NOT NULL PRIMARY KEY, srs_id INTEGER NOT NULL,
            min_x DOUBLE NOT NULL, min_y DOUBLE NOT NULL, max_x DOUBLE NOT NULL, max_y DOUBLE NOT NULL,
            CONSTRAINT fk_gtms_table_name FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
            CONSTRAINT fk_gtms_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
        CREATE TABLE gpkg_tile_matrix (
            table_name TEXT NOT NULL, zoom_level INTEGER NOT NULL, matrix_width INTEGER NOT NULL,
            matrix_height INTEGER NOT NULL, tile_width INTEGER NOT NULL, tile_height INTEGER NOT NULL,
            pixel_x_size DOUBLE NOT NULL, pixel_y_size DOUBLE NOT NULL,
            CONSTRAINT pk_ttm PRIMARY KEY (table_name, zoom_level),
            CONSTRAINT fk_tmm_table_name FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name));
        CREATE TABLE gpkg_extensions (
            table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
            scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
        CREATE TABLE gpkg_data_columns (
            table_name TEXT NOT NULL, column_name TEXT NOT NULL, name TEXT, title TEXT,
            description TEXT, mime_type TEXT, constraint_name TEXT,
            CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
            CONSTRAINT gdc_tn UNIQUE (table_name, name));
        CREATE TABLE gpkg_data_column_constraints (
            constraint_name TEXT NOT NULL, constraint_type TEXT NOT NULL, value TEXT,
            min NUMERIC, min_is_inclusive BOOLEAN, max NUMERIC, max_is_inclusive BOOLEAN,
            description TEXT, CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value));
    """)
    srs_rows = [
        ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate reference system"),
        ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
    ]
    for epsg in sorted({4326, *srs_ids}):
        crs = CRS.from_epsg(epsg)
        srs_rows.append((crs.name, epsg, "EPSG", epsg, crs.to_wkt(WktVersion.WKT1_GDAL), crs.name))
    con.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", srs_rows)
    schema_def = "http://www.geopackage.org/spec/#extension_schema"
    con.executemany(
        "INSERT INTO gpkg_extensions VALUES (?, NULL, 'gpkg_schema', ?, 'read-write')",
        [("gpkg_data_columns", schema_def), ("gpkg_data_column_constraints", schema_def)],
    )


def create_layer(con: sqlite3.Connection, layer: Layer, srs_id: int) -> None:
    """One feature or attribute table with its spatial index, aliases and value lists."""
    table = quote(layer.name)
    columns = ["fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL"]
    if layer.geometry:
        columns.append(f"geom {layer.geometry}")
    for f in layer.fields:
        columns.append(f"{quote(f.name)} {f.type}" + (" NOT NULL" if f.required else ""))
    con.execute(f"CREATE TABLE {table} ({', '.join(columns)})")
    if layer.key:
        con.execute(f"CREATE UNIQUE INDEX {quote('uq_' + layer.name + '_' + layer.key)} "
                    f"ON {table} ({quote(layer.key)})")
    con.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) "
        "VALUES (?, ?, ?, ?, ?)",
        (layer.name, "features" if layer.geometry else "attributes", layer.name, layer.alias,
         srs_id if layer.geometry else None),
    )
    for f in layer.fields:
        describe_field(con, layer, f)
    if layer.geometry:
        con.execute("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, 0, 0)",
                    (layer.name, layer.geometry, srs_id))
        _create_rtree(con, layer.name)


def describe_field(con: sqlite3.Connection, layer: Layer, f) -> None:
    """The Chinese alias of field ``f`` (``gpkg_data_columns``) and its value list with the Chinese
    label of each code (``gpkg_data_column_constraints.description``), for GIS programs that read
    the schema extension rather than a style. Re-running it brings an older file's rows up to date."""
    constraint = f"{layer.name}_{f.name}" if f.choices else None
    con.execute("INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, name, title, constraint_name) "
                "VALUES (?, ?, ?, ?, ?)", (layer.name, f.name, f.alias, f.alias, constraint))
    con.executemany(
        "INSERT OR REPLACE INTO gpkg_data_column_constraints (constraint_name, constraint_type, value, description) "
        "VALUES (?, 'enum', ?, ?)", [(constraint, choice, label(choice)) for choice in f.choices])


def _create_rtree(con: sqlite3.Connection, name: str) -> None:
    # The spatial index and the triggers that keep it current, as the GeoPackage R-tree extension
    # defines them, so that edits from QGIS or GDAL keep it right as well.
    t, r = quote(name), quote(f"rtree_{name}_geom")
    values = 'NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)'
    new_ok = "(NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))"
    _script(con, f"""
        CREATE VIRTUAL TABLE {r} USING rtree(id, minx, maxx, miny, maxy);
        CREATE TRIGGER {quote(f'rtree_{name}_geom_insert')} AFTER INSERT ON {t}
            WHEN {new_ok}
            BEGIN INSERT OR REPLACE INTO {r} VALUES ({values}); END;
        CREATE TRIGGER {quote(f'rtree_{name}_geom_update1')} AFTER UPDATE OF geom ON {t}
            WHEN OLD.fid = NEW.fid AND {new_ok}
            BEGIN INSERT OR REPLACE INTO {r} VALUES ({values}); END;
        CREATE TRIGGER {quote(f'rtree_{name}_geom_update2')} AFTER UPDATE OF geom ON {t}
            WHEN OLD.fid = NEW.fid AND NOT {new_ok}
            BEGIN DELETE FROM {r} WHERE id = OLD.fid; END;
        CREATE TRIGGER {quote(f'rtree_{name}_geom_update3')} AFTER UPDATE ON {t}
            WHEN OLD.fid != NEW.fid AND {new_ok}
            BEGIN DELETE FROM {r} WHERE id = OLD.fid; INSERT OR REPLACE INTO {r} VALUES ({values}); END;
        CREATE TRIGGER {quote(f'rtree_{name}_geom_update4')} AFTER UPDATE ON {t}
            WHEN OLD.fid != NEW.fid AND NOT {new_ok}
            BEGIN DELETE FROM {r} WHERE id IN (OLD.fid, NEW.fid); END;
        CREATE TRIGGER {quote(f'rtree_{name}_geom_delete')} AFTER DELETE ON {t}
            WHEN OLD.geom NOT NULL
            BEGIN DELETE FROM {r} WHERE id = OLD.fid; END;
    """)
    con.execute("INSERT INTO gpkg_extensions VALUES (?, 'geom', 'gpkg_rtree_index', "
                "'http://www.geopackage.org/spec/#extension_rtree', 'write-only')", (name,))


def refresh_extent(con: sqlite3.Connection, name: str) -> None:
    """Bring gpkg_contents' extent and last_change up to date after a write to layer ``name``."""
    row = con.execute(f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM {quote(f'rtree_{name}_geom')}"
                      ).fetchone()
    con.execute("UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ?, "
                f"last_change = {NOW_SQL} WHERE table_name = ?", (*row, name))


def write_styles(con: sqlite3.Connection, styles: dict[str, tuple[str | None, str]], *, style_name: str,
                 description: str) -> None:
    """Store each layer's QML (layer name -> (geometry column or None, QML)) in ``layer_styles``,
    the table QGIS creates to keep styles in a GeoPackage, as the style named ``style_name``.

    A layer that has no default style yet gets this one as its default. A style of that name
    already stored is replaced when it differs, and keeps its ``useAsDefault``: an officer who
    saved her own default style in QGIS keeps it.
    """
    # the table as QGIS 3.22 creates it, registered as an attribute table as QGIS does
    con.execute(f"""CREATE TABLE IF NOT EXISTS layer_styles (
        id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, f_table_catalog TEXT(256), f_table_schema TEXT(256),
        f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
        useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
        update_time DATETIME DEFAULT ({NOW_SQL}))""")
    con.execute("INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) "
                "VALUES ('layer_styles', 'attributes', 'layer_styles', '图层样式 (QGIS)')")
    stored = {r[0]: (r[1], r[2]) for r in con.execute(
        "SELECT f_table_name, id, styleQML FROM layer_styles WHERE styleName = ?", (style_name,))}
    defaults = {r[0] for r in con.execute("SELECT f_table_name FROM layer_styles WHERE useAsDefault")}
    for table, (geometry_column, qml) in styles.items():
        if table not in stored:
            con.execute("INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                        "styleName, styleQML, useAsDefault, description, owner, update_time) "
                        f"VALUES ('', '', ?, ?, ?, ?, ?, ?, '', {NOW_SQL})",
                        (table, geometry_column or "", style_name, qml, int(table not in defaults), description))
        elif stored[table][1] != qml:
            con.execute(f"UPDATE layer_styles SET styleQML = ?, description = ?, update_time = {NOW_SQL} WHERE id = ?",
                        (qml, description, stored[table][0]))
