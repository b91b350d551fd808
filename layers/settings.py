"""Project settings (项目设置): every local rule and tolerance, with its documented default.

Only values the user has set are stored (table ``settings``, value as JSON); everything else is the
default below, so a project follows improved defaults until someone decides otherwise.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from diming.errors import DimingError


@dataclass(frozen=True)
class Setting:
    key: str
    type: type
    default: object
    description: str
    choices: tuple = ()


SETTINGS: dict[str, Setting] = {s.key: s for s in (
    Setting("duplicate_scope", str, "county",
            "重名同音比较范围 (scope for duplicate and homophone names): district/county/city",
            ("district", "county", "city")),
    Setting("name_max_length", int, 12, "名称最大字数 (longest name allowed, characters)"),
    Setting("public_notice_days", int, 7, "公示期天数 (public-notice length, days; set by the province)"),
    Setting("sign_verify_days", int, 60, "公告后路名牌验收期限天数 (days after announcement to verify the sign)"),
    Setting("same_specific_severity", str, "warning",
            "专名相同、通名不同 (海口路/海口街) 的处理: error 视为重名, warning 提示", ("error", "warning")),
    Setting("forbidden_words", str, "",
            "本地不宜使用的词, 以逗号或空格分隔 (words added to the built-in 大洋怪重 list)"),
    Setting("pinyin_overrides", str, "",
            "地名读音覆盖表 (place readings of polyphones): 朝阳=chao2 yang2; 六安=lu4 an1"),
    Setting("generic_width_rule", str, "",
            "通名与路宽对应 (optional local rule): 街:40; 路:30; 道:22 means 街 ≥ 40 m, 路 30–40 m, 道 22–30 m; empty: off"),
    Setting("area_overlap_tolerance_m2", float, 1.0, "行政区域重叠容差 (overlaps up to this area are ignored, m²)"),
    Setting("area_gap_tolerance_m2", float, 1.0, "行政区域缝隙容差 (gaps up to this area are ignored, m²)"),
    Setting("area_sliver_width_m", float, 0.05,
            "行政区域重叠/缝隙宽度容差 (an overlap or gap thinner than this everywhere is a rounding sliver, not a finding, m)"),
    Setting("line_tolerance_m", float, 5.0, "界线与区域边界偏差容差 (boundary line vs shared area edge, m)"),
    Setting("proposal_tolerance_m", float, 5.0,
            "申报道路重合判定距离 (a proposal within this distance of a named road lies on it, m)"),
    Setting("proposal_min_length_m", float, 50.0,
            "申报道路重合/跨界最短长度 (shared or cross-border stretches shorter than this, e.g. at crossings, are ignored, m)"),
    Setting("marker_tolerance_m", float, 5.0, "界桩偏离界线容差 (marker distance to its line, m)"),
    Setting("displacement_tolerance_m", float, 1.0, "联检位移容差 (measured vs registered position, m)"),
    Setting("inspection_position_limit_m", float, 500.0,
            "联检实测位置离界线超过此距离视为录入错误 (a measured position this far from its line is refused, m)"),
    Setting("marker_id_pattern", str, r"^(?P<line>\d{4})(?P<seq>\d{3})(?P<type>[QABCDE])$",
            "界桩编号格式 (regular expression; groups line/seq/type; default GB/T 17796)"),
    Setting("xlsx_max_part_mb", int, 1000,
            "导入 XLSX 时任一部件解压后的上限 (MB): larger files are refused before they are unpacked"),
    Setting("xlsx_max_rows", int, 1_048_576, "导入 XLSX 工作表的最多行数 (Excel's own limit by default)"),
    Setting("basemap", str, "none", "地图底图 (none, osm, tianditu, or an XYZ URL template)"),
    # road signs, sign patrols, the abnormal-roads survey
    Setting("sign_road_tolerance_m", float, 50.0, "路牌距所属道路中心线容差 (sign.far-from-road, m)"),
    Setting("no_sign_severity", str, "info", "有名无牌 (road.no-sign) 的级别: info 提示, warning 警告",
            ("info", "warning")),
    Setting("sign_repair_days", int, 30, "路牌上报市局后应修复的天数 (days to fix a reported sign before it is overdue)"),
    Setting("survey_tolerance_m", float, 15.0, "摸排道路与已命名道路重合判定距离 (survey line on a named road within, m)"),
    Setting("survey_min_length_m", float, 50.0,
            "摸排道路重合最短长度 (shared stretches shorter than this, e.g. at crossings, are ignored, m)"),
    Setting("survey_unnamed_length_m", float, 200.0,
            "有路无名: 摸排道路不在已命名道路上的长度超过此值 (survey.unnamed, m)"),
    Setting("survey_split_distance_m", float, 500.0, "一名多路: 同名道路相隔超过此距离 (survey.split-name, m)"),
    # gazetteer and rural names (see README, "The gazetteer and rural names")
    Setting("category_scopes", str, "",
            "其他类别地名的重名范围 (scope of the categories the regulations leave open): 陆地水系=county; "
            "纪念地旅游景点=city; empty: duplicate_scope"),
    Setting("place_id_pattern", str, r"^(?P<division>\d{6}|\d{9}|\d{12})(?P<category>\d{5})(?P<seq>\d{6})$",
            "地名代码格式 (regular expression; groups division/category/seq: 区划代码 + 类别代码 + 顺序码)"),
    Setting("model_village_criteria", str, "categories=0.25; meaning=0.25; photos=0.25; on_map=0.25",
            "示范村评分项及权重 (criteria of the model-village ranking and their weights)"),
    Setting("model_village_classes", int, 4, "示范村地名类别覆盖目标 (number of census classes for full coverage)"),
    Setting("model_village_min_names", int, 5, "示范村候选最少地名数 (villages with fewer names are not ranked)"),
)}


def parse(key: str, raw: str):
    """The typed value of setting ``key`` from the text a user typed, or a clear error."""
    setting = SETTINGS.get(key)
    if setting is None:
        raise DimingError(f"未知设置项 {key!r} (unknown setting); 可用: {', '.join(SETTINGS)}")
    try:
        value = setting.type(raw)
    except ValueError:
        raise DimingError(f"设置项 {key}: {raw!r} 不是 {setting.type.__name__} (wrong type)") from None
    if setting.choices and value not in setting.choices:
        raise DimingError(f"设置项 {key}: {raw!r} 不在 {', '.join(setting.choices)} 之中")
    if setting.type in (int, float) and value < 0:
        raise DimingError(f"设置项 {key}: 不能为负数 (must not be negative)")
    if key == "generic_width_rule":
        from diming.geonames.rules import parse_width_rule

        parse_width_rule(value)
    if key == "pinyin_overrides":
        from diming.geonames.pinyin import parse_overrides

        parse_overrides(value)
    if key == "category_scopes":
        from diming.geonames.categories import parse_scopes

        parse_scopes(value)
    if key == "model_village_criteria":
        from diming.geonames.rural import parse_criteria

        parse_criteria(value)
    if key == "place_id_pattern":
        from diming.geonames.gazetteer import compile_pattern

        compile_pattern(value)
    if key == "marker_id_pattern":
        marker_pattern(value)
    return value


MAX_VARIABLE_REPEATS = 4


def marker_pattern(text: str) -> re.Pattern:
    """The compiled ``marker_id_pattern``, refused when it could backtrack catastrophically.

    A pattern is refused when a repeated part could match the same text in more than one way — a
    repeat of varying width inside a repeat (``(\\d+)+``), an alternative inside a repeat
    (``(a|ab)*``) — or when it uses a back-reference: those take time exponential in the length of
    the id. Checked when the setting is set and again when it is used, as a project edited by another
    program may carry any text.
    """
    try:
        compiled = re.compile(text)
    except re.error as exc:
        raise DimingError(f"设置项 marker_id_pattern: 不是有效的正则表达式 ({exc})") from None
    try:
        from re import _parser as sre_parse  # Python 3.11+
    except ImportError:  # Python 3.10
        import sre_parse
    problem = _backtracking(sre_parse.parse(text), sre_parse)
    if problem:
        raise DimingError(f"设置项 marker_id_pattern: {text!r} 可能回溯失控 ({problem}; catastrophic "
                          "backtracking), 请改写, 如 ^(?P<line>\\d{4})(?P<seq>\\d{3})(?P<type>[QABCDE])$")
    return compiled


def _backtracking(pattern, c, inside_repeat: bool = False, count: list | None = None) -> str | None:
    """Why the parsed ``pattern`` may backtrack catastrophically, or None. Inside a repeated part
    (``+``, ``*``, ``{2,}`` …) only parts of fixed width may appear; a pattern may have at most
    :data:`MAX_VARIABLE_REPEATS` repeats of varying width (each multiplies the work by the id's length)."""
    count = [0] if count is None else count
    repeats = {c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", c.MAX_REPEAT)}
    for op, arg in pattern:
        problem = None
        if op in (c.GROUPREF, c.GROUPREF_EXISTS):
            return "反向引用 (back-reference)"
        if op in repeats:
            low, high, body = arg
            if low != high:
                if inside_repeat:
                    return "重复中又有可变次数的重复 (nested quantifier)"
                count[0] += 1
                if count[0] > MAX_VARIABLE_REPEATS:
                    return f"可变次数的重复超过 {MAX_VARIABLE_REPEATS} 处 (too many quantifiers)"
            problem = _backtracking(body, c, inside_repeat or high > 1, count)
        elif op == c.BRANCH:
            if inside_repeat:
                return "重复中有多选一 (alternation inside a quantifier)"
            for branch in arg[1]:
                problem = problem or _backtracking(branch, c, inside_repeat, count)
        elif op == c.SUBPATTERN:
            problem = _backtracking(arg[-1], c, inside_repeat, count)
        elif op in (c.ASSERT, c.ASSERT_NOT):
            problem = _backtracking(arg[1], c, inside_repeat, count)
        elif op == getattr(c, "ATOMIC_GROUP", None):
            problem = _backtracking(arg, c, inside_repeat, count)
        if problem:
            return problem
    return None


def get_settings(project) -> dict:
    """All settings of a project: stored values over the defaults."""
    from diming.layers.store import read_layer

    values = {key: s.default for key, s in SETTINGS.items()}
    stored = read_layer(project, "settings")
    for key, value in zip(stored["key"], stored["value"]):
        if key in values:
            values[key] = json.loads(value)
    return values


def get_setting(project, key: str):
    if key not in SETTINGS:
        parse(key, "")  # raises the unknown-setting error
    return get_settings(project)[key]


def set_setting(project, key: str, raw: str, by: str | None = None):
    """Set ``key`` from text, in one audited transaction; returns the typed value."""
    from diming.layers.store import transaction

    value = parse(key, raw)
    with transaction(project, by=by) as tx:
        if tx.get("settings", key) is None:
            tx.insert("settings", [{"key": key, "value": json.dumps(value, ensure_ascii=False)}], action="config")
        else:
            tx.update("settings", key, {"value": json.dumps(value, ensure_ascii=False)}, action="config")
    return value
