"""Importing a file into a project layer: map fields, validate every row, write in one transaction.

The file is read as a stream (see :mod:`diming.layers.sources`): each batch of rows is validated as
it arrives and, while every row so far has passed, written at once inside the one transaction the
import holds, so memory stays flat however large the file. Nothing is kept unless every row passes:
the first bad row stops the writing (the rows are still all checked, so every problem is reported,
one line each, naming file, row, field and reason) and the transaction is rolled back.
"""
from __future__ import annotations

import math
import re
from datetime import date
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

from diming.errors import DimingError
from diming.layers import gpkg
from diming.layers.dates import parse_date
from diming.layers.exports import restore
from diming.layers.schema import Layer, get_layer
from diming.layers.sources import Source, Unreadable, read_source

MODES = ("append", "replace", "upsert")
MAX_REPORTED = 50
# C0 controls and DEL, except tab, line feed and carriage return, which multi-line text may hold
_LATIN1 = re.compile("[\x80-\xff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ImportFailed(DimingError):
    """Validation failed; ``errors`` holds the one-line messages (the first :data:`MAX_REPORTED`
    of ``count``)."""

    def __init__(self, errors: list[str], count: int | None = None):
        self.errors = errors[:MAX_REPORTED]
        count = len(errors) if count is None else count
        more = f"\n… 另有 {count - MAX_REPORTED} 个错误" if count > MAX_REPORTED else ""
        super().__init__("\n".join(self.errors) + more)


@dataclass
class ImportResult:
    layer: str
    rows: int
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    fixed: list[str] = field(default_factory=list)
    ignored_fields: list[str] = field(default_factory=list)
    defaults: dict[str, int] = field(default_factory=dict)  # field -> rows that got its schema default
    notices: list[str] = field(default_factory=list)
    spelt: int = 0  # new rows without 罗马字母拼写 that got it spelt from their name


class _Errors:
    """Every problem counted, the first MAX_REPORTED kept: a file of millions of bad rows must not
    fill memory with messages."""

    def __init__(self):
        self.kept, self.count = [], 0

    def add(self, message: str) -> None:
        self.count += 1
        if len(self.kept) < MAX_REPORTED:
            self.kept.append(message)

    def fail(self):
        raise ImportFailed(self.kept, self.count)


def import_layer(project, layer_name: str, src, *, source_layer=None, encoding=None, x=None, y=None, crs=None,
                 fields: dict | None = None, mode: str = "append", fix: bool = False, by=None,
                 progress=None) -> ImportResult:
    """Import file ``src`` into layer ``layer_name`` of ``project`` (导入).

    Source fields map to layer fields by name (case-insensitive), by Chinese alias, or by a
    Shapefile's 10-character truncation; ``fields`` ({target: source}) overrides. ``mode``:
    ``append`` (keys must be new), ``replace`` (the layer's features are replaced), ``upsert``
    (existing keys updated where they differ, new ones added). ``fix`` repairs invalid geometry with
    make_valid and reports each repair. Z and M ordinates are dropped (a marker's elevation goes to
    its ``elevation`` field when that is empty), with a notice. Raises :class:`ImportFailed` listing
    every problem; writes nothing then. ``progress(fraction, rows read, rows checked)`` is called as
    the file is read.
    """
    from diming.layers.settings import get_settings
    from diming.layers.store import KeysTaken, transaction

    if layer_name == "road_proposals":
        # applications: keys, pinyin and name checks are assigned, so they take their own path
        if mode != "append":
            raise DimingError("road_proposals: 申请表只能新增 (--mode append)")
        from diming.geonames.forms import import_proposals

        return import_proposals(project, src, source_layer=source_layer, encoding=encoding, crs=crs, fields=fields,
                                fix=fix, by=by)
    layer = get_layer(layer_name)
    if layer.system:
        raise DimingError(f"{layer_name}: 系统图层不能导入 (maintained by diming itself)")
    if mode not in MODES:
        raise DimingError(f"未知导入方式 {mode!r}; 可用: {', '.join(MODES)}")
    settings = get_settings(project)
    source = read_source(src, source_layer=source_layer, encoding=encoding, x=x, y=y, crs=crs,
                         geometry=layer.geometry is not None, xlsx_max_part_mb=settings["xlsx_max_part_mb"],
                         xlsx_max_rows=settings["xlsx_max_rows"])
    mapping, ignored = map_fields(layer, source, fields or {})
    missing = _missing_fields(layer, source, mapping)
    if missing:
        raise ImportFailed(missing)
    errors = _Errors()
    result = ImportResult(layer.name, 0, ignored_fields=ignored)
    note = f"导入 {source.path.name}"
    flat = _Flattened(layer)
    spell = _Speller(layer, settings)
    with transaction(project, by=by) as tx, _Seen(tx, layer, mode) as seen, _collector_aside():
        if mode == "replace":
            result.deleted = tx.delete(layer.name, None, note=note)
        checked = 0
        for batch in source.batches():
            if progress:
                progress(source.progress(), checked + len(batch.numbers), checked)
            columns, failed, problems = check_columns(layer, source, mapping, batch, fix=fix, fixed=result.fixed,
                                                      flat=flat)
            checked += len(batch.numbers)
            keys = columns.get(layer.key, []) if layer.key else []
            written = False
            if not errors.count and not problems and seen.by_index(keys):
                try:  # the layer's key index finds the clashes as the rows go in
                    result.spelt += spell.columns(columns, len(batch.numbers))
                    result.inserted += tx.insert_columns(layer.name, columns, note=note, new_keys=True)
                    seen.wrote(batch.numbers)
                    written = True
                except KeysTaken:  # part of the batch is written, but the import fails
                    pass
            if not written:
                problems += seen.clashes(source, batch.numbers, keys, failed, mode)
            for _, message in sorted(problems, key=lambda p: p[0]):
                errors.add(message)
            if not errors.count and not written:  # while every row so far is good, write as we go
                _write(tx, layer, columns, len(batch.numbers), mode, note, result, spell)
            if progress:
                progress(source.progress(), checked, checked)
        if errors.count:
            errors.fail()
        result.rows = checked
        result.notices = flat.notices()
        result.defaults = tx.filled(layer.name)
    return result


@contextmanager
def _collector_aside():
    """Python's cycle collector looks only at what the import makes: the objects alive before (the
    libraries loaded, some 100,000) are set aside for its length (gc.freeze). Each full collection
    the import's millions of short-lived objects set off would otherwise go through them all: a
    tenth of the time of a large import. Left as it is where the caller froze objects itself."""
    import gc

    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _write(tx, layer, columns, count, mode, note, result, spell) -> None:
    """Write one batch of ``count`` rows, all good: new keys inserted (spelt where they come
    without 罗马字母拼写); for upsert, existing keys updated where they differ."""
    if _as_columns(layer, mode) and columns:
        result.spelt += spell.columns(columns, count)
        result.inserted += tx.insert_columns(layer.name, columns, note=note)  # no record made per row
        return
    records = _records(columns, count)
    key = layer.key
    existing = tx.get_many(layer.name, [r[key] for r in records]) if mode == "upsert" else {}
    new = [r for r in records if r[key] not in existing]
    result.spelt += spell.records(new)
    defaulted = [f.name for f in layer.fields if f.default is not None]
    for r in records:
        if r[key] not in existing:
            continue
        before = existing[r[key]]
        changes = {k: v for k, v in r.items() if k != key and not _same(layer, k, before.get(k), v)}
        # a feature left without a default value (by another program) gets it: the store fills it
        if changes or any(before.get(f) in (None, "") for f in defaulted):
            tx.update(layer.name, r[key], changes, note=note)
            result.updated += 1
        else:
            result.unchanged += 1
    result.inserted += tx.insert(layer.name, new, note=note)
    if layer.name == "road_signs":  # a sign installed for a proposal closes its sign step
        from diming.geonames.signs import close_sign_steps

        close_sign_steps(tx, records)


class _Speller:
    """罗马字母拼写 for the new features of a named layer (roads, heritage list, gazetteer) that come
    without it, spelt from the name by the place-name rules (pinyin.spell, with the project's
    ``pinyin_overrides``) as every other way of adding them does; once per distinct name. An
    existing feature an upsert updates keeps the spelling it has."""

    LAYERS = ("roads", "heritage_names", "place_names")

    def __init__(self, layer, settings):
        self.wanted = layer.name in self.LAYERS
        self.settings, self.spelt, self.overrides = settings, {}, None

    def _spell(self, name):
        if name not in self.spelt:
            from diming.geonames.pinyin import parse_overrides, spell

            if self.overrides is None:  # pypinyin is loaded only for an import that spells
                self.overrides = parse_overrides(self.settings["pinyin_overrides"])
            self.spelt[name] = spell(name, self.overrides)
        return self.spelt[name]

    def columns(self, columns: dict, count: int) -> int:
        if not self.wanted or "name" not in columns:
            return 0
        pinyin = list(columns.get("pinyin") or [None] * count)
        empty = [i for i, p in enumerate(pinyin) if p in (None, "") and columns["name"][i]]
        for i in empty:
            pinyin[i] = self._spell(columns["name"][i])
        columns["pinyin"] = pinyin
        return len(empty)

    def records(self, records: list) -> int:
        if not self.wanted:
            return 0
        empty = [r for r in records if r.get("pinyin") in (None, "") and r.get("name")]
        for r in empty:
            r["pinyin"] = self._spell(r["name"])
        return len(empty)


def _records(columns: dict, count: int) -> list[dict]:
    """The ``count`` rows of ``columns`` as records, with shapely geometries."""
    if isinstance(columns.get("geometry"), gpkg.Points):
        columns = {**columns, "geometry": columns["geometry"].geometries()}
    return [dict(zip(columns, row)) for row in zip(*columns.values())] or [{} for _ in range(count)]


def _as_columns(layer, mode) -> bool:
    """Whether a batch is written as its columns: no upsert, no step to close for a road sign."""
    return mode != "upsert" and layer.name != "road_signs"


def _same(layer, name, stored, value) -> bool:
    """Whether an upsert leaves field ``name`` as it is (geometry compared as stored, to 1e-8°)."""
    if name == "geometry":
        import shapely

        return stored == shapely.to_wkt(value, rounding_precision=8)
    if isinstance(stored, float) and isinstance(value, (int, float)):
        return abs(stored - value) < 1e-9
    return stored == value


class _Seen:
    """Keys met so far in the file, with their row: duplicates within the file and, for append, keys
    already in the layer are found a batch at a time.

    While every row so far is good, a batch written as its columns (see :func:`_as_columns`) whose
    keys are distinct goes into the layer at once and the layer's unique key index finds any key
    already there, earlier in the file or before the import (``ON CONFLICT DO NOTHING``, counted):
    nothing is looked up. Otherwise — an upsert, a batch with a problem, or one the index turned a
    row away from — the keys are kept in a temporary table of the import's connection (on disk, not
    in memory), filled first with those of the rows written before, and each batch looked up there.
    """

    def __init__(self, tx, layer, mode):
        self.tx, self.layer, self.mode = tx, layer, mode
        self.table = False  # whether the keys are in temp.import_seen
        self.started, self.before = False, None  # the layer's highest fid before the import's first write
        self.written = []  # the row numbers of each batch written by the index's check

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.table:
            self.tx.con.execute("DROP TABLE temp.import_seen")

    def _start(self):
        """Note the layer's highest fid, once, before the import's first write."""
        if not self.started:
            self.before = self.tx.con.execute(f"SELECT max(fid) FROM {gpkg.quote(self.layer.name)}").fetchone()[0]
            self.started = True

    def by_index(self, keys) -> bool:
        """Whether the batch with these keys (all good) can be checked by the key index as it is written."""
        if self.table or not self.layer.key or not _as_columns(self.layer, self.mode) or len(set(keys)) < len(keys):
            return False
        self._start()
        if not self.written and not _unique_index(self.tx.con, self.layer):
            return False
        return True

    def wrote(self, numbers) -> None:
        from array import array

        # the numbers of a batch of plain lines follow one another: a range holds them in 48 bytes
        consecutive = numbers[-1] - numbers[0] == len(numbers) - 1
        self.written.append(range(numbers[0], numbers[-1] + 1) if consecutive else array("q", numbers))

    def _to_table(self) -> None:
        """Keep the keys in temp.import_seen from now on, starting with those of the rows written."""
        from itertools import chain

        self._start()
        con = self.tx.con
        con.execute("CREATE TEMP TABLE import_seen (key TEXT PRIMARY KEY, number INTEGER) WITHOUT ROWID")
        self.table = True
        if self.written:
            # the rows written are the first after the layer's rows before, in the file's order
            rows = con.execute(f"SELECT {gpkg.quote(self.layer.key)} FROM {gpkg.quote(self.layer.name)} "
                               "WHERE fid > ? ORDER BY fid LIMIT ?", (self._floor(), sum(map(len, self.written))))
            con.executemany("INSERT INTO temp.import_seen VALUES (?, ?)",
                            zip((k for (k,) in rows), chain.from_iterable(self.written)))
            self.written = []

    def _floor(self) -> int:
        return -(2 ** 63) if self.before is None else self.before

    def clashes(self, source, numbers, keys, failed, mode):
        """(row number, message) for each row whose key repeats an earlier row or, for append, is in
        the layer (``keys`` of the batch's rows numbered ``numbers``, those at ``failed`` aside)."""
        import json

        key = self.layer.key
        if not key:
            return []
        if not self.table:
            self._to_table()
        con = self.tx.con
        rows = [(k, n) for i, (k, n) in enumerate(zip(keys, numbers)) if k is not None and i not in failed]
        keys = json.dumps([k for k, _ in rows], ensure_ascii=False)
        earlier = dict(con.execute("SELECT key, number FROM temp.import_seen WHERE key IN "
                                   "(SELECT value FROM json_each(?))", (keys,)))
        out, first = [], {}
        for k, n in rows:
            if k in earlier or k in first:
                out.append((n, f"{source.at(n, key)}: 编号 {k} 重复, 与{source.label(earlier.get(k, first.get(k)))}相同"))
            else:
                first[k] = n
        con.executemany("INSERT INTO temp.import_seen VALUES (?, ?)", list(first.items()))
        # keys of this file's rows are all in import_seen: those of the layer before are at or below before
        if mode == "append" and first and self.before is not None:
            layer = self.tx.con.execute(
                f'SELECT "{key}" FROM "{self.layer.name}" WHERE "{key}" IN (SELECT value FROM json_each(?)) '
                "AND fid <= ?", (json.dumps(list(first), ensure_ascii=False), self.before))
            out += [(first[k], f"{source.at(first[k], key)}: 编号 {k} 已在图层中 (key exists; 用 --mode upsert)")
                    for (k,) in layer]
        return out


def _unique_index(con, layer) -> bool:
    """Whether the layer's table has a unique index on its key alone (as diming makes it)."""
    for _, index, unique, _, partial in con.execute(f"PRAGMA index_list({gpkg.quote(layer.name)})"):
        if unique and not partial and \
                [r[2] for r in con.execute(f"PRAGMA index_info({gpkg.quote(index)})")] == [layer.key]:
            return True
    return False


def map_fields(layer: Layer, source: Source, overrides: dict) -> tuple[dict, list[str]]:
    """{layer field: source column}, and the source columns nothing maps to."""
    columns = [str(c) for c in source.columns]
    lower = {c.lower(): c for c in columns}
    mapping = {}
    for target, given in overrides.items():
        if target not in layer.field_names:
            raise DimingError(f"--field {target}={given}: 图层 {layer.name} 没有字段 {target!r}; "
                              f"有: {', '.join(layer.field_names)}")
        if given.lower() not in lower:
            raise DimingError(f"{source.path.name}: 没有字段 {given!r} (--field {target}={given})")
        mapping[target] = lower[given.lower()]
    for f in layer.fields:
        if f.name in mapping:
            continue
        for candidate in (f.name.lower(), f.alias.lower(), f.name[:10].lower()):
            if candidate in lower and lower[candidate] not in mapping.values():
                mapping[f.name] = lower[candidate]
                break
    ignored = [c for c in columns if c not in mapping.values()]
    return mapping, ignored


def _missing_fields(layer, source, mapping) -> list[str]:
    return [f"{source.path.name}: 字段 {f.name}: 缺少必填字段 (required field {f.alias} missing)"
            for f in layer.fields if f.required and f.name not in mapping]


def _convert(f, value):
    """The value for field ``f``, or raise ValueError with the reason in Chinese."""
    if type(value) is str:
        value = value.strip()
        if not value:
            return None
        if value[0] == "'":
            value = restore(value)
    elif value is None:
        return None
    elif isinstance(value, Unreadable):
        raise ValueError(value.reason)
    if f.type == "TEXT":
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # spreadsheets hand codes such as 370211 over as floats
        text = value if type(value) is str else str(value)
        if not text.isascii() and ("\ufffd" in text or _misdecoded(text)):
            raise ValueError(f"文本无法解码 ({text[:12]!r}…); 试试 --encoding GBK (undecodable text)")
        refuse_control(text)
        if f.choices and text not in f.choices:
            raise ValueError(f"{text!r} 不是允许的值 ({'/'.join(f.choices)})")
        return text
    if f.type == "INTEGER":
        try:
            number = value if isinstance(value, int) else float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} 不是整数") from None
        if not math.isfinite(number) or number != int(number):
            raise ValueError(f"{value!r} 不是整数")
        return int(number)
    if f.type == "REAL":
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} 不是数字") from None
        if not math.isfinite(number):
            raise ValueError(f"{value!r} 不是有限的数 (NaN or infinite)")
        if number < 0 and f.name.endswith("_m"):  # width_m, displacement_m …: metres of something
            raise ValueError(f"{value!r} 不能为负 (negative length)")
        return number
    if f.type == "DATE":
        return parse_date(value).isoformat()
    if f.type == "DATETIME":
        import datetime as dt

        if isinstance(value, dt.datetime):
            return value.isoformat()
        try:
            return dt.datetime.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError(f"{value!r} 不是日期时间") from None
    raise AssertionError(f.type)


def refuse_control(text: str) -> None:
    """ValueError naming the first control character in ``text`` (see :data:`_CONTROL`)."""
    control = _CONTROL.search(text)
    if control:
        raise ValueError(f"含控制字符 U+{ord(control.group()):04X} (第 {control.start() + 1} 个字符; "
                         "control character)")


# what in a text makes _convert look closer: control characters, Latin-1 letters, U+FFFD
_SUSPECT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\xff\ufffd]")


def _convert_column(f, values) -> tuple[list, dict]:
    """:func:`_convert` over a batch's column: (values, {position: reason}). Plain text — the bulk
    of any file — is taken in this loop without a call per cell; anything else goes to _convert."""
    plain = f.type == "TEXT"
    choices = set(f.choices)
    suspect = _SUSPECT.search
    if plain and set(map(type, values)) == {str}:
        # the whole column at once: no cell with a leading quote, a suspect character or a value
        # outside the choices (line feeds join the cells: multi-line text may hold them anyway)
        texts = list(map(str.strip, values))
        joined = "\n".join(texts)
        if not suspect(joined) and not joined.startswith("'") and "\n'" not in joined and \
                (not choices or set(texts) <= choices | {""}):
            return [t or None for t in texts], {}
    out, bad = [None] * len(values), {}
    iso = f.type == "DATE"
    for i, value in enumerate(values):
        if value is None:
            continue
        if plain and type(value) is str:
            text = value.strip()
            if not text:
                continue
            if text[0] != "'" and not suspect(text) and (not choices or text in choices):
                out[i] = text
                continue
        elif iso and type(value) is str and len(value) == 10 and value[4] == "-" and value[7] == "-" \
                and value.isascii():
            try:  # the usual ISO date: itself, once checked to be a day of the calendar
                date.fromisoformat(value)
                out[i] = value
                continue
            except ValueError:
                pass
        try:
            out[i] = _convert(f, value)
        except ValueError as exc:
            bad[i] = str(exc)
    return out, bad


def _misdecoded(text: str) -> bool:
    """GBK bytes read as Latin-1 (an old .dbf without .cpg): no Chinese, but Chinese once re-read."""
    if not _LATIN1.search(text):
        return False
    try:
        again = text.encode("latin-1").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False
    return any("\u4e00" <= ch <= "\u9fff" for ch in again)


class _Flattened:
    """Counts the geometries whose Z or M ordinates were dropped (diming's layers are XY, as their
    GeoPackage geometry columns declare) and the marker elevations taken from Z."""

    def __init__(self, layer):
        self.layer, self.dropped, self.elevations = layer, 0, 0

    def notices(self) -> list[str]:
        if not self.dropped:
            return []
        line = f"已去掉 {self.dropped} 个几何的 Z/M 坐标 (图层只存平面坐标; Z/M ordinates dropped)"
        if self.elevations:
            line += f"; 其中 {self.elevations} 个的 Z 值写入了空的高程字段 elevation"
        return [line]


_ACCEPTS = {
    "POINT": ({"Point"}, {"MultiPoint"}),
    "MULTILINESTRING": ({"MultiLineString", "LineString"}, set()),
    "MULTIPOLYGON": ({"MultiPolygon", "Polygon"}, set()),
    # generic geometry (place_names): a point, lines or areas, lines and areas stored as Multi*
    "GEOMETRY": ({"Point", "MultiLineString", "LineString", "MultiPolygon", "Polygon"}, {"MultiPoint"}),
}


def _geometries(layer, geoms, fix, flat, elevations):
    """The batch's geometries as stored: (list, {position: error}, {position: repair note}).

    Vectorised over the batch; only the odd bad or invalid geometry is looked at on its own.
    ``elevations`` ({position: value}) receives a Point's Z where the layer has an ``elevation``.
    """
    import numpy as np
    import shapely

    from diming.layers.crs import inside_china, outside_china

    if isinstance(geoms, gpkg.Points):  # from X/Y columns: finite points, each valid
        return geoms, _point_errors(geoms), {}
    n = len(geoms)
    out, errors, notes = [None] * n, {}, {}
    ok = []
    for i, g in enumerate(geoms):
        if isinstance(g, Unreadable):
            errors[i] = (g.field or "geometry", g.reason)
        elif g is None:
            errors[i] = ("geometry", "几何为空 (empty geometry)")
        else:
            ok.append(i)
    if not ok:
        return out, errors, notes
    index = np.array(ok)
    arr = np.array([geoms[i] for i in ok], dtype=object)
    keep = ~shapely.is_empty(arr)
    for i in index[~keep]:
        errors[i] = ("geometry", "几何为空 (empty geometry)")
    index, arr = index[keep], arr[keep]
    higher = shapely.has_z(arr) | shapely.has_m(arr)
    if higher.any():
        if layer.geometry == "POINT" and "elevation" in layer.field_names:
            z = shapely.get_coordinates(arr[higher], include_z=True)
            for i, value in zip(index[higher], z[:, 2] if len(z) == higher.sum() else []):
                if math.isfinite(value):
                    elevations[i] = float(value)
        arr[higher] = shapely.force_2d(arr[higher])
        flat.dropped += int(higher.sum())
    accepted, single_multi = _ACCEPTS[layer.geometry]
    kinds = shapely.get_type_id(arr)
    names = np.array(["Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString",
                      "MultiPolygon", "GeometryCollection"], dtype=object)[kinds]
    for j in np.flatnonzero(np.isin(names, list(single_multi))):
        if shapely.get_num_geometries(arr[j]) == 1:
            arr[j] = shapely.get_geometry(arr[j], 0)
            names[j] = arr[j].geom_type
    good = np.isin(names, list(accepted))
    for j in np.flatnonzero(~good):
        errors[index[j]] = ("geometry", f"几何类型 {names[j]} 不符, 图层要求 {layer.geometry}")
    coords, owner = shapely.get_coordinates(arr, return_index=True)
    finite = np.ones(len(arr), dtype=bool)
    np.logical_and.at(finite, owner, np.isfinite(coords).all(axis=1))
    for j in np.flatnonzero(good & ~finite):
        errors[index[j]] = ("geometry", "坐标含 NaN 或无穷大, 或超出源坐标系的范围 (non-finite coordinate)")
    good &= finite
    bounds = shapely.bounds(arr)
    inside = inside_china(bounds[:, 0], bounds[:, 1]) & inside_china(bounds[:, 2], bounds[:, 3])
    for j in np.flatnonzero(good & ~inside):
        minx, miny = bounds[j, 0], bounds[j, 1]
        errors[index[j]] = ("geometry", outside_china(minx, miny))
    good &= inside
    valid = np.ones(len(arr), dtype=bool)
    valid[good] = shapely.is_valid(arr[good])
    for j in np.flatnonzero(good & ~valid):
        geom = arr[j]
        reason = shapely.is_valid_reason(geom)
        if not fix:
            errors[index[j]] = ("geometry", f"几何无效 ({reason}); 用 --fix 修复")
            good[j] = False
            continue
        repaired = _keep_dimension(shapely.make_valid(geom), shapely.get_dimensions(geom))
        if repaired.is_empty:
            errors[index[j]] = ("geometry", f"几何无效 ({reason}) 且无法修复")
            good[j] = False
            continue
        notes[index[j]] = (f"几何无效 ({reason}), 已用 make_valid 修复为 {repaired.geom_type} "
                           f"({shapely.get_num_geometries(repaired)} 个部分)")
        arr[j] = repaired
    # a single line or polygon stored as the multi kind (any geometry: place_names holds both)
    for type_id, make, kinds in ((1, shapely.multilinestrings, ("MULTILINESTRING", "GEOMETRY")),
                                 (3, shapely.multipolygons, ("MULTIPOLYGON", "GEOMETRY"))):
        single = good & (shapely.get_type_id(arr) == type_id) if layer.geometry in kinds else []
        if np.any(single):
            arr[single] = make(arr[single], indices=np.arange(int(single.sum())))
    for j in np.flatnonzero(good):
        out[index[j]] = arr[j]
    return out, errors, notes


def _point_errors(points) -> dict:
    """:func:`_geometries`' errors for points from X/Y columns: coordinates that could not be had,
    points outside China."""
    import numpy as np

    from diming.layers.crs import inside_china, outside_china

    errors = {i: (problem.field or "geometry", problem.reason) for i, problem in points.bad.items()}
    outside = ~inside_china(points.x, points.y)
    for i in np.flatnonzero(outside) if outside.any() else []:
        if i not in errors:
            errors[i] = ("geometry", outside_china(points.x[i], points.y[i]))
    return errors


def _keep_dimension(geom, dimension):
    import shapely

    parts = [p for p in shapely.get_parts(shapely.get_parts(geom)) if shapely.get_dimensions(p) == dimension]
    return shapely.union_all(parts) if parts else shapely.GeometryCollection()


def check_batch(layer: Layer, source: Source, mapping: dict, batch, *, fix: bool = False, fixed=None, flat=None):
    """Check and convert one batch: (records, [(row number, error)]). A record is None where its row
    failed; records hold layer field names. Repair notes are appended to ``fixed``."""
    columns, failed, problems = check_columns(layer, source, mapping, batch, fix=fix, fixed=fixed, flat=flat)
    records = _records(columns, len(batch.numbers))
    for i in failed:
        records[i] = None
    return records, problems


def check_columns(layer: Layer, source: Source, mapping: dict, batch, *, fix: bool = False, fixed=None, flat=None):
    """:func:`check_batch` column by column: ({layer field: values}, positions of the rows that
    failed, [(row number, error)]); ``geometry`` is a column too. No record is made per row: an
    import that writes a batch hands these columns to the store as they are."""
    fields = [layer.field(target) for target in mapping]
    converted = [_convert_column(f, batch.columns[col]) for f, col in zip(fields, mapping.values())]
    columns = {f.name: values for f, (values, _) in zip(fields, converted)}
    failed = set()
    for f, (values, bad) in zip(fields, converted):
        failed.update(bad)
        if f.required and None in values:
            failed.update([i for i, v in enumerate(values) if v is None])
    problems = []
    for i in sorted(failed):
        number = batch.numbers[i]
        for f, (values, bad) in zip(fields, converted):
            if i in bad:
                problems.append((number, f"{source.at(number, f.name)}: {bad[i]}"))
            elif values[i] is None and f.required:
                problems.append((number, f"{source.at(number, f.name)}: 必填字段为空 (required)"))
    if layer.geometry:
        elevations = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # GEOS on NaN coordinates, which are refused below
            stored, errors, notes = _geometries(layer, batch.geometry, fix, flat or _Flattened(layer), elevations)
        columns["geometry"] = stored
        for i, (name, reason) in errors.items():
            problems.append((batch.numbers[i], f"{source.at(batch.numbers[i], name)}: {reason}"))
            failed.add(i)
        if fixed is not None:
            fixed += [f"{source.at(batch.numbers[i])}: {note}" for i, note in sorted(notes.items())]
        if elevations:
            column = columns.setdefault("elevation", [None] * len(batch.numbers))
            for i, value in elevations.items():
                if column[i] is None:
                    column[i] = value
                    if flat is not None:
                        flat.elevations += 1
    return columns, failed, problems


def validate(layer: Layer, source: Source, mapping: dict, *, fix: bool = False):
    """Check and convert every row of a (small) source at once: (records, errors, repair notes,
    notices such as Z/M dropped), for importers that assign keys themselves (heritage list, applications). ``source.where(i)`` names
    the ``i``-th record's row afterwards. Duplicate keys within the file are errors."""
    errors = _missing_fields(layer, source, mapping)
    fixed, records = [], []
    if errors:
        return [], errors, fixed, []
    flat, seen = _Flattened(layer), {}
    for batch in source.batches():
        rows, problems = check_batch(layer, source, mapping, batch, fix=fix, fixed=fixed, flat=flat)
        for number, record in zip(batch.numbers, rows):
            key = record.get(layer.key) if record is not None and layer.key else None
            if key is not None:
                if key in seen:
                    problems.append((number, f"{source.at(number, layer.key)}: 编号 {key} 重复, "
                                             f"与{source.label(seen[key])}相同"))
                    record = None
                seen.setdefault(key, number)
            records.append(record)
            source.numbers.append(number)
        errors += [message for _, message in sorted(problems, key=lambda p: p[0])]
    return records, errors, fixed, flat.notices()
