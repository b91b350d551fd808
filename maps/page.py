"""One map page: a folium map with canvas GeoJSON layers, a title, a legend, a scale bar and a
layer control, written as a single self-contained HTML file.

Project values never reach the page as HTML: each feature carries a title ``t`` and popup rows
``p`` as JSON data (labels once per layer) (``<``, ``>`` and ``&`` escaped so nothing can close the script element), and
``static/map.js`` puts them on the page with ``textContent``. folium's own tooltips and GeoJSON
popups insert HTML and are not used.
"""
from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

from diming.errors import DimingError

# Coordinates are rounded to 1e-6° (about 0.1 m) for points and 1e-5° (about 1 m) for lines and
# areas: finer than a screen can show, and it roughly halves the file.
POINT_GRID = 1e-6
SHAPE_GRID = 1e-5
# Features labelled on the map itself (not only on hover) when a layer has at most this many.
LABEL_LIMIT = 60
CHINA_CENTRE = (35.0, 105.0)


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
    """Popup rows ``[label, value]``, leaving out empty values."""
    return [[label, text(value)] for label, value in pairs if text(value) != ""]


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


def _shared_labels(props: list[dict]) -> tuple[list[str], list[dict]]:
    """Popup labels once per layer, and each feature's rows as values in the labels' order: with
    20,000 markers, repeating the labels would make a third of the file."""
    fields: dict[str, int] = {}
    for p in props:
        for label, _ in p["p"]:
            fields.setdefault(label, len(fields))
    out = []
    for p in props:
        values = [""] * len(fields)
        for label, value in p["p"]:
            values[fields[label]] = value
        while values and values[-1] == "":
            values.pop()
        out.append({**p, "p": values})
    return list(fields), out


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
        self.layers: list[tuple[str, str]] = []  # (name, spec JSON)
        self.legend: list[dict] = []
        self.counts: dict[str, int] = {}
        self.bounds: list[tuple[float, float, float, float]] = []

    def add(self, name: str, geoms, props: list[dict], styles: dict[str, dict], *, shape: str,
            legend: list[dict] | None = None, labels: bool = False) -> int:
        """Add a layer of features (shapely geometries) with properties ``{"k", "t", "p"}``
        (category, title, popup rows; ``"nolabel": 1`` keeps one feature's title off the map).

        ``styles`` maps each category ``k`` to a Leaflet path style. ``legend`` defaults to one
        row per category in ``styles`` that occurs, with its count. ``labels`` writes each title on
        the map (areas and lines at their centre, points to their right) when the layer has at most
        ``LABEL_LIMIT`` features; otherwise titles show on hover. Empty layers are left out.
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
        fields, props = _shared_labels(props)
        grid = POINT_GRID if shape == "point" else SHAPE_GRID
        rounded = shapely.set_precision(geoms, grid)
        self.bounds.append(tuple(shapely.total_bounds(rounded)))
        features = ",".join(
            '{"type":"Feature","geometry":' + g + ',"properties":' + script_json(p) + "}"
            for g, p in zip(shapely.to_geojson(rounded), props))
        label = ("right" if shape == "point" else "center") if labels and len(props) <= LABEL_LIMIT else False
        spec = ('{"data":{"type":"FeatureCollection","features":[' + features + ']},"styles":'
                + script_json(styles) + ',"fields":' + script_json(fields) + ',"labels":' + json.dumps(label) + "}")
        self.layers.append((name, spec))
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
        layer_class = _feature_layer_class()
        for name, spec in self.layers:
            layer_class(name, spec).add_to(fmap)
        if not self.layers and note is None:
            note = "没有可显示的要素"
        frame = {"title": self.title, "date": f"生成日期 {dt.date.today().isoformat()}", "legend": self.legend}
        if note:
            frame["note"] = note
        _frame_class()(script_json(frame)).add_to(fmap)
        folium.LayerControl(collapsed=False).add_to(fmap)
        if self.bounds:
            west = min(b[0] for b in self.bounds)
            south = min(b[1] for b in self.bounds)
            east = max(b[2] for b in self.bounds)
            north = max(b[3] for b in self.bounds)
            fmap.fit_bounds([[south, west], [north, east]], padding=(20, 20), max_zoom=16)
        page = figure.render()
        with replacing(output) as partial:
            partial.write_text(page, encoding="utf-8")
        return {"output": output, "counts": dict(self.counts)}
