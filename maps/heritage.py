"""地名保护名录图: protected names (地名保护名录) with their meaning, origin and history."""
from __future__ import annotations

from diming.layers.schema import label
from diming.layers.styles import HERITAGE_COLOURS as CATEGORY_COLOURS, HERITAGE_RADIUS
from diming.maps.areas import add_areas
from diming.maps.page import Page, point_style, rows, text


def heritage_map(project, output, *, basemap: str | None = None, tianditu_key: str | None = None,
                 title: str | None = None) -> dict:
    """Write the map of protected names (地名保护名录图) of ``project`` to ``output``.

    Returns ``{"output", "counts"}``.
    """
    from diming.layers.settings import get_settings
    from diming.layers.store import read_layer

    areas = read_layer(project, "admin_areas")
    heritage = read_layer(project, "heritage_names")
    page = Page(title or "地名保护名录图", basemap=basemap or get_settings(project)["basemap"],
                tianditu_key=tianditu_key)
    add_areas(page, areas, opacity=0.08)
    props = []
    for h in heritage.itertuples(index=False):
        category = text(h.category) if text(h.category) in CATEGORY_COLOURS else "其他"
        props.append({"k": category, "t": text(h.name), "p": rows(
            ("名录编号", h.heritage_id), ("罗马字母拼写", h.pinyin), ("类别", h.category), ("批次", h.batch),
            ("保护级别", h.level), ("含义", h.meaning), ("来历", h.origin), ("沿革", h.history),
            ("历史文化价值", h.value), ("位置", h.location), ("公布日期", h.listed_on),
            ("状态", label(text(h.status))))})
    styles = {c: point_style(colour, HERITAGE_RADIUS) for c, colour in CATEGORY_COLOURS.items()}
    page.add("地名保护名录", heritage.geometry, props, styles, shape="point", labels=True)
    return page.save(output)
