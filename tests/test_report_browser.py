"""report.html in a real browser: headless Chromium driven over the DevTools protocol.

Checks what only a browser can: no console error, no network request of any kind, a group named
``<script>alert(1)</script>`` shown as text and run as nothing, no sideways scrolling at a
390-px-wide phone viewport, and printing to PDF (A4 and Letter) with every figure whole. A
full-page screenshot (desktop and phone) is saved in the test's tmp folder (and copied to
``$FACEAUDIT_SCREENSHOTS`` when that is set) for a person to look at.

Chromium comes from Debian (``apt-get install chromium``; ``.ci/run`` installs it); the tests
skip, saying why, when none is installed. The DevTools client is a few lines of standard library
(a websocket over a local socket to the browser this test started): no new dependency.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest

from faceaudit.report import write_report
from test_report_fixtures import full_results

XSS = "<script>alert(1)</script>"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)


def chromium_path() -> str | None:
    for name in (os.environ.get("FACEAUDIT_CHROMIUM"), "chromium", "chromium-browser",
                 "google-chrome"):  # fmt: skip
        if name and shutil.which(name):
            return shutil.which(name)
    return None


# ---------------------------------------------------------------------------------------------
# A minimal DevTools client: one websocket to the browser, flat sessions per page


class WebSocket:
    """Just enough of RFC 6455 for the DevTools protocol (text frames, client-masked)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        m = re.fullmatch(r"ws://([^:/]+):(\d+)(/.*)", url)
        assert m, url
        self.sock = socket.create_connection((m.group(1), int(m.group(2))), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (f"GET {m.group(3)} HTTP/1.1\r\nHost: {m.group(1)}:{m.group(2)}\r\n"
             "Upgrade: websocket\r\nConnection: Upgrade\r\n"
             f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
        )  # fmt: skip
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            assert chunk, "the browser closed the websocket during the handshake"
            head += chunk
        status, self.buf = head.split(b"\r\n\r\n", 1)
        assert b" 101 " in status.split(b"\r\n", 1)[0], status

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("the browser closed the websocket")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, text: str) -> None:
        data = text.encode()
        n = len(data)
        head = bytes([0x81])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 1 << 16:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def recv(self) -> str:
        parts = []
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)
            opcode = b0 & 0x0F
            if opcode == 0x8:
                raise ConnectionError("the browser closed the websocket")
            if opcode in (0x9, 0xA):  # ping / pong: the browser does not ping; ignore
                continue
            parts.append(payload)
            if b0 & 0x80:
                return b"".join(parts).decode()

    def close(self) -> None:
        self.sock.close()


class Browser:
    """Headless Chromium with a fresh profile, and DevTools calls on one page target."""

    def __init__(self, exe: str, profile: Path) -> None:
        self.proc = subprocess.Popen(
            [exe, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.is_file() and port_file.read_text().count("\n") >= 1):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.proc.kill()
                pytest.skip(f"{exe} did not start a DevTools endpoint (exit {self.proc.poll()})")
            time.sleep(0.05)
        port, path = port_file.read_text().split("\n")[:2]
        self.ws = WebSocket(f"ws://127.0.0.1:{port}{path}")
        self.next_id = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]

    def call(self, method: str, *, page: bool = False, timeout: float = 60, **params) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if page:
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)
        raise TimeoutError(method)

    def page(self, method: str, **params) -> dict:
        return self.call(method, page=True, **params)

    def wait_for(self, method: str, timeout: float = 60) -> dict:
        for e in self.events:
            if e["method"] == method:
                return e
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            e = json.loads(self.ws.recv())
            if "method" in e:
                self.events.append(e)
                if e["method"] == method:
                    return e
        raise TimeoutError(method)

    def js(self, expression: str):
        r = self.page("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in r, r
        return r["result"].get("value")

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=10)
        except (OSError, ConnectionError, RuntimeError, TimeoutError):
            pass
        self.ws.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# ---------------------------------------------------------------------------------------------
# The page under test


def hostile_results() -> dict:
    res = full_results()
    res["demographics"]["groups"][0]["group"] = XSS
    for c in res["demographics"]["cross_fmr"]:
        if c["probe_group"] == "female":
            c["probe_group"] = XSS
    res["impact"]["groups"][0]["group"] = XSS
    res["title"] = f"Audit {XSS}"
    return res


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    exe = chromium_path()
    if exe is None:
        pytest.skip("no Chromium installed (apt-get install chromium; .ci/run installs it)")
    out = tmp_path_factory.mktemp("browser")
    report = write_report(hostile_results(), out / "report")
    browser = Browser(exe, out / "profile")
    try:
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.page(f"{domain}.enable")
        browser.page(
            "Emulation.setDeviceMetricsOverride", width=1100, height=900, deviceScaleFactor=1,
            mobile=False,
        )  # fmt: skip
        url = report.resolve().as_uri()
        browser.page("Page.navigate", url=url)
        browser.wait_for("Page.loadEventFired")
        time.sleep(0.3)  # let late console messages or requests arrive
        browser.js("1")  # drain events up to now
        yield browser, url, out
    finally:
        browser.close()


def _events(browser: Browser, method: str) -> list[dict]:
    return [e["params"] for e in browser.events if e["method"] == method]


def test_no_console_error_and_no_exception(loaded):
    browser, _, _ = loaded
    errors = [e for e in _events(browser, "Log.entryAdded") if e["entry"]["level"] == "error"]
    errors += [e for e in _events(browser, "Runtime.consoleAPICalled") if e["type"] == "error"]
    errors += _events(browser, "Runtime.exceptionThrown")
    assert errors == []


def test_no_network_request_of_any_kind(loaded):
    browser, url, _ = loaded
    urls = [e["request"]["url"] for e in _events(browser, "Network.requestWillBeSent")]
    assert urls == [url]  # the page itself, from disk; nothing else
    assert browser.js("performance.getEntriesByType('resource').length") == 0


def test_a_script_in_a_group_name_is_text_and_runs_nothing(loaded):
    browser, _, _ = loaded
    assert _events(browser, "Page.javascriptDialogOpening") == []
    assert browser.js("document.scripts.length") == 0
    assert browser.js("document.querySelectorAll('[onload],[onerror],[onclick]').length") == 0
    text = browser.js("document.body.innerText")
    assert text.count(XSS) >= 3  # title, demographics table, impact groups
    # In the figures too: drawn as literal SVG text.
    svg_text = browser.js("[...document.querySelectorAll('svg text')].map(t => t.textContent)"
                          ".join('|')")  # fmt: skip
    assert "<script>" in svg_text


def _screenshot(browser: Browser, path: Path) -> None:
    size = browser.page("Page.getLayoutMetrics")["cssContentSize"]
    shot = browser.page(
        "Page.captureScreenshot", format="png", captureBeyondViewport=True,
        clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
    )  # fmt: skip
    path.write_bytes(base64.b64decode(shot["data"]))
    keep = os.environ.get("FACEAUDIT_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)


def test_full_page_screenshot_desktop(loaded):
    browser, _, out = loaded
    path = out / "report-desktop.png"
    _screenshot(browser, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot: {path}")


def test_no_sideways_scrolling_on_a_phone(loaded):
    browser, _, out = loaded
    browser.page(
        "Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=1,
        mobile=True,
    )  # fmt: skip
    try:
        time.sleep(0.2)
        width = browser.js("document.documentElement.clientWidth")
        assert width == 390
        assert browser.js("document.documentElement.scrollWidth") <= width
        # Nothing but the table scrollers is wider than the page.
        wide = browser.js(
            "[...document.body.querySelectorAll('p, li, h1, h2, h3, figure, .scroll, dl')]"
            ".filter(e => e.getBoundingClientRect().right > innerWidth + 1).length"
        )
        assert wide == 0
        _screenshot(browser, out / "report-phone.png")
    finally:
        browser.page(
            "Emulation.setDeviceMetricsOverride", width=1100, height=900, deviceScaleFactor=1,
            mobile=False,
        )  # fmt: skip


# A4 and Letter in inches, and the page's @page margins (16 mm top, 18 mm bottom, 14 mm sides).
PAPERS = {"A4": (8.27, 11.69), "Letter": (8.5, 11.0)}


@pytest.mark.parametrize("paper", sorted(PAPERS))
def test_prints_to_pdf_with_every_figure_whole(loaded, paper):
    browser, _, out = loaded
    w_in, h_in = PAPERS[paper]
    # The print layout at this paper's printable width: every figure and table row must fit a
    # page and must not be split (break-inside: avoid).
    content_w = (w_in * 25.4 - 28) / 25.4 * 96
    content_h = (h_in * 25.4 - 34) / 25.4 * 96
    browser.page("Emulation.setEmulatedMedia", media="print")
    browser.page(
        "Emulation.setDeviceMetricsOverride", width=round(content_w), height=round(content_h),
        deviceScaleFactor=1, mobile=False,
    )  # fmt: skip
    try:
        figs = browser.js(
            "[...document.querySelectorAll('figure')].map(f => { const r = "
            "f.getBoundingClientRect(); const s = getComputedStyle(f); return {h: r.height, "
            "w: r.width, avoid: s.breakInside}; })"
        )
        assert len(figs) == 12  # every figure of full_results (compare_det included)
        for f in figs:
            assert f["avoid"] == "avoid"
            assert f["h"] < content_h and f["w"] <= content_w + 1, f
        assert browser.js("document.documentElement.scrollWidth") <= round(content_w) + 1
        assert browser.js("getComputedStyle(document.querySelector('tr')).breakInside") == "avoid"
        pdf = base64.b64decode(
            browser.page(
                "Page.printToPDF", paperWidth=w_in, paperHeight=h_in, preferCSSPageSize=False,
                printBackground=True, marginTop=0, marginBottom=0, marginLeft=0, marginRight=0,
            )["data"]
        )  # fmt: skip
    finally:
        browser.page("Emulation.setEmulatedMedia", media="")
        browser.page(
            "Emulation.setDeviceMetricsOverride", width=1100, height=900, deviceScaleFactor=1,
            mobile=False,
        )  # fmt: skip
    assert pdf[:5] == b"%PDF-"
    pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))
    assert pages >= 3
    (out / f"report-{paper}.pdf").write_bytes(pdf)
    keep = os.environ.get("FACEAUDIT_SCREENSHOTS")
    if keep:
        shutil.copy(out / f"report-{paper}.pdf", Path(keep) / f"report-{paper}.pdf")
