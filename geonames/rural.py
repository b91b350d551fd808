"""The rural names campaign (乡村著名行动, 民函〔2023〕44号): rural names collected, reviewed and put
on the map (采集 → 审核 → 上图), progress per township and village, candidate model villages
(示范村), and the batches sent to map platforms.

A rural name is a gazetteer name with ``rural`` = 1. Its township is the first 9 digits of its
division code, its village the first 12 (statistical division codes); a name across divisions
counts in the first. A batch is exported (the names get its number in ``map_batch``) and, once
the platform has published it, confirmed (``on_map_on`` and ``platforms`` filled): both audited.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from diming.errors import DimingError

from diming.geonames.gazetteer import division_names

LAYER = "place_names"
CRITERIA = {"categories": "地名类别覆盖", "meaning": "含义与沿革齐全", "photos": "有照片", "on_map": "已上图"}


def parse_criteria(text: str) -> dict[str, float]:
    """The ``model_village_criteria`` setting (``categories=0.25; meaning=0.25 …``) as weights."""
    weights = {}
    for entry in filter(None, (e.strip() for e in re.split(r"[;；\n]", text or ""))):
        key, sep, weight = (p.strip() for p in entry.partition("="))
        try:
            value = float(weight)
        except ValueError:
            value = -1.0
        if not sep or key not in CRITERIA or value < 0:
            raise DimingError(f"示范村评分项: {entry!r} 应为 项=权重, 项为 {'/'.join(CRITERIA)} 之一, 权重不为负")
        weights[key] = value
    if not weights or sum(weights.values()) <= 0:
        raise DimingError("示范村评分项: 至少一项的权重大于 0")
    return weights


def _rural(project):
    """Rural names with their township and village codes (no geometry)."""
    from diming.layers.store import read_layer, stored_fields

    if "rural" not in stored_fields(project, LAYER):
        raise DimingError(f"{project}: 项目中还没有地名录 (no gazetteer yet); 先导入登记表")
    frame = read_layer(project, LAYER, where="rural = 1", geometry=False)
    first = frame["district"].fillna("").str.split(",", n=1).str[0].str.strip()
    frame["township"] = first.str[:9]
    frame["village"] = first.where(first.str.len() >= 12, "").str[:12]
    return frame


def _counts(frame) -> dict:
    return {"names": int(len(frame)), "collected": int(frame["collected_on"].notna().sum()),
            "reviewed": int(frame["reviewed_on"].notna().sum()), "on_map": int(frame["on_map_on"].notna().sum())}


def progress(project) -> dict:
    """Per township and, within it, per village: rural names, how many collected, reviewed and on
    the map, and the villages whose names are all on the map (with their share).

    ``{"townships": [{"code", "name", "names", "collected", "reviewed", "on_map", "villages",
    "villages_done", "done_share", "by_village": [{"code", "name", "names", …, "done"}]}], "total": {…}}``
    """
    frame = _rural(project)
    names = division_names(project)
    townships = []
    for town, rows in frame.groupby("township", sort=True):
        villages = []
        for village, vrows in rows[rows["village"] != ""].groupby("village", sort=True):
            counts = _counts(vrows)
            villages.append({"code": village, "name": names.get(village, ""), **counts,
                             "done": counts["on_map"] == counts["names"]})
        done = sum(v["done"] for v in villages)
        townships.append({"code": town, "name": names.get(town, ""), **_counts(rows), "villages": len(villages),
                          "villages_done": done, "done_share": round(done / len(villages), 4) if villages else None,
                          "by_village": villages})
    villages = sum(t["villages"] for t in townships)
    done = sum(t["villages_done"] for t in townships)
    total = {**_counts(frame), "villages": villages, "villages_done": done,
             "done_share": round(done / villages, 4) if villages else None}
    return {"townships": townships, "total": total}


def candidates(project) -> list[dict]:
    """Villages ranked as candidate model villages (示范村) by the completeness of their names,
    with each criterion's value (0–1) and the weighted score (0–100). Criteria and weights are the
    ``model_village_criteria`` setting; ``model_village_classes`` census classes make full
    category coverage; villages with fewer than ``model_village_min_names`` names are left out."""
    from diming.geonames.categories import class_of
    from diming.layers.settings import get_settings

    settings = get_settings(project)
    weights = parse_criteria(settings["model_village_criteria"])
    frame = _rural(project)
    names = division_names(project)
    out = []
    for village, rows in frame[frame["village"] != ""].groupby("village", sort=True):
        if len(rows) < settings["model_village_min_names"]:
            continue
        classes = {class_of(c) for c in rows["category"]}
        values = {
            "categories": min(1.0, len(classes) / max(1, settings["model_village_classes"])),
            "meaning": float((rows["meaning"].notna() & rows["history"].notna()).mean()),
            "photos": float(rows["photos"].notna().mean()),
            "on_map": float(rows["on_map_on"].notna().mean()),
        }
        score = 100 * sum(weights.get(k, 0) * v for k, v in values.items()) / sum(weights.values())
        out.append({"code": village, "name": names.get(village, ""), "township": village[:9],
                    "township_name": names.get(village[:9], ""), "names": int(len(rows)),
                    **{k: round(v, 4) for k, v in values.items()}, "score": round(score, 1)})
    out.sort(key=lambda v: (-v["score"], v["code"]))
    for rank, v in enumerate(out, start=1):
        v["rank"] = rank
    return out


def ready(project):
    """The rural names ready to publish: reviewed, not on the map, in no batch yet (with geometry)."""
    from diming.layers.store import read_layer

    _rural(project)  # the clear error on a project without a gazetteer
    return read_layer(project, LAYER, where="rural = 1 AND reviewed_on IS NOT NULL AND on_map_on IS NULL "
                                            "AND (map_batch IS NULL OR map_batch = '')")


def export_batch(project, batch: str, output, *, by=None) -> dict:
    """Write the names ready to publish as batch ``batch`` for map platforms — ``<output>/<batch>.geojson``
    and ``<batch>.csv`` with name, pinyin, category, CGCS2000 longitude/latitude, division and
    description — and record the batch number on those names (one audited transaction; the files
    are written whole or not at all). Returns ``{"batch", "names", "files"}``."""
    import shapely

    from diming.geonames.categories import name_of
    from diming.layers.exports import neutralise, replacing
    from diming.layers.store import read_layer, transaction

    batch = (batch or "").strip()
    if not batch or re.search(r'[\\/:*?"<>|]', batch):
        raise DimingError(f"--batch {batch!r}: 批次号不能为空, 也不能含 \\ / : * ? \" < > |")
    used = read_layer(project, LAYER, where="map_batch = ?", params=(batch,), columns=("place_id",), geometry=False)
    if len(used):
        raise DimingError(f"批次 {batch} 已导出过 ({len(used)} 条地名); 请用新的批次号")
    names = ready(project)
    if not len(names):
        raise DimingError("没有待上图的乡村地名 (no reviewed rural names waiting for the map)")
    missing = names[names.geometry.isna() | names.geometry.is_empty]
    if len(missing):
        raise DimingError(f"地名 {missing['place_id'].iloc[0]} {missing['name'].iloc[0]} 没有位置, 不能上图; "
                          f"共 {len(missing)} 条缺少几何")
    divisions = division_names(project)
    points = shapely.point_on_surface(names.geometry.values)
    rows, features = [], []
    for record, geom, point in zip(names.drop(columns="geometry").to_dict("records"), names.geometry.values, points):
        code = (record["district"] or "").split(",")[0].strip()
        row = {"地名代码": record["place_id"], "标准名称": record["name"], "罗马字母拼写": record["pinyin"] or "",
               "类别": name_of(record["category"]), "经度": round(point.x, 7), "纬度": round(point.y, 7),
               "所在行政区代码": record["district"] or "", "所在行政区": divisions.get(code, ""),
               "地理实体描述": record["description"] or ""}
        rows.append(row)
        features.append({"type": "Feature", "properties": row,
                         "geometry": json.loads(shapely.to_geojson(shapely.set_precision(geom, 1e-7)))})
    output = Path(output)
    files = [output / f"{batch}.geojson", output / f"{batch}.csv"]
    collection = {"type": "FeatureCollection", "name": f"乡村地名上图批次 {batch}",
                  "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}},
                  "features": features}
    # the names are recorded first, the files put in place after the commit: a failure leaves neither
    with replacing(files[0]) as geojson, replacing(files[1]) as table, transaction(project, by=by) as tx:
        geojson.write_text(json.dumps(collection, ensure_ascii=False, indent=1), encoding="utf-8")
        import csv

        with open(table, "w", newline="", encoding="utf-8-sig") as out:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows({k: neutralise(v) for k, v in r.items()} for r in rows)
        for pid in names["place_id"]:
            tx.update(LAYER, pid, {"map_batch": batch}, action="rural-export", note=f"上图批次 {batch}")
    return {"batch": batch, "names": len(rows), "files": [str(f) for f in files]}


def confirm_batch(project, batch: str, platform: str, *, on: str | None = None, today: dt.date | None = None,
                  by=None) -> int:
    """Record that the map platform ``platform`` published batch ``batch`` on ``on`` (default
    today): each of its names gets ``on_map_on`` and the platform added to ``platforms``.
    Returns the number of names."""
    from diming.layers.store import read_layer, transaction

    today = today or dt.date.today()
    platform = (platform or "").strip()
    if not platform:
        raise DimingError("--platform: 请写明上图平台 (e.g. 天地图)")
    try:
        day = dt.date.fromisoformat(on) if on else today
    except ValueError:
        raise DimingError(f"--date {on!r}: 日期应为 YYYY-MM-DD") from None
    if day > today:
        raise DimingError(f"--date {day}: 不能晚于今天 {today}")
    names = read_layer(project, LAYER, where="map_batch = ?", params=(batch,),
                       columns=("place_id", "platforms", "on_map_on", "reviewed_on"), geometry=False)
    if not len(names):
        raise DimingError(f"没有批次 {batch} (no such batch); 先运行 diming rural export --batch {batch}")
    early = names[names["reviewed_on"].fillna("") > day.isoformat()]
    if len(early):
        raise DimingError(f"--date {day}: 早于地名 {early['place_id'].iloc[0]} 的审核日期 {early['reviewed_on'].iloc[0]}")
    with transaction(project, by=by) as tx:
        for pid, platforms, on_map in zip(names["place_id"], names["platforms"], names["on_map_on"]):
            listed = [p for p in (platforms or "").split(",") if p]
            changes = {"platforms": ",".join(listed + ([platform] if platform not in listed else []))}
            if not on_map:
                changes["on_map_on"] = day.isoformat()
            tx.update(LAYER, pid, changes, action="rural-confirm", note=f"批次 {batch} 已在 {platform} 上图")
    return len(names)
