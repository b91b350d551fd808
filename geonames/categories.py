"""Place-name categories (地名类别) and the scope in which names of each must not repeat.

The categories are the bundled list ``data/place_categories.txt`` (census classes after GB/T 18521
and the 5-digit codes diming can source). The duplicate scopes follow the regulations (DOMAIN.md
sections 1 and 10):

- streets, roads, lanes and residential areas (居民点, 主干路, and the roads and proposals of their
  own layers): within the ``duplicate_scope`` setting (district, county or city);
- 乡镇 (乡级行政区): within the province;
- village-level seats (群众自治组织: 村民委员会, 居民委员会): within the county;
- county level and above (省级, 地级, 县级行政区): nationwide;
- every other category: within the scope the ``category_scopes`` setting gives it, else
  ``duplicate_scope``.

Names are compared only with names of the same *group*: a village committee named after the
natural village it sits in (桃源村 and 桃源村) is not a duplicate, a bridge and a road sharing a
专名 are not either. A group is ``street``, ``town``, ``village``, ``county+``, or the class of
any other category (陆地水系, 建筑物 …).
"""
from __future__ import annotations

import re
from functools import lru_cache

from diming.errors import DimingError

SCOPES = ("district", "county", "city", "province", "nation")
# digits of the division code that make one scope; None: the whole code; 0: the whole country
DIGITS = {"district": None, "county": 6, "city": 4, "province": 2, "nation": 0}
STREET = "street"  # the group of roads, proposals, residential areas and street codes
# categories whose scope the regulations fix: category -> (group, scope)
_FIXED = {"21200": ("county+", "nation"), "21300": ("county+", "nation"), "21400": ("county+", "nation"),
          "21500": ("town", "province"), "群众自治组织": ("village", "county")}
_STREET = frozenset({"居民点", "22100", "22200", "23512"})
# the names of divisions themselves (省级 … 乡级行政区): the region-name part of the duplicate rule
# (a division's name added to a name makes the same name) does not apply to them: 云溪区 and 松阳区
# differ by nothing else, yet are two names
DIVISION_CATEGORIES = ("21200", "21300", "21400", "21500")


@lru_cache(maxsize=1)
def categories() -> dict[str, tuple[str, str]]:
    """Category (code or class name) -> (Chinese name, census class), in list order."""
    from diming.geonames.wordlists import DATA

    out = {}
    for line in (DATA / "place_categories.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            code, name, klass = line.split("\t")
            out[code] = (name, klass)
    return out


def classes() -> list[str]:
    """The census classes, in list order."""
    return list(dict.fromkeys(klass for _, klass in categories().values()))


def class_of(category: str) -> str:
    return categories()[category][1] if category in categories() else ""


def name_of(category: str) -> str:
    return categories()[category][0] if category in categories() else (category or "")


def is_code(category: str) -> bool:
    """Whether the category is a 5-digit code (not a class name)."""
    return bool(category) and bool(re.fullmatch(r"\d{5}", category))


def configurable() -> list[str]:
    """The categories whose scope the ``category_scopes`` setting may set (not fixed by regulation)."""
    return [c for c in categories() if c not in _FIXED and c not in _STREET]


def parse_scopes(text: str) -> dict[str, str]:
    """The ``category_scopes`` setting (``陆地水系=county; 纪念地旅游景点=city``) as a table."""
    table = {}
    allowed = configurable()
    for entry in filter(None, (e.strip() for e in re.split(r"[;；\n]", text or ""))):
        category, sep, scope = (part.strip() for part in entry.partition("="))
        if not sep or category not in allowed or scope not in SCOPES:
            raise DimingError(f"类别重名范围: {entry!r} 应为 类别=范围, 类别为 {'/'.join(allowed)} 之一 "
                              f"(其余类别的范围由法规确定), 范围为 {'/'.join(SCOPES)} 之一")
        table[category] = scope
    return table


def group_of(category: str | None, settings: dict) -> tuple[str, str]:
    """(group, scope) of a category; None stands for a road or a road proposal."""
    if category is None or category in _STREET:
        return STREET, settings["duplicate_scope"]
    if category in _FIXED:
        return _FIXED[category]
    scope = parse_scopes(settings["category_scopes"]).get(category, settings["duplicate_scope"])
    return class_of(category) or category, scope


def members_of(group: str, settings: dict) -> list[str]:
    """The categories of a group."""
    return [c for c in categories() if group_of(c, settings)[0] == group]


def scope_prefix(code: str, scope: str) -> str:
    """The part of a division code that makes its scope ('' for the whole country or no code)."""
    digits = DIGITS[scope]
    code = code or ""
    return code if digits is None else code[:digits]


def scope_keys(codes, categories_, settings: dict):
    """Per feature, the key of its duplicate scope: ``group|code prefix``; ``categories_`` None
    for roads and proposals. Worked out once per category and once per distinct (division code,
    group and scope): a million roads lie in a few thousand divisions, and a national gazetteer's
    two million names in a few dozen categories."""
    import numpy as np
    import pandas as pd

    code_of, distinct_codes = pd.factorize(pd.Series(codes, dtype=object).fillna("").to_numpy(dtype=object),
                                           use_na_sentinel=False)
    if categories_ is None:
        kind_of, kinds = np.zeros(len(code_of), dtype=np.int64), np.array([None], dtype=object)
    else:
        kind_of, kinds = pd.factorize(pd.Series(categories_, dtype=object).to_numpy(dtype=object),
                                      use_na_sentinel=False)
    scope_of, scopes = pd.factorize(pd.Series([group_of(k, settings) for k in kinds], dtype=object),
                                    use_na_sentinel=False)
    scope_of = scope_of[kind_of]
    keys = np.empty(len(code_of), dtype=object)
    for s, (group, scope) in enumerate(scopes):
        at = np.flatnonzero(scope_of == s) if len(scopes) > 1 else np.arange(len(code_of))
        used, code_at = np.unique(code_of[at], return_inverse=True)
        keys[at] = np.array([f"{group}|{scope_prefix(c, scope)}" for c in distinct_codes[used].tolist()],
                            dtype=object)[code_at]
    return keys
