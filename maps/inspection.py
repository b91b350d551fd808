"""界线联检图: the two areas of each boundary line, the line, and its markers (界桩) coloured by
their latest condition, for the joint inspection (联检)."""
from __future__ import annotations

import json

from diming.errors import DimingError
from diming.maps.areas import add_areas, area_names
from diming.layers.styles import (BOUNDARY_COLOUR, BOUNDARY_DASH, BOUNDARY_WIDTH, CONDITION_COLOURS, MARKER_RADIUS,
                                  dash_css)
from diming.maps.page import LAT, LON, Page, line_style, point_style, rows, text


def _round_lines(project, round_id: str) -> tuple[str, set[str] | None]:
    """The name of round ``round_id`` and the lines it covers (None: not listed, take all)."""
    from diming.layers.store import read_layer

    found = read_layer(project, "inspection_rounds", where="round_id = ?", params=(round_id,))
    if not len(found):
        raise DimingError(f"联检轮次 {round_id} 不存在 (no such round in inspection_rounds)")
    row = found.iloc[0]
    listed = text(row["line_ids"])
    if not listed:
        return text(row["name"]), None
    try:
        return text(row["name"]), {str(v) for v in json.loads(listed)}
    except (ValueError, TypeError):
        raise DimingError(f"inspection_rounds {round_id}: line_ids 不是 JSON 列表 ({listed!r})") from None


def _latest(inspections) -> dict[str, dict]:
    """marker_id -> its latest inspection record with a condition (by date, then record number);
    a record without one is a marker still to be visited."""
    latest = {}
    inspections = inspections[inspections["condition"].notna()]
    ordered = inspections.assign(_on=inspections["inspected_on"].fillna(""), _id=inspections["inspection_id"])
    for record in ordered.sort_values(["_on", "_id"]).to_dict("records"):
        latest[text(record["marker_id"])] = record
    return latest


def inspection_map(project, output, *, round_id: str | None = None, line_id: str | None = None,
                   basemap: str | None = None, tianditu_key: str | None = None,
                   title: str | None = None) -> dict:
    """Write the joint-inspection map (界线联检图) of ``project`` to ``output``.

    ``round_id`` limits it to the lines of that round and colours markers by that round's records
    (未检 where it has none yet); ``line_id`` to one line. Without a round a marker takes its latest
    record's condition, else its own. Returns ``{"output", "counts"}``.
    """
    from diming.layers.settings import get_settings
    from diming.layers.store import read_layer

    lines = read_layer(project, "boundary_lines")
    inspections = read_layer(project, "inspections")
    round_name = None
    if round_id:
        round_name, round_line_ids = _round_lines(project, round_id)
        inspections = inspections[inspections["round_id"] == round_id]
        if round_line_ids is None:
            round_line_ids = {text(v) for v in inspections["line_id"]} | {text(v) for v in lines["line_id"]}
        lines = lines[lines["line_id"].isin(round_line_ids)]
    if line_id:
        if line_id not in set(lines["line_id"]):
            where = f"联检轮次 {round_id} 中" if round_id else "boundary_lines 中"
            raise DimingError(f"{where}没有界线 {line_id} (no such boundary line)")
        lines = lines[lines["line_id"] == line_id]

    areas = read_layer(project, "admin_areas")
    markers = read_layer(project, "boundary_markers")
    if round_id or line_id or len(lines):
        codes = set(lines["left_code"]) | set(lines["right_code"])
        names = area_names(areas)
        areas = areas[areas["code"].isin(codes)]
        markers = markers[markers["line_id"].isin(set(lines["line_id"]))]
    else:
        names = area_names(areas)

    if title is None:
        title = "行政区域界线联检图"
        if round_name:
            title += f" · {round_name}"
        if line_id:
            title += f" · {text(lines['name'].iloc[0])}"
    page = Page(title, basemap=basemap or get_settings(project)["basemap"], tianditu_key=tianditu_key)
    add_areas(page, areas, name="界线两侧行政区域", opacity=0.25)

    line_props = [{"k": "line", "t": f"{text(r.line_id)} {text(r.name)}".strip(), "p": rows(
        ("界线编号", r.line_id), ("左侧", f"{names.get(text(r.left_code), '')} {text(r.left_code)}".strip()),
        ("右侧", f"{names.get(text(r.right_code), '')} {text(r.right_code)}".strip()),
        ("走向说明", r.description), ("协议书", r.agreement))} for r in lines.itertuples(index=False)]
    # with --line the view is that line and its markers, not the whole of both areas
    page.add("行政区域界线", lines.geometry, line_props, {"line": line_style(BOUNDARY_COLOUR, BOUNDARY_WIDTH, dash_css(BOUNDARY_DASH))},
             shape="line", labels=True, focus=bool(line_id))

    line_names = {text(i): text(n) for i, n in zip(lines["line_id"], lines["name"])}
    latest = _latest(inspections)
    props = []
    for m in markers.itertuples(index=False):
        record = latest.get(text(m.marker_id))
        if round_id:  # what this round found; not yet visited in it is 未检 whatever came before
            condition = text(record["condition"]) if record else "未检"
        else:
            condition = text(record and record["condition"]) or text(m.condition) or "未检"
        if condition not in CONDITION_COLOURS:
            condition = "未检"
        pairs = [
            ("界桩编号", m.marker_id), ("界线", line_names.get(text(m.line_id), text(m.line_id))),
            ("界桩类型", m.marker_type), ("材质", m.material), ("现状", condition),
            ("登记X(北)", m.x), ("登记Y(东)", m.y),
            ("平面坐标系", f"EPSG:{text(m.plane_crs)}" if text(m.plane_crs) else ""),
            ("经度", LON), ("纬度", LAT),
            ("位置", m.location), ("埋设日期", m.installed_on),
        ]
        if record:
            pairs += [
                ("最近检查", f"{text(record['inspected_on'])} {text(record['round_id'])}".strip()),
                ("检查状况", record["condition"]), ("位移(米)", record["displacement_m"]),
                ("处理意见", record["action"]), ("左侧检查人", record["inspectors_left"]),
                ("右侧检查人", record["inspectors_right"]), ("照片", record["photos"]), ("备注", record["notes"]),
            ]
        else:
            pairs.append(("最近检查", "无记录"))
        props.append({"k": condition, "t": text(m.marker_id), "p": rows(*pairs)})
    styles = {c: point_style(colour, MARKER_RADIUS) for c, colour in CONDITION_COLOURS.items()}
    page.add("界桩", markers.geometry, props, styles, shape="point", labels=True, focus=bool(line_id))
    return page.save(output)
