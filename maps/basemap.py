"""Basemaps (底图): none (offline, the areas are the context), OpenStreetMap, 天地图, or a tile URL.

天地图 serves CGCS2000 tiles; in Web Mercator they line up with WGS84 data to well under a metre,
so no offset is applied. The tiles of 高德 and 腾讯 (GCJ-02) and 百度 (BD-09) are deliberately
offset from it by hundreds of metres: the data would be drawn that far from the streets, so
``--basemap`` help and README warn against them.
"""
from __future__ import annotations

import os
import re

from diming.errors import DimingError

OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
TIANDITU = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
            "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
            "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}")
TIANDITU_ATTR = "天地图 (国家地理信息公共服务平台)"


def _tile(url: str, name: str, attr: str, *, overlay: bool = False, subdomains: str | None = None):
    import folium

    options = {"subdomains": subdomains} if subdomains else {}
    return folium.TileLayer(tiles=url, name=name, attr=attr, overlay=overlay, control=True, max_zoom=18,
                            **options)


def tile_layers(basemap: str, tianditu_key: str | None = None) -> list:
    """folium tile layers for ``basemap``: ``none``, ``osm``, ``tianditu`` or an XYZ URL template."""
    if basemap == "none":
        return []
    if basemap == "osm":
        return [_tile(OSM, "OpenStreetMap", "© OpenStreetMap contributors")]
    if basemap == "tianditu":
        key = tianditu_key or os.environ.get("TIANDITU_KEY")
        if not key:
            raise DimingError("天地图底图需要密钥: --tianditu-key KEY 或环境变量 TIANDITU_KEY")
        if not re.fullmatch(r"[0-9A-Za-z]+", key):
            raise DimingError("天地图密钥只能包含字母和数字 (invalid tianditu key)")

        def url(layer):
            return TIANDITU.format(layer=layer, key=key, s="{s}")

        return [
            _tile(url("vec"), "天地图矢量", TIANDITU_ATTR, subdomains="01234567"),
            _tile(url("img"), "天地图影像", TIANDITU_ATTR, subdomains="01234567"),
            _tile(url("cva"), "天地图注记", TIANDITU_ATTR, overlay=True, subdomains="01234567"),
        ]
    if re.match(r"https?://", basemap) and all(part in basemap for part in ("{z}", "{x}", "{y}")):
        return [_tile(basemap, "自定义底图", "自定义底图")]
    raise DimingError(f"底图 {basemap!r} 无效: 用 none, osm, tianditu 或含 {{z}} {{x}} {{y}} 的 http(s) 瓦片地址")
