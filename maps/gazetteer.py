"""地名录图: the gazetteer's names by census class, and the rural names by campaign state
(采集 → 审核 → 上图) as a layer of their own."""
from __future__ import annotations

from diming.maps.areas import add_areas, area_names
from diming.maps.page import Page, area_style, line_style, point_style, rows, text

# one colour per census class (geonames/data/place_categories.txt), in list order
CLASS_COLOURS = ("#00838f", "#1565c0", "#6d4c41", "#5d4037", "#7b1fa2", "#455a64", "#e65100", "#37474f",
                 "#0277bd", "#c62828", "#6a1b9a", "#2e7d32")
SHAPE_NAMES = {"area": "面", "line": "线", "point": "点"}
STATES = {"已上图": "#2e7d32", "已审核待上图": "#f9a825", "已采集待审核": "#ef6c00", "未采集": "#9e9e9e"}


def state(row) -> str:
    """The campaign state of a rural name."""
    if text(row.on_map_on):
        return "已上图"
    if text(row.reviewed_on):
        return "已审核待上图"
    return "已采集待审核" if text(row.collected_on) else "未采集"


def gazetteer_map(project, output, *, basemap: str | None = None, tianditu_key: str | None = None,
                  title: str | None = None) -> dict:
    """Write the map of the gazetteer (地名录图) of ``project`` to ``output``; ``{"output", "counts"}``."""
    from diming.geonames.categories import class_of, classes, name_of
    from diming.layers.settings import get_settings
    from diming.layers.store import read_layer

    areas = read_layer(project, "admin_areas")
    names = read_layer(project, "place_names")
    page = Page(title or "地名录图", basemap=basemap or get_settings(project)["basemap"], tianditu_key=tianditu_key)
    add_areas(page, areas, opacity=0.06)
    divisions = area_names(areas)
    colours = {klass: CLASS_COLOURS[i % len(CLASS_COLOURS)] for i, klass in enumerate(classes())}
    kinds = names.geometry.geom_type.fillna("")
    for shape, kind, make in (("area", "MultiPolygon", lambda c: area_style(c, c, 0.3)),
                              ("line", "MultiLineString", lambda c: line_style(c, 3)),
                              ("point", "Point", lambda c: point_style(c, 6))):
        part = names[kinds == kind]
        props = []
        for r in part.itertuples(index=False):
            code = text(r.district).split(",")[0]
            props.append({"k": class_of(text(r.category)), "t": text(r.name), "p": rows(
                ("地名代码", r.place_id), ("罗马字母拼写", r.pinyin), ("类别", name_of(text(r.category))),
                ("使用时间", "历史地名" if text(r.in_use) == "historical" else "现今地名"),
                ("所在行政区", divisions.get(code, code)), ("地名含义", r.meaning), ("历史沿革", r.history),
                ("乡村地名上图", state(r) if text(r.rural) == "1" else ""), ("上图平台", r.platforms),
                ("上图批次", r.map_batch))})
        page.add(f"地名({SHAPE_NAMES[shape]})", part.geometry, props,
                 {k: make(c) for k, c in colours.items()}, shape=shape, labels=True)
    rural = names[names["rural"].fillna(0) == 1]
    props = [{"k": state(r), "t": text(r.name), "p": rows(
        ("地名代码", r.place_id), ("上图进度", state(r)), ("采集日期", r.collected_on), ("审核日期", r.reviewed_on),
        ("上图日期", r.on_map_on), ("上图平台", r.platforms), ("上图批次", r.map_batch))}
        for r in rural.itertuples(index=False)]
    page.add("乡村地名上图进度", rural.geometry.representative_point() if len(rural) else rural.geometry, props,
             {k: point_style(c, 4) for k, c in STATES.items()}, shape="point")
    return page.save(output)
