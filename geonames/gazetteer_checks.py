"""Gazetteer record rules (地名录), for ``diming check``: what the registration form requires of a
name in use. The name clash rules over the gazetteer are those of :mod:`diming.geonames.name_checks`.

Vectorised over the layer (a national gazetteer holds millions of names); the message of a
flagged name comes from :func:`diming.geonames.gazetteer.id_problem`, the rule the import applies.
"""
from __future__ import annotations

from diming.findings import Finding

RULES = {"place.missing-meaning": "warning", "place.bad-id": "warning"}


def check(data) -> list[Finding]:
    import numpy as np

    from diming.geonames.gazetteer import compile_pattern, id_problem
    from diming.layers.store import stored_fields

    if "category" not in stored_fields(data.project, "place_names"):
        return []
    names = data.layer("place_names", columns=("place_id", "name", "category", "district", "in_use", "meaning"),
                       geometry=False)
    if not len(names):
        return []
    # 地名含义 is a required entry of the form (地名含义*) for a name in use
    no_meaning = ((names["in_use"].fillna("") != "historical")
                  & (names["meaning"].fillna("").str.strip() == "")).to_numpy()
    pattern = compile_pattern(data.settings["place_id_pattern"])
    bad = _bad_ids(names, pattern)
    flagged = []
    for i in np.flatnonzero(no_meaning | bad):
        r = names.iloc[i]
        if no_meaning[i]:
            flagged.append(("place.missing-meaning", r, f"地名 {r['name']} ({r['place_id']}) 缺少地名含义"))
        if bad[i]:
            flagged.append(("place.bad-id", r, id_problem(r.to_dict(), pattern)))
    geoms = data.geometries("place_names", [r["place_id"] for _, r, _ in flagged])
    return [Finding(rule, RULES[rule], "place_names", str(r["place_id"]), r["name"], f"{message} ({rule})",
                    geometry=g) for (rule, r, message), g in zip(flagged, geoms)]


def _bad_ids(names, pattern):
    """Per name: whether its 地名代码 does not fit the pattern, its category code or its division."""
    import numpy as np

    parts = names["place_id"].astype(str).str.extract(f"^(?:{pattern.pattern})$")  # as fullmatch, like id_problem
    unmatched = parts["division"].isna().to_numpy()
    category = names["category"].fillna("")
    coded = category.str.fullmatch(r"\d{5}").fillna(False).to_numpy()
    wrong_category = ~unmatched & coded & (parts["category"].fillna("") != category).to_numpy()
    district = names["district"].fillna("").str.split(",", n=1).str[0].str.strip()
    division = parts["division"].fillna("")
    shorter = np.minimum(district.str.len().to_numpy(), division.str.len().to_numpy())
    wrong_division = np.zeros(len(names), dtype=bool)
    for length in np.unique(shorter[shorter > 0]):  # a few lengths (6, 9, 12 digits): one comparison each
        rows = shorter == length
        wrong_division[rows] = (district[rows].str[:length] != division[rows].str[:length]).to_numpy()
    return unmatched | wrong_category | (~unmatched & wrong_division)
