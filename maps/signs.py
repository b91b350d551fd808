"""路名牌分布图: road signs (路名牌) coloured by their condition, on the roads they name, and the
survey lines of the abnormal roads still to be rectified (整治台账 待整治/整治中)."""
from __future__ import annotations

from diming.layers.styles import ABNORMAL_ROAD_COLOURS as ABNORMAL_COLOURS
from diming.layers.styles import SIGN_CONDITION_COLOURS as CONDITION_COLOURS
from diming.maps.page import Page, legend_entry, line_style, point_style, rows, text


def signs_map(project, output, *, basemap: str | None = None, tianditu_key: str | None = None,
              title: str | None = None) -> dict:
    """Write the sign map of ``project`` to ``output``: each sign coloured by its condition (which
    follows its latest patrol record), the roads they belong to underneath, and the survey lines of
    open abnormalities by category. Returns ``{"output", "counts"}``."""
    from diming.layers.settings import get_settings
    from diming.layers.store import read_layer

    signs = read_layer(project, "road_signs")
    roads = read_layer(project, "roads", where="road_id IN (SELECT road_id FROM road_signs)")
    names = dict(zip(roads.road_id, roads.name))
    page = Page(title or "路名牌分布图", basemap=basemap or get_settings(project)["basemap"], tianditu_key=tianditu_key)
    page.add("道路", roads.geometry, [{"k": "road", "t": text(r.name), "p": rows(
        ("道路编号", r.road_id), ("标准名称", r.name), ("罗马字母拼写", r.pinyin),
        ("使用状态", "已销名" if r.status == "cancelled" else "在用"))} for r in roads.itertuples(index=False)],
        {"road": line_style("#9e9e9e", 2)}, shape="line")
    props = []
    for s in signs.itertuples(index=False):
        condition = text(s.condition) if text(s.condition) in CONDITION_COLOURS else "完好"
        props.append({"k": condition, "t": text(s.text) or text(s.sign_id), "p": rows(
            ("路牌编号", s.sign_id), ("道路", names.get(s.road_id, s.road_id)), ("路牌类型", s.sign_type),
            ("牌面名称", s.text), ("牌面拼音", s.pinyin), ("牌面朝向", s.facing), ("方向指示", s.direction),
            ("材质", s.material), ("设置日期", s.installed_on), ("设置单位", s.installed_by), ("现状", s.condition),
            ("照片", s.photo), ("备注", s.notes))})
    page.add("路名牌", signs.geometry, props, {c: point_style(colour) for c, colour in CONDITION_COLOURS.items()},
             shape="point")
    _abnormal(project, page)
    return page.save(output)


def _abnormal(project, page) -> None:
    """The survey lines of each open abnormality, coloured by its category (signs and roads of
    有名无牌/牌名不符 are on the map already)."""
    from diming.geonames.survey import OPEN_STATUSES, register
    from diming.layers.store import read_geometries
    from diming.rule_names import rule_name

    open_ = [r for r in register(project) if r["status"] in OPEN_STATUSES and r["code"] in ABNORMAL_COLOURS]
    lines = {r["rectification_id"]: [k.split(":", 1)[1] for k in r["keys"] if k.startswith("road_survey:")]
             for r in open_}
    found = read_geometries(project, "road_survey", {i for ids in lines.values() for i in ids})
    geoms, props = [], []
    for r in open_:
        for survey_id in lines[r["rectification_id"]]:
            geoms.append(found.get(survey_id))
            props.append({"k": r["code"], "t": r["name"] or rule_name(r["code"]), "p": rows(
                ("台账编号", r["rectification_id"]), ("异常类别", rule_name(r["code"])), ("摸排编号", survey_id),
                ("情况说明", r["description"]), ("整治状态", r["status"]), ("责任单位", r["unit"]),
                ("整治期限", r["due_on"]))})
    styles = {code: line_style(colour, 4, "8 4") for code, colour in ABNORMAL_COLOURS.items()}
    page.add("异常道路", geoms, props, styles, shape="line",
             legend=[legend_entry(f"异常道路·{rule_name(c)}", styles[c], "line", sum(p["k"] == c for p in props))
                     for c in styles if any(p["k"] == c for p in props)])
