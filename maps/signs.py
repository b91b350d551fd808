"""路名牌分布图: road signs (路名牌) coloured by their condition, on the roads they name."""
from __future__ import annotations

from diming.maps.page import Page, line_style, point_style, rows, text

CONDITION_COLOURS = {"完好": "#2e7d32", "污损": "#f9a825", "损毁": "#c62828", "缺失": "#6d4c41", "倾斜": "#ef6c00",
                     "内容错误": "#6a1b9a"}


def signs_map(project, output, *, basemap: str | None = None, tianditu_key: str | None = None,
              title: str | None = None) -> dict:
    """Write the sign map of ``project`` to ``output``: each sign coloured by its condition (which
    follows its latest patrol record), the roads they belong to underneath. Returns ``{"output", "counts"}``."""
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
    return page.save(output)
