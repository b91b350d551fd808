"""道路命名申报图: proposed roads coloured by state with name and pinyin, the existing roads, and
the proposals whose name clashes with a name in use highlighted."""
from __future__ import annotations

from typing import Callable

from diming.maps.areas import add_areas, area_names
from diming.maps.page import Page, legend_entry, line_style, rows, text

STATE_NAMES = {
    "draft": "草拟", "submitted": "已申报", "in_review": "审核中", "public_notice": "公示中",
    "approved": "已批准", "filed": "已备案", "announced": "已公告", "sign_ordered": "路名牌已订制",
    "sign_installed": "路名牌已安装", "sign_verified": "路名牌已验收", "rejected": "未批准", "withdrawn": "已撤回",
}
# the map groups the twelve states into four colours; the popup gives the exact state
STATE_GROUPS = {
    "办理中": ("draft", "submitted", "in_review", "public_notice"),
    "已批准": ("approved", "filed", "announced"),
    "路名牌": ("sign_ordered", "sign_installed", "sign_verified"),
    "未批准或撤回": ("rejected", "withdrawn"),
}
GROUP_STYLES = {
    "办理中": line_style("#1e88e5", 5),
    "已批准": line_style("#2e7d32", 5),
    "路名牌": line_style("#00897b", 5),
    "未批准或撤回": line_style("#8d8d8d", 4, "6 6"),
}
CLOSED = STATE_GROUPS["未批准或撤回"]

# proposal_id -> why its name clashes; given the proposals, the roads and the heritage names
ClashFinder = Callable[[object, object, object], dict[str, list[str]]]


def exact_name_clashes(proposals, roads, heritage) -> dict[str, list[str]]:
    """Proposals whose name is exactly a road name in use, a protected name, or the name of another
    open proposal. The name rules (重名, 同音, same 专名) are richer; pass them as ``clashes``."""
    in_use = {text(n) for n, s in zip(roads["name"], roads["status"]) if text(s) != "cancelled"}
    protected = {text(n) for n in heritage["name"]}
    open_ = proposals[~proposals["status"].isin(CLOSED)]
    found: dict[str, list[str]] = {}
    for pid, name in zip(open_["proposal_id"], open_["name"]):
        reasons = []
        if name in in_use:
            reasons.append(f"与现有道路同名: {name}")
        if name in protected:
            reasons.append(f"与地名保护名录同名: {name}")
        others = open_[(open_["name"] == name) & (open_["proposal_id"] != pid)]
        if len(others):
            reasons.append(f"与其他申报同名: {', '.join(map(text, others['proposal_id']))}")
        if reasons:
            found[text(pid)] = reasons
    return found


def proposals_map(project, output, *, basemap: str | None = None, tianditu_key: str | None = None,
                  title: str | None = None, clashes: ClashFinder | None = None) -> dict:
    """Write the road-naming proposals map (道路命名申报图) of ``project`` to ``output``.

    ``clashes`` finds the clashing names (default :func:`exact_name_clashes`).
    Returns ``{"output", "counts"}``.
    """
    from diming.layers.settings import get_settings
    from diming.layers.store import read_layer

    areas = read_layer(project, "admin_areas")
    roads = read_layer(project, "roads")
    proposals = read_layer(project, "road_proposals")
    heritage = read_layer(project, "heritage_names")
    clashing = (clashes or exact_name_clashes)(proposals, roads, heritage)
    names = area_names(areas)

    page = Page(title or "道路命名申报图", basemap=basemap or get_settings(project)["basemap"],
                tianditu_key=tianditu_key)
    add_areas(page, areas, opacity=0.08)

    road_props = [{"k": "road", "t": text(r.name), "p": rows(
        ("道路编号", r.road_id), ("罗马字母拼写", r.pinyin), ("所属政区", names.get(text(r.district), r.district)),
        ("使用状态", "已撤销" if text(r.status) == "cancelled" else "使用中"), ("批准日期", r.approved_on),
        ("含义", r.meaning), ("来历", r.origin))} for r in roads.itertuples(index=False)]
    page.add("现有道路", roads.geometry, road_props, {"road": line_style("#6d6d6d", 2, opacity=0.8)}, shape="line")

    def proposal_props(r):
        state = text(r.status)
        group = next((g for g, states in STATE_GROUPS.items() if state in states), "办理中")
        label = f"{text(r.name)} {text(r.pinyin)}".strip()
        return {"k": group, "t": label, "p": rows(
            ("申报编号", r.proposal_id), ("拟用名称", r.name), ("罗马字母拼写", r.pinyin),
            ("所属政区", names.get(text(r.district), r.district)), ("办理状态", STATE_NAMES.get(state, state)),
            ("名称冲突", "\n".join(clashing.get(text(r.proposal_id), []))))}

    props = [proposal_props(r) for r in proposals.itertuples(index=False)]
    clash_rows = proposals["proposal_id"].isin(set(clashing))
    halo = line_style("#d50000", 12, opacity=0.45)
    page.add("名称冲突", proposals.geometry[clash_rows], [p for p, c in zip(props, clash_rows) if c],
             {g: halo for g in GROUP_STYLES}, shape="line",
             legend=[legend_entry("名称冲突", halo, "line", int(clash_rows.sum()))] if clash_rows.any() else [])
    page.add("道路命名申报", proposals.geometry, props, GROUP_STYLES, shape="line", labels=True)
    return page.save(output)
