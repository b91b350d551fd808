"""Sign patrols (路牌巡查): a district's patrol of its road signs, one record per sign per patrol.

Like a joint-inspection round: a patrol (``<year>-<n>``) covers the signs of some divisions for a
period; each sign gets at most one record per patrol (key ``<patrol>/<sign>``), so bringing the
same sheet back twice changes nothing; earlier patrols stay as the sign's history. A sign's
``condition`` follows its latest record (完好 after a repair on the spot: 清洗, 扶正), and a
record finding it 完好 again closes the repair of an earlier one (``fixed_on``).
"""
from __future__ import annotations

import datetime as dt
import json

from diming.errors import DimingError
from diming.geonames.signs import SPOT_ACTIONS
from diming.layers.dates import date_option as _date
from diming.layers.entrysheet import blank as _blank, cell_text as _text
from diming.layers.schema import SIGN_ACTIONS, SIGN_CONDITIONS

# The field sheet's columns, in order: (field, heading). Key columns come from the project and are
# protected in the XLSX; entry columns are filled in the field and read back by import_results.
KEY_COLUMNS = (
    ("district", "所属政区"), ("road_name", "道路名称"), ("sign_id", "路牌编号"), ("sign_type", "路牌类型"),
    ("text", "牌面名称"), ("pinyin", "牌面拼音"), ("facing", "牌面朝向"), ("lon", "经度"), ("lat", "纬度"),
    ("last_condition", "上次状况"),
)
ENTRY_COLUMNS = (
    ("patrolled_on", "巡查日期"), ("condition", "现状"), ("action", "处理"), ("photo", "照片"),
    ("patroller", "巡查人"), ("notes", "备注"),
)
REQUIRED = ("sign_id", "condition", "patrolled_on")


def get_patrol(project, patrol_id: str) -> dict:
    """The patrol ``patrol_id`` as a dict (``districts`` decoded), or a clear error."""
    from diming.layers.store import read_layer

    patrols = read_layer(project, "sign_patrols")
    hit = patrols[patrols.patrol_id == patrol_id]
    if hit.empty:
        raise DimingError(f"没有路牌巡查 {patrol_id} (no such patrol); 已有: {', '.join(patrols.patrol_id) or '无'}")
    row = hit.iloc[0].to_dict()
    row["districts"] = json.loads(row["districts"])
    return row


def patrol_signs(project, patrol: dict):
    """The signs a patrol covers, with their division code (``district``) and road name, by division, road, sign."""
    from diming.geonames.signs import divisions, in_districts
    from diming.layers.store import read_layer

    signs = read_layer(project, "road_signs")
    signs["district"] = divisions(project, signs) if len(signs) else []
    signs = signs[in_districts(signs["district"], patrol["districts"])] if len(signs) else signs
    roads = read_layer(project, "roads", columns=["road_id", "name"], geometry=False).set_index("road_id").name
    signs["road_name"] = [roads.get(r, "") for r in signs.road_id]
    return signs.sort_values(["district", "road_name", "sign_id"]).reset_index(drop=True)


def new_patrol(project, year: int, name: str, districts, *, starts_on=None, ends_on=None, by=None) -> dict:
    """Open a patrol of year ``year`` over the signs of ``districts`` (division codes; a county
    covers its towns). It runs the calendar year unless ``starts_on``/``ends_on`` say otherwise."""
    from diming.layers.store import transaction

    if not districts:
        raise DimingError("请给出巡查的政区 --districts (division codes)")
    starts = _date(starts_on, "开始日期") if starts_on else dt.date(year, 1, 1)
    ends = _date(ends_on, "结束日期") if ends_on else dt.date(year, 12, 31)
    if ends < starts:
        raise DimingError(f"结束日期 {ends} 早于开始日期 {starts} (patrol ends before it starts)")
    record = {"name": name, "districts": json.dumps(list(dict.fromkeys(districts)), ensure_ascii=False),
              "starts_on": starts.isoformat(), "ends_on": ends.isoformat(), "status": "active"}
    if not len(patrol_signs(project, record | {"districts": list(districts)})):
        raise DimingError(f"区划 {', '.join(districts)} 没有登记的路牌 (no sign registered in these divisions)")
    with transaction(project, by=by) as tx:
        taken = tx.keys("sign_patrols")
        n = 1
        while f"{year}-{n}" in taken:
            n += 1
        record["patrol_id"] = f"{year}-{n}"
        tx.insert("sign_patrols", [record], note=f"新建路牌巡查 {name}")
    return record | {"districts": list(dict.fromkeys(districts))}


def close_patrol(project, patrol_id: str, *, by=None) -> dict:
    from diming.layers.store import transaction

    patrol = get_patrol(project, patrol_id)
    if patrol["status"] == "closed":
        raise DimingError(f"路牌巡查 {patrol_id} 已结束 (patrol already closed)")
    with transaction(project, by=by) as tx:
        tx.update("sign_patrols", patrol_id, {"status": "closed"}, note=f"结束路牌巡查 {patrol['name']}")
    return patrol | {"status": "closed"}


def patrol_progress(project, patrol_id: str) -> dict:
    """Signs patrolled / total, per division and in total."""
    from diming.layers.store import read_layer

    patrol = get_patrol(project, patrol_id)
    signs = patrol_signs(project, patrol)
    done = set(read_layer(project, "sign_patrol_records", where="patrol_id = ? AND condition IS NOT NULL",
                          params=(patrol_id,), columns=["sign_id"]).sign_id)
    per = []
    for code, group in signs.groupby("district", sort=True):
        per.append({"district": code, "patrolled": int(group.sign_id.isin(done).sum()), "total": len(group)})
    return {**patrol, "divisions": per, "patrolled": sum(p["patrolled"] for p in per),
            "total": sum(p["total"] for p in per)}


def list_patrols(project) -> list[dict]:
    from diming.layers.store import read_layer

    return [patrol_progress(project, p) for p in read_layer(project, "sign_patrols").patrol_id]


def sign_history(project, sign_id: str) -> list[dict]:
    """The patrol records of one sign, oldest first."""
    from diming.layers.store import read_layer

    from diming.geonames.proposals import plain

    records = read_layer(project, "sign_patrol_records", where="sign_id = ?", params=(sign_id,))
    return [{k: plain(v) for k, v in r.items()} for r in records.sort_values(["patrolled_on", "patrol_id"]).to_dict("records")]


# --- validating and recording results -------------------------------------------------------------

def _parse_row(row: dict, patrol: dict) -> dict | None:
    """One sheet row as a record (raises DimingError naming the field); None when nothing was entered."""
    headings = dict(KEY_COLUMNS + ENTRY_COLUMNS)
    if all(_blank(row.get(f)) for f, _ in ENTRY_COLUMNS):
        return None
    out = {"sign_id": _text(row.get("sign_id"), headings["sign_id"])}
    if out["sign_id"] is None:
        raise DimingError("路牌编号: 为空 (no sign number)")
    condition = _text(row.get("condition"), headings["condition"])
    if condition is None:
        raise DimingError(f"{headings['condition']}: 为空 (condition missing)")
    if condition not in SIGN_CONDITIONS:
        raise DimingError(f"{headings['condition']}: 未知状况 {condition!r}; 可选 {'、'.join(SIGN_CONDITIONS)}")
    out["condition"] = condition
    if _blank(row.get("patrolled_on")):
        raise DimingError(f"{headings['patrolled_on']}: 为空 (date missing)")
    day = _date(row["patrolled_on"], headings["patrolled_on"])
    if not patrol["starts_on"] <= day.isoformat() <= patrol["ends_on"]:
        raise DimingError(f"{headings['patrolled_on']}: {day} 不在巡查期 {patrol['starts_on']}—{patrol['ends_on']} 之内 "
                          "(date outside the patrol)")
    out["patrolled_on"] = day.isoformat()
    action = _text(row.get("action"), headings["action"])
    if action is not None and action not in SIGN_ACTIONS:
        raise DimingError(f"{headings['action']}: 未知处理 {action!r}; 可选 {'、'.join(SIGN_ACTIONS)}")
    if condition != "完好" and action in (None, "无需处理"):
        raise DimingError(f"{headings['action']}: 路牌{condition}, 须填写处理 (清洗、扶正、更换、新设或上报市局)")
    out["action"] = action
    for f in ("photo", "patroller", "notes"):
        out[f] = _text(row.get(f), headings[f])
    return out


def validate_results(project, patrol_id: str, rows: list[dict]) -> tuple[list[dict], list[str]]:
    """Check every row of a patrol sheet; returns (records ready to write, problems ``第N行 字段: 原因``)."""
    patrol = get_patrol(project, patrol_id)
    covered = set(patrol_signs(project, patrol).sign_id)
    problems, records, seen = [], [], {}
    for row in rows:
        where = f"第{row['_row']}行"
        try:
            record = _parse_row(row, patrol)
        except DimingError as exc:
            problems.append(f"{where} {exc}")
            continue
        if record is None:
            continue
        sign_id = record["sign_id"]
        if sign_id not in covered:
            problems.append(f"{where} 路牌编号: {sign_id} 不是本次巡查范围内的路牌 (unknown sign or not in the patrol)")
            continue
        if sign_id in seen:
            problems.append(f"{where} 路牌编号: {sign_id} 与第{seen[sign_id]}行重复 (sign twice in the sheet)")
            continue
        seen[sign_id] = row["_row"]
        records.append(record)
    return records, problems


def record_results(project, patrol_id: str, records: list[dict], *, by=None, note=None) -> dict:
    """Write validated records in one transaction: new ones added, changed ones updated, equal ones
    left. Each touched sign's ``condition`` follows its latest record; a latest record of 完好
    closes the open repairs of earlier ones. Returns ``{"added", "changed", "unchanged"}``."""
    from diming.layers.store import transaction

    fields = ("patrolled_on", "condition", "action", "photo", "patroller", "notes")
    counts = {"added": 0, "changed": 0, "unchanged": 0}
    with transaction(project, by=by) as tx:
        for r in records:
            key = f"{patrol_id}/{r['sign_id']}"
            record = {f: r.get(f) for f in fields} | {"record_id": key, "patrol_id": patrol_id, "sign_id": r["sign_id"]}
            before = tx.get("sign_patrol_records", key)
            if before is None:
                tx.insert("sign_patrol_records", [record], note=note)
                counts["added"] += 1
                continue
            changes = {f: record[f] for f in fields if before.get(f) != record[f]}
            if changes:
                tx.update("sign_patrol_records", key, changes, note=note)
                counts["changed"] += 1
            else:
                counts["unchanged"] += 1
        for sign_id in sorted({r["sign_id"] for r in records}):
            condition, on, action = tx.con.execute(
                "SELECT condition, patrolled_on, action FROM sign_patrol_records WHERE sign_id = ? "
                "AND condition IS NOT NULL ORDER BY patrolled_on DESC, fid DESC LIMIT 1", (sign_id,)).fetchone()
            state = "完好" if action in SPOT_ACTIONS else condition  # cleaned or set upright on the spot
            if state == "完好":
                for (key,) in tx.con.execute(
                        "SELECT record_id FROM sign_patrol_records WHERE sign_id = ? AND fixed_on IS NULL "
                        "AND condition != '完好' AND patrolled_on < ?", (sign_id, on)).fetchall():
                    tx.update("sign_patrol_records", key, {"fixed_on": on}, action="repair",
                              note=f"巡查 {patrol_id}: 路牌已完好")
            if tx.get("road_signs", sign_id)["condition"] != state:
                tx.update("road_signs", sign_id, {"condition": state}, note=f"路牌巡查 {patrol_id}: 现状随最新记录更新")
    return counts


def import_results(project, patrol_id: str, path, *, by=None) -> dict:
    """Bring a filled patrol sheet (XLSX or CSV) back: validate every row, then write all or nothing."""
    from pathlib import Path

    from diming.boundaries.sheetio import read_sheet

    path = Path(path)
    rows = read_sheet(path, KEY_COLUMNS + ENTRY_COLUMNS, REQUIRED)
    records, problems = validate_results(project, patrol_id, rows)
    if problems:
        raise DimingError(f"{path}: {len(problems)} 处错误, 未写入任何记录 (nothing written): " + "; ".join(problems))
    counts = record_results(project, patrol_id, records, by=by, note=f"导入 {path.name}")
    return counts | {"rows": len(records)}
