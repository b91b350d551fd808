// diming map helpers. Project values arrive as JSON data and reach the page only through
// textContent, never as HTML, so a name that looks like markup shows as the text it is.
//
// A layer arrives in the compact form written by diming.maps.page: every per-feature value is a
// column (a plain array, or {d: distinct values, i: each feature's index into d, all 0 when i is
// absent}), coordinates are integers in 1/scale degree, each the difference from the position
// before it in the layer. Popups are built from the columns when a feature is clicked. Points
// (and, in layers with spec.small, areas and lines too small to see) are merged into one cluster
// symbol only where their symbols would overlap on screen at the current zoom; labels are placed
// at each zoom where they overlap no other label and no symbol.
var diming = (function () {
  "use strict";

  var MAX_ZOOM = 18;  // a cluster click zooms at most this far (tile servers stop here)
  var SMALL = 8;  // px: a shape smaller than this on screen is also drawn as a ring (spec.small)
  var LABEL_FONT = 'bold 12px "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif';
  var COUNT_FONT = 'bold 10px "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif';
  var LABEL_HEIGHT = 16;

  function text(tag, value, className) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    node.textContent = value === null || value === undefined ? "" : String(value);
    return node;
  }

  function value(column, i) {
    if (Array.isArray(column)) return column[i];
    return column.d[column.i ? column.i[i] : 0];
  }

  // Decode the points of flat onto lats and lngs (arrays), moving cursor ({x, y}, the last
  // position decoded) along; returns how many.
  function decodeInto(flat, scale, cursor, lats, lngs) {
    for (var j = 0; j < flat.length; j += 2) {
      cursor.x += flat[j];
      cursor.y += flat[j + 1];
      lats.push(cursor.y / scale);
      lngs.push(cursor.x / scale);
    }
    return flat.length / 2;
  }

  // One symbol's worth of the layer at some zoom: point n, or (ring) small shape i at its anchor;
  // x, y in pixels at that zoom.
  function Item(layer, i, n, k, x, y, ring) {
    this.layer = layer; this.i = i; this.n = n; this.k = k; this.x = x; this.y = y; this.ring = ring;
  }
  Object.defineProperty(Item.prototype, "at", {get: function () {
    return this.ring ? this.layer._anchors[this.i] : L.latLng(this.layer._lat[this.n], this.layer._lng[this.n]);
  }});

  // Lines and areas keep each ring as Web Mercator coordinates in [0, 1] (x, y, x, y … in a
  // Float64Array) instead of one LatLng per vertex: drawing at a zoom is then one multiplication
  // per vertex, and 100,000 vertices make no objects until drawn. The page's map is always Web
  // Mercator (folium's EPSG3857), where Leaflet's pixel at zoom z is 256 * 2^z times these.
  var MAX_LAT = L.Projection.SphericalMercator.MAX_LATITUDE;
  function rings(flats, scale, closed, cursor, bounds) {
    return flats.map(function (flat) {
      var count = flat.length / 2 - (closed ? 1 : 0), out = new Float64Array(2 * Math.max(count, 0));
      for (var j = 0; j < flat.length; j += 2) {
        cursor.x += flat[j];
        cursor.y += flat[j + 1];
        if (j / 2 >= count) continue;  // a ring's closing vertex repeats its first
        var lat = cursor.y / scale, lng = cursor.x / scale, sin = Math.sin(Math.max(-MAX_LAT, Math.min(MAX_LAT, lat)) * Math.PI / 180);
        out[j] = 0.5 + lng / 360;
        out[j + 1] = 0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI);
        bounds.extend([lat, lng]);
      }
      return out;
    });
  }

  var projected = {
    initialize: function (parts, bounds, options) {
      L.setOptions(this, options);
      this._dmRings = parts;
      this._bounds = bounds;
      this._latlngs = [];
    },
    isEmpty: function () { return !this._dmRings.length; },
    // Leaflet's own projection of each LatLng, from the stored coordinates (see rings)
    _projectLatlngs: function (latlngs, result, pxBounds) {
      var map = this._map, f = map.options.crs.scale(map.getZoom()), o = map.getPixelOrigin();
      this._dmRings.forEach(function (ring) {
        var points = new Array(ring.length / 2);
        for (var j = 0; j < ring.length; j += 2) {
          var p = points[j / 2] = new L.Point(Math.round(ring[j] * f) - o.x, Math.round(ring[j + 1] * f) - o.y);
          pxBounds.extend(p);
        }
        result.push(points);
      });
    }
  };
  var Line = L.Polyline.extend(projected);
  var Area = L.Polygon.extend(projected);

  var widths = {};
  var measurer = null;
  function measure(label, font) {
    var key = font + "\u0000" + label;
    if (!(key in widths)) {
      measurer = measurer || document.createElement("canvas").getContext("2d");
      measurer.font = font;
      widths[key] = Math.ceil(measurer.measureText(label).width) + 4;
    }
    return widths[key];
  }

  // Axis-aligned boxes [x0, y0, x1, y1] in screen pixels, hashed on a grid for the overlap test.
  function Boxes() { this.cells = {}; }
  Boxes.CELL = 64;
  Boxes.prototype.each = function (box, fn) {
    var c = Boxes.CELL;
    for (var gx = Math.floor(box[0] / c); gx <= Math.floor(box[2] / c); gx++) {
      for (var gy = Math.floor(box[1] / c); gy <= Math.floor(box[3] / c); gy++) {
        if (fn(gx + "," + gy) === false) return false;
      }
    }
    return true;
  };
  Boxes.prototype.free = function (box) {
    var cells = this.cells;
    return this.each(box, function (key) {
      var list = cells[key] || [];
      for (var j = 0; j < list.length; j++) {
        var o = list[j];
        if (box[0] < o[2] && o[0] < box[2] && box[1] < o[3] && o[1] < box[3]) return false;
      }
    });
  };
  Boxes.prototype.add = function (box) {
    var cells = this.cells;
    this.each(box, function (key) { (cells[key] = cells[key] || []).push(box); });
  };

  // The diming state of one map: its layers in drawing order and its labels.
  function state(map) {
    if (map._dm) return map._dm;
    var pane = map.createPane("dm-labels");
    var dm = map._dm = {layers: [], pane: pane, pending: false};
    dm.schedule = function () {
      if (dm.pending) return;
      dm.pending = true;
      L.Util.requestAnimFrame(function () { dm.pending = false; placeLabels(map); });
    };
    map.on("moveend", dm.schedule);
    map.on("zoomstart", function () { pane.style.display = "none"; });
    map.on("overlayadd", function () {
      // a layer switched back on would be drawn above the rest: restore the order it was made in
      dm.layers.forEach(function (layer) { if (map.hasLayer(layer)) layer.bringToFront(); });
      dm.schedule();
    });
    map.on("overlayremove", dm.schedule);
    return dm;
  }

  // Label every feature that fits, in this order, where its label overlaps no label and no symbol
  // placed before it: cluster counts (part of their symbol), boundary lines and roads, points,
  // areas.
  function placeLabels(map) {
    var dm = map._dm, size = map.getSize(), placed = new Boxes(), on = [];
    dm.layers.forEach(function (layer) { if (map.hasLayer(layer)) on.push(layer); });
    var labels = [];
    function inside(box) { return box[0] >= 0 && box[1] >= 0 && box[2] <= size.x && box[3] <= size.y; }
    function put(label, box, className) {
      if (!inside(box) || !placed.free(box)) return false;
      placed.add(box);
      labels.push([label, box, className]);
      return true;
    }
    var symbols = [];
    on.forEach(function (layer) { layer._symbols(map, symbols); });
    symbols.forEach(function (s) {
      if (s.count) {
        var w = measure(s.count, COUNT_FONT);
        put(s.count, [s.x - w / 2, s.y - 7, s.x + w / 2, s.y + 7], "dm-count");
      }
    });
    symbols.forEach(function (s) { placed.add([s.x - s.r, s.y - s.r, s.x + s.r, s.y + s.r]); });
    on.forEach(function (layer) { layer._shapeLabels(map, "L", put); });
    symbols.forEach(function (s) {
      if (s.title === undefined) return;
      var w = measure(s.title, LABEL_FONT), x = s.x + s.r + 2;
      put(s.title, [x, s.y - LABEL_HEIGHT / 2, x + w, s.y + LABEL_HEIGHT / 2], "dm-label");
    });
    on.forEach(function (layer) { layer._shapeLabels(map, "A", put); });

    var pane = dm.pane, fragment = document.createDocumentFragment();
    labels.forEach(function (l) {
      var node = text("span", l[0], l[2]);
      var at = map.containerPointToLayerPoint([l[1][0], l[1][1]]);
      node.style.left = at.x + "px";
      node.style.top = at.y + "px";
      node.style.width = (l[1][2] - l[1][0]) + "px";
      fragment.appendChild(node);
    });
    pane.textContent = "";
    pane.appendChild(fragment);
    pane.style.display = "";
  }

  function popupBox(title) {
    var box = document.createElement("div");
    box.className = "dm-popup";
    box.appendChild(text("div", title, "dm-popup-title"));
    return box;
  }

  var Layer = L.FeatureGroup.extend({
    initialize: function (spec) {
      L.FeatureGroup.prototype.initialize.call(this);
      var self = this, cursor = {x: 0, y: 0}, i;
      this.spec = spec;
      this.size = spec.n;
      var lats = [], lngs = [];
      this._of = [];  // the feature of each point (a multipoint has several)
      this._shapes = [];  // the lines and areas, each a Leaflet path with _dm = its feature
      this._nolabel = {};
      (spec.nolabel || []).forEach(function (j) { self._nolabel[j] = true; });
      if (!spec.gt) {
        decodeInto(spec.g, spec.scale, cursor, lats, lngs);
        for (i = 0; i < spec.n; i++) this._of.push(i);
      } else {
        for (i = 0; i < spec.n; i++) this._feature(i, value(spec.gt, i), spec.g[i], cursor, lats, lngs);
        var alat = [], alng = [];
        decodeInto(spec.a, spec.scale, {x: 0, y: 0}, alat, alng);
        this._anchors = alat.map(function (lat, j) { return L.latLng(lat, alng[j]); });
      }
      this._lat = new Float64Array(lats);
      this._lng = new Float64Array(lngs);
      this._u = null;  // the points in pixels at zoom 0, once on a map
      this._drawn = {};  // cluster number -> its symbol on the map
      this._zoom = null;
      this._tip = L.tooltip({direction: "top", offset: [0, -6]});
      this.on("click", this._click, this);
      this.on("mouseover", this._over, this);
      this.on("mouseout", function () { if (this._map) this._map.closeTooltip(this._tip); }, this);
    },

    _feature: function (i, type, g, cursor, lats, lngs) {
      var style = this._style(i), scale = this.spec.scale, bounds = L.latLngBounds([]), path;
      if (type === "P") {
        for (var n = decodeInto(g, scale, cursor, lats, lngs); n > 0; n--) this._of.push(i);
        return;
      }
      if (type === "L") {
        path = new Line(rings(g, scale, false, cursor, bounds), bounds, style);
      } else {
        var all = [];
        g.forEach(function (polygon) { all = all.concat(rings(polygon, scale, true, cursor, bounds)); });
        path = new Area(all, bounds, style);
      }
      path._dm = i;
      path._dmType = type;
      this._shapes.push(path);
      this.addLayer(path);
    },

    _style: function (i) { return this.spec.styles[value(this.spec.k, i)]; },

    onAdd: function (map) {
      var dm = state(map);
      if (dm.layers.indexOf(this) < 0) dm.layers.push(this);
      L.FeatureGroup.prototype.onAdd.call(this, map);
      map.on("moveend", this._update, this);
      this._update();
      dm.schedule();
    },

    onRemove: function (map) {
      map.off("moveend", this._update, this);
      this._clear();
      L.FeatureGroup.prototype.onRemove.call(this, map);
    },

    _clear: function () {
      for (var key in this._drawn) this.removeLayer(this._drawn[key]);
      this._drawn = {};
      this._clusters = null;
    },

    // What is drawn as a symbol at ``zoom``: every point, and every small shape as a ring at its
    // anchor, the most important (last style) first; each takes the others within one symbol's
    // width of it into its cluster, so no two symbols overlap.
    _cluster: function (zoom) {
      var map = this._map, spec = this.spec, self = this, items = [], n, count = this._lat.length;
      if (!this._u) {  // zoom-0 pixels, once: every other zoom is a multiple of them
        this._u = new Float64Array(count);
        this._v = new Float64Array(count);
        for (n = 0; n < count; n++) {
          var p0 = map.project(L.latLng(this._lat[n], this._lng[n]), 0);
          this._u[n] = p0.x;
          this._v[n] = p0.y;
        }
      }
      var f = map.options.crs.scale(zoom) / map.options.crs.scale(0);
      for (n = 0; n < count; n++) {
        var i = this._of[n];
        items.push(new Item(this, i, n, value(spec.k, i), this._u[n] * f, this._v[n] * f, false));
      }
      if (spec.small) {
        this._shapes.forEach(function (path) {
          var b = path.getBounds(), sw = map.project(b.getSouthWest(), zoom), ne = map.project(b.getNorthEast(), zoom);
          if (Math.max(ne.x - sw.x, sw.y - ne.y) < SMALL) {
            var at = map.project(self._anchors[path._dm], zoom);
            items.push(new Item(self, path._dm, -1, value(spec.k, path._dm), at.x, at.y, true));
          }
        });
      }
      var reach = 0;
      spec.styles.forEach(function (s) { reach = Math.max(reach, 2 * (s.radius || 7) + (s.weight || 0)); });
      var grid = new Map(), clusters = [], rows = 1 << 26;
      items.forEach(function (item, m) {
        var key = Math.floor(item.x / reach) * rows + Math.floor(item.y / reach), cell = grid.get(key);
        if (cell) cell.push(m); else grid.set(key, [m]);
      });
      var order = items.map(function (item, m) { return m; });
      order.sort(function (a, b) { return items[b].k - items[a].k || items[a].i - items[b].i; });
      var taken = new Uint8Array(items.length), reach2 = reach * reach;
      order.forEach(function (m) {
        if (taken[m]) return;
        var centre = items[m], members = [], gx = Math.floor(centre.x / reach), gy = Math.floor(centre.y / reach);
        for (var dx = -1; dx <= 1; dx++) {
          for (var dy = -1; dy <= 1; dy++) {
            var cell = grid.get((gx + dx) * rows + gy + dy);
            if (!cell) continue;
            for (var j = 0; j < cell.length; j++) {
              var o = items[cell[j]], ex = o.x - centre.x, ey = o.y - centre.y;
              if (!taken[cell[j]] && ex * ex + ey * ey < reach2) {
                taken[cell[j]] = 1;
                members.push(o);
              }
            }
          }
        }
        if (members.length > 1) members.sort(function (a, b) { return b.k - a.k || a.i - b.i; });
        clusters.push({x: centre.x, y: centre.y, rep: centre, members: members});
      });
      return clusters;
    },

    _symbol: function (cluster) {
      var base = this.spec.styles[cluster.rep.k], style = L.extend({}, base);
      style.radius = base.radius || 7;
      if (cluster.rep.ring) {
        style = {radius: 8, color: base.color, weight: 3, fillColor: base.fillColor || base.color, fillOpacity: 0.2};
      }
      if (cluster.members.length > 1) {
        style.radius = Math.min(style.radius + 3 + Math.log(cluster.members.length) / Math.LN2, 16);
        style.color = "#ffffff";
        style.weight = 2.5;
        style.fillColor = base.fillColor || base.color;
        style.fillOpacity = 0.95;
      }
      return style;
    },

    // Draw the symbols around the view (half a screen beyond it, so a pan shows them at once).
    _update: function () {
      var map = this._map;
      if (!map) return;
      var zoom = map.getZoom();
      if (this._zoom !== zoom || !this._clusters) {
        this._clear();
        this._zoom = zoom;
        this._clusters = this._cluster(zoom);
      }
      var view = map.getPixelBounds().pad(0.5), wanted = {}, key;
      var x0 = view.min.x, y0 = view.min.y, x1 = view.max.x, y1 = view.max.y;
      this._clusters.forEach(function (c, n) { if (c.x >= x0 && c.x <= x1 && c.y >= y0 && c.y <= y1) wanted[n] = c; });
      for (key in this._drawn) {
        if (!(key in wanted)) {
          this.removeLayer(this._drawn[key]);
          delete this._drawn[key];
        }
      }
      for (key in wanted) {
        if (key in this._drawn) continue;
        var symbol = L.circleMarker(wanted[key].rep.at, this._symbol(wanted[key]));
        symbol._dmCluster = wanted[key];
        this._drawn[key] = symbol;
        this.addLayer(symbol);
      }
    },

    // The drawn symbols in the view, for the labels: centre, radius, title (labelled layers), count.
    _symbols: function (map, out) {
      var size = map.getSize(), labelled = this.spec.labels;
      for (var key in this._drawn) {
        var symbol = this._drawn[key], c = symbol._dmCluster, p = map.latLngToContainerPoint(symbol.getLatLng());
        if (p.x < -20 || p.y < -20 || p.x > size.x + 20 || p.y > size.y + 20) continue;
        var s = {x: p.x, y: p.y, r: symbol.options.radius + symbol.options.weight / 2};
        if (c.members.length > 1) s.count = String(c.members.length);
        else if (labelled && !c.rep.ring && !this._nolabel[c.rep.i]) s.title = value(this.spec.t, c.rep.i);
        out.push(s);
      }
    },

    // Labels of lines ("L") or areas ("A") that fit: a line as long on screen as its label, an area
    // wider and taller than its label; centred on the anchor.
    _shapeLabels: function (map, type, put) {
      if (!this.spec.labels) return;
      var self = this, size = map.getSize(), origin = map.containerPointToLayerPoint([0, 0]);
      var x0 = origin.x, y0 = origin.y, x1 = origin.x + size.x, y1 = origin.y + size.y;
      this._shapes.forEach(function (path) {
        var b = path._pxBounds;  // in layer pixels, set by the renderer at each zoom
        if (path._dmType !== type || self._nolabel[path._dm] || !b) return;
        if (b.max.x < x0 || b.min.x > x1 || b.max.y < y0 || b.min.y > y1) return;
        var label = self.title(path._dm), wide = b.max.x - b.min.x, high = b.max.y - b.min.y;
        if (!label) return;
        // no text is narrower than 6 px a character: most shapes fail here, before measuring
        if (type === "L" ? Math.max(wide, high) < label.length * 6 : wide < label.length * 6 || high < 24) return;
        var w = measure(label, LABEL_FONT);
        if (type === "L" ? Math.max(wide, high) < w + 8 : wide < w * 1.1 || high < LABEL_HEIGHT * 1.5) return;
        var p = map.latLngToContainerPoint(self._anchors[path._dm]), h = LABEL_HEIGHT / 2;
        // beside the middle of a line, not over it: above or below one that runs across the
        // screen, left (where marker numbers are not) or right of one that runs down it, a little
        // along it where a marker is in the way; on it only where none of these is free
        var shifts = [], side;
        if (type === "L") {
          for (side = -1; side <= 1; side += 2) {
            [0, -1, 1].forEach(function (step) {
              shifts.push(wide >= high ? [step * w / 3, side * (h + 5)] : [side * (w / 2 + 8), step * (h + 4)]);
            });
          }
        }
        shifts.push([0, 0]);
        // an area's label may move up or down within a tall area, out of a line label's way
        if (type === "A" && high > 6 * LABEL_HEIGHT) shifts.push([0, -2 * h - 4], [0, 2 * h + 4]);
        for (var j = 0; j < shifts.length; j++) {
          var x = p.x + shifts[j][0], y = p.y + shifts[j][1];
          if (put(label, [x - w / 2, y - h, x + w / 2, y + h], "dm-label")) return;
        }
      });
    },

    // A popup value; a field that repeats the title ({f: "t"}) or the category ({f: "k"}), or
    // comes from the drawn position ({f: "lon"|"lat"}), is built here.
    _value: function (column, i) {
      if (column.f === "t") return this.title(i);
      if (column.f === "k") return this.spec.cats[value(this.spec.k, i)];
      if (column.f) {
        var at = this.position(i);
        return (column.f === "lon" ? at.lng : at.lat).toFixed(6);
      }
      return value(column, i);
    },

    position: function (i) {
      return this.spec.gt ? this._anchors[i] : L.latLng(this._lat[i], this._lng[i]);
    },

    title: function (i) { return value(this.spec.t, i); },

    // The popup of feature i: its title and one row per field with a value.
    content: function (i) {
      var box = popupBox(this.title(i)), table = document.createElement("table"), self = this;
      this.spec.fields.forEach(function (label, f) {
        var v = self._value(self.spec.cols[f], i);
        if (v === "" || v === undefined || v === null) return;
        var tr = document.createElement("tr");
        tr.appendChild(text("th", label));
        tr.appendChild(text("td", v));
        table.appendChild(tr);
      });
      box.appendChild(table);
      return box;
    },

    // Popups are made when opened: 20,000 markers keep none of their own.
    _show: function (latlng, content) {
      return L.popup({minWidth: 260, maxWidth: 400}).setLatLng(latlng).setContent(content).openOn(this._map);
    },

    open: function (i, latlng) {
      return this._show(latlng || this.position(i), this.content(i));
    },

    // A cluster's members, each a link to its own popup (where zooming cannot part them).
    _list: function (cluster) {
      var self = this, box = popupBox(this.spec.name + " " + cluster.members.length + " 个");
      cluster.members.forEach(function (m) {
        var row = text("div", self.title(m.i) || "(无名称)", "dm-popup-link");
        L.DomEvent.on(row, "click", function (e) {
          L.DomEvent.stop(e);
          self.open(m.i, m.at);
        });
        box.appendChild(row);
      });
      return this._show(cluster.rep.at, box);
    },

    _click: function (e) {
      var target = e.layer, c = target._dmCluster, map = this._map;
      if (!c) return this.open(target._dm, e.latlng);
      if (c.members.length === 1) return this.open(c.rep.i, c.rep.ring ? e.latlng : c.rep.at);
      var bounds = L.latLngBounds(c.members.map(function (m) { return m.at; }));
      var zoom = Math.min(map.getBoundsZoom(bounds, false, L.point(80, 80)), MAX_ZOOM);
      if (zoom > map.getZoom()) map.fitBounds(bounds, {padding: [40, 40], maxZoom: MAX_ZOOM});
      else this._list(c);
    },

    _clusterText: function (c) {
      var spec = this.spec, counts = {}, parts = [];
      c.members.forEach(function (m) { counts[m.k] = (counts[m.k] || 0) + 1; });
      for (var k = spec.styles.length - 1; k >= 0; k--) {
        if (counts[k]) parts.push(spec.cats[k] + " " + counts[k]);
      }
      return spec.name + " " + c.members.length + " 个 (" + parts.join(", ") + "), 点击放大";
    },

    _over: function (e) {
      var target = e.layer, c = target._dmCluster, label;
      if (c && c.members.length > 1) label = this._clusterText(c);
      else label = this.title(c ? c.rep.i : target._dm);
      this._tip.setLatLng(c ? target.getLatLng() : e.latlng).setContent(text("span", label));
      this._map.openTooltip(this._tip);
    }
  });

  function layer(spec) { return new Layer(spec); }

  function control(position, build) {
    var Box = L.Control.extend({
      options: {position: position},
      onAdd: function () {
        var div = L.DomUtil.create("div", "dm-box");
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        build(div);
        return div;
      }
    });
    return new Box();
  }

  function swatch(entry) {
    var mark = document.createElement("span");
    mark.className = "dm-swatch dm-" + (entry.shape === "line" || entry.shape === "area" ? entry.shape : "point");
    mark.style.borderColor = entry.color;
    if (entry.shape !== "line") mark.style.backgroundColor = entry.fill || entry.color;
    return mark;
  }

  // The view fitted to the data, the title with the date it was drawn, the legend with one row
  // per symbol, and Leaflet's credit without the flag Leaflet puts before it.
  function frame(map, spec) {
    state(map);
    if (spec.bounds) map.fitBounds(spec.bounds, {padding: [20, 20], maxZoom: 16, animate: false});
    if (map.attributionControl) map.attributionControl.setPrefix("Leaflet");
    L.control.scale({imperial: false}).addTo(map);
    control("topleft", function (div) {
      div.classList.add("dm-title");
      div.appendChild(text("div", spec.title, "dm-title-main"));
      div.appendChild(text("div", spec.date, "dm-title-date"));
      if (spec.note) div.appendChild(text("div", spec.note, "dm-title-note"));
    }).addTo(map);
    control("bottomright", function (div) {
      div.classList.add("dm-legend");
      div.appendChild(text("div", "图例", "dm-legend-title"));
      spec.legend.forEach(function (entry) {
        var row = document.createElement("div");
        row.className = "dm-legend-row";
        row.appendChild(swatch(entry));
        row.appendChild(text("span", entry.count === undefined ? entry.label
                                                                : entry.label + " (" + entry.count + ")"));
        div.appendChild(row);
      });
    }).addTo(map);
  }

  return {layer: layer, frame: frame, MAX_ZOOM: MAX_ZOOM};
})();
