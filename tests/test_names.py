"""The name core: normalisation, 专名/通名 split, sign pinyin, reading keys, single-name and clash rules."""
import json

import pytest

from diming.geonames.normalize import normalize
from diming.geonames.parts import split_name
from diming.geonames.pinyin import parse_overrides, reading_keys, sign, spell
from diming.geonames.rules import build_index, check_name, clash_findings
from diming.errors import DimingError


def rules_of(findings):
    return [(f["rule"], f["severity"]) for f in findings]


def test_normalize_makes_one_name_of_traditional_spaced_and_full_width():
    assert normalize("長江路") == normalize("长 江 路") == normalize("长　江路") == "长江路"
    assert normalize("经５路") == normalize("经5路") == normalize("经五路") == "经五路"
    assert normalize("") == ""


@pytest.mark.parametrize("name, parts", [
    ("中山东路", ("中山", "东", "路")),
    ("江南路", ("江南", "", "路")),  # a 专名 of one character keeps its 南
    ("经五路", ("经", "五", "路")),
    ("解放路南小街", ("解放路", "南", "小街")),
    ("人民大道", ("人民", "", "大道")),
    ("鼓楼", ("鼓楼", "", "")),
    ("長江 路", ("长江", "", "路")),
])
def test_split_name(name, parts):
    assert split_name(name) == parts


@pytest.mark.parametrize("name, spelled", [
    ("南京路", "Nanjing Lu"),
    ("长安街", "Chang'an Jie"),
    ("中山东路", "Zhongshan Donglu"),
    ("景山后街", "Jingshan Houjie"),
    ("解放路南小街", "Jiefanglu Nanxiaojie"),
    ("西安路", "Xi'an Lu"),
    ("重庆路", "Chongqing Lu"),  # 重 read chóng in the place name
    ("六安路", "Lu'an Lu"),  # 六 read lù
    ("朝阳路", "Chaoyang Lu"),  # pypinyin alone reads zhāo; the place reading is cháo
    ("長江路", "Changjiang Lu"),
    ("绿园路", "Lüyuan Lu"),
])
def test_spell_per_1984_rules(name, spelled):
    assert spell(name) == spelled


def test_letters_stay_as_written_and_digits_read_as_numerals():
    assert spell("经5路") == spell("经五路") == "Jingwu Lu"
    assert spell("经5路", ordinal=True) == "Jing 5 Lu"
    assert spell("长江A路") == "ChangjiangA Lu"


def test_sign_is_all_capitals_and_keeps_the_apostrophe():
    assert sign("西安路") == "XI'AN LU"
    assert sign("中山东路") == "ZHONGSHAN DONGLU"


def test_ordinal_flag_writes_arabic_digits():
    assert spell("经五路", ordinal=True) == "Jing 5 Lu"
    assert spell("经十二路", ordinal=True) == "Jing 12 Lu"
    assert spell("经五路") == "Jingwu Lu"


def test_project_override_table_wins():
    overrides = parse_overrides("乐清=yue4 qing1")
    assert spell("乐清路", overrides) == "Yueqing Lu"
    assert reading_keys("乐清路", overrides) == {"yue qing lu"}
    with pytest.raises(DimingError):
        parse_overrides("乐清=yue qing")


def test_reading_keys_cover_every_place_reading_of_polyphones():
    assert reading_keys("海晏路") == reading_keys("海燕路") == {"hai yan lu"}
    assert reading_keys("长江路") == {"chang jiang lu", "zhang jiang lu"}
    # 重 may be zhòng or chóng: both readings meet the other names
    assert reading_keys("重阳路") & reading_keys("崇阳路")
    assert reading_keys("重阳路") & reading_keys("众阳路")
    assert reading_keys("长江路", tones=True) == {"chang2 jiang1 lu4", "zhang3 jiang1 lu4"}


def test_reading_keys_stay_bounded():
    keys = reading_keys("重长乐行单堡重长乐行单堡路")
    assert 1 < len(keys) <= 32


@pytest.mark.parametrize("name, expected", [
    ("", [("name.format", "error")]),
    ("长江路街", [("name.format", "error")]),
    ("长江街路", [("name.format", "error")]),
    ("石桥路", []),  # 桥 became part of the 专名: not a stacked 通名
    ("十里路", []),
    ("一路", [("name.format", "warning")]),
    ("青松岭青松岭青松岭青松岭路", [("name.format", "error")]),
    ("环球大道", [("name.forbidden-word", "error")]),
    ("中华路", [("name.forbidden-word", "error")]),
    ("威尼斯花园", [("name.forbidden-word", "error")]),
    ("長江路", [("name.nonstandard-char", "error")]),
    ("峯林路", [("name.nonstandard-char", "error")]),  # a variant opencc keeps, from data/variants.txt
    ("长江A路", [("name.nonstandard-char", "error")]),
    ("长江3路", [("name.nonstandard-char", "error")]),
    ("𠀋山路", [("name.nonstandard-char", "warning")]),
    ("长江路", []),
    ("中山东路", []),
])
def test_single_name_rules(name, expected):
    assert rules_of(check_name(name)) == expected


def test_user_extends_the_forbidden_list_and_the_length():
    assert rules_of(check_name("金沙路", extra_forbidden=["金沙"])) == [("name.forbidden-word", "error")]
    assert rules_of(check_name("青松岭路", max_length=3)) == [("name.format", "error")]


OTHERS = [
    {"layer": "roads", "id": "R1", "name": "海口路"},
    {"layer": "roads", "id": "R2", "name": "海晏路"},
    {"layer": "roads", "id": "R3", "name": "新华路"},
    {"layer": "road_proposals", "id": "DM-1", "name": "重阳路"},
    {"layer": "heritage_names", "id": "BH-1", "name": "状元街", "status": "in_use"},
    {"layer": "heritage_names", "id": "BH-2", "name": "老鸦巷", "status": "historical"},
]


@pytest.mark.parametrize("name, expected", [
    ("海口路", [("name.duplicate", "error")]),
    ("海口 路", [("name.duplicate", "error")]),
    ("海口街", [("name.same-specific", "warning")]),
    ("新海口路", [("name.duplicate", "error")]),  # 新 added
    ("大海口路", [("name.duplicate", "error")]),  # 大 added
    ("华路", []),  # the 新 of the two-character 专名 新华 belongs to it
    ("海燕路", [("name.homophone", "warning")]),
    ("崇阳路", [("name.homophone", "warning")]),  # polyphone 重 read chóng
    ("状元街", [("name.protected", "error")]),
    ("壮园街", [("name.protected", "error")]),
    ("老鸦巷", [("name.protected", "warning")]),  # historical name re-used: needs approval
    ("松风路", []),
])
def test_clash_rules(name, expected):
    assert rules_of(clash_findings(name, build_index(OTHERS))) == expected


def test_division_name_added_or_dropped_is_a_duplicate():
    index = build_index(OTHERS, regions=["青岚市", "桃源镇", "松阳区"])
    assert rules_of(clash_findings("青岚海口路", index)) == [("name.duplicate", "error")]
    assert rules_of(clash_findings("桃源新华路", index)) == [("name.duplicate", "error")]
    assert "仅差地区名" in clash_findings("青岚海口路", index)[0]["message"]
    assert clash_findings("青岚路", index) == []  # never cut to nothing
    assert rules_of(clash_findings("青岚海口路", build_index(OTHERS))) == []


def test_homophone_says_whether_tones_match():
    index = build_index(OTHERS)
    assert "声调也相同" in clash_findings("海燕路", index)[0]["message"]
    assert "声调不同" in clash_findings("孩言路", index)[0]["message"]


def test_clash_excludes_the_name_itself_and_can_treat_same_specific_as_error():
    index = build_index(OTHERS)
    assert clash_findings("海口路", index, exclude=[("roads", "R1")]) == []
    assert rules_of(clash_findings("海口街", index, same_specific_severity="error")) == [("name.same-specific", "error")]
    assert clash_findings("海口街", index)[0]["related"] == [{"layer": "roads", "id": "R1", "name": "海口路"}]


def _project_with_names(project):
    from shapely.geometry import MultiLineString, Point

    from diming.layers.store import transaction

    line = MultiLineString([[(120.0, 36.0), (120.01, 36.0)]])
    with transaction(project, by="t") as tx:
        tx.insert("roads", [
            {"road_id": "R1", "name": "海口路", "district": "379901", "status": "in_use", "geometry": line},
            {"road_id": "R2", "name": "海晏路", "district": "379902", "status": "in_use", "geometry": line},
            {"road_id": "R3", "name": "青石路", "district": "379901", "status": "cancelled", "geometry": line}])
        tx.insert("heritage_names", [{"heritage_id": "BH-001", "name": "状元街", "status": "in_use",
                                      "geometry": Point(120.0, 36.0)}])
    return project


def test_namecheck_library_respects_scope_and_status(project):
    from diming.geonames.namecheck import namecheck

    _project_with_names(project)
    result = namecheck(project, "海燕路", district="379901")
    assert result["findings"] == []  # 海晏路 lies in another county
    assert rules_of(namecheck(project, "海燕路")["findings"]) == [("name.homophone", "warning")]
    assert namecheck(project, "青石路", district="379901")["findings"] == []  # cancelled road


def test_namecheck_cli_text_and_json(project, run):
    _project_with_names(project)
    result = run(project, "namecheck", "海口街", "--district", "379901")
    assert result.exit_code == 0
    assert "专名 海口 · 通名 街" in result.output and "HAIKOU JIE" in result.output
    assert "name.same-specific" in result.output
    result = run(project, "namecheck", "壯園街", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["normalized"] == "壮园街" and data["specific"] == "壮园" and data["generic"] == "街"
    assert data["pinyin"] == "Zhuangyuan Jie" and data["sign"] == "ZHUANGYUAN JIE"
    assert {"rule": "name.protected", "severity": "error", "message": data["findings"][1]["message"],
            "related": [{"layer": "heritage_names", "id": "BH-001", "name": "状元街"}]} in data["findings"]
    assert ("name.nonstandard-char", "error") in rules_of(data["findings"])


def test_namecheck_uses_project_settings(project, run):
    _project_with_names(project)
    run(project, "config", "forbidden_words", "金沙, 银河")
    run(project, "config", "same_specific_severity", "error")
    assert run(project, "namecheck", "金沙路").exit_code == 1
    assert run(project, "namecheck", "海口街").exit_code == 1
    assert run(project, "config", "pinyin_overrides", "乐清=yue qing").exit_code == 1


def test_optional_width_rule(project, run):
    from diming.geonames.rules import check_width, parse_width_rule

    table = parse_width_rule("街:40; 路:30; 道:22")
    assert check_width("松风路", 35, table) == []
    assert "宜用 街" in check_width("松风路", 45, table)[0]["message"]
    assert "不足 22 米" in check_width("松风道", 12, table)[0]["message"]
    assert check_width("松风巷", 12, table) == [] and check_width("松风路", None, table) == []
    assert run(project, "namecheck", "松风路", "--width", "45").output.count("name.format") == 0  # off by default
    assert run(project, "config", "generic_width_rule", "街:40; 路:30; 道:22").exit_code == 0
    result = run(project, "namecheck", "松风路", "--width", "45")
    assert result.exit_code == 0 and "路宽 45 米与通名 路 不符" in result.output
    assert run(project, "config", "generic_width_rule", "街:宽").exit_code == 1


def test_namecheck_scope_in_sql_counts_names_without_district_and_follows_the_setting(project):
    import shapely

    from diming.geonames.namecheck import namecheck, project_names
    from diming.layers.settings import set_setting
    from diming.layers.store import transaction

    line = shapely.MultiLineString([[(120.1, 36.1), (120.2, 36.1)]])
    with transaction(project) as tx:
        tx.insert("roads", [
            {"road_id": "A", "name": "长江路", "district": None, "status": "in_use", "geometry": line},
            {"road_id": "B", "name": "黄河路", "district": "379902", "status": "in_use", "geometry": line},
            {"road_id": "C", "name": "淮河路", "district": "379801", "status": "in_use", "geometry": line}])
    assert {r["id"] for r in project_names(project, "379901", "county")} == {"A"}
    assert {r["id"] for r in project_names(project, "379901", "city")} == {"A", "B"}
    assert {r["id"] for r in project_names(project, None, "county")} == {"A", "B", "C"}
    assert rules_of(namecheck(project, "长江路", district="379901")["findings"]) == [("name.duplicate", "error")]
    assert namecheck(project, "黄河路", district="379901")["findings"] == []
    set_setting(project, "duplicate_scope", "city")
    assert rules_of(namecheck(project, "黄河路", district="379901")["findings"]) == [("name.duplicate", "error")]


@pytest.mark.parametrize("name, spelled", [
    ("青岚市", "Qinglan Shi"), ("云溪区", "Yunxi Qu"), ("鹤山县", "Heshan Xian"), ("望湖山", "Wanghu Shan"),
    ("青溪河", "Qingxi He"), ("凤凰岭", "Fenghuang Ling"), ("泰山", "Tai Shan"), ("青山湖", "Qingshan Hu"),
    ("石门村", "Shimen Cun"), ("金枣屯", "Jinzaotun"),  # a natural village is one word (自然村镇名称)
    ("湖滨路", "Hubin Lu"), ("中山东路", "Zhongshan Donglu"),
])
def test_gazetteer_names_spelled_specific_and_generic_apart(name, spelled):
    from diming.geonames.pinyin import spell

    assert spell(name) == spelled
