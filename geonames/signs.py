"""The road-sign register (路名牌, GB 17733 地名标志): registering signs, closing a proposal's sign
step, the district a sign belongs to, and the follow-up of signs reported to the city bureau.

A sign belongs to one road (``road_id``). Its ``text`` and ``pinyin`` are what the plate shows, so
the check can compare them with the standard name and its sign spelling. Its ``condition`` follows
its latest patrol record (:mod:`diming.geonames.patrols`).
"""
from __future__ import annotations

import datetime as dt

from diming.errors import DimingError

# what a patrol does on the spot; 更换/新设/上报市局 need the city bureau (the maintenance list)
SPOT_ACTIONS = ("清洗", "扶正")
BUREAU_ACTIONS = ("更换", "新设", "上报市局")


def close_sign_steps(tx, signs) -> list[str]:
    """In transaction ``tx``: a sign installed for a proposal (its ``proposal_id``, or the one its
    road was named by) takes that proposal to 路牌已安装 on the sign's ``installed_on`` date, through
    路牌已订制 when that step was not recorded. Returns the proposals moved."""
    moved = []
    for sign in signs:
        installed = sign.get("installed_on")
        if not installed:
            continue
        key = sign.get("proposal_id")
        if not key and sign.get("road_id"):
            road = tx.get("roads", sign["road_id"])
            key = road and road.get("proposal_id")
        proposal = tx.get("road_proposals", key) if key else None
        if proposal is None or proposal["status"] not in ("announced", "sign_ordered"):
            continue
        last = proposal.get("sign_ordered_on") or proposal.get("announced_on")
        if last and str(installed) < last:
            raise DimingError(f"路牌 {sign['sign_id']}: 设置日期 {installed} 早于申报 {key} 的上一步日期 {last}")
        changes = {"status": "sign_installed", "sign_installed_on": str(installed)}
        if not proposal.get("sign_ordered_on"):
            changes["sign_ordered_on"] = str(installed)
        tx.update("road_proposals", key, changes, action="advance",
                  note=f"路牌 {sign['sign_id']} 已设置, {proposal['status']} → sign_installed")
        moved.append(key)
    return moved


def add_sign(project, sign_id: str, road_id: str, point, *, by=None, **fields) -> dict:
    """Register one sign of road ``road_id`` at ``point`` (EPSG:4490). Text and pinyin default to
    the road's standard name and its sign spelling (a new sign made from the register); a sign
    installed for a proposal closes its sign step. Returns the stored record."""
    from diming.geonames.pinyin import parse_overrides, sign
    from diming.layers.schema import get_layer
    from diming.layers.settings import get_settings
    from diming.layers.store import transaction

    layer = get_layer("road_signs")
    unknown = set(fields) - set(layer.field_names)
    if unknown:
        raise DimingError(f"road_signs: 未知字段 {', '.join(sorted(unknown))} (unknown field)")
    for name in ("sign_type", "condition"):
        choices = layer.field(name).choices
        if fields.get(name) is not None and fields[name] not in choices:
            raise DimingError(f"{layer.field(name).alias}: 未知值 {fields[name]!r}; 可选 {'、'.join(choices)}")
    overrides = parse_overrides(get_settings(project)["pinyin_overrides"])
    with transaction(project, by=by) as tx:
        if tx.get("road_signs", sign_id) is not None:
            raise DimingError(f"路牌编号 {sign_id} 已存在 (sign exists)")
        road = tx.get("roads", road_id)
        if road is None:
            raise DimingError(f"没有编号为 {road_id} 的道路 (no such road)")
        record = {"sign_id": sign_id, "road_id": road_id, "condition": "完好", **{
            k: v for k, v in fields.items() if v is not None}, "geometry": point}
        record.setdefault("text", road["name"])
        record.setdefault("pinyin", sign(road["name"], overrides))
        tx.insert("road_signs", [record], note="登记路名牌")
        close_sign_steps(tx, [record])
    return record


def divisions(project, signs) -> list[str]:
    """The division code of each sign of ``signs`` (a frame with ``road_id`` and geometry): its
    road's ``district``, else the smallest admin area it stands in ('' when neither)."""
    import pandas as pd

    from diming.check import CheckData
    from diming.layers.store import read_layer

    roads = read_layer(project, "roads", columns=["road_id", "district"], geometry=False)
    by_road = dict(zip(roads.road_id, roads.district.fillna("")))
    frame = signs[["geometry"]].copy()
    frame["district"] = pd.array([by_road.get(r, "") for r in signs.road_id], dtype=object)
    return list(CheckData(project).divisions_of(frame, "road_signs"))


def in_districts(codes, districts) -> list[bool]:
    """Whether each division code lies in one of ``districts`` (a county code covers its towns)."""
    return [any(str(c).startswith(d) for d in districts) for c in codes]


def repairs_overdue(project, today=None) -> list[dict]:
    """Signs reported for repair (更换/新设/上报市局 in a patrol) and not fixed ``sign_repair_days``
    after the patrol: ``{"sign_id", "name", "district", "what", "due", "days_late", "patrol_id"}``."""
    from diming.layers.settings import get_settings
    from diming.layers.store import read_layer

    today = today or dt.date.today()
    days = get_settings(project)["sign_repair_days"]
    records = read_layer(project, "sign_patrol_records",
                         where=f"fixed_on IS NULL AND action IN ({', '.join('?' * len(BUREAU_ACTIONS))})",
                         params=BUREAU_ACTIONS)
    if not len(records):
        return []
    signs = read_layer(project, "road_signs", where="sign_id IN (SELECT value FROM json_each(?))",
                       params=(_json(sorted(set(records.sign_id))),)).set_index("sign_id", drop=False)
    roads = read_layer(project, "roads", columns=["road_id", "name"], geometry=False).set_index("road_id").name
    codes = dict(zip(signs.sign_id, divisions(project, signs))) if len(signs) else {}
    out = []
    for r in records.sort_values(["patrolled_on", "sign_id"]).itertuples():
        due = dt.date.fromisoformat(r.patrolled_on) + dt.timedelta(days=days)
        if today <= due or r.sign_id not in signs.index:
            continue
        road_id = signs.loc[r.sign_id, "road_id"]
        out.append({"sign_id": r.sign_id, "name": roads.get(road_id, road_id), "district": codes.get(r.sign_id, ""),
                    "what": f"路牌维修 ({r.action})", "due": due.isoformat(), "days_late": (today - due).days,
                    "patrol_id": r.patrol_id})
    return out


def mark_fixed(project, sign_id: str, *, on=None, note=None, by=None) -> int:
    """The city bureau fixed sign ``sign_id`` on ``on`` (default today): its open repair records are
    closed and its condition is 完好 again. Returns the records closed."""
    from diming.geonames.proposals import parse_date
    from diming.layers.store import transaction

    day = parse_date(on, "修复日期") if on else dt.date.today()
    with transaction(project, by=by) as tx:
        if tx.get("road_signs", sign_id) is None:
            raise DimingError(f"没有编号为 {sign_id} 的路牌 (no such sign)")
        open_ = [r[0] for r in tx.con.execute(
            "SELECT record_id FROM sign_patrol_records WHERE sign_id = ? AND fixed_on IS NULL "
            f"AND (condition != '完好' OR action IN ({', '.join('?' * len(BUREAU_ACTIONS))}))",
            (sign_id, *BUREAU_ACTIONS))]
        if not open_:
            raise DimingError(f"路牌 {sign_id} 没有待修复的巡查记录 (nothing reported for this sign)")
        for key in open_:
            record = tx.get("sign_patrol_records", key)
            if day.isoformat() < record["patrolled_on"]:
                raise DimingError(f"修复日期 {day} 早于巡查日期 {record['patrolled_on']} ({key})")
            tx.update("sign_patrol_records", key, {"fixed_on": day.isoformat()}, action="repair",
                      note=note or "路牌已修复")
        tx.update("road_signs", sign_id, {"condition": "完好"}, action="repair", note=note or "路牌已修复")
    return len(open_)


def _json(values) -> str:
    import json

    return json.dumps([str(v) for v in values], ensure_ascii=False)
