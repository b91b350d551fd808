"""道路命名申报图: proposed roads coloured by state with name and pinyin, the existing roads, and
the proposals whose name clashes with a name in use highlighted."""
from __future__ import annotations

from typing import Callable

from diming.geonames.proposals import label as state_label
from diming.maps.areas import add_areas, area_names
from diming.layers.schema import label as code_label
from diming.layers.styles import (CLASH_COLOUR, PROPOSAL_GROUP_LINES, ROAD_COLOUR, ROAD_WIDTH, dash_css,
                                  proposal_group)
from diming.maps.page import Page, legend_entry, line_style, rows, text

# the map groups the twelve states into four colours; the popup gives the exact state
GROUP_STYLES = {group: line_style(colour, width, dash_css(dash))
                for group, (colour, width, dash) in PROPOSAL_GROUP_LINES.items()}
# (project, proposals) -> {proposal_id: [why its name clashes, …]}
ClashFinder = Callable[[object, object], dict[str, list[str]]]


def name_rule_clashes(project, proposals) -> dict[str, list[str]]:
    """Open proposals whose name is a duplicate, homophone, same-专名 or protected name of another
    road, proposal or heritage name in its duplicate scope: the checks of ``diming namecheck``."""
    from diming.geonames.namecheck import OPEN_STATES, clashes
    from diming.layers.settings import get_settings

    settings = get_settings(project)
    found: dict[str, list[str]] = {}
    for pid, name, district, state in zip(proposals["proposal_id"], proposals["name"], proposals["district"],
                                          proposals["status"]):
        if state not in OPEN_STATES or not text(name):
            continue
        messages = [f["message"] for f in clashes(project, name, district=text(district) or None,
                                                  exclude=[("road_proposals", pid)], settings=settings)]
        if messages:
            found[text(pid)] = messages
    return found


def proposals_map(project, output, *, basemap: str | None = None, tianditu_key: str | None = None,
                  title: str | None = None, clashes: ClashFinder | None = None) -> dict:
    """Write the road-naming proposals map (道路命名申报图) of ``project`` to ``output``.

    ``clashes`` finds the clashing names (default :func:`name_rule_clashes`).
    Returns ``{"output", "counts"}``.
    """
    from diming.layers.settings import get_settings
    from diming.layers.store import read_layer

    areas = read_layer(project, "admin_areas")
    roads = read_layer(project, "roads")
    proposals = read_layer(project, "road_proposals")
    clashing = (clashes or name_rule_clashes)(project, proposals)
    names = area_names(areas)

    page = Page(title or "道路命名申报图", basemap=basemap or get_settings(project)["basemap"],
                tianditu_key=tianditu_key)
    add_areas(page, areas, opacity=0.08)

    road_props = [{"k": "road", "t": text(r.name), "p": rows(
        ("道路编号", r.road_id), ("罗马字母拼写", r.pinyin), ("所属政区", names.get(text(r.district), r.district)),
        ("使用状态", code_label(text(r.status))), ("起点", r.start_desc),
        ("终点", r.end_desc), ("宽度(米)", r.width_m), ("批准日期", r.approved_on), ("含义", r.meaning),
        ("来历", r.origin), ("曾用名", r.former_names))} for r in roads.itertuples(index=False)]
    page.add("现有道路", roads.geometry, road_props, {"road": line_style(ROAD_COLOUR, ROAD_WIDTH, opacity=0.8)}, shape="line")

    def proposal_props(r):
        state = text(r.status)
        group = proposal_group(state)
        label = f"{text(r.name)} {text(r.pinyin)}".strip()
        return {"k": group, "t": label, "p": rows(
            ("申报编号", r.proposal_id), ("拟用名称", r.name), ("罗马字母拼写", r.pinyin),
            ("所属政区", names.get(text(r.district), r.district)), ("办理状态", state_label(state)),
            ("名称冲突", "\n".join(clashing.get(text(r.proposal_id), []))), ("含义", r.meaning),
            ("申请单位", r.applicant), ("起点", r.start_desc), ("终点", r.end_desc), ("宽度(米)", r.width_m),
            ("审核批次", r.batch), ("批准机关", r.approved_by), ("批准文号", r.approval_doc),
            ("公告日期", r.announced_on))}

    props = [proposal_props(r) for r in proposals.itertuples(index=False)]
    clash_rows = proposals["proposal_id"].isin(set(clashing))
    halo = line_style(CLASH_COLOUR, 12, opacity=0.45)
    page.add("名称冲突", proposals.geometry[clash_rows], [p for p, c in zip(props, clash_rows) if c],
             {g: halo for g in GROUP_STYLES}, shape="line",
             legend=[legend_entry("名称冲突", halo, "line", int(clash_rows.sum()))] if clash_rows.any() else [])
    page.add("道路命名申报", proposals.geometry, props, GROUP_STYLES, shape="line", labels=True)
    return page.save(output)
