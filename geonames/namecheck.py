"""``diming namecheck``: can this name be used? The single-name rules plus clashes with the roads
in use, the open proposals, the gazetteer and the heritage list within the duplicate scope (setting
``duplicate_scope``; for another category of place name, the scope of its category:
:mod:`diming.geonames.categories`)."""
from __future__ import annotations

from diming.geonames.categories import DIGITS, DIVISION_CATEGORIES, STREET, group_of, members_of
from diming.geonames.normalize import normalize
from diming.geonames.parts import split_name
from diming.geonames.pinyin import parse_overrides, sign, spell
from diming.geonames.rules import build_index, check_name, check_width, clash_findings, parse_width_rule

# proposals still being decided; from announcement on, the name is in ``roads``
OPEN_STATES = ("draft", "submitted", "in_review", "public_notice", "approved", "filed")


def in_scope(code, other, scope: str) -> bool:
    """Whether two division codes fall in one duplicate scope (district: same code; county: same
    6-digit county; city: same 4-digit city; province: same 2 digits; nation: always). A missing
    code is in every scope."""
    if not code or not other:
        return True
    digits = DIGITS[scope]
    return code == other if digits is None else code[:digits] == other[:digits]


def _scope_sql(district, scope: str):
    """The SQL condition (and its parameters) of :func:`in_scope` against ``district``."""
    digits = DIGITS[scope]
    if not district or digits == 0:
        return "1", ()
    column = "district" if digits is None else f"substr(district, 1, {digits})"
    return f"(district IS NULL OR district = '' OR {column} = ?)", (district if digits is None else district[:digits],)


def project_names(project, district=None, scope: str = "county", names=None, *, streets: bool = True,
                  gazetteer=()) -> list[dict]:
    """The names a new name must not clash with: ``{"layer", "id", "name", "status"}`` each;
    only those spelt as one of ``names`` when given (the candidates of the name index).
    ``streets``: compare with roads and proposals; ``gazetteer``: the categories of the gazetteer
    names in use to compare with (the new name's category group). The heritage list always counts.

    The scope is applied in SQL and no geometry is read: at national scale this is the difference
    between reading a million roads and reading the few hundred of one county.
    """
    import json

    from diming.layers.store import read_layer, stored_fields

    records = []
    sources = [("roads", "road_id", "status = ?", ("in_use",)),
               ("road_proposals", "proposal_id", f"status IN ({', '.join('?' * len(OPEN_STATES))})", OPEN_STATES)
               ] if streets else []
    sources.append(("heritage_names", "heritage_id", "(status IS NULL OR status != ?)", ("delisted",)))
    if gazetteer and "category" in stored_fields(project, "place_names"):
        sources.append(("place_names", "place_id", "(in_use IS NULL OR in_use = 'current') AND category IN "
                        f"({', '.join('?' * len(gazetteer))})", tuple(gazetteer)))
    for layer, key, where, params in sources:
        if "district" in stored_fields(project, layer):
            scope_where, scope_params = _scope_sql(district, scope)
            where, params = f"{where} AND {scope_where}", (*params, *scope_params)
        if names is not None:
            where += " AND name IN (SELECT value FROM json_each(?))"
            params = (*params, json.dumps(list(names), ensure_ascii=False))
        status = "in_use" if layer == "place_names" else "status"
        frame = read_layer(project, layer, where=where, params=params, columns=(key, "name", status),
                           geometry=False)
        records += [{"layer": layer, "id": k, "name": n, "status": st}
                    for k, n, st in zip(frame[key], frame["name"], frame[status])]
    return records


def division_names(project) -> list[str]:
    """The names of the project's divisions, for the region-name duplicate rule."""
    from diming.layers.store import read_layer

    return list(read_layer(project, "admin_areas", columns=("name",), geometry=False)["name"])


def local_rules(settings: dict) -> dict:
    """The keyword arguments of the rule functions, from project settings."""
    words = [w for w in settings["forbidden_words"].replace("，", ",").replace(",", " ").split() if w]
    return {"max_length": settings["name_max_length"], "extra_forbidden": words,
            "overrides": parse_overrides(settings["pinyin_overrides"]),
            "same_specific_severity": settings["same_specific_severity"],
            "width_rule": parse_width_rule(settings["generic_width_rule"])}


def describe(name: str, overrides=None, *, ordinal: bool = False) -> dict:
    """Normalised form, 专名/modifier/通名 split, 罗马字母拼写 and the sign form."""
    specific, modifier, generic = split_name(name)
    return {"name": name, "normalized": normalize(name), "specific": specific, "modifier": modifier,
            "generic": generic, "pinyin": spell(name, overrides, ordinal=ordinal),
            "sign": sign(name, overrides, ordinal=ordinal)}


def namecheck(project, name: str, *, district: str | None = None, exclude=(), ordinal: bool = False,
              width: float | None = None, category: str | None = None) -> dict:
    """Everything ``diming namecheck`` reports, as a dict (the JSON output):
    ``{"name", "normalized", "specific", "modifier", "generic", "pinyin", "sign", "findings"}``.

    ``exclude``: (layer, id) pairs not to compare with (a proposal or road checking itself);
    ``width``: the road's width in metres, for the optional ``generic_width_rule``;
    ``category``: the place-name category (地名类别) of the name, None for a road.
    """
    from diming.layers.settings import get_settings

    settings = get_settings(project)
    rules = local_rules(settings)
    result = describe(name, rules["overrides"], ordinal=ordinal)
    findings = check_name(name, max_length=rules["max_length"], extra_forbidden=rules["extra_forbidden"])
    if category is not None:  # the road's 通名 warnings (no road 通名, an ordinal only) do not fit a village or a river
        findings = [f for f in findings if not (f["rule"] == "name.format" and f["severity"] == "warning")]
    findings += check_width(name, width, rules["width_rule"])
    result["findings"] = findings + clashes(project, name, district=district, exclude=exclude, settings=settings,
                                            category=category)
    return result


def clashes(project, name: str, *, district: str | None = None, exclude=(), settings=None,
            category: str | None = None) -> list[dict]:
    """The clash findings (``name.duplicate``, ``name.same-specific``, ``name.homophone``,
    ``name.protected``) of ``name`` against the names of its category group — for a road
    (``category`` None) the roads in use, the open proposals and the streets and residential
    areas of the gazetteer — and the heritage list, within the duplicate scope of its category
    around ``district`` (everywhere when None), found through the project's name index.
    ``settings``: the project's, when the caller has them already."""
    from diming.geonames.categories import categories
    from diming.geonames.name_index import candidates
    from diming.layers.settings import get_settings

    if not normalize(name):
        return []
    exclude = with_links(project, exclude) if exclude else exclude
    settings = settings or get_settings(project)
    if category is not None and category not in categories():
        from diming.errors import DimingError

        raise DimingError(f"未知地名类别 {category!r} (unknown category); 可用: {', '.join(categories())}")
    group, scope = group_of(category, settings)
    rules = local_rules(settings)
    regions = division_names(project)
    names = candidates(project, name, rules["overrides"], regions)
    # a division's own name is compared without the region-name rule, as in the check (categories.DIVISION_CATEGORIES)
    index = build_index(project_names(project, district, scope, names, streets=group == STREET,
                                      gazetteer=members_of(group, settings)), rules["overrides"],
                        regions=() if category in DIVISION_CATEGORIES else regions)
    return clash_findings(name, index, exclude=exclude, same_specific_severity=rules["same_specific_severity"])


def with_links(project, features) -> set[tuple[str, str]]:
    """``features`` ((layer, id) pairs) with the features each is linked to: a proposal and the
    road it became (``roads.proposal_id``, the proposal's ``road_id``) are one road, and a road
    never clashes with itself."""
    import json

    from diming.layers.store import read_layer, stored_fields

    features = {(layer, str(key)) for layer, key in features}
    ids = {layer: json.dumps(sorted(k for l, k in features if l == layer), ensure_ascii=False)
           for layer in ("roads", "road_proposals")}
    out = set(features)
    for layer, key, link, other in (("roads", "road_id", "proposal_id", "road_proposals"),
                                    ("road_proposals", "proposal_id", "road_id", "roads")):
        if link not in stored_fields(project, layer):
            continue
        frame = read_layer(project, layer, where=f"{link} IS NOT NULL AND ({key} IN (SELECT value FROM json_each(?)) "
                                                 f"OR {link} IN (SELECT value FROM json_each(?)))",
                           params=(ids[layer], ids[other]), columns=(key, link), geometry=False)
        out |= {(layer, str(k)) for k in frame[key]} | {(other, str(k)) for k in frame[link]}
    return out


def has_errors(result: dict) -> bool:
    return any(f["severity"] == "error" for f in result["findings"])
