"""One map page: a folium map with canvas layers, a title, a legend, a scale bar and a layer
control, written as a single self-contained HTML file.

Every layer travels in one compact form (read by ``static/map.js``): each per-feature value is a
column — a plain array, or its distinct values once with each feature's index into them (``{"d",
"i"}``, no ``"i"`` when all are the same) — popup labels once per layer, coordinates as integers on
the layer's grid, each the difference from the position before it: a marker takes 30 to 60
bytes. Popups are built from the columns when a feature is clicked; longitude and latitude
(:data:`LON`, :data:`LAT`) from the drawn position.

Project values never reach the page as HTML: they are JSON data (``<``, ``>`` and ``&`` escaped so
nothing can close the script element), and ``static/map.js`` puts them on the page with
``textContent``. folium's own tooltips and GeoJSON popups insert HTML and are not used.
"""
from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

from diming.errors import DimingError

# Coordinates are rounded to 1e-6° (about 0.1 m) for points and 1e-5° (about 1 m) for lines and
# areas: finer than a screen can show.
POINT_SCALE = 1_000_000
SHAPE_SCALE = 100_000
CHINA_CENTRE = (35.0, 105.0)
GEOMETRY_TYPES = {"Point": "P", "MultiPoint": "P", "LineString": "L", "MultiLineString": "L", "LinearRing": "L",
                  "Polygon": "A", "MultiPolygon": "A"}


class Derived(str):
    """A popup value the page computes from the feature's drawn position instead of storing it."""


LON, LAT = Derived("lon"), Derived("lat")  # a point's longitude and latitude, six decimals


def script_json(value) -> str:
    """``value`` as JSON that is safe inside a ``<script>`` element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _escape_script(text)


def _escape_script(text: str) -> str:
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def text(value) -> str:
    """A project value as display text: '' for missing values (None, NaN, pandas NA)."""
    if value is None:
        return ""
    try:
        if value != value:  # NaN and pandas NA
            return ""
    except (TypeError, ValueError):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def rows(*pairs) -> list[list[str]]:
    """Popup rows ``[label, value]``, leaving out empty values (:data:`LON`, :data:`LAT` kept)."""
    return [[label, value if isinstance(value, Derived) else text(value)] for label, value in pairs
            if text(value) != ""]


def point_style(color: str, radius: float = 6) -> dict:
    return {"radius": radius, "color": "#ffffff", "weight": 1.5, "fillColor": color, "fillOpacity": 0.95}


def line_style(color: str, weight: float = 3, dash: str | None = None, opacity: float = 0.9) -> dict:
    style = {"color": color, "weight": weight, "opacity": opacity}
    if dash:
        style["dashArray"] = dash
    return style


def area_style(color: str, fill: str, opacity: float = 0.25) -> dict:
    return {"color": color, "weight": 1.5, "fillColor": fill, "fillOpacity": opacity}


def legend_entry(label: str, style: dict, shape: str, count: int | None = None) -> dict:
    entry = {"label": label, "shape": shape, "color": style.get("fillColor") if shape == "point" else style["color"]}
    if shape == "area":
        entry["fill"] = style["fillColor"]
    if count is not None:
        entry["count"] = count
    return entry


def _feature_layer_class():
    """The folium layer for one :func:`diming.layer` call (built here so folium loads lazily)."""
    from folium.map import Layer
    from folium.template import Template

    class _FeatureLayer(Layer):
        _template = Template("""
            {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = diming.layer({{ this.spec }});
            {% endmacro %}
        """)

        def __init__(self, name: str, spec: str):
            # Leaflet's layer control shows layer names as HTML
            super().__init__(name=html.escape(name), overlay=True, control=True, show=True)
            self._name = "FeatureLayer"
            self.spec = spec

    return _FeatureLayer


def _frame_class():
    from branca.element import MacroElement
    from folium.template import Template

    class _Frame(MacroElement):
        _template = Template("""
            {% macro script(this, kwargs) %}
            diming.frame({{ this._parent.get_name() }}, {{ this.spec }});
            {% endmacro %}
        """)

        def __init__(self, spec: str):
            super().__init__()
            self._name = "Frame"
            self.spec = spec

    return _Frame


def column(values: list):
    """One per-feature value of a layer as a column for ``map.js``: the values themselves, or the
    distinct values and each feature's index into them, whichever is shorter; a column of
    :data:`LON` or :data:`LAT` is ``{"f": "lon"}`` (computed on click)."""
    derived = {v for v in values if isinstance(v, Derived)}
    if derived:
        if len(derived) > 1 or len(derived) != len(set(values)):
            raise ValueError(f"a column mixes a position field with other values: {sorted(set(values))[:3]}")
        return {"f": str(derived.pop())}
    distinct: dict = {}
    index = [distinct.setdefault(v, len(distinct)) for v in values]
    if len(distinct) <= 1:
        return {"d": list(distinct)}
    plain = sum(len(str(v)) for v in values) + 3 * len(values)
    coded = sum(len(str(v)) + 3 for v in distinct) + sum(len(str(i)) + 1 for i in index)
    return {"d": list(distinct), "i": index} if coded < plain else list(values)


def _popup_columns(props: list[dict], titles: list, categories: list) -> tuple[list[str], list]:
    """The popup labels of a layer (each once) and one column of values per label ('' where a
    feature has none); a column equal to the titles or the categories is ``{"f": "t"}`` or
    ``{"f": "k"}`` (the marker number is its title, its condition its category)."""
    fields: dict[str, int] = {}
    for p in props:
        for label, _ in p["p"]:
            fields.setdefault(label, len(fields))
    columns = [[""] * len(props) for _ in fields]
    for n, p in enumerate(props):
        for label, value in p["p"]:
            columns[fields[label]][n] = value
    return list(fields), [{"f": "t"} if c == titles else {"f": "k"} if c == categories else column(c)
                          for c in columns]


def _deltas(coords, scale: int) -> list[str]:
    """Coordinates (n × 2) as integers on the grid, each x and y the difference from the one before,
    as JSON number strings."""
    import numpy as np

    ints = np.rint(np.asarray(coords, dtype=float).reshape(-1, 2) * scale).astype(np.int64)
    return np.diff(ints, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)).ravel().astype(str).tolist()


def _nested(geom) -> tuple[str, object, object]:
    """A geometry's type code (P, L, A), its coordinate counts (points, per part, per ring) and the
    geometry they count (a collection's parts of its highest dimension)."""
    import shapely

    kind = GEOMETRY_TYPES.get(geom.geom_type)
    if kind is None:  # a collection: its parts of the highest dimension
        parts = shapely.get_parts(geom)
        while (shapely.get_num_geometries(parts) > 1).any() or any(g.geom_type.startswith("Multi") for g in parts):
            parts = shapely.get_parts(parts)
        parts = [g for g in parts if not g.is_empty]
        top = max(shapely.get_dimensions(parts))
        parts = [g for g in parts if shapely.get_dimensions(g) == top]
        geom = (shapely.multipoints, shapely.multilinestrings, shapely.multipolygons)[top](parts)
        kind = "PLA"[top]
    if kind == "P":
        return kind, len(shapely.get_coordinates(geom)), geom
    if kind == "L":
        return kind, [len(shapely.get_coordinates(part)) for part in shapely.get_parts(geom)], geom
    return kind, [[len(ring.coords) for ring in (polygon.exterior, *polygon.interiors)]
                  for polygon in shapely.get_parts(geom)], geom


def _geometry_json(geoms, scale: int) -> tuple[str, list | None, object]:
    """The ``g`` member of a layer (all points: one flat array; else one nested array per feature),
    each feature's type code (None for a layer of points) and the geometries drawn (a collection
    as its parts of the highest dimension)."""
    import numpy as np
    import shapely

    if all(g.geom_type == "Point" for g in geoms):
        return "[" + ",".join(_deltas(shapely.get_coordinates(geoms), scale)) + "]", None, geoms
    nested = [_nested(g) for g in geoms]
    drawn = np.empty(len(nested), dtype=object)
    drawn[:] = [g for _, _, g in nested]
    tokens = iter(_deltas(shapely.get_coordinates(drawn), scale))

    def flat(count):
        return "[" + ",".join(next(tokens) for _ in range(2 * count)) + "]"

    out = []
    for kind, counts, _ in nested:
        if kind == "P":
            out.append(flat(counts))
        elif kind == "L":
            out.append("[" + ",".join(flat(c) for c in counts) + "]")
        else:
            out.append("[" + ",".join("[" + ",".join(flat(c) for c in rings) + "]" for rings in counts) + "]")
    return "[" + ",".join(out) + "]", [kind for kind, _, _ in nested], drawn


def _parsed(json_text: str) -> str:
    """A JavaScript expression for JSON data: ``JSON.parse('…')``, which a browser reads about twice
    as fast as the same data written as a literal. ``json_text`` is :func:`script_json` output, so
    it holds no ``<`` and cannot close the script element."""
    return "JSON.parse('" + json_text.replace("\\", "\\\\").replace("'", "\\'") + "')"


def _anchors(geoms, kinds: list[str]):
    """Where a feature's label, small-shape ring and popup go: a line's middle, a point inside an
    area, a point itself."""
    import numpy as np
    import shapely

    anchors = shapely.point_on_surface(geoms)
    lines = np.array([k == "L" for k in kinds], dtype=bool)
    if lines.any():
        anchors[lines] = shapely.line_interpolate_point(geoms[lines], 0.5, normalized=True)
    return shapely.get_coordinates(anchors)


class Page:
    """A map being built: add layers, then :meth:`save`.

    >>> page = Page("界线联检图", basemap="none")
    >>> page.add("界桩", geoms, props, styles={"完好": point_style("#2e7d32")}, shape="point")
    >>> page.save("map.html")
    """

    def __init__(self, title: str, *, basemap: str | None = "none", tianditu_key: str | None = None):
        from diming.maps.basemap import tile_layers

        self.title = title
        self.tiles = tile_layers(basemap or "none", tianditu_key)
        self.layers: list[tuple[str, str]] = []  # (name, the JavaScript expression of its data)
        self.legend: list[dict] = []
        self.counts: dict[str, int] = {}
        self.bounds: list[tuple[float, float, float, float]] = []
        self.focus: list[tuple[float, float, float, float]] = []

    def add(self, name: str, geoms, props: list[dict], styles: dict[str, dict], *, shape: str,
            legend: list[dict] | None = None, labels: bool = False, focus: bool = False,
            small: bool = False) -> int:
        """Add a layer of features (shapely geometries) with properties ``{"k", "t", "p"}``
        (category, title, popup rows; ``"nolabel": 1`` keeps one feature's title off the map).

        ``styles`` maps each category ``k`` to a Leaflet path style, least important first: where
        points overlap on screen they are drawn as one cluster in the colour of the most important.
        ``legend`` defaults to one row per category in ``styles`` that occurs, with its count.
        ``labels`` writes titles on the map wherever they fit without overlapping (otherwise they
        show on hover). The map is fitted to the layers added with ``focus`` (to all when none is).
        ``small`` also draws areas and lines too small to see at the current zoom as a ring.
        ``shape`` (point, line, area) sets the coordinate grid. Empty layers are left out.
        """
        import numpy as np
        import shapely

        geoms = np.asarray(list(geoms), dtype=object)
        keep = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
        geoms = geoms[keep]
        props = [p for p, k in zip(props, keep) if k]
        self.counts[name] = len(props)
        if not len(props):
            return 0
        bounds = tuple(shapely.total_bounds(geoms))
        self.bounds.append(bounds)
        if focus:
            self.focus.append(bounds)
        scale = POINT_SCALE if shape == "point" else SHAPE_SCALE
        categories = list(styles)
        number = {k: n for n, k in enumerate(categories)}
        titles = [p["t"] for p in props]
        fields, columns = _popup_columns(props, titles, [p["k"] for p in props])
        spec = {"name": name, "n": len(props), "scale": scale, "styles": [styles[k] for k in categories],
                "cats": categories, "k": column([number[p["k"]] for p in props]),
                "t": column(titles), "fields": fields, "cols": columns}
        if labels:
            spec["labels"] = True
            spec["nolabel"] = [n for n, p in enumerate(props) if p.get("nolabel")]
        if small:
            spec["small"] = True
        geometry, kinds, drawn = _geometry_json(geoms, scale)
        parts = [script_json(spec)[:-1], ',"g":', geometry]
        if kinds is not None:
            anchors = _anchors(drawn, kinds)
            parts += [',"gt":', script_json(column(kinds)), ',"a":[', ",".join(_deltas(anchors, scale)), "]"]
        self.layers.append((name, _parsed("".join(parts) + "}")))
        if legend is None:
            used: dict[str, int] = {}
            for p in props:
                used[p["k"]] = used.get(p["k"], 0) + 1
            legend = [legend_entry(f"{name}·{k}" if len(styles) > 1 else name, styles[k], shape, used[k])
                      for k in styles if k in used]
        self.legend.extend(legend)
        return len(props)

    def save(self, output, *, note: str | None = None) -> dict:
        """Write the page to ``output`` (whole or not at all); returns ``{"output", "counts"}``."""
        import folium
        from branca.element import Element, Figure

        from diming.layers.exports import replacing
        from diming.maps.assets import inline_head

        output = Path(output)
        if output.is_dir():
            raise DimingError(f"{output}: 是文件夹 (a folder); --output 需要 .html 文件名")
        figure = Figure(title=html.escape(self.title))
        figure.header.add_child(Element(inline_head()), name="diming_assets")
        fmap = folium.Map(location=CHINA_CENTRE, zoom_start=4, tiles=None, prefer_canvas=True)
        # folium links Leaflet, jQuery, Bootstrap and Font Awesome from CDNs: none of it is used,
        # Leaflet itself is inlined above
        fmap.default_js = []
        fmap.default_css = []
        figure.add_child(fmap)
        for tile in self.tiles:
            tile.add_to(fmap)
        if not self.layers and note is None:
            note = "没有可显示的要素"
        frame = {"title": self.title, "date": f"生成日期 {dt.date.today().isoformat()}", "legend": self.legend}
        if note:
            frame["note"] = note
        fitted = self.focus or self.bounds
        if fitted:
            frame["bounds"] = [[min(b[1] for b in fitted), min(b[0] for b in fitted)],
                               [max(b[3] for b in fitted), max(b[2] for b in fitted)]]
        # the frame first: the layers are then drawn once, in the fitted view
        _frame_class()(script_json(frame)).add_to(fmap)
        layer_class = _feature_layer_class()
        for name, spec in self.layers:
            layer_class(name, spec).add_to(fmap)
        folium.LayerControl(collapsed=False).add_to(fmap)
        page = figure.render()
        with replacing(output) as partial:
            partial.write_text(page, encoding="utf-8")
        return {"output": output, "counts": dict(self.counts)}
