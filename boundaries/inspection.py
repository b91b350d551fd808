"""Boundary joint inspection (界线联合检查, 联检): rounds, per-marker records, the marker's current state.

A round (联检轮次, e.g. 第七轮2024年度) covers some boundary lines for one year. Each marker gets at
most one record per round (key ``<round>/<marker>``), so bringing the same sheet back twice changes
nothing; records of earlier rounds stay as the marker's history. A marker's ``condition`` always
follows its latest record (by inspection date).
"""
from __future__ import annotations

import datetime as dt
import json
import math

from diming.errors import DimingError
from diming.layers.dates import date_option as _date
from diming.layers.entrysheet import blank as _blank, cell_text as _text
from diming.layers.schema import INSPECTION_ACTIONS, MARKER_CONDITIONS

# what an inspector may enter; 未检 (not inspected) is what an empty row means
ENTRY_CONDITIONS = tuple(c for c in MARKER_CONDITIONS if c != "未检")
YES_NO = ("是", "否")

# The field sheet's columns, in order: (field, heading). Key columns come from the project and are
# protected in the XLSX; entry columns are filled in the field and read back by import_results.
KEY_COLUMNS = (
    ("line_id", "界线编号"), ("marker_id", "界桩编号"), ("marker_type", "界桩类型"), ("material", "材质"),
    ("x", "登记X(北)"), ("y", "登记Y(东)"), ("plane_crs", "平面坐标系EPSG"),
    ("lon", "经度"), ("lat", "纬度"), ("location", "位置说明"), ("last_condition", "上次状况"),
)
ENTRY_COLUMNS = (
    ("inspected_on", "检查日期"), ("condition", "界桩状况"), ("references_complete", "方位物完好"),
    ("line_recognisable", "界线走向清楚"), ("measured_x", "实测X(北)或经度"),
    ("measured_y", "实测Y(东)或纬度"), ("measured_crs", "实测坐标系EPSG"), ("action", "处理意见"),
    ("inspectors_left", "左侧检查人"), ("inspectors_right", "右侧检查人"), ("photos", "照片"), ("notes", "备注"),
)


def condition_note(round_id: str) -> str:
    """The audit note of a marker's condition changed by the results of round ``round_id``."""
    return f"联检 {round_id}: 现状随最新检查记录更新"


def new_marker_note(round_id: str) -> str:
    """The audit note of a marker added by the results of round ``round_id`` (新设)."""
    return f"联检 {round_id}: 新设界桩"


def _rounds(project):
    from diming.layers.store import read_layer

    return read_layer(project, "inspection_rounds")


def get_round(project, round_id: str) -> dict:
    """The round ``round_id`` as a dict (``line_ids`` decoded), or a clear error."""
    rounds = _rounds(project)
    hit = rounds[rounds.round_id == round_id]
    if hit.empty:
        known = ", ".join(rounds.round_id) or "无"
        raise DimingError(f"没有联检轮次 {round_id} (no such round); 已有: {known}")
    row = hit.iloc[0].to_dict()
    row["line_ids"] = json.loads(row["line_ids"])
    row["year"] = int(row["year"])
    return row


def new_round(project, year: int, name: str, *, lines=None, counties=None, starts_on=None, ends_on=None,
              by=None) -> dict:
    """Open a round of year ``year`` over ``lines`` (line ids) or every line touching ``counties``.

    The round runs the calendar year unless ``starts_on``/``ends_on`` (ISO dates) say otherwise;
    its id is ``<year>-<n>``, n counting the rounds of that year.
    """
    from diming.layers.store import read_layer, transaction

    all_lines = read_layer(project, "boundary_lines", columns=["line_id", "left_code", "right_code"])
    if bool(lines) == bool(counties):
        raise DimingError("请给出 --lines 或 --counties 之一 (give the lines or the counties of the round)")
    if lines:
        unknown = [line for line in lines if line not in set(all_lines.line_id)]
        if unknown:
            raise DimingError(f"未知界线 {', '.join(unknown)} (unknown boundary line)")
        line_ids = list(dict.fromkeys(lines))
    else:
        touching = all_lines[all_lines.left_code.isin(counties) | all_lines.right_code.isin(counties)]
        if touching.empty:
            raise DimingError(f"区划 {', '.join(counties)} 没有界线 (no boundary line of these divisions)")
        line_ids = list(touching.line_id)
    starts_on = _date(starts_on, "开始日期") if starts_on else dt.date(year, 1, 1)
    ends_on = _date(ends_on, "结束日期") if ends_on else dt.date(year, 12, 31)
    if ends_on < starts_on:
        raise DimingError(f"结束日期 {ends_on} 早于开始日期 {starts_on} (round ends before it starts)")
    with transaction(project, by=by) as tx:
        taken = tx.keys("inspection_rounds")
        n = 1
        while f"{year}-{n}" in taken:
            n += 1
        record = {"round_id": f"{year}-{n}", "name": name, "year": year,
                  "line_ids": json.dumps(line_ids, ensure_ascii=False), "starts_on": starts_on.isoformat(),
                  "ends_on": ends_on.isoformat(), "status": "active"}
        tx.insert("inspection_rounds", [record], note=f"新建联检轮次 {name}")
    record["line_ids"] = line_ids
    return record


def close_round(project, round_id: str, *, by=None) -> dict:
    """Close a round: its markers without a record stop being reported as ``inspection.missing``."""
    from diming.layers.store import transaction

    rnd = get_round(project, round_id)
    if rnd["status"] == "closed":
        raise DimingError(f"联检轮次 {round_id} 已结束 (round already closed)")
    with transaction(project, by=by) as tx:
        tx.update("inspection_rounds", round_id, {"status": "closed"}, note=f"结束联检轮次 {rnd['name']}")
    return rnd | {"status": "closed"}


def round_progress(project, round_id: str) -> dict:
    """Markers inspected / total, per line of the round and in total."""
    from diming.layers.store import read_layer

    rnd = get_round(project, round_id)
    lines = read_layer(project, "boundary_lines", columns=["line_id", "name"]).set_index("line_id").name
    markers = read_layer(project, "boundary_markers", columns=["marker_id", "line_id"])
    done = set(read_layer(project, "inspections", where="round_id = ? AND condition IS NOT NULL",
                          params=(round_id,), columns=["marker_id"]).marker_id)
    per_line = []
    for line_id in rnd["line_ids"]:
        ids = set(markers[markers.line_id == line_id].marker_id)
        per_line.append({"line_id": line_id, "name": lines.get(line_id), "inspected": len(ids & done),
                         "total": len(ids)})
    return {**rnd, "lines": per_line, "inspected": sum(r["inspected"] for r in per_line),
            "total": sum(r["total"] for r in per_line)}


def list_rounds(project) -> list[dict]:
    """Every round with its progress, in the order they were opened."""
    return [round_progress(project, round_id) for round_id in _rounds(project).round_id]


def marker_history(project, marker_id: str) -> list[dict]:
    """The inspection records of one marker across rounds, oldest first."""
    from diming.layers.store import read_layer

    records = read_layer(project, "inspections", where="marker_id = ?", params=(marker_id,))
    records = records.sort_values(["inspected_on", "round_id"], na_position="first")
    return [{k: v for k, v in r.items() if k != "geometry"} for r in records.to_dict("records")]


# --- validating and recording results -------------------------------------------------------------



def _number(value, label: str):
    if _blank(value):
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        raise DimingError(f"{label}: {value!r} 不是数字 (not a number)") from None
    if not math.isfinite(number):
        raise DimingError(f"{label}: {value!r} 不是数字 (not a number)")
    return number


def _epsg(value, label: str):
    if _blank(value):
        return None
    text = str(value).strip().upper().removeprefix("EPSG:")
    try:
        code = int(float(text))
        from pyproj import CRS

        CRS.from_epsg(code)
    except Exception:
        raise DimingError(f"{label}: {value!r} 不是已知的 EPSG 坐标系代码 (unknown EPSG code)") from None
    return code


def _yes_no(value, label: str):
    if _blank(value):
        return None
    text = str(value).strip()
    if text not in YES_NO:
        raise DimingError(f"{label}: {text!r} 应为 是 或 否 (yes/no)")
    return 1 if text == "是" else 0


def _parse_row(row: dict, rnd: dict) -> dict | None:
    """One sheet row as a record (raises DimingError naming the field); None when nothing was entered."""
    headings = dict(ENTRY_COLUMNS)
    # the CRS column comes pre-filled, so it alone does not make a row entered
    if all(_blank(row.get(f)) for f, _ in ENTRY_COLUMNS if f != "measured_crs"):
        return None
    out = {"marker_id": _text(row.get("marker_id"), "界桩编号")}
    if out["marker_id"] is None:
        raise DimingError("界桩编号: 为空 (no marker number)")
    condition = _text(row.get("condition"), headings["condition"])
    if condition is None:
        raise DimingError(f"{headings['condition']}: 为空 (condition missing)")
    if condition not in ENTRY_CONDITIONS:
        raise DimingError(f"{headings['condition']}: 未知状况 {condition!r}; 可选 {'、'.join(ENTRY_CONDITIONS)}")
    out["condition"] = condition
    if _blank(row.get("inspected_on")):
        raise DimingError(f"{headings['inspected_on']}: 为空 (date missing)")
    day = _date(row["inspected_on"], headings["inspected_on"])
    if not rnd["starts_on"] <= day.isoformat() <= rnd["ends_on"]:
        raise DimingError(f"{headings['inspected_on']}: {day} 不在本轮 {rnd['starts_on']}—{rnd['ends_on']} 之内 "
                          "(date outside the round)")
    out["inspected_on"] = day.isoformat()
    action = _text(row.get("action"), headings["action"])
    if action is not None and action not in INSPECTION_ACTIONS:
        raise DimingError(f"{headings['action']}: 未知处理意见 {action!r}; 可选 {'、'.join(INSPECTION_ACTIONS)}")
    out["action"] = action
    for f in ("references_complete", "line_recognisable"):
        out[f] = _yes_no(row.get(f), headings[f])
    for f in ("measured_x", "measured_y"):
        out[f] = _number(row.get(f), headings[f])
    out["measured_crs"] = _epsg(row.get("measured_crs"), headings["measured_crs"])
    if (out["measured_x"] is None) != (out["measured_y"] is None):
        raise DimingError(f"{headings['measured_x']}/{headings['measured_y']}: 只填了一个 (give both or neither)")
    if out["measured_x"] is not None and out["measured_crs"] is None:
        raise DimingError(f"{headings['measured_crs']}: 为空 (the CRS of the measured position is needed)")
    for f in ("inspectors_left", "inspectors_right", "photos", "notes"):
        out[f] = _text(row.get(f), headings[f])
    return out


def _new_marker(row: dict, record: dict, rnd: dict) -> dict:
    """The marker a row of the sheet's blank rows adds: found or set in the field (新设)."""
    from diming.layers.schema import MARKER_TYPES

    headings = dict(KEY_COLUMNS)
    line_id = _text(row.get("line_id"), headings["line_id"])
    if line_id not in rnd["line_ids"]:
        raise DimingError(f"{headings['line_id']}: {line_id!r} 不是本轮界线 (a new marker needs a line of the round: "
                          f"{', '.join(rnd['line_ids'])})")
    if record["measured_x"] is None:
        raise DimingError(f"{dict(ENTRY_COLUMNS)['measured_x']}: 新设界桩须填实测位置 (a new marker needs its position)")
    marker_type = _text(row.get("marker_type"), headings["marker_type"])
    if marker_type is not None and marker_type not in MARKER_TYPES:
        raise DimingError(f"{headings['marker_type']}: 未知类型 {marker_type!r}; 可选 {'、'.join(MARKER_TYPES)}")
    return {"marker_id": record["marker_id"], "line_id": line_id, "marker_type": marker_type,
            "material": _text(row.get("material"), headings["material"]),
            "location": _text(row.get("location"), headings["location"])}


def _measure(records: list[dict], markers, lines, limit_m: float) -> dict:
    """Displacement (m, in the marker's GK zone) of each measured record; errors for far-off positions.

    Returns {index: error message} for positions farther than ``limit_m`` from the marker's line.
    A new marker has no registered position: its measured one becomes it.
    """
    import shapely
    from shapely.geometry import Point

    from diming.layers.crs import from_lonlat, gk_epsg, gk_zone, project, to_lonlat

    problems = {}
    for i, r in enumerate(records):
        new = r.get("new_marker")
        registered = None if new else markers.loc[r["marker_id"]].geometry
        r["line_id"] = new["line_id"] if new else markers.loc[r["marker_id"]].line_id
        if r["measured_x"] is None:
            r["displacement_m"] = None
            r["geometry"] = registered
            continue
        lon, lat = to_lonlat(r["measured_x"], r["measured_y"], r["measured_crs"])
        if not (math.isfinite(lon) and math.isfinite(lat)):
            problems[i] = "实测位置无法换算 (cannot transform the measured position)"
            continue
        if new:
            registered = Point(lon, lat)
        epsg = gk_epsg(gk_zone(registered.x))
        rx, ry = from_lonlat(registered.x, registered.y, epsg)
        mx, my = from_lonlat(lon, lat, epsg)
        line = lines.loc[r["line_id"]]
        to_line = shapely.distance(Point(my, mx), project([line], epsg)[0])
        if to_line > limit_m:
            problems[i] = (f"实测位置距界线 {to_line:,.0f} 米, 超过 {limit_m:g} 米 "
                           "(measured position far outside the line; wrong CRS or swapped X/Y?)")
            continue
        r["displacement_m"] = round(math.hypot(mx - rx, my - ry), 3)  # 0 for a new marker: it is registered here
        r["geometry"] = Point(lon, lat)
    return problems


def validate_results(project, round_id: str, rows: list[dict]) -> tuple[list[dict], list[str]]:
    """Check every row of a results sheet; returns (records ready to write, problems).

    Each row is a dict of field names (see :data:`ENTRY_COLUMNS`) with ``_row``, its row number in
    the file. A problem reads ``第N行 字段: 原因``. Rows where nothing was entered are skipped.
    """
    from diming.layers.settings import get_settings
    from diming.layers.store import read_layer

    rnd = get_round(project, round_id)
    markers = read_layer(project, "boundary_markers", columns=["marker_id", "line_id"]).set_index("marker_id")
    lines = read_layer(project, "boundary_lines", columns=["line_id"]).set_index("line_id").geometry
    settings = get_settings(project)
    problems, records, rows_of = [], [], []
    seen = {}
    for row in rows:
        where = f"第{row['_row']}行"
        try:
            record = _parse_row(row, rnd)
        except DimingError as exc:
            problems.append(f"{where} {exc}")
            continue
        if record is None:
            continue
        marker_id = record["marker_id"]
        if marker_id not in markers.index and record["condition"] != "新设":
            problems.append(f"{where} 界桩编号: 未知界桩 {marker_id} (unknown marker; 新设界桩的状况填 新设)")
            continue
        if marker_id not in markers.index:
            try:
                record["new_marker"] = _new_marker(row, record, rnd)
            except DimingError as exc:
                problems.append(f"{where} {exc}")
                continue
        elif markers.loc[marker_id, "line_id"] not in rnd["line_ids"]:
            problems.append(f"{where} 界桩编号: {marker_id} 所在界线 {markers.loc[marker_id, 'line_id']} "
                            f"不在轮次 {round_id} 中 (marker not in the round)")
            continue
        if marker_id in seen:
            problems.append(f"{where} 界桩编号: {marker_id} 与第{seen[marker_id]}行重复 (marker twice in the sheet)")
            continue
        seen[marker_id] = row["_row"]
        records.append(record)
        rows_of.append(row["_row"])
    if records:
        far = _measure(records, markers, lines, settings["inspection_position_limit_m"])
        problems += [f"第{rows_of[i]}行 实测位置: {message}" for i, message in far.items()]
    return records, problems


def record_results(project, round_id: str, records: list[dict], *, by=None, note=None) -> dict:
    """Write validated records (from :func:`validate_results`) in one transaction.

    A record already present for the marker in this round is updated when it differs and left alone
    when it is the same. A record of a marker found or set in the field (新设, not yet in the project)
    adds the marker at its measured position. Each touched marker's ``condition`` is then set from
    its latest record. Returns counts ``{"added", "changed", "unchanged", "new_markers"}``.
    """
    from diming.layers.schema import LAYERS
    from diming.layers.store import transaction

    from diming.layers.crs import is_gk_epsg

    fields = LAYERS["inspections"].field_names
    counts = {"added": 0, "changed": 0, "unchanged": 0, "new_markers": 0}
    with transaction(project, by=by) as tx:
        for r in records:
            new = r.get("new_marker")
            if new and tx.get("boundary_markers", r["marker_id"]) is None:
                plane = is_gk_epsg(r["measured_crs"])  # registered plane coordinates only from a GK survey
                tx.insert("boundary_markers", [new | {
                    "x": r["measured_x"] if plane else None, "y": r["measured_y"] if plane else None,
                    "plane_crs": r["measured_crs"] if plane else None, "condition": "新设",
                    "installed_on": r["inspected_on"], "geometry": r["geometry"]}],
                    note=new_marker_note(round_id))
                counts["new_markers"] += 1
            key = f"{round_id}/{r['marker_id']}"
            record = {f: r.get(f) for f in fields} | {"inspection_id": key, "round_id": round_id,
                                                     "geometry": r["geometry"]}
            before = tx.get("inspections", key)
            if before is None:
                tx.insert("inspections", [record], note=note)
                counts["added"] += 1
                continue
            changes = {f: record[f] for f in fields if not _same(before.get(f), record[f])}
            if changes:
                changes["geometry"] = record["geometry"]
                tx.update("inspections", key, changes, note=note)
                counts["changed"] += 1
            else:
                counts["unchanged"] += 1
        for marker_id in sorted({r["marker_id"] for r in records}):
            latest = tx.con.execute(
                "SELECT condition FROM inspections WHERE marker_id = ? AND condition IS NOT NULL "
                "ORDER BY inspected_on DESC, fid DESC LIMIT 1", (marker_id,)).fetchone()
            current = tx.get("boundary_markers", marker_id)
            if latest and current["condition"] != latest[0]:
                tx.update("boundary_markers", marker_id, {"condition": latest[0]}, note=condition_note(round_id))
    return counts


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, (int, float)):
        return abs(a - b) < 1e-9
    return a == b


def import_results(project, round_id: str, path, *, by=None) -> dict:
    """Bring a filled field sheet (XLSX or CSV) back: validate every row, then write all or nothing.

    Returns the counts of :func:`record_results` with ``rows`` and ``displaced``: the markers whose
    measured displacement exceeds ``tolerance_m`` (the ``displacement_tolerance_m`` setting)."""
    from pathlib import Path

    from diming.boundaries.sheetio import read_sheet

    path = Path(path)
    rows = read_sheet(path)
    records, problems = validate_results(project, round_id, rows)
    if problems:
        raise DimingError(f"{path}: {len(problems)} 处错误, 未写入任何记录 (nothing written): " + "; ".join(problems))
    counts = record_results(project, round_id, records, by=by, note=f"导入 {path.name}")
    from diming.layers.settings import get_settings

    tolerance = get_settings(project)["displacement_tolerance_m"]
    displaced = [{"marker_id": r["marker_id"], "displacement_m": r["displacement_m"]} for r in records
                 if r["displacement_m"] is not None and r["displacement_m"] > tolerance]
    return counts | {"rows": len(records), "tolerance_m": tolerance, "displaced": displaced}
