"""Open an HTML file in headless Chromium with the network blocked, through the DevTools protocol.

Chromium talks DevTools over a pipe (``--remote-debugging-pipe``: commands on fd 3, replies on fd
4, each a JSON message ended by NUL), so no WebSocket library is needed. :func:`open_page` records
every request the page makes, console errors, uncaught exceptions and JavaScript dialogs (an
``alert`` from injected markup would show up there).
"""
from __future__ import annotations

import base64
import json
import os
import select
import shutil
import struct
import subprocess
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
    "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
    # nothing resolves, so even a request that slipped past the block below could not leave
    "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9",
    "--window-size=1200,800", "--disable-dev-shm-usage",
]


@dataclass
class Page:
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    load_seconds: float = 0.0
    cpu_seconds: float = 0.0  # the page's main-thread CPU time until drawn (open_page(cpu=True))
    _browser: "Browser | None" = None

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (promises awaited)."""
        return self._browser.evaluate(expression)

    def screenshot(self) -> bytes:
        """A PNG of the viewport."""
        reply = self._browser.call("Page.captureScreenshot", {"format": "png"}, session=True)
        return base64.b64decode(reply["data"])


class Browser:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="diming-chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def fds():
            # copy first: either pipe end may itself be fd 3 or 4
            reader, writer = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(reader, 3)
            os.dup2(writer, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-pipe", "about:blank"],
            pass_fds=(3, 4), preexec_fn=fds,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []
        self.session = None

    def _send(self, message: dict) -> None:
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")

    def _read(self, timeout: float) -> dict | None:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._from_chrome], [], [], timeout)
            if not ready:
                return None
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        message = json.loads(message)
        if message.get("method") == "Page.javascriptDialogOpening":
            # an open alert() blocks the page: dismiss it at once, it is recorded as an event
            self._next_id += 1
            self._send({"id": self._next_id, "method": "Page.handleJavaScriptDialog",
                        "params": {"accept": True}, "sessionId": message.get("sessionId")})
        return message

    def call(self, method: str, params: dict | None = None, *, session: bool = False, timeout: float = 60):
        self._next_id += 1
        wanted = self._next_id
        message = {"id": wanted, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        self._send(message)
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(max(0.0, deadline - time.monotonic()))
            if reply is None:
                raise TimeoutError(method)
            if reply.get("id") == wanted:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        for i, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(i)
        while True:
            event = self._read(max(0.0, deadline - time.monotonic()))
            if event is None:
                raise TimeoutError(method)
            if event.get("method") == method:
                return event
            self.events.append(event)

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (event := self._read(max(0.0, deadline - time.monotonic()))) is not None:
            self.events.append(event)

    def evaluate(self, expression: str):
        reply = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                               "returnByValue": True}, session=True)
        if "exceptionDetails" in reply:
            raise RuntimeError(reply["exceptionDetails"])
        return reply["result"].get("value")

    def close(self) -> None:
        try:
            self._send({"id": 0, "method": "Browser.close"})
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)
        shutil.rmtree(self.profile, ignore_errors=True)


def open_page(browser: Browser, path, *, settle: float = 0.5, cpu: bool = False) -> Page:
    """Load file ``path`` in a new tab with every http(s)/ws request blocked and recorded; ``cpu``
    also measures the main thread's CPU time (unlike the wall time, not inflated by other work on
    the machine)."""
    target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    browser.session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for method in ("Page.enable", "Runtime.enable", "Log.enable", "Network.enable"):
        browser.call(method, session=True)
    browser.call("Network.setBlockedURLs", {"urls": ["http://*", "https://*", "ws://*", "wss://*", "ftp://*"]},
                 session=True)
    browser.call("Emulation.setDeviceMetricsOverride",
                 {"width": 1200, "height": 800, "deviceScaleFactor": 1, "mobile": False}, session=True)
    if cpu:
        browser.call("Performance.enable", {"timeDomain": "threadTicks"}, session=True)
    started = time.monotonic()
    url = Path(path).resolve().as_uri()
    browser.call("Page.navigate", {"url": url}, session=True)
    browser.wait_for("Page.loadEventFired", timeout=120)
    # the canvas renderer draws on the next animation frames
    browser.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    load_seconds = time.monotonic() - started
    page = Page(load_seconds=load_seconds, _browser=browser)
    if cpu:
        metrics = browser.call("Performance.getMetrics", session=True)["metrics"]
        page.cpu_seconds = next(m["value"] for m in metrics if m["name"] == "TaskDuration")
    browser.drain(settle)
    _collect(browser, page, url)
    return page


def _collect(browser: Browser, page: Page, url: str) -> None:
    for event in browser.events:
        if event.get("sessionId") not in (None, browser.session):
            continue  # an earlier tab
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            request_url = params["request"]["url"]
            if request_url != url and not request_url.startswith("data:"):
                page.requests.append(request_url)
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            page.errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            page.errors.append(details.get("exception", {}).get("description") or details.get("text", ""))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            page.errors.append(params["entry"].get("text", ""))
        elif method == "Page.javascriptDialogOpening":
            page.dialogs.append(params.get("message", ""))
    browser.events.clear()


# What the map drew: the Leaflet map, each overlay's feature count by its name in the layer
# control, how many features are on screen (shapes, and the points each drawn symbol stands for),
# the labels, the legend rows and the title.
SUMMARY_JS = """(() => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  // folium declares the layer control with let: reach it by its name in the page's script
  const name = [...document.scripts].map(s => s.text.match(/let (layer_control_\\w+) = L\\.control\\.layers/))
                                    .find(Boolean)[1];
  const control = eval(name);
  const layers = {};
  control._layers.forEach(o => { if (o.overlay) layers[o.name] = o.layer.size; });
  let drawn = 0, symbols = 0, clusters = 0;
  (map._dm ? map._dm.layers : []).forEach(layer => {
    if (!map.hasLayer(layer)) return;
    layer._shapes.forEach(p => { if (p._renderer) drawn += 1; });
    Object.values(layer._drawn).forEach(s => {
      symbols += 1;
      if (s._dmCluster.members.length > 1) clusters += 1;
      s._dmCluster.members.forEach(m => { if (!m.ring) drawn += 1; });
    });
  });
  const attribution = document.querySelector('.leaflet-control-attribution');
  return {container: !!document.querySelector('.leaflet-container'), drawn: drawn, symbols: symbols,
          clusters: clusters, layers: layers, zoom: map.getZoom(),
          labels: [...document.querySelectorAll('.leaflet-dm-labels-pane span')].map(e => e.textContent),
          legend: [...document.querySelectorAll('.dm-legend-row')].map(e => e.textContent),
          title: document.querySelector('.dm-title-main').textContent,
          date: document.querySelector('.dm-title-date').textContent,
          scale: !!document.querySelector('.leaflet-control-scale'),
          attribution: attribution ? attribution.innerHTML : null,
          control: document.querySelector('.leaflet-control-layers').textContent};
})()"""

# Open every feature's popup (built from the layer's columns) and the hover tooltip of every shape
# and drawn symbol, through the layers' own event handlers; the text they showed and how many
# elements other than diming's own markup they held (an injected <img> would be one).
OPEN_ALL_JS = """(() => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  const texts = []; let foreign = 0;
  const own = new Set(['DIV', 'TABLE', 'TBODY', 'TR', 'TH', 'TD', 'SPAN', 'A']);
  const take = el => {
    texts.push(el.textContent);
    el.querySelectorAll('*').forEach(e => { if (!own.has(e.tagName)) foreign += 1; });
  };
  map._dm.layers.forEach(layer => {
    for (let i = 0; i < layer.size; i++) {
      take(layer.open(i).getElement());
      map.closePopup();
    }
    const targets = layer._shapes.concat(Object.values(layer._drawn));
    targets.forEach(t => {
      t.fire('mouseover', {latlng: t.getLatLng ? t.getLatLng() : t.getBounds().getCenter()}, true);
      take(layer._tip.getElement());
      t.fire('mouseout', {}, true);
    });
  });
  return {texts: texts, foreign: foreign};
})()"""


def click(page: Page, x: float, y: float) -> None:
    """A real left click (mouse pressed and released) at viewport pixel (x, y)."""
    for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
        page._browser.call("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left",
                                                        "clickCount": 0 if kind == "mouseMoved" else 1},
                           session=True)


def collect(page: Page) -> None:
    """Take in what happened since the page was opened (after clicking or opening popups)."""
    page._browser.drain(0.3)
    _collect(page._browser, page, "")


def png_pixels(png: bytes) -> tuple[int, int, list[list[tuple]]]:
    """Width, height and the RGB pixels (rows of tuples) of an 8-bit, non-interlaced PNG as Chromium
    writes it."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        data = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", data)
            assert depth == 8 and colour in (2, 6) and interlace == 0
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - bpp] if x >= bpp else 0
            up = previous[x]
            up_left = previous[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + left) & 255
            elif kind == 2:
                line[x] = (line[x] + up) & 255
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else up_left)) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, [[tuple(row[i:i + 3]) for i in range(0, stride, bpp)] for row in rows]
