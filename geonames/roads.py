"""Changes to road names in use (更名, 销名, 起止点调整), with the heritage guard: a road whose name
is on the protection list (地名保护名录) is in principle not renamed or cancelled; doing it anyway
needs ``override`` with a recorded reason and the protection measures set first."""
from __future__ import annotations

import datetime as dt

from diming.errors import DimingError


def protected_entry(project, name: str) -> dict | None:
    """The heritage-list entry (not delisted) with this name, or None."""
    from diming.geonames.normalize import normalize
    from diming.layers.store import read_layer

    frame = read_layer(project, "heritage_names", where="status IS NULL OR status != ?", params=("delisted",),
                       columns=("heritage_id", "name"))
    target = normalize(name)
    for heritage_id, other in zip(frame["heritage_id"], frame["name"]):
        if normalize(other) == target:
            return {"heritage_id": heritage_id, "name": other}
    return None


def _road(project, road_id: str) -> dict:
    from diming.layers.store import read_layer

    frame = read_layer(project, "roads", where="road_id = ?", params=(road_id,), columns=("name", "status", "district"))
    if frame.empty:
        raise DimingError(f"没有编号为 {road_id} 的道路 (no such road)")
    row = frame.iloc[0]
    if row["status"] == "cancelled":
        raise DimingError(f"{road_id} {row['name']}: 已销名 (cancelled)")
    return {"name": row["name"], "district": row["district"]}


def _guard(project, road: dict, road_id: str, what: str, override: bool, measures: str | None) -> str | None:
    """The audit note of an overridden guard, or None; refuses a protected name without override."""
    entry = protected_entry(project, road["name"])
    if entry is None:
        return None
    if not override:
        raise DimingError(f"{road_id} {road['name']}: 列入地名保护名录 ({entry['heritage_id']}), 原则上不{what}; "
                          f"确需{what}请用 --override 并说明原因与 --measures 保护措施")
    if not measures:
        raise DimingError(f"{road_id} {road['name']}: --override 须先定保护措施 --measures")
    return f"保护名录 {entry['heritage_id']} 例外{what}; 保护措施: {measures}"


def rename_road(project, road_id: str, new_name: str, *, reason: str, override: bool = False,
                measures: str | None = None, by=None) -> dict:
    """更名: the road gets ``new_name`` (checked like a new name), the old one goes to ``former_names``."""
    from diming.geonames.namecheck import has_errors, namecheck
    from diming.geonames.pinyin import parse_overrides, spell
    from diming.layers.settings import get_settings
    from diming.layers.store import transaction

    if not reason:
        raise DimingError(f"{road_id}: 更名须说明原因 --reason")
    road = _road(project, road_id)
    guard_note = _guard(project, road, road_id, "更名", override, measures)
    result = namecheck(project, new_name, district=road["district"], exclude=[("roads", road_id)])
    if has_errors(result):
        first = next(f for f in result["findings"] if f["severity"] == "error")
        raise DimingError(f"{road_id}: 新名称 {new_name} 检查未通过: {first['rule']} {first['message']}")
    overrides = parse_overrides(get_settings(project)["pinyin_overrides"])
    with transaction(project, by=by) as tx:
        record = tx.get("roads", road_id)
        former = "、".join(filter(None, [record.get("former_names"), record["name"]]))
        tx.update("roads", road_id, {"name": new_name.strip(), "pinyin": spell(new_name, overrides),
                                     "former_names": former}, action="rename",
                  note="; ".join(filter(None, [f"更名: {reason}", guard_note])))
        return tx.get("roads", road_id)


def cancel_road(project, road_id: str, *, reason: str, on=None, override: bool = False,
                measures: str | None = None, by=None, today=None) -> dict:
    """销名: the road's name goes out of use (status ``cancelled``, with the date)."""
    from diming.geonames.proposals import parse_date
    from diming.layers.store import transaction

    if not reason:
        raise DimingError(f"{road_id}: 销名须说明原因 --reason")
    road = _road(project, road_id)
    guard_note = _guard(project, road, road_id, "销名", override, measures)
    day = parse_date(on) if on else (today or dt.date.today())
    with transaction(project, by=by) as tx:
        tx.update("roads", road_id, {"status": "cancelled", "cancelled_on": day.isoformat()}, action="cancel",
                  note="; ".join(filter(None, [f"销名: {reason}", guard_note])))
        return tx.get("roads", road_id)


def adjust_road(project, road_id: str, *, reason: str, start: str | None = None, end: str | None = None,
                geometry=None, by=None) -> dict:
    """起止点调整: new start/end descriptions and, if given, the new line (EPSG:4490)."""
    from diming.layers.store import transaction

    if not reason:
        raise DimingError(f"{road_id}: 调整须说明原因 --reason")
    changes = {k: v for k, v in (("start_desc", start), ("end_desc", end), ("geometry", geometry)) if v is not None}
    if not changes:
        raise DimingError(f"{road_id}: 没有要调整的内容 (give --start, --end or a geometry)")
    _road(project, road_id)
    with transaction(project, by=by) as tx:
        tx.update("roads", road_id, changes, action="adjust", note=f"起止点调整: {reason}")
        return tx.get("roads", road_id)
