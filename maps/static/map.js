// diming map helpers. Project values arrive as JSON data and reach the page only through
// textContent, never as HTML, so a name that looks like markup shows as the text it is.
var diming = (function () {
  "use strict";

  function text(tag, value, className) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    node.textContent = value === null || value === undefined ? "" : String(value);
    return node;
  }

  // props: t = title, p = values in the order of the layer's fields (labels); "" = no value
  function popup(props, fields) {
    var box = document.createElement("div");
    box.className = "dm-popup";
    box.appendChild(text("div", props.t, "dm-popup-title"));
    var table = document.createElement("table");
    (props.p || []).forEach(function (value, i) {
      if (value === "") return;
      var tr = document.createElement("tr");
      tr.appendChild(text("th", fields[i]));
      tr.appendChild(text("td", value));
      table.appendChild(tr);
    });
    box.appendChild(table);
    return box;
  }

  // One GeoJSON layer drawn on the map's canvas: spec.styles maps a feature's category (k) to its
  // path style; points become circle markers, not one DOM icon each.
  function layer(spec) {
    return L.geoJSON(spec.data, {
      style: function (feature) { return spec.styles[feature.properties.k]; },
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, spec.styles[feature.properties.k]);
      },
      onEachFeature: function (feature, item) {
        var props = feature.properties;
        item.bindPopup(function () { return popup(props, spec.fields); }, {minWidth: 260, maxWidth: 400});
        if (spec.labels && !props.nolabel) {
          item.bindTooltip(function () { return text("span", props.t); }, {
            permanent: true, className: "dm-label",
            direction: spec.labels, offset: spec.labels === "right" ? [6, 0] : [0, 0]});
        } else {
          item.bindTooltip(function () { return text("span", props.t); }, {sticky: true});
        }
      }
    });
  }

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

  // The title with the date it was drawn, and the legend with one row per symbol.
  function frame(map, spec) {
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

  return {layer: layer, frame: frame};
})();
