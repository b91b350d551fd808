"""What makes two names one (normalisation, the prefix rule), the 通用规范汉字表 behind the
character rules, and the 专名 that messages name: tested on real names, through the single-name
path (namecheck) and the whole-project check alike."""
import pytest
from shapely.geometry import MultiLineString

from diming.check import run_check
from diming.geonames.namecheck import namecheck
from diming.geonames.normalize import chinese_number, normalize
from diming.geonames.parts import split_name
from diming.geonames.rules import build_index, check_name, clash_findings, level_of, shorter_forms
from diming.layers.store import transaction

from real_names import splits

LINE = MultiLineString([[(120.0, 36.0), (120.01, 36.0)]])


def roads(project, *rows, district="379901"):
    with transaction(project, by="测试员") as tx:
        tx.insert("roads", [{"road_id": k, "name": n, "district": d, "geometry": LINE}
                            for k, n, *rest in rows for d in [rest[0] if rest else district]])


def groups(project, rule):
    return sorted(tuple(sorted(f.keys)) for f in run_check(project, ["name"]) if f.rule == rule)


def char_findings(name):
    return [(f["severity"], f["message"]) for f in check_name(name) if f["rule"] == "name.nonstandard-char"]


# ---- normalisation -----------------------------------------------------------------------------

@pytest.mark.parametrize("hidden", ["\u200b", "\u200c", "\u200d", "\ufeff", "\u2060", "\u00ad", "\u200e"])
def test_format_characters_are_removed(hidden):
    assert normalize(f"长江{hidden}路") == normalize(f"{hidden}长江路") == "长江路"


def test_full_width_arabic_and_chinese_digits_are_one_name():
    assert normalize("湛山２路") == normalize("湛山2路") == normalize("湛山二路") == "湛山二路"
    assert [chinese_number(d) for d in ("2", "10", "12", "20", "105", "110", "1010", "05", "123456")] == [
        "二", "十", "十二", "二十", "一百零五", "一百一十", "一千零一十", "零五", "一二三四五六"]


def test_digit_and_zero_width_twins_are_duplicates_in_check_and_namecheck(project):
    roads(project, ("R1", "湛山二路"), ("R2", "湛山2路"), ("R3", "湛山２路"), ("R4", "长江\u200b路"), ("R5", "长江路"))
    assert groups(project, "name.duplicate") == [("roads:R1", "roads:R2", "roads:R3"), ("roads:R4", "roads:R5")]
    chars = {f.id: f.message for f in run_check(project, ["name.nonstandard-char"])}
    # the digit is still reported where it is written, and so is the invisible character
    assert set(chars) == {"R2", "R3", "R4"} and "阿拉伯数字: 2" in chars["R2"] and "U+200B" in chars["R4"]
    found = namecheck(project, "湛山2路", district="379901")["findings"]
    assert sorted(f["related"][0]["id"] for f in found if f["rule"] == "name.duplicate") == ["R1", "R2", "R3"]
    assert any("阿拉伯数字" in f["message"] for f in found)
    assert [f["related"][0]["id"] for f in namecheck(project, "长江路")["findings"]] == ["R4", "R5"]


# ---- the 通用规范汉字表 -------------------------------------------------------------------------

def test_the_table_is_the_2013_list_of_8105_in_three_levels():
    from diming.geonames.wordlists import standard_chars

    table = standard_chars()
    assert len(table) == 8105 and sorted(table.values()) == list(range(1, 8106))
    assert (level_of("一"), level_of("乾"), level_of("旻"), level_of("於"), level_of("長")) == (1, 1, 2, 3, None)


@pytest.mark.parametrize("name", ["乾县路", "麽路", "著山路", "徵羽路"])
def test_characters_of_the_table_are_standard_even_where_opencc_converts_them(name):
    assert char_findings(name) == []
    assert normalize(name) == name  # 乾 is not 干: 乾县 stays a name of its own


def test_traditional_or_variant_form_is_an_error_only_outside_the_table():
    assert char_findings("長樂路") == [("error", "含繁体字或异体字 (不在通用规范汉字表内): 長→长、樂→乐")]
    assert char_findings("峯山路") == [("error", "含繁体字或异体字 (不在通用规范汉字表内): 峯→峰")]
    # 濛 is not among the 8,105 (its standard form is 蒙): an official name keeping it is accepted
    # as a check exception, not silently passed
    assert char_findings("濛江路")[0][0] == "error"


def test_rare_character_warning_follows_the_table_not_gb2312():
    assert char_findings("旻山路") == []  # level 2, outside GB 2312: no longer a warning
    assert char_findings("於潜路") == [("warning", "含生僻字: 於 (通用规范汉字表三级字, 新命名宜慎用)")]  # level 3, in GB 2312
    assert char_findings("仝村路") == [("warning", "含生僻字: 仝 (通用规范汉字表三级字, 新命名宜慎用)")]
    assert char_findings("鳷山路") == [("warning", "含生僻字: 鳷 (不在通用规范汉字表内)")]
    assert char_findings("𬌗山路") == [("warning", "含生僻字: 𬌗 (通用规范汉字表三级字, 新命名宜慎用)")]  # beyond the BMP, in the table


# ---- the prefix rule ---------------------------------------------------------------------------

def test_shorter_forms():
    stems = frozenset({"青岚"})
    assert shorter_forms("新城子") == ("城子",)
    assert shorter_forms("青岚新城子", stems) == ("新城子", "城子")
    assert shorter_forms("新华") == shorter_forms("大同") == shorter_forms("青岚") == ()


def test_adding_or_dropping_a_prefix_is_a_duplicate_swapping_is_not():
    index = build_index([{"layer": "roads", "id": "R1", "name": "大城子路"}])
    assert clash_findings("新城子路", index) == []
    assert [f["rule"] for f in clash_findings("城子路", index)] == ["name.duplicate"]
    assert [f["rule"] for f in clash_findings("新城子街", index)] == []
    index = build_index([{"layer": "roads", "id": "R1", "name": "城子路"}])
    [same] = clash_findings("新城子街", index)
    assert same["rule"] == "name.same-specific" and "专名 城子 与 新城子 仅差地区名或“新”“大”" in same["message"]


def test_prefix_rule_in_the_project_check_and_namecheck(project):
    roads(project, ("R1", "新城子路"), ("R2", "大城子路"), ("R3", "新兴路"), ("R4", "大兴路"))
    assert groups(project, "name.duplicate") == []  # 新/大 swapped: two names
    assert [f["rule"] for f in namecheck(project, "新城子路")["findings"] if f["rule"] != "name.homophone"] == [
        "name.duplicate"]  # itself (R1) only
    roads(project, ("R5", "城子路"), ("R6", "新兴街"))
    [dup] = [f for f in run_check(project, ["name"]) if f.rule == "name.duplicate"]
    assert dup.keys == ["roads:R1", "roads:R2", "roads:R5"] and "仅差地区名" in dup.message
    [same] = [f for f in run_check(project, ["name"]) if f.rule == "name.same-specific"]
    assert same.keys == ["roads:R3", "roads:R6"] and "专名 新兴 相同、通名不同" in same.message
    assert sorted(f["related"][0]["id"] for f in namecheck(project, "城子街")["findings"]
                  if f["rule"] == "name.same-specific") == ["R1", "R2", "R5"]


# ---- the split, and the 专名 messages name ------------------------------------------------------

REAL = splits()


def test_split_of_real_names_of_every_generic():
    assert len(REAL) > 400 and {generic for _, (_, _, generic) in REAL} >= {
        "街道", "镇", "乡", "路", "街", "大街", "大道", "巷", "胡同", "里", "道", "环路"}
    wrong = [(name, split_name(name), expected) for name, expected in REAL if split_name(name) != expected]
    assert wrong == []


def _partner(specific, generic):
    """The 专名 with another 通名, one that does not re-split it (北环 + 路 would read 北 + 环路), or
    None (文一 of 文一西路 is read 文 + 一 before any 通名)."""
    return next((specific + other for other in ("路", "街", "巷") if other != generic
                 and split_name(specific + other)[0] == specific), None)


PAIRED = [(name, specific, _partner(specific, generic)) for name, (specific, _, generic) in REAL
          if _partner(specific, generic)]


def test_same_specific_messages_name_the_right_specific(project):
    # each real name and a twin with the same 专名 and another 通名, alone in a county of its own
    assert len(PAIRED) > 400
    rows = []
    for i, (name, _, partner) in enumerate(PAIRED):
        district = f"37{i:04d}"
        rows += [(f"A{i}", name, district), (f"B{i}", partner, district)]
    roads(project, *rows)
    same = {f.id: f.message for f in run_check(project, ["name.same-specific"])}
    expected = {f"A{i}": f"专名 {specific} 相同、通名不同" for i, (_, specific, _) in enumerate(PAIRED)}
    assert {k: v.split(":")[0] for k, v in same.items()} == expected
    assert same["A" + str([n for n, _, _ in PAIRED].index("新华街道"))].startswith("专名 新华 相同")


@pytest.mark.parametrize("name, partner", [(n, p) for n, _, p in PAIRED[::7]])
def test_same_specific_through_namecheck_rules(name, partner):
    index = build_index([{"layer": "roads", "id": "R1", "name": name}])
    assert [f["rule"] for f in clash_findings(partner, index) if f["rule"] != "name.homophone"] == [
        "name.same-specific"]


# ---- place readings ----------------------------------------------------------------------------

@pytest.mark.parametrize("name, spelled", [
    ("乐陵路", "Leling Lu"), ("乐亭大街", "Laoting Dajie"), ("乐清路", "Yueqing Lu"), ("六安路", "Lu'an Lu"),
    ("六合路", "Luhe Lu"), ("蚌埠路", "Bengbu Lu"), ("番禺路", "Panyu Lu"), ("丽水路", "Lishui Lu"),
    ("铅山路", "Yanshan Lu"), ("浚县路", "Xunxian Lu"), ("台州路", "Taizhou Lu"), ("东莞路", "Dongguan Lu"),
])
def test_signs_spell_the_place_reading(name, spelled):
    from diming.geonames.pinyin import sign, spell

    assert spell(name) == spelled and sign(name) == spelled.upper()


def test_a_place_reading_replaces_the_polyphone_readings_in_homophone_keys():
    from diming.geonames.pinyin import reading_keys

    assert reading_keys("乐陵路") == {"le ling lu"}  # not also yue/lao: 乐陵 is read Lèlíng
    assert reading_keys("悦陵路") == {"yue ling lu"}
    assert "yue ling lu" in reading_keys("乐岭路")  # no place reading: every reading of 乐 counts
    index = build_index([{"layer": "roads", "id": "R1", "name": "乐陵路"}])
    assert clash_findings("悦陵路", index) == []
    assert [f["rule"] for f in clash_findings("泐陵路", index)] == ["name.homophone"]


def test_place_readings_in_check_and_namecheck_and_overrides_extend_them(project, run):
    from diming.layers.settings import set_setting

    roads(project, ("R1", "乐陵路"), ("R2", "悦陵路"), ("R3", "洗马路"), ("R4", "冼马路"))
    assert groups(project, "name.homophone") == [("roads:R3", "roads:R4")]
    assert namecheck(project, "悦陵路")["findings"][0]["related"][0]["id"] == "R2"  # itself only
    # the project's own readings come first: an office that reads 乐陵 Yuèlíng, and its 洗马 only xǐ
    set_setting(project, "pinyin_overrides", "乐陵=yue4 ling2; 洗马=xi3 ma3")
    assert groups(project, "name.homophone") == [("roads:R1", "roads:R2")]
    assert sorted(f["related"][0]["id"] for f in namecheck(project, "悦陵路")["findings"]) == ["R1", "R2"]
    assert namecheck(project, "洗马路")["pinyin"] == "Xima Lu"


def test_check_groups_are_the_components_of_namecheck_clashes(project):
    """namecheck says, pair by pair, what the whole-project check groups: each duplicate group of
    the check is a connected set of namecheck duplicates, and each same-specific group one of
    namecheck's duplicates and same-specific clashes together."""
    names = ["城子路", "新城子路", "大城子路", "新城子街", "新华路", "新华街道", "华路", "湛山二路", "湛山2路",
             "长江\u200b路", "长江路", "长江街", "大长江街", "乐陵路", "悦陵路", "青岚海口路", "海口路", "海口街"]
    roads(project, *[(f"R{i:02d}", n) for i, n in enumerate(names)])
    with transaction(project, by="测试员") as tx:
        tx.insert("admin_areas", [{"code": "379900", "name": "青岚市", "level": "city", "geometry": None}])
    edges = {"name.duplicate": set(), "name.same-specific": set()}
    for i, n in enumerate(names):
        for f in namecheck(project, n, exclude=[("roads", f"R{i:02d}")])["findings"]:
            if f["rule"] in edges:
                edges[f["rule"]].add(frozenset((f"roads:R{i:02d}", f"roads:{f['related'][0]['id']}")))

    def components(pairs):
        out = []
        for pair in pairs:
            joined = [c for c in out if c & pair]
            out = [c for c in out if not c & pair] + [frozenset().union(pair, *joined)]
        return out

    duplicates = components(edges["name.duplicate"])
    assert sorted(map(sorted, duplicates)) == [list(g) for g in groups(project, "name.duplicate")]
    kin = [c for c in components(edges["name.duplicate"] | edges["name.same-specific"])
           if any(pair <= c for pair in edges["name.same-specific"])]
    assert sorted(map(sorted, kin)) == [list(g) for g in groups(project, "name.same-specific")]
