"""Field values (字段取值): no row is left out of a rule silently because a field it depends on
holds no valid value.

Rules select features by their fields (roads ``status = 'in_use'`` take part in the name rules,
open proposals by ``status`` …). diming writes only valid values (the import checks every row; the
store fills schema defaults), but a desktop GIS or a script editing the GeoPackage writes what it
likes: ``condition = '坏了'``, a NULL ``status``, ``approved_on = '2024/13/01'``. Such a row is
reported here (``field.invalid``) instead of simply not matching. One SQL scan per layer; the test
of each field is an SQL expression, so a million roads take a fraction of a second.
"""
from __future__ import annotations

from diming.findings import Finding

RULES = {"field.invalid": "error"}
DATE_FORMAT = "YYYY-MM-DD"


def check(data, rules=frozenset(RULES)) -> list[Finding]:
    from diming.layers.schema import LAYERS

    return [f for layer in LAYERS.values() if not layer.system for f in check_layer(data.project, layer.name)]


def check_layer(project, name: str, keys=None) -> list[Finding]:
    """The findings of one layer; ``keys``: of its features with these keys only (``diming check
    --changed`` after edits of a few features)."""
    from diming.layers.schema import get_layer
    from diming.layers.store import stored_fields

    layer = get_layer(name)
    present = set(stored_fields(project, layer.name))
    tests = [(f, kind, sql) for f in layer.fields if f.name in present for kind, sql in _tests(f)]
    if not tests or (keys is not None and not keys):
        return []
    return _findings(project, layer, tests, present, keys)


def _tests(f):
    """(kind, SQL expression true when the value of ``f`` is not valid) for each test the field takes:
    ``empty`` for a required field or one with a default (rules select on it), ``choice`` for a
    value outside its listed values, ``date`` for a DATE that is not an ISO date."""
    from diming.layers.gpkg import quote

    column = quote(f.name)
    empty = f"({column} IS NULL OR trim({column}) = '')"
    if f.required or f.default is not None:
        yield "empty", empty
    if f.choices:
        listed = ", ".join("'" + c.replace("'", "''") + "'" for c in f.choices)
        yield "choice", f"(NOT {empty} AND {column} NOT IN ({listed}))"
    if f.type == "DATE":
        # date(julianday(x)) gives x back only for a real calendar date written YYYY-MM-DD (not 2024-02-30)
        yield "date", f"(NOT {empty} AND (typeof({column}) != 'text' OR date(julianday({column})) IS NOT {column}))"


def _findings(project, layer, tests, present, keys=None) -> list[Finding]:
    import json

    from diming.layers import gpkg
    from diming.layers.store import connect

    key = layer.key if layer.key in present else None
    named = "name" in present
    columns = ["fid", gpkg.quote(key) if key else "NULL", "name" if named else "NULL",
               *(gpkg.quote(f.name) for f, _, _ in tests), *(sql for _, _, sql in tests)]
    spatial = bool(layer.geometry)
    if spatial:
        columns.append("geom")
    where, params = f"({' OR '.join(sql for _, _, sql in tests)})", ()
    if keys is not None:  # through the layer's unique index on its key
        where, params = f"{where} AND {gpkg.quote(key)} IN (SELECT value FROM json_each(?))", (json.dumps(sorted(keys)),)
    sql = f"SELECT {', '.join(columns)} FROM {gpkg.quote(layer.name)} WHERE {where} ORDER BY fid"
    con = connect(project)
    try:
        rows = con.execute(sql, params).fetchall()
    finally:
        con.close()
    geoms = gpkg.decode([r[-1] for r in rows]) if spatial else [None] * len(rows)
    out = []
    n = len(tests)
    for row, geom in zip(rows, geoms):
        fid, feature_key, name = row[:3]
        values, bad = row[3:3 + n], row[3 + n:3 + 2 * n]
        for (f, kind, _), value, failed in zip(tests, values, bad):
            if failed:
                out.append(_finding(layer, f, kind, value, fid, feature_key, name, geom))
    return out


def _allowed(f) -> list[str] | None:
    if f.choices:
        return list(f.choices)
    return [DATE_FORMAT] if f.type == "DATE" else None


def _finding(layer, f, kind, value, fid, key, name, geom) -> Finding:
    from diming.layers.schema import label

    allowed = _allowed(f)
    if isinstance(value, bytes):  # a BLOB where text belongs: shown, and written to JSON, as text
        value = value.decode("utf-8", "replace")
    listed = "、".join(c if label(c) == c else f"{c} ({label(c)})" for c in allowed or ())
    where = f"{layer.alias} 字段 {f.alias} ({f.name})"
    if kind == "empty" and f.required:
        message = f"{where} 为空: 必填字段 (required)"
    elif kind == "empty":
        message = f"{where} 为空, 应为 {listed} 之一 (diming 写入时默认 {f.default}); 为空时按此字段选取要素的检查都不包括它"
    elif kind == "choice":
        message = f"{where} 的值 {value!r} 不是允许的值; 应为 {listed} 之一"
    else:
        message = f"{where} 的值 {value!r} 不是日期, 应写作 {DATE_FORMAT}"
    # a row without its key (itself a finding) is named by its row number in the file
    ident = str(key) if key not in (None, "") else f"fid {fid}"
    return Finding("field.invalid", "error", layer.name, ident, name, f"{message} (field.invalid)", geometry=geom,
                   details={"field": f.name, "value": value, "allowed": allowed})
