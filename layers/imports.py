"""Importing a file into a project layer: map fields, validate every row, then write in one go.

Nothing is written unless every row passes; the errors found are all reported, one line each,
naming file, row, field and reason.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from diming.errors import DimingError
from diming.layers.exports import restore
from diming.layers.schema import Layer, get_layer
from diming.layers.sources import Source, read_source

MODES = ("append", "replace", "upsert")
MAX_REPORTED = 50
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


class ImportFailed(DimingError):
    """Validation failed; ``errors`` holds every one-line message."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        shown = errors[:MAX_REPORTED]
        more = f"\n… 另有 {len(errors) - MAX_REPORTED} 个错误" if len(errors) > MAX_REPORTED else ""
        super().__init__("\n".join(shown) + more)


@dataclass
class ImportResult:
    layer: str
    rows: int
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    fixed: list[str] = field(default_factory=list)
    ignored_fields: list[str] = field(default_factory=list)
    defaults: dict[str, int] = field(default_factory=dict)  # field -> rows that got its schema default


def import_layer(project, layer_name: str, src, *, source_layer=None, encoding=None, x=None, y=None, crs=None,
                 fields: dict | None = None, mode: str = "append", fix: bool = False, by=None) -> ImportResult:
    """Import file ``src`` into layer ``layer_name`` of ``project`` (导入).

    Source fields map to layer fields by name (case-insensitive), by Chinese alias, or by a
    Shapefile's 10-character truncation; ``fields`` ({target: source}) overrides. ``mode``:
    ``append`` (keys must be new), ``replace`` (the layer's features are replaced), ``upsert``
    (existing keys updated, new ones added). ``fix`` repairs invalid geometry with make_valid and
    reports each repair. Raises :class:`ImportFailed` listing every problem; writes nothing then.
    """
    from diming.layers.store import transaction

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
    source = read_source(src, source_layer=source_layer, encoding=encoding, x=x, y=y, crs=crs,
                         geometry=layer.geometry is not None)
    mapping, ignored = map_fields(layer, source, fields or {})
    records, errors, fixed = validate(layer, source, mapping, fix=fix)
    with transaction(project, by=by) as tx:
        existing = tx.keys(layer.name)
        if mode == "append":
            errors += [f"{source.where(i, layer.key)}: 编号 {r[layer.key]} 已在图层中 (key exists; 用 --mode upsert)"
                       for i, r in enumerate(records) if r is not None and r[layer.key] in existing]
        if errors:
            raise ImportFailed(errors)
        note = f"导入 {source.path.name}"
        result = ImportResult(layer.name, len(records), fixed=fixed, ignored_fields=ignored)
        if mode == "replace":
            result.deleted = tx.delete(layer.name, None, note=note)
            existing = set()
        new = [r for r in records if r[layer.key] not in existing]
        for r in records:
            if r[layer.key] in existing:
                tx.update(layer.name, r[layer.key], {k: v for k, v in r.items() if k != layer.key}, note=note)
                result.updated += 1
        result.inserted = tx.insert(layer.name, new, note=note)
        if layer.name == "road_signs":  # a sign installed for a proposal closes its sign step
            from diming.geonames.signs import close_sign_steps

            close_sign_steps(tx, records)
        result.defaults = tx.filled(layer.name)
    return result


def map_fields(layer: Layer, source: Source, overrides: dict) -> tuple[dict, list[str]]:
    """{layer field: source column}, and the source columns nothing maps to."""
    columns = [str(c) for c in source.frame.columns]
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


def _convert(f, value):
    """The value for field ``f``, or raise ValueError with the reason in Chinese."""
    if isinstance(value, str):
        value = restore(value.strip())
        if value == "":
            return None
    if value is None:
        return None
    if f.type == "TEXT":
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # spreadsheets hand codes such as 370211 over as floats
        text = str(value)
        if "\ufffd" in text or _misdecoded(text):
            raise ValueError(f"文本无法解码 ({text[:12]!r}…); 试试 --encoding GBK (undecodable text)")
        if f.choices and text not in f.choices:
            raise ValueError(f"{text!r} 不是允许的值 ({'/'.join(f.choices)})")
        return text
    if f.type == "INTEGER":
        try:
            number = float(value) if not isinstance(value, int) else value
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} 不是整数") from None
        if number != int(number):
            raise ValueError(f"{value!r} 不是整数")
        return int(number)
    if f.type == "REAL":
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} 不是数字") from None
    if f.type == "DATE":
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        text = str(value)
        for fmt in _DATE_FORMATS:
            try:
                return dt.datetime.strptime(text, fmt).date().isoformat()
            except ValueError:
                continue
        try:  # GIS drivers hand dates over as timestamps
            return dt.datetime.fromisoformat(text).date().isoformat()
        except ValueError:
            raise ValueError(f"{text!r} 不是日期 (YYYY-MM-DD)") from None
    if f.type == "DATETIME":
        if isinstance(value, dt.datetime):
            return value.isoformat()
        try:
            return dt.datetime.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError(f"{value!r} 不是日期时间") from None
    raise AssertionError(f.type)


def _misdecoded(text: str) -> bool:
    """GBK bytes read as Latin-1 (an old .dbf without .cpg): no Chinese, but Chinese once re-read."""
    if not any("\x80" <= ch <= "\xff" for ch in text):
        return False
    try:
        again = text.encode("latin-1").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False
    return any("\u4e00" <= ch <= "\u9fff" for ch in again)


_ACCEPTS = {
    "POINT": ({"Point"}, {"MultiPoint"}),
    "MULTILINESTRING": ({"MultiLineString", "LineString"}, set()),
    "MULTIPOLYGON": ({"MultiPolygon", "Polygon"}, set()),
    # generic geometry (place_names): a point, lines or areas, lines and areas stored as Multi*
    "GEOMETRY": ({"Point", "MultiLineString", "LineString", "MultiPolygon", "Polygon"}, {"MultiPoint"}),
}
_PROMOTE = {"LineString": "MultiLineString", "Polygon": "MultiPolygon"}


def _geometry(layer, geom, fix):
    """(geometry as stored, repair note or None), or raise ValueError."""
    import shapely

    from diming.layers.crs import inside_china

    if geom is None or geom.is_empty:
        raise ValueError("几何为空 (empty geometry)")
    accepted, single_multi = _ACCEPTS[layer.geometry]
    kind = geom.geom_type
    if kind in single_multi and len(geom.geoms) == 1:
        geom, kind = geom.geoms[0], geom.geoms[0].geom_type
    if kind not in accepted:
        raise ValueError(f"几何类型 {kind} 不符, 图层要求 {layer.geometry}")
    minx, miny, maxx, maxy = geom.bounds
    if not inside_china([minx, maxx], [miny, maxy]).all():
        raise ValueError(f"坐标超出中国范围 ({minx:.4f}, {miny:.4f}): X/Y 是否颠倒, 或坐标系不对? "
                         "(swapped axes or wrong CRS)")
    note = None
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        if not fix:
            raise ValueError(f"几何无效 ({reason}); 用 --fix 修复")
        repaired = _keep_dimension(shapely.make_valid(geom), shapely.get_dimensions(geom))
        if repaired.is_empty:
            raise ValueError(f"几何无效 ({reason}) 且无法修复")
        note = f"几何无效 ({reason}), 已用 make_valid 修复为 {repaired.geom_type} ({shapely.get_num_geometries(repaired)} 个部分)"
        geom = repaired
    if geom.geom_type in _PROMOTE and (layer.geometry.startswith("MULTI") or layer.geometry == "GEOMETRY"):
        geom = getattr(shapely, _PROMOTE[geom.geom_type])([geom])
    return geom, note


def _keep_dimension(geom, dimension):
    import shapely

    parts = [p for p in shapely.get_parts(shapely.get_parts(geom)) if shapely.get_dimensions(p) == dimension]
    return shapely.union_all(parts) if parts else shapely.GeometryCollection()


def validate(layer: Layer, source: Source, mapping: dict, *, fix: bool = False):
    """Check and convert every row: (records, errors, repair notes). Records hold layer field names."""
    errors, fixed, records = [], [], []
    frame = source.frame
    for f in layer.fields:
        if f.required and f.name not in mapping:
            errors.append(f"{source.path.name}: 字段 {f.name}: 缺少必填字段 (required field {f.alias} missing)")
    if errors:
        return [], errors, fixed
    seen: dict = {}
    columns = {target: frame[col].tolist() for target, col in mapping.items()}
    for i in range(len(frame)):
        record, ok = {}, True
        for target, values in columns.items():
            f = layer.field(target)
            try:
                value = _convert(f, values[i])
            except ValueError as exc:
                errors.append(f"{source.where(i, f.name)}: {exc}")
                ok = False
                continue
            if value is None and f.required:
                errors.append(f"{source.where(i, f.name)}: 必填字段为空 (required)")
                ok = False
            record[target] = value
        if layer.key and record.get(layer.key) is not None:
            key = record[layer.key]
            if key in seen:
                errors.append(f"{source.where(i, layer.key)}: 编号 {key} 重复, 与{source.row_labels[seen[key]]}相同")
                ok = False
            seen.setdefault(key, i)
        if layer.geometry:
            try:
                record["geometry"], note = _geometry(layer, source.geometry[i], fix)
                if note:
                    fixed.append(f"{source.where(i)}: {note}")
            except ValueError as exc:
                errors.append(f"{source.where(i, 'geometry')}: {exc}")
                ok = False
        records.append(record if ok else None)
    return records, errors, fixed
