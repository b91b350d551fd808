"""The place-name heritage protection list (地名保护名录): entries with 标准地名, 罗马字母拼写, 含义,
来历, 沿革, 历史文化价值, category, batch (第一批 …), level (区级/市级), location and status."""
from __future__ import annotations

import dataclasses
import re

from diming.errors import DimingError
from diming.layers.schema import label

# the publishable list: its columns in order, with their Chinese headings from the schema
PUBLISHED = ("heritage_id", "name", "pinyin", "category", "batch", "level", "location", "meaning", "origin",
             "history", "value", "status", "listed_on")


def next_key(keys) -> str:
    """``BH-001``, ``BH-002`` …"""
    numbers = [int(m.group(1)) for k in keys if (m := re.fullmatch(r"BH-(\d+)", str(k)))]
    return f"BH-{max(numbers, default=0) + 1:03d}"


def add_entry(project, name: str, point, *, by=None, **fields) -> dict:
    """Add one entry at ``point`` (lon/lat, EPSG:4490); the key and the pinyin are filled in."""
    from diming.geonames.normalize import normalize
    from diming.geonames.pinyin import parse_overrides, spell
    from diming.geonames.rules import check_name
    from diming.layers.schema import get_layer
    from diming.layers.settings import get_settings
    from diming.layers.store import transaction

    layer = get_layer("heritage_names")
    if not normalize(name):
        raise DimingError("标准地名为空 (empty name)")
    unknown = set(fields) - set(layer.field_names)
    if unknown:
        raise DimingError(f"heritage_names: 未知字段 {', '.join(sorted(unknown))}")
    for key, value in fields.items():
        if value is not None and layer.field(key).type == "DATE":
            from diming.layers.dates import date_option

            fields[key] = value = date_option(value, f"heritage_names: {layer.field(key).alias}").isoformat()
        choices = layer.field(key).choices
        if value is not None and choices and value not in choices:
            raise DimingError(f"heritage_names: {layer.field(key).alias} {value!r} 应为 {'/'.join(choices)}")
    nonstandard = [f for f in check_name(name) if f["rule"] == "name.nonstandard-char" and f["severity"] == "error"]
    if nonstandard:
        raise DimingError(f"标准地名 {name}: {nonstandard[0]['message']}")
    if point is None or point.geom_type != "Point" or not (73 <= point.x <= 136 and 3 <= point.y <= 54):
        raise DimingError("位置应为中国范围内的经纬度点 (--lon/--lat, CGCS2000)")
    overrides = parse_overrides(get_settings(project)["pinyin_overrides"])
    # an empty status gets the schema default (in_use) in the store
    record = {"name": name.strip(), "pinyin": fields.pop("pinyin", None) or spell(name, overrides), **fields,
              "geometry": point}
    with transaction(project, by=by) as tx:
        if any(normalize(tx.get("heritage_names", k)["name"]) == normalize(name) for k in tx.keys("heritage_names")):
            raise DimingError(f"{name}: 已在地名保护名录中")
        record["heritage_id"] = next_key(tx.keys("heritage_names"))
        tx.insert("heritage_names", [record], action="heritage-add", note="列入地名保护名录")
        stored = tx.get("heritage_names", record["heritage_id"])
    # the fields as stored (with the defaults the store filled), the geometry as given
    return {**{k: v for k, v in stored.items() if k != "geometry"}, "geometry": point}


def import_entries(project, src, *, by=None, **options):
    """Import entries from a file (``diming import heritage_names`` rules); keys and pinyin filled in
    where the file has none."""
    from diming.geonames.pinyin import parse_overrides, spell
    from diming.layers.imports import ImportFailed, ImportResult, map_fields, validate
    from diming.layers.schema import get_layer
    from diming.layers.settings import get_settings
    from diming.layers.sources import read_source
    from diming.layers.store import transaction

    layer = get_layer("heritage_names")
    relaxed = dataclasses.replace(layer, fields=tuple(
        dataclasses.replace(f, required=False) if f.name == "heritage_id" else f for f in layer.fields))
    source = read_source(src, **options)
    mapping, ignored = map_fields(relaxed, source, {})
    rows, errors, fixed, notices = validate(relaxed, source, mapping)
    if errors:
        raise ImportFailed(errors)
    overrides = parse_overrides(get_settings(project)["pinyin_overrides"])
    with transaction(project, by=by) as tx:
        keys = set(tx.keys("heritage_names"))
        clashes = [f"{source.where(i, 'heritage_id')}: 编号 {r['heritage_id']} 已在名录中"
                   for i, r in enumerate(rows) if r.get("heritage_id") in keys]
        if clashes:
            raise ImportFailed(clashes)
        for r in rows:
            if not r.get("heritage_id"):
                r["heritage_id"] = next_key(keys)
            keys.add(r["heritage_id"])
            r["pinyin"] = r.get("pinyin") or spell(r["name"], overrides)
        inserted = tx.insert("heritage_names", rows, note=f"导入 {source.path.name}")
        defaults = tx.filled("heritage_names")
    return ImportResult("heritage_names", len(rows), inserted=inserted, fixed=fixed, ignored_fields=ignored,
                        defaults=defaults, notices=notices)


def entries(project, *, category=None, batch=None, status=None) -> list[dict]:
    """List entries (without geometry; ``lon``/``lat`` added), filtered."""
    from diming.layers.store import read_layer

    where, params = [], []
    for field, value in (("category", category), ("batch", batch), ("status", status)):
        if value:
            where.append(f"{field} = ?")
            params.append(value)
    frame = read_layer(project, "heritage_names", where=" AND ".join(where) or None, params=tuple(params))
    out = []
    for row in frame.to_dict("records"):
        geom = row.pop("geometry")
        row = {k: (None if v is None or v != v else v) for k, v in row.items()}
        row["lon"], row["lat"] = (round(geom.x, 7), round(geom.y, 7)) if geom is not None else (None, None)
        out.append(row)
    return out


def entry(project, heritage_id: str) -> dict:
    """One entry, with the roads and proposals that bear or sound like its name."""
    from diming.geonames.namecheck import clashes

    found = [e for e in entries(project) if e["heritage_id"] == heritage_id]
    if not found:
        raise DimingError(f"没有编号为 {heritage_id} 的名录条目 (no such entry)")
    record = found[0]
    record["related"] = [{"rule": f["rule"], "message": f["message"], **f["related"][0]}
                         for f in clashes(project, record["name"]) if f["related"][0]["layer"] != "heritage_names"]
    return record


def export_list(project, dest) -> int:
    """Write the list: ``.xlsx`` a publishable table (Chinese headings, formulas neutralised);
    ``.gpkg``/``.geojson``/``.shp``/``.csv`` the layer itself. Returns the number of entries."""
    from pathlib import Path

    from diming.layers.exports import export_layer

    dest = Path(dest)
    if dest.suffix.lower() != ".xlsx":
        return export_layer(project, "heritage_names", dest)
    return _write_published(project, dest)


def _write_published(project, dest) -> int:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from diming.layers.exports import DATE_FORMAT, date_cell, draw_grid, neutralise, print_setup, replacing
    from diming.layers.schema import get_layer

    layer = get_layer("heritage_names")
    rows = entries(project)
    rows.sort(key=lambda r: (r.get("batch") or "", r["heritage_id"]))
    book = Workbook()
    sheet = book.active
    sheet.title = "地名保护名录"
    headings = [layer.field(f).alias for f in PUBLISHED] + ["经度", "纬度"]
    sheet.append(["地名保护名录"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(headings)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    listed_on = PUBLISHED.index("listed_on") + 1
    for r in rows:
        values = [label(r[f]) if f == "status" else r.get(f) for f in PUBLISHED]
        sheet.append([date_cell(v) if f == "listed_on" else neutralise(v) for f, v in zip(PUBLISHED, values)]
                     + [r["lon"], r["lat"]])
        sheet.cell(sheet.max_row, listed_on).number_format = DATE_FORMAT
    print_setup(sheet, (9, 12, 18, 12, 8, 8, 24, 30, 30, 30, 30, 9, 11, 12, 12), header_rows=(2, 2), freeze="C3")
    for row in sheet.iter_rows(min_row=3):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    draw_grid(sheet, 2, sheet.max_row, len(headings))
    with replacing(dest) as partial:
        book.save(partial)
    return len(rows)
