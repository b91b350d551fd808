"""The QGIS style (QML) of each layer: how it is drawn and labelled, and its attribute form.

The styles are stored in the project's ``layer_styles`` table as each layer's default, the table
QGIS, QField and Mergin Maps read when a layer of the GeoPackage is opened, so the officer who
drags ``diming.gpkg`` into QGIS gets the symbology of the HTML maps (:mod:`diming.layers.styles`),
labels, and forms in Chinese: aliases, value lists showing 在用 / 公示中 / 县级 for the stored codes
(:data:`diming.layers.schema.CODE_LABELS`), checkboxes for yes/no fields, date pickers, keys that
cannot be changed once stored, and tabs where a layer has many fields.

Everything here follows the schema, so a layer or field added to ``layers/schema.py`` gets a form
without a change here; only its drawing needs an entry below. Widths are CSS pixels converted to
millimetres (QGIS' print unit) at 96 dpi.
"""
from __future__ import annotations

from functools import lru_cache
from xml.etree import ElementTree as ET

from diming.layers import styles as s
from diming.layers.schema import ADMIN_LEVELS, LAYERS, MARKER_CONDITIONS, PROPOSAL_STATES, Layer, label

QGIS_VERSION = "3.22.16-Białowieża"  # the QGIS the styles were made for and tried in
STYLE_NAME = "diming"
MM_PER_PX = 25.4 / 96

# text fields that hold paragraphs (or JSON): a multi-line box in the form
LONG_TEXT = {"description", "meaning", "origin", "history", "value", "reason", "notes", "close_reason",
             "check_findings", "before", "after", "line_ids", "keys", "location"}
# tabs of the forms with many fields; a field not listed (added later) lands in 其他
TABS = {
    "road_proposals": {
        "申报": ("proposal_id", "name", "pinyin", "district", "status", "batch", "ordinal", "road_id"),
        "申请内容": ("reason", "meaning", "applicant", "start_desc", "end_desc", "width_m"),
        "办理过程": ("created_on", "submitted_on", "review_started_on", "notice_start", "notice_end",
                 "approved_by", "approval_doc", "approved_on", "filed_on", "announced_on", "closed_on",
                 "close_reason"),
        "审查与路牌": ("assessment_ref", "expert_review_ref", "consultation_ref", "check_status", "check_findings",
                  "sign_ordered_on", "sign_installed_on", "sign_verified_on"),
    },
    "roads": {
        "道路": ("road_id", "name", "pinyin", "district", "status", "approved_on", "proposal_id", "cancelled_on"),
        "说明": ("meaning", "origin", "start_desc", "end_desc", "width_m", "former_names"),
    },
    "inspections": {
        "检查": ("inspection_id", "round_id", "marker_id", "line_id", "inspected_on", "inspectors_left",
               "inspectors_right"),
        "结果": ("condition", "references_complete", "line_recognisable", "action", "photos", "notes"),
        "实测位置": ("measured_x", "measured_y", "measured_crs", "displacement_m"),
    },
    "heritage_names": {
        "名录": ("heritage_id", "name", "pinyin", "category", "batch", "level", "status", "district",
               "location", "listed_on"),
        "含义与沿革": ("meaning", "origin", "history", "value"),
    },
}
GEOMETRY_TYPES = {"POINT": "0", "MULTIPOINT": "0", "LINESTRING": "1", "MULTILINESTRING": "1",
                  "POLYGON": "2", "MULTIPOLYGON": "2", None: "4"}


def _mm(px: float) -> str:
    return f"{px * MM_PER_PX:.2f}"


def _rgba(colour: str, alpha: int = 255) -> str:
    colour = colour.lstrip("#")
    return ",".join(str(int(colour[i:i + 2], 16)) for i in (0, 2, 4)) + f",{alpha}"


def _props(parent: ET.Element, props: dict) -> None:
    # QGIS 3.22 reads the Option map and still writes the older prop list beside it: both, for
    # the QGIS and QField versions in use
    options = ET.SubElement(parent, "Option", type="Map")
    for k, v in props.items():
        ET.SubElement(options, "Option", name=k, value=str(v), type="QString")
    for k, v in props.items():
        ET.SubElement(parent, "prop", k=k, v=str(v))


def _symbol(kind: str, layer_class: str, props: dict) -> ET.Element:
    # the renderer names each symbol by its place in its list
    symbol = ET.Element("symbol", type=kind, name="0", alpha="1", clip_to_extent="1", force_rhr="0")
    layer = ET.SubElement(symbol, "layer", {"class": layer_class, "enabled": "1", "locked": "0", "pass": "0"})
    _props(layer, props)
    return symbol


def _line(colour: str, width: float, dash=None) -> ET.Element:
    props = {"line_color": _rgba(colour), "line_width": _mm(width), "line_width_unit": "MM", "line_style": "solid",
             "capstyle": "round" if dash is None else "flat", "joinstyle": "round",
             "use_custom_dash": "0" if dash is None else "1",
             "customdash": ";".join(_mm(d) for d in dash or (5, 2)), "customdash_unit": "MM"}
    return _symbol("line", "SimpleLine", props)


def _marker(colour: str, radius: float) -> ET.Element:
    return _symbol("marker", "SimpleMarker", {
        "name": "circle", "color": _rgba(colour), "size": _mm(2 * radius), "size_unit": "MM",
        "outline_color": _rgba("#ffffff"), "outline_width": _mm(1.5), "outline_width_unit": "MM",
        "outline_style": "solid", "scale_method": "diameter"})


def _outline(colour: str, width: float) -> ET.Element:
    # areas are drawn as outlines only, so the layers below (roads, lines, a basemap) stay visible
    return _symbol("fill", "SimpleFill", {
        "style": "no", "color": _rgba(colour, 0), "outline_color": _rgba(colour), "outline_style": "solid",
        "outline_width": _mm(width), "outline_width_unit": "MM", "joinstyle": "round"})


def _categorized(attr: str, categories: list[tuple[str, str, ET.Element]]) -> ET.Element:
    """A categorized renderer over ``attr`` (a field or an expression): (value, label, symbol)."""
    renderer = ET.Element("renderer-v2", type="categorizedSymbol", attr=attr, symbollevels="0",
                          enableorderby="0", forceraster="0", referencescale="-1")
    cats = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for i, (value, text, symbol) in enumerate(categories):
        ET.SubElement(cats, "category", value=value, label=text, symbol=str(i), render="true")
        symbol.set("name", str(i))
        symbols.append(symbol)
    return renderer


def _single(symbol: ET.Element) -> ET.Element:
    renderer = ET.Element("renderer-v2", type="singleSymbol", symbollevels="0", enableorderby="0",
                          forceraster="0", referencescale="-1")
    ET.SubElement(renderer, "symbols").append(symbol)
    return renderer


def _renderer(layer: Layer) -> ET.Element | None:
    name = layer.name
    if name == "admin_areas":
        return _categorized("level", [
            (level, label(level), _outline(s.AREA_OUTLINE, s.AREA_OUTLINE_WIDTH[level])) for level in ADMIN_LEVELS])
    if name == "boundary_lines":
        return _single(_line(s.BOUNDARY_COLOUR, s.BOUNDARY_WIDTH, s.BOUNDARY_DASH))
    if name in ("boundary_markers", "inspections"):
        # a marker's condition is kept at its latest inspection's by diming (boundaries.inspection)
        return _categorized("coalesce(\"condition\", '未检')", [
            (c, c, _marker(s.CONDITION_COLOURS[c], s.MARKER_RADIUS)) for c in MARKER_CONDITIONS])
    if name == "roads":
        return _categorized("status", [
            ("in_use", label("in_use"), _line(s.ROAD_COLOUR, s.ROAD_WIDTH)),
            ("cancelled", label("cancelled"), _line(s.CANCELLED_ROAD_COLOUR, s.ROAD_WIDTH, s.CANCELLED_ROAD_DASH))])
    if name == "road_proposals":
        return _categorized("status", [
            (state, label(state), _line(*s.PROPOSAL_GROUP_LINES[s.proposal_group(state)]))
            for state in PROPOSAL_STATES])
    if name == "heritage_names":
        return _categorized("coalesce(\"category\", '其他')", [
            (c, c, _marker(colour, s.HERITAGE_RADIUS)) for c, colour in s.HERITAGE_COLOURS.items()])
    if name == "road_signs":
        return _categorized("coalesce(\"condition\", '完好')", [
            (c, c, _marker(colour, s.MARKER_RADIUS)) for c, colour in s.SIGN_CONDITION_COLOURS.items()])
    if layer.geometry in (None, "GEOMETRY"):
        # a layer of any geometry (place_names) is opened in QGIS as one layer per kind, all
        # sharing this style: no one symbol fits them all, so QGIS's default symbol per kind
        return None
    kind = GEOMETRY_TYPES[layer.geometry]
    return _single({"0": _marker(s.OTHER_COLOUR, s.MARKER_RADIUS), "1": _line(s.OTHER_COLOUR, 2),
                    "2": _outline(s.OTHER_COLOUR, 1.5)}[kind])


def _label_settings(expression: str, geometry_kind: str, max_scale: int | None, size: float = 9,
                    colour: str = "#212121") -> ET.Element:
    settings = ET.Element("settings", calloutType="simple")
    style = ET.SubElement(settings, "text-style", fieldName=expression, isExpression="1", fontSize=str(size),
                          fontSizeUnit="Point", textColor=_rgba(colour), textOpacity="1", fontWeight="50",
                          multilineHeight="1", allowHtml="0")
    ET.SubElement(style, "text-buffer", bufferDraw="1", bufferSize="0.8", bufferSizeUnits="MM",
                  bufferColor="255,255,255,255", bufferOpacity="0.9", bufferJoinStyle="128", bufferNoFill="1")
    ET.SubElement(settings, "text-format", multilineAlign="3", wrapChar="", autoWrapLength="0",
                  formatNumbers="0", plussign="0", addDirectionSymbol="0")
    # lines: curved along the line; points: around the point; areas: over the centre
    placement = {"0": ("0", "10", "1.5"), "1": ("3", "10", "0"), "2": ("1", "10", "0")}[geometry_kind]
    ET.SubElement(settings, "placement", placement=placement[0], placementFlags=placement[1], dist=placement[2],
                  distUnits="MM", priority="5", repeatDistance="0", overrunDistance="0", centroidInside="1",
                  fitInPolygonOnly="0", maxCurvedCharAngleIn="25", maxCurvedCharAngleOut="-25")
    ET.SubElement(settings, "rendering", scaleVisibility="0" if max_scale is None else "1", scaleMin="0",
                  scaleMax=str(max_scale or 0), obstacle="1", obstacleFactor="1", displayAll="0",
                  upsidedownLabels="0", labelPerPart="0", mergeLines="1" if geometry_kind == "1" else "0",
                  minFeatureSize="0", limitNumLabels="0", maxNumLabels="2000", drawLabels="1")
    return settings


def _labeling(layer: Layer) -> ET.Element | None:
    name = layer.name
    if name == "admin_areas":
        # rule based: each level from its own scale down, larger levels larger
        labeling = ET.Element("labeling", type="rule-based")
        rules = ET.SubElement(labeling, "rules", key="{diming-admin-areas}")
        for i, level in enumerate(ADMIN_LEVELS):
            scale = s.AREA_LABEL_SCALES[level]
            rule = ET.SubElement(rules, "rule", key=f"{{diming-admin-areas-{level}}}", description=label(level),
                                 filter=f"\"level\" = '{level}'")
            if scale:
                rule.set("scalemaxdenom", str(scale))
                rule.set("scalemindenom", "1")
            rule.append(_label_settings('"name"', "2", None, size=13 - 1.5 * i, colour=s.AREA_OUTLINE))
        return labeling
    texts = {"roads": "trim(concat(\"name\", '  ', \"pinyin\"))",
             "road_proposals": "trim(concat(\"name\", '  ', \"pinyin\"))",
             "boundary_markers": '"marker_id"', "heritage_names": '"name"'}
    if name not in texts:
        return None
    labeling = ET.Element("labeling", type="simple")
    labeling.append(_label_settings(texts[name], GEOMETRY_TYPES[layer.geometry], s.LABEL_SCALES[name]))
    return labeling


def _widget(f) -> tuple[str, dict]:
    """Editor widget type and its configuration for field ``f``."""
    if f.choices:
        return "ValueMap", {"map": [(label(code), code) for code in f.choices]}
    if f.yes_no:
        return "CheckBox", {"CheckedState": "1", "UncheckedState": "0", "TextDisplayMethod": "0"}
    if f.type == "DATE":
        return "DateTime", {"field_format": "yyyy-MM-dd", "display_format": "yyyy-MM-dd", "calendar_popup": True,
                            "allow_null": True}
    if f.type == "DATETIME":
        return "DateTime", {"field_format": "yyyy-MM-ddTHH:mm:ss.zzzZ", "display_format": "yyyy-MM-dd HH:mm:ss",
                            "calendar_popup": True, "allow_null": True}
    if f.type == "TEXT":
        return "TextEdit", {"IsMultiline": f.name in LONG_TEXT, "UseHtml": False}
    return "Range", {"AllowNull": True, "Style": "SpinBox", "Precision": 3 if f.type == "REAL" else 0,
                     "Min": -1e12 if f.type == "REAL" else -2147483648, "Max": 1e12 if f.type == "REAL" else 2147483647,
                     "Step": 1}


def _config(parent: ET.Element, config: dict) -> None:
    options = ET.SubElement(ET.SubElement(parent, "config"), "Option", type="Map")
    for key, value in config.items():
        if key == "map":
            listed = ET.SubElement(options, "Option", type="List", name="map")
            for text, code in value:
                ET.SubElement(ET.SubElement(listed, "Option", type="Map"), "Option", name=text, value=code,
                              type="QString")
        elif isinstance(value, bool):
            ET.SubElement(options, "Option", name=key, value="true" if value else "false", type="bool")
        elif isinstance(value, int):
            ET.SubElement(options, "Option", name=key, value=str(value), type="int")
        elif isinstance(value, float):
            ET.SubElement(options, "Option", name=key, value=repr(value), type="double")
        else:
            ET.SubElement(options, "Option", name=key, value=value, type="QString")


def _key_kept(key: str) -> str:
    """A form constraint: the key of a stored feature stays as stored (it ties the feature to its
    history: audit log, proposals, inspections), while a new feature's key can be typed, so an
    officer can still add a feature in QGIS or QField (QGIS 3.22 has no "read-only once saved")."""
    return (f"get_feature_by_id(@layer, $id) IS NULL OR \"{key}\" = attribute(get_feature_by_id(@layer, $id), "
            f"'{key}')")


def _form(layer: Layer, root: ET.Element) -> None:
    fields = ET.SubElement(root, "fieldConfiguration")
    aliases = ET.SubElement(root, "aliases")
    defaults = ET.SubElement(root, "defaults")
    constraints = ET.SubElement(root, "constraints")
    expressions = ET.SubElement(root, "constraintExpressions")
    for i, f in enumerate(layer.fields, start=1):  # fid is field 0
        widget, config = _widget(f)
        editor = ET.SubElement(ET.SubElement(fields, "field", name=f.name, configurationFlags="None"),
                               "editWidget", type=widget)
        _config(editor, config)
        ET.SubElement(aliases, "alias", field=f.name, index=str(i), name=f.alias)
        ET.SubElement(defaults, "default", field=f.name, applyOnUpdate="0",
                      expression="" if f.default is None else "'" + f.default.replace("'", "''") + "'")
        key = f.name == layer.key
        # constraint flags: 1 not null, 2 unique, 4 expression; strength 1 = hard (the form refuses)
        ET.SubElement(constraints, "constraint", field=f.name, exp_strength="1" if key else "0",
                      notnull_strength="1" if f.required else "0", unique_strength="1" if key else "0",
                      constraints=str((1 if f.required else 0) | (6 if key else 0)))
        ET.SubElement(expressions, "constraint", field=f.name, exp=_key_kept(f.name) if key else "",
                      desc="编号存入后不可修改 (a stored key cannot be changed)" if key else "")
    tabs = TABS.get(layer.name)
    ET.SubElement(root, "editorlayout").text = "tablayout" if tabs else "generatedlayout"
    if tabs:
        form = ET.SubElement(root, "attributeEditorForm")
        listed = {n for names in tabs.values() for n in names}
        rest = tuple(n for n in layer.field_names if n not in listed)
        for tab, names in (tabs | ({"其他": rest} if rest else {})).items():
            container = ET.SubElement(form, "attributeEditorContainer", name=tab, groupBox="0", showLabel="1",
                                      columnCount="1", visibilityExpressionEnabled="0", visibilityExpression="")
            for n in names:
                if n in layer.field_names:
                    ET.SubElement(container, "attributeEditorField", name=n, showLabel="1",
                                  index=str(layer.field_names.index(n) + 1))
    editable = ET.SubElement(root, "editable")
    for f in layer.fields:
        # the log is history: nothing in it is edited
        ET.SubElement(editable, "field", name=f.name, editable="0" if layer.name == "audit_log" else "1")
    # what QGIS and QField list a feature by: its key and name
    names = [n for n in (layer.key, "name") if n and n in layer.field_names]
    ET.SubElement(root, "previewExpression").text = "concat(" + ", ' ', ".join(f'"{n}"' for n in names) + ")" \
        if names else ""


@lru_cache(maxsize=None)
def layer_style(name: str) -> str:
    """The QML document of layer ``name`` (cached: it depends on this diming only)."""
    layer = LAYERS[name]
    renderer, labeling = _renderer(layer), _labeling(layer)
    root = ET.Element("qgis", version=QGIS_VERSION, styleCategories="AllStyleCategories",
                      labelsEnabled="1" if labeling is not None else "0", readOnly="0",
                      hasScaleBasedVisibilityFlag="0", minScale="100000000", maxScale="0")
    for element in (renderer, labeling):
        if element is not None:
            root.append(element)
    _form(layer, root)
    if layer.geometry in GEOMETRY_TYPES:
        ET.SubElement(root, "layerGeometryType").text = GEOMETRY_TYPES[layer.geometry]
    ET.indent(root, " ")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode")


def layer_elements(name: str) -> list[ET.Element]:
    """The children of layer ``name``'s QML root, to embed in a QGIS project's ``maplayer``."""
    return list(ET.fromstring(layer_style(name).split("\n", 1)[1]))


def install(con) -> None:
    """Store every layer's style in the project (``layer_styles``) as its default; re-run on each
    write, it replaces the styles of an older diming and leaves an officer's own default alone."""
    from diming import __version__
    from diming.layers.gpkg import write_styles

    tables = {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}
    write_styles(con, {name: ("geom" if layer.geometry else None, layer_style(name))
                       for name, layer in LAYERS.items() if name in tables},
                 style_name=STYLE_NAME, description=f"地名工作默认样式 (diming {__version__})")


# the error layer of diming check (``diming check --format gpkg``, layer check_findings)
FINDING_ALIASES = {
    "rule": "检查规则", "severity": "严重程度", "layer": "图层", "id": "要素编号", "name": "名称", "message": "说明",
    "related": "相关要素(JSON)", "lon": "经度", "lat": "纬度", "keys": "涉及要素(JSON)", "accepted": "已认可",
    "exception_id": "例外编号", "area_m2": "面积(平方米)", "length_m": "长度(米)", "distance_m": "距离(米)",
}


def findings_elements(geometry_kind: str) -> list[ET.Element]:
    """Style of the check's error layer (``geometry_kind`` "0" points, "1" lines, "2" areas, "4"
    findings without geometry): by severity in the check map's colours, accepted findings grey,
    rules and severities in Chinese."""
    from diming.rule_names import RULE_NAMES, SEVERITY_NAMES

    def symbol(colour):
        if geometry_kind == "0":
            return _marker(colour, 7)
        if geometry_kind == "1":
            return _line(colour, 5)
        return _symbol("fill", "SimpleFill", {
            "style": "solid", "color": _rgba(colour, 115), "outline_color": _rgba(colour), "outline_style": "solid",
            "outline_width": _mm(1.5), "outline_width_unit": "MM"})

    if geometry_kind == "4":
        renderer = None
    else:
        categories = [(sev, SEVERITY_NAMES[sev], symbol(s.SEVERITY_COLOURS[sev])) for sev in s.SEVERITY_COLOURS]
        categories.append(("accepted", "已认可", symbol(s.ACCEPTED_COLOUR)))
        renderer = _categorized("if(\"exception_id\" IS NOT NULL, 'accepted', \"severity\")", categories)
    fields = ET.Element("fieldConfiguration")
    aliases = ET.Element("aliases")
    for name, alias in FINDING_ALIASES.items():
        editor = ET.SubElement(ET.SubElement(fields, "field", name=name, configurationFlags="None"), "editWidget",
                               type="ValueMap" if name in ("rule", "severity") else "TextEdit")
        table = {"rule": RULE_NAMES, "severity": SEVERITY_NAMES}.get(name)
        _config(editor, {"map": [(text, code) for code, text in table.items()]} if table else
                {"IsMultiline": name in ("message", "related", "keys"), "UseHtml": False})
        ET.SubElement(aliases, "alias", field=name, name=alias)
    preview = ET.Element("previewExpression")
    preview.text = "concat(\"rule\", ' ', \"layer\", ' ', \"id\")"
    return [e for e in (renderer, fields, aliases, preview) if e is not None]
