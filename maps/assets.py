"""The scripts and styles a map needs, inlined so the HTML opens with no network.

Leaflet comes from the installed ``XStatic-Leaflet`` package (never committed here); its stylesheet's
images become data URIs. diming's own helpers (``static/map.js``, ``static/map.css``) sit beside
this module.
"""
from __future__ import annotations

import base64
import re
from functools import lru_cache
from pathlib import Path

STATIC = Path(__file__).with_name("static")


def _leaflet_dir() -> Path:
    import xstatic.pkg.leaflet

    return Path(xstatic.pkg.leaflet.BASE_DIR)


def _inline_images(css: str, base: Path) -> str:
    def data_uri(match):
        name = match.group(1)
        if not name.startswith("images/"):
            return match.group(0)  # url(#default#VML) is an IE behaviour, not a file
        encoded = base64.b64encode((base / name).read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{encoded})"

    return re.sub(r"url\(([^)]*)\)", data_uri, css)


def _strip_source_map(js: str) -> str:
    # a source-map comment makes developer tools fetch a file that is not there
    return re.sub(r"\n//# sourceMappingURL=\S+\s*$", "\n", js)


def _safe_for_tag(text: str, tag: str) -> str:
    if f"</{tag}" in text.lower():
        raise ValueError(f"inlined {tag} contains a closing </{tag}> tag")
    return text


@lru_cache(maxsize=1)
def inline_head() -> str:
    """The ``<style>`` and ``<script>`` elements for Leaflet and diming's map helpers."""
    leaflet = _leaflet_dir()
    css = _inline_images((leaflet / "leaflet.css").read_text(encoding="utf-8"), leaflet)
    css += "\n" + (STATIC / "map.css").read_text(encoding="utf-8")
    js = _strip_source_map((leaflet / "leaflet.js").read_text(encoding="utf-8"))
    js += "\n" + (STATIC / "map.js").read_text(encoding="utf-8")
    return (f"<style>\n{_safe_for_tag(css, 'style')}\n</style>\n"
            f"<script>\n{_safe_for_tag(js, 'script')}\n</script>\n")
