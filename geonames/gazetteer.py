"""The gazetteer (地名录) and its exchange with the national place-name database (国家地名信息库).

Files are read and written in the field layout of the registration form (地名登记表): the Chinese
headers in the form's order (:data:`FORM`), then the fields the form has no column for (the rural
campaign's), then ``wkt`` with the geometry, so a round trip keeps every field. Roads in use are
part of the gazetteer's exports as their category (交通运输设施); they are kept by the road
procedure, so importing a file leaves them alone.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

from diming.errors import DimingError

LAYER = "place_names"
# (form header, field): the registration form's columns in its order (DOMAIN.md section 10).
# 经纬度范围 is four columns (东经, 至东经, 北纬, 至北纬), in degrees, minutes and seconds as on the
# form; 坐标系 is always 2000 (CGCS2000).
FORM = (
    ("地名代码", "place_id"), ("标准名称", "name"), ("别名", "alias"), ("简称", "short_name"),
    ("罗马字母拼写", "pinyin"), ("使用时间", "in_use"), ("命名时间", "named_on"),
    ("设立年份", "established_year"), ("废止年份", "abolished_year"), ("标牌个数", "sign_count"),
    ("东经", None), ("至东经", None), ("北纬", None), ("至北纬", None), ("坐标系", None),
    ("测量方法", "survey_method"), ("类别", "category"), ("地名含义", "meaning"), ("历史沿革", "history"),
    ("地理实体描述", "description"), ("资料来源", "source"), ("登记时间", "registered_on"),
    ("登记人", "registered_by"), ("登记单位", "registered_unit"), ("所在(跨)行政区", "district"),
)
_USE_CODES = {"现今地名": "current", "现今": "current", "历史地名": "historical", "历史": "historical",
              "current": "current", "historical": "historical"}
_DMS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*°\s*(?:(\d+(?:\.\d+)?)\s*[′']\s*)?(?:(\d+(?:\.\d+)?)\s*[″\"]\s*)?$")


def extra_fields() -> list[str]:
    """The layer's fields the registration form has no column for, in layer order."""
    from diming.layers.schema import get_layer

    on_form = {f for _, f in FORM if f}
    return [f.name for f in get_layer(LAYER).fields if f.name not in on_form]


def headers() -> list[str]:
    from diming.layers.schema import get_layer

    layer = get_layer(LAYER)
    return [h for h, _ in FORM] + [layer.field(f).alias for f in extra_fields()] + ["wkt"]


def compile_pattern(text: str) -> re.Pattern:
    """The ``place_id_pattern`` setting as a regular expression with groups division/category/seq."""
    try:
        pattern = re.compile(text)
    except re.error as exc:
        raise DimingError(f"设置项 place_id_pattern: 不是有效的正则表达式 ({exc})") from None
    missing = {"division", "category", "seq"} - set(pattern.groupindex)
    if missing:
        raise DimingError(f"设置项 place_id_pattern: 缺少分组 {', '.join(sorted(missing))} (groups division/category/seq)")
    return pattern


def id_problem(record: dict, pattern: re.Pattern) -> str | None:
    """Why a 地名代码 does not fit the pattern, its category or its division; None when it fits."""
    from diming.geonames.categories import is_code

    match = pattern.fullmatch(record["place_id"])
    if not match:
        return f"地名代码 {record['place_id']} 不符合格式 place_id_pattern (区划代码 + 类别代码 + 顺序码)"
    category, division = record.get("category"), match["division"]
    if is_code(category or "") and match["category"] != category:
        return f"地名代码中的类别代码 {match['category']} 与类别 {category} 不符"
    district = (record.get("district") or "").split(",")[0].strip()
    if district and not (district.startswith(division) or division.startswith(district)):
        return f"地名代码中的区划代码 {division} 与所在行政区 {district} 不符"
    return None


def division_names(project) -> dict[str, str]:
    """Division code -> name: the admin areas, and the village committees (群众自治组织) of the
    gazetteer, which name the villages below the towns a project holds as areas."""
    from diming.layers.store import read_layer, stored_fields

    names = dict(zip(*(read_layer(project, "admin_areas", columns=("code", "name"), geometry=False)[c]
                       for c in ("code", "name"))))
    if "category" in stored_fields(project, LAYER):
        committees = read_layer(project, LAYER, where="category = '群众自治组织'", columns=("district", "name"),
                                geometry=False)
        for code, name in zip(committees["district"], committees["name"]):
            names.setdefault(code, name)
    return names


# --- reading the project as form rows --------------------------------------------------------

def _dms(value: float) -> str:
    degrees = int(value)
    minutes_all = (value - degrees) * 60
    minutes = int(minutes_all)
    seconds = round((minutes_all - minutes) * 60, 2)
    if seconds >= 60:
        minutes, seconds = minutes + 1, 0.0
    if minutes >= 60:
        degrees, minutes = degrees + 1, 0
    return f"{degrees}°{minutes:02d}′{seconds:05.2f}″"


def _degrees(text: str) -> float:
    """Degrees from ``120°12′59.76″`` or a decimal number; ValueError otherwise."""
    text = str(text).strip()
    try:
        return float(text)
    except ValueError:
        pass
    match = _DMS.match(text)
    if not match:
        raise ValueError(f"{text!r} 不是经纬度 (如 120°12′59.76″ 或 120.2166)")
    d, m, s = (float(g) if g else 0.0 for g in match.groups())
    if m >= 60 or s >= 60:
        raise ValueError(f"{text!r}: 分、秒应小于 60")
    return d + m / 60 + s / 3600


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
    try:
        if value != value:  # pandas NA
            return ""
    except (TypeError, ValueError):
        return ""
    return str(value)


def form_row(record: dict, geom) -> dict:
    """One name as the form's text values, by header (every header of :func:`headers`)."""
    import shapely

    from diming.geonames.categories import name_of
    from diming.layers.schema import get_layer, label

    layer = get_layer(LAYER)
    row = {}
    for header, field in FORM:
        if field == "in_use":  # 现今地名 / 历史地名, the schema's labels of the codes
            row[header] = label(_text(record.get("in_use")))
        elif field == "category":
            row[header] = name_of(_text(record.get("category")))
        elif field:
            row[header] = _text(record.get(field))
    empty = geom is None or geom.is_empty
    if not empty:
        minx, miny, maxx, maxy = geom.bounds
        if geom.geom_type == "Point":
            row.update({"东经": _dms(minx), "至东经": "", "北纬": _dms(miny), "至北纬": ""})
        else:
            row.update({"东经": _dms(minx), "至东经": _dms(maxx), "北纬": _dms(miny), "至北纬": _dms(maxy)})
    else:
        row.update({"东经": "", "至东经": "", "北纬": "", "至北纬": ""})
    row["坐标系"] = "" if empty else "2000"
    for f in extra_fields():
        value = _text(record.get(f))
        row[layer.field(f).alias] = {"1": "是", "0": "否"}.get(value, value) if f == "rural" else value
    row["wkt"] = "" if empty else shapely.to_wkt(geom, rounding_precision=8)
    return row


def project_rows(project, *, roads: bool = True) -> list[dict]:
    """Every gazetteer name of the project as form rows, then (``roads``) the roads in use."""
    from diming.layers.store import read_layer, stored_fields

    rows = []
    if "category" in stored_fields(project, LAYER):
        names = read_layer(project, LAYER)
        for record, geom in zip(names.drop(columns="geometry").to_dict("records"), names.geometry.values):
            rows.append(form_row(record, geom))
    if roads:
        frame = read_layer(project, "roads", where="status = 'in_use'")
        for r, geom in zip(frame.drop(columns="geometry").to_dict("records"), frame.geometry.values):
            ends = "至".join(_text(r.get(k)) for k in ("start_desc", "end_desc") if _text(r.get(k)))
            rows.append(form_row({"place_id": r["road_id"], "name": r["name"], "pinyin": r.get("pinyin"),
                                  "in_use": "current", "named_on": r.get("approved_on"), "category": "交通运输设施",
                                  "meaning": r.get("meaning"), "history": r.get("origin"),
                                  "description": f"起于{ends}" if ends else None, "district": r.get("district")},
                                 geom))
    return rows


# --- writing and reading form files ---------------------------------------------------------

def export_form(project, output) -> int:
    """Write the gazetteer (with the roads in use) as a registration-form table, ``.xlsx`` or
    ``.csv`` (UTF-8 with BOM); returns the number of rows."""
    output = Path(output)
    if output.suffix.lower() not in (".xlsx", ".csv"):
        raise DimingError(f"{output}: 登记表只能导出为 .xlsx 或 .csv")
    rows = project_rows(project)
    write_form(rows, output)
    return len(rows)


def write_form(rows: list[dict], output) -> None:
    from diming.layers.exports import border, neutralise, print_setup, replacing, text_cell, text_width

    output = Path(output)
    columns = headers()
    with replacing(output) as partial:
        if output.suffix.lower() == ".csv":
            import csv

            with open(partial, "w", newline="", encoding="utf-8-sig") as out:
                writer = csv.writer(out)
                writer.writerow(columns)
                writer.writerows([neutralise(r.get(c, "")) for c in columns] for r in rows)
        else:
            from openpyxl import Workbook

            book = Workbook(write_only=True)
            sheet = book.create_sheet("地名登记表")
            print_setup(sheet, [text_width([c, *(r.get(c) for r in rows[:1000])], most=40) for c in columns],
                        header_rows=(1, 1), freeze="C2")  # 地名代码 and 标准名称 stay in view
            grid = border()
            sheet.append([text_cell(sheet, c, grid) for c in columns])
            for r in rows:
                sheet.append([text_cell(sheet, r.get(c) or None, grid) for c in columns])
            book.save(partial)


def read_form(path) -> tuple[list[dict], list[str]]:
    """The rows of a registration-form file as {header: text}, and their row labels (第 N 行)."""
    from diming.layers.exports import restore
    from diming.layers.sources import read_source

    source = read_source(path, geometry=False)
    missing = [h for h in ("地名代码", "标准名称", "类别") if h not in source.columns]
    if missing:
        raise DimingError(f"{Path(path).name}: 缺少登记表字段 {', '.join(missing)} (not a registration form)")
    rows, labels = [], []
    for batch in source.batches():  # read as it streams; a form holds at most a district's names
        for i, number in enumerate(batch.numbers):
            rows.append({str(c): restore(_text(values[i]).strip()) for c, values in batch.columns.items()})
            labels.append(source.label(number))
    return rows, labels


def _record(row: dict, where: str, errors: list) -> dict | None:
    """A layer record from a form row; problems are appended to ``errors`` (one line each)."""
    import shapely

    from diming.geonames.categories import categories
    from diming.layers.imports import _convert
    from diming.layers.schema import get_layer

    layer = get_layer(LAYER)
    by_name = {name: code for code, (name, _) in categories().items()}
    record, ok = {}, True
    fields = [(h, f) for h, f in FORM if f] + [(layer.field(f).alias, f) for f in extra_fields()]
    for header, field in fields:
        value = row.get(header, "")
        try:
            if field == "in_use" and value:
                if value not in _USE_CODES:
                    raise ValueError(f"{value!r} 应为 现今地名 或 历史地名")
                value = _USE_CODES[value]
            elif field == "category" and value:
                value = value.split()[0] if value.split()[0] in categories() else by_name.get(value, value)
            elif field == "rural" and value:
                value = {"是": 1, "否": 0}.get(value, value)
            record[field] = _convert(layer.field(field), value)
            if record[field] is None:
                record[field] = layer.field(field).default  # 使用时间 left blank: a name in use
            if record[field] is None and layer.field(field).required:
                raise ValueError("必填字段为空 (required)")
        except ValueError as exc:
            errors.append(f"{where}, 字段 {header}: {exc}")
            ok = False
    crs = row.get("坐标系", "")
    if crs and crs not in ("2000", "CGCS2000", "4490"):
        errors.append(f"{where}, 字段 坐标系: {crs!r} 应为 2000 (CGCS2000)")
        ok = False
    try:
        record["geometry"] = _geometry(row)
    except ValueError as exc:
        errors.append(f"{where}, 字段 {exc.args[0]}: {exc.args[1]}")
        ok = False
    geom = record.get("geometry")
    if geom is not None and not shapely.is_valid(geom):
        errors.append(f"{where}, 字段 wkt: 几何无效 ({shapely.is_valid_reason(geom)})")
        ok = False
    return record if ok else None


def _geometry(row: dict):
    """The geometry of a form row: its ``wkt``, else the point (or the centre of the range) of
    its 经纬度; None when it has neither. ValueError((header, reason)) on bad values."""
    import shapely

    from diming.layers.crs import inside_china

    wkt = row.get("wkt", "")
    if wkt:
        try:
            geom = shapely.from_wkt(wkt)
        except shapely.errors.GEOSException:
            raise ValueError("wkt", "不是有效的 WKT") from None
        promote = {"LineString": shapely.MultiLineString, "Polygon": shapely.MultiPolygon}
        if geom.geom_type in promote:
            geom = promote[geom.geom_type]([geom])
        if geom.geom_type not in ("Point", "MultiLineString", "MultiPolygon"):
            raise ValueError("wkt", f"几何类型 {geom.geom_type} 不符 (点、线或面)")
    elif row.get("东经") or row.get("北纬"):
        try:
            lon = [_degrees(row[h]) for h in ("东经", "至东经") if row.get(h)]
            lat = [_degrees(row[h]) for h in ("北纬", "至北纬") if row.get(h)]
        except ValueError as exc:
            raise ValueError("经纬度", str(exc)) from None
        if not lon or not lat:
            raise ValueError("经纬度", "东经与北纬须同时填写")
        geom = shapely.Point(sum(lon) / len(lon), sum(lat) / len(lat))
    else:
        return None
    minx, miny, maxx, maxy = geom.bounds
    if not inside_china([minx, maxx], [miny, maxy]).all():
        raise ValueError("经纬度", f"坐标超出中国范围 ({minx:.4f}, {miny:.4f}): 经度纬度是否颠倒?")
    return geom


def import_form(project, path, *, by=None) -> dict:
    """Load a registration-form file (an export of the national database, or of diming) into the
    gazetteer: new 地名代码 are added, known ones updated (upsert), rows of roads in use skipped
    (they are kept in ``roads``). Every row is checked first — fields, category, dates, the
    地名代码 against ``place_id_pattern`` — and nothing is written unless all pass. Missing pinyin
    is spelt by the place-name rules. Returns ``{"rows", "inserted", "updated", "unchanged", "roads"}``."""
    from diming.geonames.pinyin import parse_overrides, spell
    from diming.layers.imports import ImportFailed
    from diming.layers.settings import get_settings
    from diming.layers.store import read_layer, transaction

    settings = get_settings(project)
    pattern = compile_pattern(settings["place_id_pattern"])
    overrides = parse_overrides(settings["pinyin_overrides"])
    rows, labels = read_form(path)
    roads = set(read_layer(project, "roads", columns=("road_id",), geometry=False)["road_id"])
    name = Path(path).name
    errors, records, seen, skipped = [], [], {}, 0
    for i, row in enumerate(rows):
        where = f"{name}: {labels[i]}"
        if row.get("地名代码") in roads:
            skipped += 1
            continue
        record = _record(row, where, errors)
        if record is None:
            continue
        problem = id_problem(record, pattern)
        if problem:
            errors.append(f"{where}, 字段 地名代码: {problem}")
            continue
        if record["place_id"] in seen:
            errors.append(f"{where}, 字段 地名代码: {record['place_id']} 重复, 与{seen[record['place_id']]}相同")
            continue
        seen[record["place_id"]] = labels[i]
        if not record.get("pinyin"):
            record["pinyin"] = spell(record["name"], overrides)
        records.append(record)
    if errors:
        raise ImportFailed(errors)
    result = {"rows": len(rows), "inserted": 0, "updated": 0, "unchanged": 0, "roads": skipped}
    note = f"导入登记表 {name}"
    with transaction(project, by=by) as tx:
        existing = tx.keys(LAYER)
        new = [r for r in records if r["place_id"] not in existing]
        for r in records:
            if r["place_id"] in existing:
                if _changed(tx.get(LAYER, r["place_id"]), r):
                    tx.update(LAYER, r["place_id"], {k: v for k, v in r.items() if k != "place_id"}, note=note)
                    result["updated"] += 1
                else:
                    result["unchanged"] += 1
        result["inserted"] = tx.insert(LAYER, new, note=note)
    return result


def _changed(stored: dict, record: dict) -> bool:
    import shapely

    for key, value in record.items():
        if key == "geometry":
            old = stored.get("geometry")
            if (value is None) != (old is None) or (value is not None and not shapely.equals_exact(
                    shapely.from_wkt(old), value, tolerance=1e-8)):
                return True
        elif _text(stored.get(key)) != _text(value):
            return True
    return False


# --- the update a district sends: gazetteer diff ----------------------------------------------

def diff(old, new=None, *, project=None) -> dict:
    """Names added, changed (which fields) and abolished between two registration-form files, or
    between a file and the project (``new`` None). A name is abolished when it is gone, or when
    it turned historical (使用时间 历史地名) or got a 废止年份.

    Returns ``{"added": [{"id", "name"}], "changed": [{"id", "name", "fields": [header, …]}],
    "abolished": [{"id", "name"}]}``, each sorted by 地名代码.
    """
    def table(rows):
        return {r.get("地名代码", ""): r for r in rows if r.get("地名代码")}

    before = table(read_form(old)[0])
    after = table(read_form(new)[0] if new is not None else project_rows(project))
    def gone(r):
        return r.get("使用时间") == "历史地名" or bool(r.get("废止年份"))

    out = {"added": [], "changed": [], "abolished": []}
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        if a is None:
            out["added"].append({"id": key, "name": b.get("标准名称", "")})
        elif b is None or (gone(b) and not gone(a)):
            out["abolished"].append({"id": key, "name": (b or a).get("标准名称", "")})
        else:
            fields = [h for h in headers() if _differs(h, a.get(h, ""), b.get(h, ""))]
            if fields:
                out["changed"].append({"id": key, "name": b.get("标准名称", ""), "fields": fields})
    return out


def _differs(header: str, a: str, b: str) -> bool:
    """Whether two values of a column differ (geometry compared as geometry, not as text)."""
    if header != "wkt":
        return (a or "").strip() != (b or "").strip()
    import shapely

    if not a or not b:
        return bool(a) != bool(b)
    return not shapely.equals_exact(shapely.from_wkt(a), shapely.from_wkt(b), tolerance=1e-8)
