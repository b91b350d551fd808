"""Road-naming proposals (道路命名申报) through their procedure, from application to verified sign.

draft → submitted → in_review → public_notice → approved → filed → announced → sign_ordered →
sign_installed → sign_verified; rejected and withdrawn end a proposal before approval. Every step
is one audited transaction; on announcement the name enters ``roads``.
"""
from __future__ import annotations

import datetime as dt
import json
import re

from diming.errors import DimingError
from diming.layers.schema import PROPOSAL_STATES, label

# 地名管理条例: filing (备案) and announcement (公告) within 15 days of approval — national, not settings
FILING_DAYS = 15
ANNOUNCE_DAYS = 15

STATE_LABELS = {state: label(state) for state in PROPOSAL_STATES}
TRANSITIONS = {
    "draft": ("submitted", "withdrawn"),
    "submitted": ("in_review", "rejected", "withdrawn"),
    "in_review": ("public_notice", "rejected", "withdrawn"),
    "public_notice": ("approved", "rejected", "withdrawn"),
    "approved": ("filed",),
    "filed": ("announced",),
    "announced": ("sign_ordered",),
    "sign_ordered": ("sign_installed",),
    "sign_installed": ("sign_verified",),
}
# the field that records when a proposal entered each state
DATE_FIELDS = {
    "submitted": "submitted_on", "in_review": "review_started_on", "public_notice": "notice_start",
    "approved": "approved_on", "filed": "filed_on", "announced": "announced_on",
    "sign_ordered": "sign_ordered_on", "sign_installed": "sign_installed_on",
    "sign_verified": "sign_verified_on", "rejected": "closed_on", "withdrawn": "closed_on",
}
# what may (or must, see _require) be given with a step
DETAILS = ("assessment_ref", "expert_review_ref", "consultation_ref", "approved_by", "approval_doc", "close_reason")
REVIEW_REPORTS = {"assessment_ref": "综合评估报告", "expert_review_ref": "专家论证报告",
                  "consultation_ref": "征求意见报告"}


def label(state: str) -> str:
    return STATE_LABELS.get(state, state)


def parse_date(value, what: str = "日期") -> dt.date:
    """A date from a ``date`` or a text as imports read dates (:mod:`diming.layers.dates`), or a clear error."""
    from diming.layers.dates import date_option

    return date_option(value, what)


def batch_of(day: dt.date) -> str:
    """The half-yearly review batch (每半年集中审核) a date falls in: ``2024H1`` or ``2024H2``."""
    return f"{day.year}H{1 if day.month <= 6 else 2}"


def check_batch(batch: str) -> str:
    if not re.fullmatch(r"\d{4}H[12]", batch or ""):
        raise DimingError(f"批次 {batch!r} 应写作 2024H1 或 2024H2 (year and half)")
    return batch


def line_geometry(path=None, wkt: str | None = None):
    """The road's line as a MultiLineString in EPSG:4490, from a GeoJSON/GPKG file or WKT (lon/lat)."""
    import warnings

    import numpy as np
    import shapely
    from shapely.geometry import MultiLineString

    if (path is None) == (wkt is None):
        raise DimingError("道路几何: 给出 --geometry 文件或 --wkt 之一 (exactly one)")
    if wkt is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # GEOS on NaN, refused below
                geom = shapely.from_wkt(wkt)
        except Exception:
            raise DimingError(f"--wkt: 不是有效的 WKT ({wkt[:40]})") from None
        source = "--wkt"
    else:
        import geopandas as gpd

        try:
            frame = gpd.read_file(path)
        except Exception as exc:
            raise DimingError(f"{path}: 无法读取几何 ({exc})") from None
        if frame.empty:
            raise DimingError(f"{path}: 文件中没有要素 (no feature)")
        if frame.crs is not None:
            frame = frame.to_crs(4490)
        geom = shapely.union_all(frame.geometry.values)
        if geom.geom_type == "MultiLineString":
            geom = shapely.line_merge(geom)
        source = str(path)
    if geom is None or geom.is_empty or geom.geom_type not in ("LineString", "MultiLineString"):
        raise DimingError(f"{source}: 道路几何应为线 (LineString), 得到 {getattr(geom, 'geom_type', None)}")
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        raise DimingError(f"{source}: 坐标含 NaN 或无穷大 (non-finite coordinate)")
    geom = shapely.force_2d(geom)  # the layers are XY: a Z or M would make the GeoPackage invalid
    minx, miny, maxx, maxy = geom.bounds
    if not (73 <= minx <= maxx <= 136 and 3 <= miny <= maxy <= 54):
        raise DimingError(f"{source}: 坐标不在中国范围内, 应为 CGCS2000 经纬度 (lon, lat)")
    return geom if geom.geom_type == "MultiLineString" else MultiLineString([geom])


def next_key(keys, year: int) -> str:
    """The next proposal number of a year: ``DM-2024-0001``, ``DM-2024-0002`` …"""
    prefix = f"DM-{year}-"
    used = [int(k[len(prefix):]) for k in keys if k.startswith(prefix) and k[len(prefix):].isdigit()]
    return f"{prefix}{max(used, default=0) + 1:04d}"


def _check_record(project, name, district, ordinal, width=None, exclude=()) -> dict:
    from diming.geonames.namecheck import namecheck

    result = namecheck(project, name, district=district, exclude=exclude, ordinal=bool(ordinal), width=width)
    severities = {f["severity"] for f in result["findings"]}
    status = "error" if "error" in severities else ("warning" if severities else "ok")
    return {"pinyin": result["pinyin"], "check_status": status,
            "check_findings": json.dumps(result["findings"], ensure_ascii=False)}


def new_record(project, name: str, geometry, *, district: str, reason=None, meaning=None, applicant=None,
               start=None, end=None, width=None, ordinal=False, batch=None, today=None) -> dict:
    """A proposal record (without its key), checked against the project; shared by propose and import."""
    from diming.geonames.normalize import normalize

    today = today or dt.date.today()
    if not normalize(name):
        raise DimingError("拟用名称为空 (empty name)")
    if not district:
        raise DimingError("缺少所属政区代码 --district")
    if width is not None and not width > 0:
        raise DimingError(f"宽度 {width} 应为正数 (metres)")
    record = {"name": name.strip(), "district": str(district), "status": "draft", "reason": reason,
              "meaning": meaning, "applicant": applicant, "start_desc": start, "end_desc": end,
              "width_m": width, "ordinal": int(bool(ordinal)),
              "batch": check_batch(batch) if batch else batch_of(today),
              "created_on": today.isoformat(), "geometry": geometry}
    record.update(_check_record(project, name, district, ordinal, width))
    return record


def propose(project, name: str, geometry, *, district: str, by=None, today=None, **fields) -> dict:
    """Register a proposal (状态 draft): assigns ``DM-YYYY-NNNN``, fills pinyin, runs namecheck
    and stores its findings. ``geometry``: a line in EPSG:4490. Returns the stored record."""
    from diming.layers.store import transaction

    today = today or dt.date.today()
    record = new_record(project, name, geometry, district=district, today=today, **fields)
    with transaction(project, by=by) as tx:
        record["proposal_id"] = next_key(tx.keys("road_proposals"), today.year)
        tx.insert("road_proposals", [record], action="propose", note="登记道路命名申报")
    return record


def _require(record: dict, to: str, day: dt.date, check: dict | None) -> None:
    """Refuse a step whose preconditions are not met."""
    key = record["proposal_id"]
    if to == "public_notice":
        missing = [text for field, text in REVIEW_REPORTS.items() if not record.get(field)]
        if missing:
            raise DimingError(f"{key}: 进入公示前须有{'、'.join(missing)} (give --assessment/--expert-review/--consultation)")
    if to == "approved":
        for field, text in (("approved_by", "批准机关 --authority"), ("approval_doc", "批准文号 --document")):
            if not record.get(field):
                raise DimingError(f"{key}: 批准须有{text}")
        notice_end = parse_date(record["notice_end"])
        if day < notice_end:
            raise DimingError(f"{key}: 公示期至 {notice_end} 结束, 不能在 {day} 批准")
        if check["check_status"] == "error":
            first = next(f for f in json.loads(check["check_findings"]) if f["severity"] == "error")
            raise DimingError(f"{key}: 名称检查未通过, 不能批准: {first['rule']} {first['message']}")
    if to in ("rejected", "withdrawn") and not record.get("close_reason"):
        raise DimingError(f"{key}: {label(to)}须说明原因 --reason")


def advance(project, key: str, to: str, *, on=None, by=None, today=None, note=None, **details) -> dict:
    """Move proposal ``key`` to state ``to`` on date ``on`` (default ``today``), recording ``details``
    (``assessment_ref``, ``expert_review_ref``, ``consultation_ref``, ``approved_by``,
    ``approval_doc``, ``close_reason``). Illegal steps are refused. Returns the record after."""
    from diming.layers.settings import get_settings
    from diming.layers.store import transaction

    today = today or dt.date.today()
    day = parse_date(on, "日期") if on else today
    if day > today:
        raise DimingError(f"{key}: 日期 {day} 晚于今天 {today}")
    if to not in STATE_LABELS:
        raise DimingError(f"未知状态 {to!r}; 可用: {', '.join(STATE_LABELS)}")
    unknown = set(details) - set(DETAILS)
    if unknown:
        raise DimingError(f"未知办理信息 {', '.join(sorted(unknown))}")
    settings = get_settings(project)
    check = _approval_check(project, key) if to == "approved" else None
    with transaction(project, by=by) as tx:
        record = tx.get("road_proposals", key)
        if record is None:
            raise DimingError(f"没有编号为 {key} 的申报 (no such proposal)")
        state = record["status"]
        if to not in TRANSITIONS.get(state, ()):
            allowed = "、".join(f"{s} ({label(s)})" for s in TRANSITIONS.get(state, ())) or "无 (已办结)"
            raise DimingError(f"{key}: 不能从 {state} ({label(state)}) 转为 {to} ({label(to)}); 可转为: {allowed}")
        last = _last_date(record)
        if last and day < last:
            raise DimingError(f"{key}: 日期 {day} 早于上一步的日期 {last}")
        changes = {k: v for k, v in details.items() if v not in (None, "")}
        changes.update({"status": to, DATE_FIELDS[to]: day.isoformat()})
        if to == "public_notice":
            changes["notice_end"] = (day + dt.timedelta(days=settings["public_notice_days"])).isoformat()
        _require({**record, **changes}, to, day, check)
        if check:
            changes.update(check)
        merged = {**record, **changes}
        if to == "announced":
            changes["road_id"] = _announce(tx, merged)
        tx.update("road_proposals", key, changes, action="advance",
                  note=note or f"{label(state)} → {label(to)}")
        return tx.get("road_proposals", key)


def _approval_check(project, key: str) -> dict:
    """The name checked again just before approval: the gazetteer may have changed since it was filed."""
    from diming.layers.store import read_layer

    frame = read_layer(project, "road_proposals", where="proposal_id = ?", params=(key,),
                       columns=("name", "district", "ordinal", "width_m"))
    if frame.empty:
        raise DimingError(f"没有编号为 {key} 的申报 (no such proposal)")
    row = frame.iloc[0]
    return _check_record(project, row["name"], row["district"], plain(row["ordinal"]), plain(row["width_m"]),
                         exclude=[("road_proposals", key)])


def _last_date(record: dict) -> dt.date | None:
    dates = [parse_date(record[f]) for f in set(DATE_FIELDS.values()) | {"created_on"} if record.get(f)]
    return max(dates, default=None)


def _announce(tx, record: dict) -> str:
    """On 公告 the name enters the gazetteer (``roads``); returns the new road's key."""
    import shapely

    numbers = [int(m.group(1)) for k in tx.keys("roads") if (m := re.search(r"R(\d+)$", str(k)))]
    road_id = f"{record['district']}R{max(numbers, default=0) + 1:04d}"
    tx.insert("roads", [{
        "road_id": road_id, "name": record["name"], "pinyin": record["pinyin"], "district": record["district"],
        "status": "in_use", "approved_on": record["approved_on"], "meaning": record.get("meaning"),
        "origin": record.get("reason"), "start_desc": record.get("start_desc"), "end_desc": record.get("end_desc"),
        "width_m": record.get("width_m"), "proposal_id": record["proposal_id"],
        "geometry": shapely.from_wkt(record["geometry"])}], action="announce",
        note=f"{record['proposal_id']} 公告, 名称入库")
    return road_id


def _due(record: dict, settings: dict) -> list[tuple[str, dt.date]]:
    """What a proposal in its current state still owes, and by when."""
    state = record["status"]
    out = []
    if state in ("approved", "filed") and record.get("approved_on"):
        approved = parse_date(record["approved_on"])
        if state == "approved":
            out.append(("备案", approved + dt.timedelta(days=FILING_DAYS)))
        out.append(("公告", approved + dt.timedelta(days=ANNOUNCE_DAYS)))
    if state == "public_notice" and record.get("notice_end"):
        out.append(("公示结束后办理", parse_date(record["notice_end"])))
    if state in ("announced", "sign_ordered", "sign_installed") and record.get("announced_on"):
        out.append(("路牌验收", parse_date(record["announced_on"]) + dt.timedelta(days=settings["sign_verify_days"])))
    return out


def overdue(project, today=None) -> list[dict]:
    """Proposals past a deadline on ``today``: filing or announcement more than 15 days after
    approval, a public notice ended but not acted on, a sign not verified ``sign_verify_days``
    after announcement. ``{"proposal_id", "name", "status", "what", "due", "days_late"}`` each."""
    from diming.layers.settings import get_settings

    today = today or dt.date.today()
    settings = get_settings(project)
    out = []
    for record in proposals(project):
        for what, due in _due(record, settings):
            if today > due:
                out.append({"proposal_id": record["proposal_id"], "name": record["name"],
                            "status": record["status"], "district": record["district"], "what": what,
                            "due": due.isoformat(), "days_late": (today - due).days})
    return out


def proposals(project, *, state=None, district=None, batch=None, overdue_on=None) -> list[dict]:
    """Proposal records (without geometry), filtered; ``overdue_on``: only those overdue on that date."""
    from diming.layers.store import read_layer

    where, params = [], []
    for field, value in (("status", state), ("batch", batch)):
        if value:
            where.append(f"{field} = ?")
            params.append(value)
    if district:
        where.append("district LIKE ?")
        params.append(f"{district}%")
    frame = read_layer(project, "road_proposals", where=" AND ".join(where) or None, params=tuple(params))
    records = [{k: plain(v) for k, v in row.items() if k != "geometry"} for row in frame.to_dict("records")]
    if overdue_on:
        late = {r["proposal_id"] for r in overdue(project, today=overdue_on)}
        records = [r for r in records if r["proposal_id"] in late]
    return records


def plain(value):
    """None for a missing value of any kind (None, pandas NA, NaN)."""
    import pandas as pd

    return None if value is None or value is pd.NA or (isinstance(value, float) and value != value) else value


def show(project, key: str) -> dict:
    """One proposal with its findings and its full history from the audit log."""
    from diming.layers.store import audit_rows, read_layer

    frame = read_layer(project, "road_proposals", where="proposal_id = ?", params=(key,))
    if frame.empty:
        raise DimingError(f"没有编号为 {key} 的申报 (no such proposal)")
    record = {k: plain(v) for k, v in frame.iloc[0].to_dict().items() if k != "geometry"}
    record["findings"] = json.loads(record.pop("check_findings") or "[]")
    history = []
    for row in audit_rows(project, layer="road_proposals", key=key):
        before, after = row["before"] or {}, row["after"] or {}
        changed = {k: after.get(k) for k in after if k not in ("geometry", "check_findings")
                   and after.get(k) != before.get(k)} if before else {"status": after.get("status")}
        history.append({"at": row["at"], "by": row["by"], "action": row["action"], "note": row["note"],
                        "changed": changed})
    record["history"] = history
    return record
