from diming.check import rules
from diming.rule_names import RULE_NAMES, SEVERITY_NAMES


def test_every_rule_has_a_chinese_name():
    codes = set(rules())
    assert codes <= set(RULE_NAMES), sorted(codes - set(RULE_NAMES))
    for name in RULE_NAMES.values():
        assert name and not any("a" <= c.lower() <= "z" for c in name)
    assert set(rules().values()) <= set(SEVERITY_NAMES)
