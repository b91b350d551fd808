"""Administrative areas (行政区域) as the context layer every map draws, with or without a basemap."""
from __future__ import annotations

from diming.layers.schema import ADMIN_LEVELS, label
from diming.layers.styles import AREA_OUTLINE, AREA_OUTLINE_WIDTH as OUTLINE, AREA_PALETTE as PALETTE
from diming.maps.page import Page, area_style, rows, text


def area_names(areas) -> dict[str, str]:
    """Division code -> name, for popups that show codes."""
    return {text(c): text(n) for c, n in zip(areas["code"], areas["name"])} if len(areas) else {}


def add_areas(page: Page, areas, *, name: str = "行政区域", opacity: float = 0.15) -> int:
    """Draw ``areas`` (a read of ``admin_areas``) as one layer, each area filled from the palette."""
    styles, props = {}, []
    names = area_names(areas)
    # larger areas first, so the smaller ones drawn over them can still be clicked
    order = {level: i for i, level in enumerate(ADMIN_LEVELS)}
    areas = areas.iloc[sorted(range(len(areas)), key=lambda i: order.get(areas["level"].iloc[i], len(order)))]
    parents = set(areas["parent_code"])
    for i, row in enumerate(areas.itertuples(index=False)):
        level = text(row.level)
        key = f"{i % len(PALETTE)}-{level}"
        if key not in styles:
            style = area_style(AREA_OUTLINE, PALETTE[i % len(PALETTE)], opacity)
            style["weight"] = OUTLINE.get(level, 1.5)
            styles[key] = style
        props.append({"k": key, "t": text(row.name), "p": rows(
            ("区划代码", row.code), ("级别", label(level)),
            ("上级", names.get(text(row.parent_code), text(row.parent_code))))})
        if row.code in parents:
            props[-1]["nolabel"] = 1  # its parts carry the labels
    legend = [{"label": name, "shape": "area", "color": AREA_OUTLINE, "fill": PALETTE[0], "count": len(props)}]
    return page.add(name, areas.geometry, props, styles, shape="area", legend=legend if props else [],
                    labels=True)
