"""The layers of a diming project and their fields: the one place the schema is defined.

Field names are English snake_case; each carries a Chinese alias that is written to the
GeoPackage ``gpkg_data_columns`` table so desktop GIS shows it. Field types are the GeoPackage
column types diming uses: ``TEXT``, ``INTEGER``, ``REAL``, ``DATE`` (ISO ``YYYY-MM-DD`` text) and
``DATETIME`` (ISO 8601 text, UTC).
"""
from __future__ import annotations

from dataclasses import dataclass, field

STORAGE_EPSG = 4490  # CGCS2000 geographic, mandatory for boundary and place-name data


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    alias: str
    required: bool = False
    choices: tuple[str, ...] = ()
    default: str | None = None  # filled on every write path when the value is missing
    yes_no: bool = False  # an INTEGER holding 1 (yes) or 0 (no): a checkbox in GIS forms


@dataclass(frozen=True)
class Layer:
    name: str
    alias: str
    geometry: str | None  # GeoPackage geometry type name, None for attribute tables
    key: str | None
    fields: tuple[Field, ...] = field(default_factory=tuple)
    system: bool = False  # maintained by diming itself, never imported into

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]


ADMIN_LEVELS = ("province", "city", "county", "town", "village")
ROAD_STATUSES = ("in_use", "cancelled")
MARKER_TYPES = ("单立", "同号双立", "同号三立")
MARKER_CONDITIONS = ("完好", "损坏", "丢失", "移位", "新设", "未检")
INSPECTION_ACTIONS = ("无需处理", "维修", "重建", "复位")
PROPOSAL_STATES = (
    "draft", "submitted", "in_review", "public_notice", "approved", "filed", "announced",
    "sign_ordered", "sign_installed", "sign_verified", "rejected", "withdrawn",
)
HERITAGE_CATEGORIES = ("地名文化遗产", "历史地名", "其他")
HERITAGE_STATUSES = ("in_use", "historical", "delisted")

# --- road signs, sign patrols and the abnormal-roads survey (地名标志, 路牌巡查, 异常道路摸排) ---
SIGN_TYPES = ("街牌", "路牌", "巷牌", "路名指示牌", "门楼牌", "村牌")  # GB 17733 kinds
SIGN_CONDITIONS = ("完好", "污损", "损毁", "缺失", "倾斜", "内容错误")
SIGN_ACTIONS = ("无需处理", "清洗", "扶正", "更换", "新设", "上报市局")
ROAD_CLASSES = ("快速路", "主干路", "次干路", "支路", "街巷")
RECTIFY_STATUSES = ("待整治", "整治中", "已整治", "不需整治")
RECTIFY_ACTIONS = ("命名", "更名", "设牌", "改牌", "注销")
SIGN_LAYERS = (
    Layer("road_signs", "路名牌", "POINT", "sign_id", (
        Field("sign_id", "TEXT", "路牌编号", required=True),
        Field("road_id", "TEXT", "道路编号", required=True),
        Field("sign_type", "TEXT", "路牌类型", choices=SIGN_TYPES),
        Field("text", "TEXT", "牌面名称"),
        Field("pinyin", "TEXT", "牌面拼音"),
        Field("facing", "TEXT", "牌面朝向"),
        Field("direction", "TEXT", "方向指示"),
        Field("material", "TEXT", "材质"),
        Field("installed_on", "DATE", "设置日期"),
        Field("installed_by", "TEXT", "设置单位"),
        Field("proposal_id", "TEXT", "命名申报编号"),
        Field("condition", "TEXT", "现状", choices=SIGN_CONDITIONS, default="完好"),
        Field("photo", "TEXT", "照片"),
        Field("notes", "TEXT", "备注"),
    )),
    Layer("sign_patrols", "路牌巡查", None, "patrol_id", (
        Field("patrol_id", "TEXT", "巡查编号", required=True),
        Field("name", "TEXT", "巡查名称", required=True),
        Field("districts", "TEXT", "巡查政区代码(JSON)"),
        Field("starts_on", "DATE", "开始日期"),
        Field("ends_on", "DATE", "结束日期"),
        Field("status", "TEXT", "状态", choices=("active", "closed"), default="active"),
    )),
    Layer("sign_patrol_records", "路牌巡查记录", None, "record_id", (
        Field("record_id", "TEXT", "记录编号", required=True),
        Field("patrol_id", "TEXT", "巡查编号", required=True),
        Field("sign_id", "TEXT", "路牌编号", required=True),
        Field("patrolled_on", "DATE", "巡查日期"),
        Field("condition", "TEXT", "现状", choices=SIGN_CONDITIONS),
        Field("action", "TEXT", "处理", choices=SIGN_ACTIONS),
        Field("photo", "TEXT", "照片"),
        Field("patroller", "TEXT", "巡查人"),
        Field("notes", "TEXT", "备注"),
        Field("fixed_on", "DATE", "修复日期"),
    )),
    Layer("road_survey", "道路摸排", "MULTILINESTRING", "survey_id", (
        Field("survey_id", "TEXT", "摸排编号", required=True),
        Field("observed_names", "TEXT", "现场名称(、分隔)"),
        Field("source", "TEXT", "来源"),
        Field("surveyed_on", "DATE", "摸排日期"),
        Field("district", "TEXT", "所属政区代码"),
        Field("road_class", "TEXT", "道路等级", choices=ROAD_CLASSES),
        Field("width_m", "REAL", "宽度(米)"),
        Field("notes", "TEXT", "备注"),
    )),
    Layer("road_rectifications", "异常道路整治台账", None, "rectification_id", (
        Field("rectification_id", "TEXT", "台账编号", required=True),
        Field("code", "TEXT", "异常类别", required=True),
        Field("keys", "TEXT", "涉及要素(JSON)", required=True),
        Field("name", "TEXT", "名称"),
        Field("district", "TEXT", "所属政区代码"),
        Field("description", "TEXT", "情况说明"),
        Field("found_on", "DATE", "发现日期"),
        Field("status", "TEXT", "整治状态", choices=RECTIFY_STATUSES, default="待整治"),
        Field("reason", "TEXT", "不需整治理由"),
        Field("unit", "TEXT", "责任单位"),
        Field("due_on", "DATE", "整治期限"),
        Field("action", "TEXT", "整治措施", choices=RECTIFY_ACTIONS),
        Field("closed_on", "DATE", "完成日期"),
        Field("notes", "TEXT", "备注"),
    )),
)
# --- gazetteer (地名录) -------------------------------------------------------------------------
def _place_categories() -> dict[str, str]:
    """Category code (or census class) -> its Chinese name, from geonames/data/place_categories.txt."""
    from pathlib import Path

    text = (Path(__file__).parent.parent / "geonames" / "data" / "place_categories.txt").read_text(encoding="utf-8")
    return {code: name for code, name, _ in (line.split("\t") for line in text.splitlines()
                                              if line.strip() and not line.startswith("#"))}


PLACE_CATEGORIES = _place_categories()
PLACE_USE = ("current", "historical")  # 使用时间: 现今地名 / 历史地名
SURVEY_METHODS = ("实测", "图解")
# --- end gazetteer ------------------------------------------------------------------------------

# The Chinese label of every stored code that is not Chinese itself: the one table that forms,
# sheets, maps, reports and GIS value lists show. A code means the same in every layer it is used in.
CODE_LABELS = {
    "province": "省级", "city": "市级", "county": "县级", "town": "乡级", "village": "村级",
    "in_use": "在用", "cancelled": "已销名", "historical": "历史地名", "delisted": "已撤销",
    "active": "进行中", "closed": "已结束",
    "draft": "草稿", "submitted": "已申报", "in_review": "审查中", "public_notice": "公示中",
    "approved": "已批准", "filed": "已备案", "announced": "已公告", "sign_ordered": "路牌已订制",
    "sign_installed": "路牌已安装", "sign_verified": "路牌已验收", "rejected": "未通过", "withdrawn": "已撤回",
    "ok": "通过", "warning": "警告", "error": "错误",
    "current": "现今地名",  # place_names.in_use; "historical" above
    **{code: name for code, name in PLACE_CATEGORIES.items() if code != name},  # 22200 -> 农村居民点
}


def label(code):
    """The Chinese label of a stored code (the code itself when it is Chinese already or unknown)."""
    return CODE_LABELS.get(code, code)


LAYERS: dict[str, Layer] = {
    layer.name: layer
    for layer in (
        Layer("admin_areas", "行政区域", "MULTIPOLYGON", "code", (
            Field("code", "TEXT", "区划代码", required=True),
            Field("name", "TEXT", "名称", required=True),
            Field("level", "TEXT", "级别", required=True, choices=ADMIN_LEVELS),
            Field("parent_code", "TEXT", "上级区划代码"),
        )),
        Layer("boundary_lines", "行政区域界线", "MULTILINESTRING", "line_id", (
            Field("line_id", "TEXT", "界线编号", required=True),
            Field("name", "TEXT", "界线名称", required=True),
            Field("left_code", "TEXT", "左侧区划代码", required=True),
            Field("right_code", "TEXT", "右侧区划代码", required=True),
            Field("description", "TEXT", "走向说明"),
            Field("agreement", "TEXT", "协议书"),
        )),
        Layer("boundary_markers", "界桩", "POINT", "marker_id", (
            Field("marker_id", "TEXT", "界桩编号", required=True),
            Field("line_id", "TEXT", "界线编号", required=True),
            Field("marker_type", "TEXT", "界桩类型", choices=MARKER_TYPES),
            Field("material", "TEXT", "材质"),
            Field("x", "REAL", "X坐标(北)"),
            Field("y", "REAL", "Y坐标(东)"),
            Field("plane_crs", "INTEGER", "平面坐标系EPSG"),
            Field("elevation", "REAL", "高程"),
            Field("location", "TEXT", "位置说明"),
            Field("condition", "TEXT", "现状", choices=MARKER_CONDITIONS),
            Field("installed_on", "DATE", "埋设日期"),
        )),
        Layer("inspections", "界线联检记录", "POINT", "inspection_id", (
            Field("inspection_id", "TEXT", "记录编号", required=True),
            Field("round_id", "TEXT", "联检轮次", required=True),
            Field("marker_id", "TEXT", "界桩编号", required=True),
            Field("line_id", "TEXT", "界线编号"),
            Field("inspected_on", "DATE", "检查日期"),
            Field("inspectors_left", "TEXT", "左侧检查人"),
            Field("inspectors_right", "TEXT", "右侧检查人"),
            Field("condition", "TEXT", "界桩状况", choices=MARKER_CONDITIONS),
            Field("references_complete", "INTEGER", "方位物完好", yes_no=True),
            Field("line_recognisable", "INTEGER", "界线走向清楚", yes_no=True),
            Field("measured_x", "REAL", "实测X"),
            Field("measured_y", "REAL", "实测Y"),
            Field("measured_crs", "INTEGER", "实测坐标系EPSG"),
            Field("displacement_m", "REAL", "位移(米)"),
            Field("action", "TEXT", "处理意见", choices=INSPECTION_ACTIONS),
            Field("photos", "TEXT", "照片"),
            Field("notes", "TEXT", "备注"),
        )),
        Layer("inspection_rounds", "联检轮次", None, "round_id", (
            Field("round_id", "TEXT", "轮次编号", required=True),
            Field("name", "TEXT", "轮次名称", required=True),
            Field("year", "INTEGER", "年度"),
            Field("line_ids", "TEXT", "界线编号(JSON)"),
            Field("starts_on", "DATE", "开始日期"),
            Field("ends_on", "DATE", "结束日期"),
            Field("status", "TEXT", "状态", choices=("active", "closed"), default="active"),
        )),
        Layer("roads", "道路名称", "MULTILINESTRING", "road_id", (
            Field("road_id", "TEXT", "道路编号", required=True),
            Field("name", "TEXT", "标准名称", required=True),
            Field("pinyin", "TEXT", "罗马字母拼写"),
            Field("district", "TEXT", "所属政区代码"),
            Field("status", "TEXT", "使用状态", choices=ROAD_STATUSES, default="in_use"),
            Field("approved_on", "DATE", "批准日期"),
            Field("meaning", "TEXT", "含义"),
            Field("origin", "TEXT", "来历"),
            Field("start_desc", "TEXT", "起点"),
            Field("end_desc", "TEXT", "终点"),
            Field("width_m", "REAL", "宽度(米)"),
            Field("proposal_id", "TEXT", "命名申报编号"),
            Field("former_names", "TEXT", "曾用名"),
            Field("cancelled_on", "DATE", "销名日期"),
        )),
        Layer("road_proposals", "道路命名申报", "MULTILINESTRING", "proposal_id", (
            Field("proposal_id", "TEXT", "申报编号", required=True),
            Field("name", "TEXT", "拟用名称", required=True),
            Field("pinyin", "TEXT", "罗马字母拼写"),
            Field("district", "TEXT", "所属政区代码"),
            Field("status", "TEXT", "办理状态", choices=PROPOSAL_STATES, default="draft"),
            Field("reason", "TEXT", "申请理由"),
            Field("meaning", "TEXT", "含义"),
            Field("applicant", "TEXT", "申请单位"),
            Field("start_desc", "TEXT", "起点"),
            Field("end_desc", "TEXT", "终点"),
            Field("width_m", "REAL", "宽度(米)"),
            Field("ordinal", "INTEGER", "数字为序数", yes_no=True),
            Field("batch", "TEXT", "审核批次"),
            Field("created_on", "DATE", "登记日期"),
            Field("submitted_on", "DATE", "申报日期"),
            Field("review_started_on", "DATE", "审查开始日期"),
            Field("assessment_ref", "TEXT", "综合评估报告"),
            Field("expert_review_ref", "TEXT", "专家论证报告"),
            Field("consultation_ref", "TEXT", "征求意见报告"),
            Field("notice_start", "DATE", "公示开始日期"),
            Field("notice_end", "DATE", "公示结束日期"),
            Field("approved_by", "TEXT", "批准机关"),
            Field("approval_doc", "TEXT", "批准文号"),
            Field("approved_on", "DATE", "批准日期"),
            Field("filed_on", "DATE", "备案日期"),
            Field("announced_on", "DATE", "公告日期"),
            Field("sign_ordered_on", "DATE", "路牌订制日期"),
            Field("sign_installed_on", "DATE", "路牌安装日期"),
            Field("sign_verified_on", "DATE", "路牌验收日期"),
            Field("closed_on", "DATE", "办结日期(未通过/撤回)"),
            Field("close_reason", "TEXT", "未通过/撤回原因"),
            Field("check_status", "TEXT", "名称检查结论", choices=("ok", "warning", "error")),
            Field("check_findings", "TEXT", "名称检查结果(JSON)"),
            Field("road_id", "TEXT", "道路编号"),
        )),
        Layer("heritage_names", "地名保护名录", "POINT", "heritage_id", (
            Field("heritage_id", "TEXT", "名录编号", required=True),
            Field("name", "TEXT", "标准地名", required=True),
            Field("pinyin", "TEXT", "罗马字母拼写"),
            Field("category", "TEXT", "类别", choices=HERITAGE_CATEGORIES),
            Field("batch", "TEXT", "批次"),
            Field("level", "TEXT", "保护级别"),
            Field("meaning", "TEXT", "含义"),
            Field("origin", "TEXT", "来历"),
            Field("history", "TEXT", "沿革"),
            Field("value", "TEXT", "历史文化价值"),
            Field("status", "TEXT", "状态", choices=HERITAGE_STATUSES, default="in_use"),
            Field("location", "TEXT", "位置描述"),
            Field("district", "TEXT", "所属政区代码"),
            Field("listed_on", "DATE", "公布日期"),
        )),
        *SIGN_LAYERS,
        # One layer of generic geometry for every place name, whatever its shape (see README, "The
        # gazetteer and rural names"): a point, a MultiLineString or a MultiPolygon per feature.
        Layer("place_names", "地名录", "GEOMETRY", "place_id", (
            Field("place_id", "TEXT", "地名代码", required=True),
            Field("name", "TEXT", "标准名称", required=True),
            Field("alias", "TEXT", "别名"),
            Field("short_name", "TEXT", "简称"),
            Field("pinyin", "TEXT", "罗马字母拼写"),
            Field("category", "TEXT", "类别", required=True, choices=tuple(PLACE_CATEGORIES)),
            Field("district", "TEXT", "所在(跨)行政区"),
            Field("in_use", "TEXT", "使用时间", choices=PLACE_USE, default="current"),
            Field("named_on", "TEXT", "命名时间"),
            Field("established_year", "INTEGER", "设立年份"),
            Field("abolished_year", "INTEGER", "废止年份"),
            Field("sign_count", "INTEGER", "标牌个数"),
            Field("survey_method", "TEXT", "测量方法", choices=SURVEY_METHODS),
            Field("meaning", "TEXT", "地名含义"),
            Field("history", "TEXT", "历史沿革"),
            Field("description", "TEXT", "地理实体描述"),
            Field("source", "TEXT", "资料来源"),
            Field("registered_on", "DATE", "登记时间"),
            Field("registered_by", "TEXT", "登记人"),
            Field("registered_unit", "TEXT", "登记单位"),
            Field("rural", "INTEGER", "乡村地名", yes_no=True),
            Field("photos", "TEXT", "照片"),
            Field("collected_on", "DATE", "采集日期"),
            Field("reviewed_on", "DATE", "审核日期"),
            Field("on_map_on", "DATE", "上图日期"),
            Field("platforms", "TEXT", "上图平台"),
            Field("map_batch", "TEXT", "上图批次"),
        )),
        Layer("check_exceptions", "检查例外", None, "exception_id", (
            Field("exception_id", "TEXT", "例外编号", required=True),
            Field("rule", "TEXT", "检查规则", required=True),
            Field("keys", "TEXT", "涉及要素(JSON)", required=True),
            Field("reason", "TEXT", "认可理由", required=True),
            Field("accepted_by", "TEXT", "认可人"),
            Field("accepted_on", "DATE", "认可日期"),
        )),
        Layer("audit_log", "操作日志", None, None, (
            Field("at", "DATETIME", "时间", required=True),
            Field("by", "TEXT", "操作人", required=True),
            Field("action", "TEXT", "操作", required=True),
            Field("layer", "TEXT", "图层"),
            Field("key", "TEXT", "要素编号"),
            Field("before", "TEXT", "修改前(JSON)"),
            Field("after", "TEXT", "修改后(JSON)"),
            Field("note", "TEXT", "说明"),
        ), system=True),
        Layer("settings", "项目设置", None, "key", (
            Field("key", "TEXT", "设置项", required=True),
            Field("value", "TEXT", "值(JSON)"),
        ), system=True),
    )
}


def get_layer(name: str) -> Layer:
    """The schema of layer ``name``; a clear error for an unknown one."""
    from diming.errors import DimingError

    try:
        return LAYERS[name]
    except KeyError:
        raise DimingError(f"未知图层 {name!r} (unknown layer); 可用: {', '.join(LAYERS)}") from None
