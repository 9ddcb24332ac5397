"""The report page is inert and self-contained: user strings are escaped, nothing is fetched."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from faceaudit.report import write_report
from test_report_fixtures import full_results

PAYLOAD = '<script>alert("x")</script>'
ATTR_PAYLOAD = '" onmouseover="alert(1)" x="'
IMG_PAYLOAD = "<img src=https://evil.example/p.png>"


class Collector(HTMLParser):
    """All start tags with their attributes, and all text, as the browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> Collector:
    c = Collector()
    c.feed(page)
    c.close()
    return c


def hostile_results() -> dict:
    res = full_results()
    res["title"] = f"Audit {PAYLOAD}"
    res["inputs"][0]["path"] = f"/data/{PAYLOAD}.csv"
    res["inputs"][0]["sha256"] = ATTR_PAYLOAD
    res["warnings"] = [f"warn {PAYLOAD}", IMG_PAYLOAD]
    res["settings"]["show_identities"] = True
    res["settings"]["note"] = PAYLOAD
    res["acquisition"]["failures"][0]["image"] = f"{PAYLOAD}.jpg"
    res["acquisition"]["failures"][1]["reason"] = PAYLOAD
    res["model"]["id"] = PAYLOAD
    res["model"]["weights_sha256"] = ATTR_PAYLOAD
    res["verification"]["threshold_units"] = PAYLOAD
    res["identification"]["index"]["kind"] = PAYLOAD
    demo = res["demographics"]
    demo["attribute"] = PAYLOAD
    demo["threshold_source"] = PAYLOAD
    demo["groups"][0]["group"] = f"{PAYLOAD}$x$"  # '$' must not start mathtext in figures
    demo["groups"][0]["flags"] = [PAYLOAD]
    for c in demo["cross_fmr"]:
        if c["probe_group"] == "female":
            c["probe_group"] = f"{PAYLOAD}$x$"
    demo["summary"][PAYLOAD] = PAYLOAD
    demo["coverage"]["unknown_values"] = {PAYLOAD: 4}
    imp = res["impact"]
    imp["groups"][0]["group"] = PAYLOAD
    imp["groups"][1]["prevalence_basis"] = IMG_PAYLOAD
    imp["assumptions"].append(PAYLOAD)
    res["field_log"]["source"] = PAYLOAD
    res["settings"]["command_line"] = ["faceaudit", PAYLOAD, ATTR_PAYLOAD]
    return res


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    out = tmp_path_factory.mktemp("hostile")
    page = write_report(hostile_results(), out).read_text(encoding="utf-8")
    return out, page


def test_no_injected_markup(hostile):
    _, page = hostile
    tree = parse(page)
    tag_names = {t for t, _ in tree.tags}
    assert "script" not in tag_names
    assert "img" not in tag_names
    assert "<script" not in page.lower()
    # The payload survives as visible text (escaped, not dropped).
    text = "".join(tree.text)
    assert PAYLOAD in text
    assert IMG_PAYLOAD in text
    assert "&lt;script&gt;" in page


def test_no_event_handler_attributes(hostile):
    _, page = hostile
    for tag, attrs in parse(page).tags:
        assert not any(a.startswith("on") for a in attrs), (tag, attrs)
    # The attribute payload stays text, its quotes escaped.
    assert '" onmouseover="' not in page
    assert "&#34; onmouseover=&#34;alert(1)&#34; x=&#34;" in page


def test_payload_in_figures_is_text(hostile):
    out, page = hostile
    for name in ("group_rates", "cross_fmr"):
        svg = (out / "figures" / f"{name}.svg").read_text(encoding="utf-8")
        assert "<script" not in svg
        assert "&lt;script&gt;" in svg
    # '$x$' drawn literally (not as mathtext) where the label is not shortened.
    assert "$x$" in (out / "figures" / "group_rates.svg").read_text(encoding="utf-8")


def test_no_external_resources(hostile):
    _, page = hostile
    tree = parse(page)
    for tag, attrs in tree.tags:
        assert tag not in {"script", "link", "img", "iframe", "object", "embed", "base", "image"}
        assert "src" not in attrs and "srcset" not in attrs, (tag, attrs)
        for name, value in attrs.items():
            value = value or ""
            if name in {"href", "xlink:href"}:
                assert value.startswith("#"), (tag, name, value)
            assert "http:" not in value and "https:" not in value, (tag, name, value)
            assert "url(" not in value or "url(#" in value, (tag, name, value)
    # Outside text (user strings), no URL appears anywhere in the markup.
    # (Escaped text holds no '<', so removing everything between '>' and '<' leaves only tags.)
    markup_only = re.sub(r">[^<]*<", "><", page)
    assert "https://evil.example" in page  # the payload is there, as text
    assert "http://" not in markup_only and "https://" not in markup_only
    # CSS has no imports, fonts or remote urls.
    css = page.split("<style>", 1)[1].split("</style>", 1)[0]
    assert "@import" not in css and "@font-face" not in css and "url(" not in css


def test_markdown_keeps_every_payload_inert(hostile):
    out, _ = hostile
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "<script" not in md and "<img" not in md
    assert '&lt;script&gt;alert("x")&lt;/script&gt;' in md
    # No line of the Markdown starts a raw HTML block or a link to anywhere.
    assert not re.search(r"^\s*<", md, flags=re.M)
    assert "](http" not in md


def test_payload_in_the_impact_figure_is_text(hostile):
    out, _ = hostile
    svg = (out / "figures" / "ppv.svg").read_text(encoding="utf-8")
    assert "<script" not in svg and "&lt;script&gt;" in svg


def test_page_forbids_loading_anything(hostile):
    _, page = hostile
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_title_is_escaped_in_head(hostile):
    _, page = hostile
    head = page.split("</head>", 1)[0]
    assert "<title>[SYNTHETIC] Audit &lt;script&gt;" in head
