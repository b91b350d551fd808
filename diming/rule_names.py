"""The Chinese name of every check rule and severity: the one table that the check's text output,
the check map, the round report and every other document show (rule codes stay in JSON for scripts)."""
from __future__ import annotations

SEVERITY_NAMES = {"error": "错误", "warning": "警告", "info": "提示"}

RULE_NAMES = {
    "name.duplicate": "重名",
    "name.same-specific": "专名相同",
    "name.homophone": "同音",
    "name.protected": "与保护名录冲突",
    "name.forbidden-word": "含禁用词",
    "name.nonstandard-char": "不规范用字",
    "name.format": "名称格式",
    "proposal.overlaps-road": "申报道路与已命名道路重叠",
    "proposal.crosses-boundary": "申报道路跨越县界",
    "proposal.district-mismatch": "申报政区与位置不符",
    "area.invalid": "区域图形无效",
    "area.overlap": "区域重叠",
    "area.gap": "区域缝隙",
    "line.mismatch": "界线偏离区域边界",
    "line.unknown-area": "界线区划不存在",
    "marker.off-line": "界桩偏离界线",
    "marker.unknown-line": "界桩所属界线不存在",
    "marker.duplicate-id": "界桩编号重复",
    "marker.bad-id": "界桩编号不规范",
    "marker.sequence-gap": "界桩序号缺失",
    "inspection.missing": "界桩未检查",
    "inspection.displaced": "界桩移位",
    "field.invalid": "字段值无效",
    # road signs and the abnormal-roads survey (diming.geonames.sign_checks, diming.geonames.survey)
    "sign.wrong-name": "牌名不符",
    "sign.wrong-pinyin": "路牌拼音有误",
    "sign.cancelled-road": "已销名或更名道路的路牌",
    "sign.far-from-road": "路牌远离所属道路",
    "sign.damaged": "路牌损坏未修复",
    "road.no-sign": "有名无牌",
    "survey.unnamed": "有路无名",
    "survey.many-names": "一路多名",
    "survey.split-name": "一名多路",
    "survey.generic-mismatch": "名不副实",
    "survey.unapproved-name": "擅自命名",
    "place.missing-meaning": "地名缺少含义",
    "place.bad-id": "地名代码不规范",
}


def rule_name(code: str) -> str:
    """The Chinese name of rule ``code`` (the code itself for a rule not in the table)."""
    return RULE_NAMES.get(code, code)


def severity_name(severity: str) -> str:
    return SEVERITY_NAMES.get(severity, severity)
