"""How each layer is drawn: the one definition the HTML maps (:mod:`diming.maps`) and the QGIS
styles (:mod:`diming.layers.qml`) both take their colours, widths and classes from, so a marker
lost in the field is the same red on the officer's screen and in the map she e-mails.

Widths are CSS pixels (Leaflet's unit); the QGIS styles draw them as pixels too. The Chinese name
of every class is :func:`diming.layers.schema.label` of its code.
"""
from __future__ import annotations

# admin areas: soft fills that tell neighbours apart, one outline colour, the level sets its width
AREA_PALETTE = ("#8ab6d6", "#f2b880", "#a8d5a2", "#d7a6d9", "#f5e08c", "#9fd8d3")
AREA_OUTLINE = "#44546a"
AREA_OUTLINE_WIDTH = {"province": 3.5, "city": 3.0, "county": 2.5, "town": 1.2, "village": 0.8}

# boundary lines (行政区域界线): red dash-dot, the map convention for an administrative boundary
BOUNDARY_COLOUR = "#b71c1c"
BOUNDARY_WIDTH = 3.5
BOUNDARY_DASH = (10, 4, 2, 4)  # dash, gap, dot, gap in pixels

# boundary markers and inspection records by condition, least to most in need of attention: where
# markers overlap on an HTML map, their cluster takes the colour of the one most in need
CONDITION_COLOURS = {
    "完好": "#2e7d32", "新设": "#1565c0", "未检": "#757575", "移位": "#6a1b9a", "损坏": "#ef6c00", "丢失": "#c62828",
}
MARKER_RADIUS = 6

# road signs (路名牌) by condition, least to most in need of attention, and the abnormal roads of
# the survey by kind
SIGN_CONDITION_COLOURS = {"完好": "#2e7d32", "倾斜": "#ef6c00", "污损": "#f9a825", "内容错误": "#6a1b9a",
                          "损毁": "#c62828", "缺失": "#6d4c41"}
ABNORMAL_ROAD_COLOURS = {"survey.unnamed": "#d81b60", "survey.many-names": "#8e24aa", "survey.split-name": "#3949ab",
                         "survey.generic-mismatch": "#00897b", "survey.unapproved-name": "#f4511e"}

# roads in use, drawn under the proposals
ROAD_COLOUR = "#6d6d6d"
ROAD_WIDTH = 2
CANCELLED_ROAD_COLOUR = "#bdbdbd"
CANCELLED_ROAD_DASH = (6, 4)

# the twelve proposal states in four groups of one colour each (the state itself is in the form)
PROPOSAL_GROUPS = {
    "办理中": ("draft", "submitted", "in_review", "public_notice"),
    "已批准": ("approved", "filed", "announced"),
    "路名牌": ("sign_ordered", "sign_installed", "sign_verified"),
    "未批准或撤回": ("rejected", "withdrawn"),
}
# group -> (colour, width, dash or None)
PROPOSAL_GROUP_LINES = {
    "办理中": ("#1e88e5", 5, None),
    "已批准": ("#2e7d32", 5, None),
    "路名牌": ("#00897b", 5, None),
    "未批准或撤回": ("#8d8d8d", 4, (6, 6)),
}
CLASH_COLOUR = "#d50000"

# the heritage list by category, least to most important (overlapping names cluster in the colour of the most)
HERITAGE_COLOURS = {"其他": "#5e35b1", "历史地名": "#8d6e63", "地名文化遗产": "#b71c1c"}
HERITAGE_RADIUS = 8

# labels: the largest scale denominator at which each layer's labels show (None: always), so a
# county overview is not a carpet of text
LABEL_SCALES = {"roads": 50_000, "road_proposals": 100_000, "boundary_markers": 25_000, "heritage_names": 100_000}
AREA_LABEL_SCALES = {"province": None, "city": None, "county": 1_000_000, "town": 250_000, "village": 50_000}

# a layer without its own drawing (one added to the schema since)
OTHER_COLOUR = "#455a64"

# findings of diming check by severity, least to most important; accepted exceptions grey
SEVERITY_COLOURS = {"info": "#1565c0", "warning": "#ef6c00", "error": "#d50000"}
ACCEPTED_COLOUR = "#9e9e9e"


def proposal_group(state) -> str:
    """The colour group of a proposal state (an unknown state counts as still being handled)."""
    return next((g for g, states in PROPOSAL_GROUPS.items() if state in states), "办理中")


def dash_css(dash) -> str | None:
    """A dash pattern as Leaflet's ``dashArray``."""
    return None if dash is None else " ".join(map(str, dash))
