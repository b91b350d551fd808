"""Gazetteer record rules (地名录), for ``diming check``: what the registration form requires of a
name in use. The name clash rules over the gazetteer are those of :mod:`diming.geonames.name_checks`.

A national gazetteer holds millions of names: the layer is read once for these rules and the name
rules (:func:`names_of`), a missing meaning is found in SQL, and the 地名代码 test is one compiled
pattern match per name; the message of a flagged name comes from
:func:`diming.geonames.gazetteer.id_problem`, the rule the import applies.
"""
from __future__ import annotations

from diming.findings import Finding

RULES = {"place.missing-meaning": "warning", "place.bad-id": "warning"}


def names_of(data, names=None):
    """Every gazetteer name's key, name, category, division code(s) and use, without geometry
    (shared by the rules that read the gazetteer); None for a project made before it. ``names``:
    only those carrying one of these names."""
    from diming.check import named
    from diming.layers.store import stored_fields

    if "category" not in stored_fields(data.project, "place_names"):
        return None
    return data.layer("place_names", *named(None, (), names),
                      columns=("place_id", "name", "category", "district", "in_use"), geometry=False)


def check(data, rules=frozenset(RULES)) -> list[Finding]:
    from diming.geonames.gazetteer import compile_pattern, id_problem

    names = names_of(data)
    if names is None or not len(names):
        return []
    flagged = []
    if "place.missing-meaning" in rules:
        # 地名含义 is a required entry of the form (地名含义*) for a name in use
        missing = data.layer("place_names", "(in_use IS NULL OR in_use != 'historical') "
                                            "AND (meaning IS NULL OR trim(meaning) = '')",
                             columns=("place_id", "name"), geometry=False)
        flagged += [("place.missing-meaning", pid, name, f"地名 {name} ({pid}) 缺少地名含义")
                    for pid, name in zip(missing["place_id"], missing["name"])]
    if "place.bad-id" in rules:
        pattern = compile_pattern(data.settings["place_id_pattern"])
        for pid, name, category, district in zip(names["place_id"], names["name"], names["category"],
                                                 names["district"]):
            if _bad(pattern.fullmatch(pid), category, district):
                flagged.append(("place.bad-id", pid, name,
                                id_problem({"place_id": pid, "category": category, "district": district}, pattern)))
    geoms = data.geometries("place_names", [pid for _, pid, _, _ in flagged])
    return [Finding(rule, RULES[rule], "place_names", str(pid), name, f"{message} ({rule})", geometry=g)
            for (rule, pid, name, message), g in zip(flagged, geoms)]


def _bad(match, category, district) -> bool:
    """The test of id_problem, without building its message: per name, so kept to a few steps."""
    if match is None:
        return True
    if category and len(category) == 5 and category.isdigit() and match["category"] != category:
        return True
    if not district:
        return False
    first, division = district.split(",", 1)[0].strip(), match["division"]
    return bool(first) and not (first.startswith(division) or division.startswith(first))
