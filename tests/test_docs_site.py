"""The documentation site: it builds with `mkdocs build --strict` (broken links and bad
docstrings fail), and, rendered by headless Chromium, its code is highlighted and the
API reference lists the models' fields.

The site is built once for the module and served from 127.0.0.1, as `mkdocs serve` would.
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from tests.support.chromium import dump_dom, with_script

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs") / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    """The built site over HTTP on a free loopback port, stopped after the module."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if p.name != "404.html")


def text_of(page: Path) -> str:
    """The page's visible text (tags and scripts dropped), entities decoded."""
    raw = page.read_text(encoding="utf-8")
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


def test_mkdocs_build_strict_generates_the_reference_from_docstrings(site):
    page = (site / "reference" / "mock" / "index.html").read_text()
    assert "MockResponse" in page and "weight" in page


def test_sitemap_lists_every_page_under_the_site_url(site):
    site_url = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["site_url"]
    sitemap = (site / "sitemap.xml").read_text()
    urls = re.findall(r"<loc>(.*?)</loc>", sitemap)
    assert f"{site_url}getting-started/" in urls and f"{site_url}reference/models/" in urls
    assert len(urls) == len(pages(site))


def test_pages_load_nothing_from_other_hosts(site):
    """Offline it looks the same: no script, stylesheet or font from a CDN."""
    external = re.compile(r"""<(?:script|link|img)\b(?![^>]*rel="canonical")[^>]*(?:src|href)=["'](?:https?:)?//""")
    offenders = [str(p.relative_to(site)) for p in pages(site) if external.search(p.read_text(encoding="utf-8"))]
    assert not offenders


def test_no_raw_rest_markup_on_any_page(site):
    rest = re.compile(r":(?:class|func|meth|attr|mod|data|exc):`|``\w")
    offenders = {str(p.relative_to(site)): rest.findall(text_of(p))[:3] for p in pages(site) if rest.search(text_of(p))}
    assert not offenders


def test_docstring_examples_render_as_code_not_blockquotes(site):
    page = (site / "reference" / "models" / "index.html").read_text(encoding="utf-8")
    assert "&gt;&gt;&gt;" not in re.sub(r'<div class="language-pycon highlight">.*?</div>', "", page, flags=re.S)
    assert re.search(r'<div class="language-pycon highlight">.*?VideoGenerationConfig', page, re.S)
    assert "<blockquote>" not in page


# Runs in the page: for every Pygments token span of every code block, its computed colour
# and the colour of the block's plain text, written into the DOM for --dump-dom to show.
MEASURE = """
const rows = [];
for (const code of document.querySelectorAll('.highlight code')) {
  const plain = getComputedStyle(code).color;
  for (const span of code.querySelectorAll('span[class]')) {
    rows.push([span.className, getComputedStyle(span).color, plain]);
  }
}
document.body.setAttribute('data-measured', JSON.stringify(rows));
"""


def measured(dom: str) -> list[list[str]]:
    found = re.search(r'data-measured="([^"]*)"', dom)
    assert found, "the measuring script did not run"
    return json.loads(html.unescape(found.group(1)))


def test_code_is_highlighted_in_chromium(site, served):
    page = with_script(site / "getting-started" / "index.html", MEASURE)
    dom = dump_dom(f"{served}/getting-started/{page.name}")
    rows = measured(dom)
    keywords = [colour for cls, colour, plain in rows if cls.split()[0] in ("k", "kn", "kd") and colour != plain]
    strings = [colour for cls, colour, plain in rows if cls.split()[0].startswith("s") and colour != plain]
    assert keywords and strings, rows[:20]
    assert len({colour for _, colour, _ in rows}) >= 3  # more than one colour for tokens
    assert 'data-md-type="copy"' in dom  # the theme's script ran and gave code blocks copy buttons
    assert "md-search__input" in dom


OVERFLOW = """
const wide = [];
for (const h of document.querySelectorAll('.md-content h1, .md-content h2, .md-content h3, .md-content h4')) {
  if (h.scrollWidth > h.clientWidth + 1) wide.push(h.textContent.trim().slice(0, 80));
}
document.body.setAttribute('data-measured', JSON.stringify(wide.length ? wide : [['measured', String(document.querySelectorAll('.md-content h2').length)]]));
"""


@pytest.mark.parametrize("page", ["record-replay", "reference/cassettes"])
def test_long_headings_wrap_on_a_phone_sized_window(site, served, page):
    measuring = with_script(site / page / "index.html", OVERFLOW)
    rows = measured(dump_dom(f"{served}/{page}/{measuring.name}", width=360, height=800))
    assert rows[0][0] == "measured" and int(rows[0][1]) > 3, f"headings wider than the page: {rows}"


def field_rows(dom: str, model: str) -> dict[str, list[str]]:
    """The rows of `model`'s field table in the rendered DOM: field name -> cells as text."""
    start = dom.index(f'id="tarash.tarash_gateway.{model}"') if f'id="tarash.tarash_gateway.{model}"' in dom else None
    assert start is not None, f"{model} has no heading"
    table = re.search(r'<div class="tarash-fields".*?</table>', dom[start:], re.S)
    assert table, f"{model} has no field table"
    rows = {}
    for row in re.findall(r"<tr\b.*?</tr>", table.group(0), re.S):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td\b.*?</td>", row, re.S)]
        if cells:
            rows[cells[0]] = cells
    return rows


@pytest.fixture(scope="module")
def rendered(served: str):
    """`rendered(page)`: the DOM of one API reference page, rendered once for the module."""
    return functools.cache(lambda page: dump_dom(f"{served}/reference/{page}/", budget_ms=1000))


@pytest.mark.parametrize(
    "page, model, field, default, words",
    [
        ("models", "models.VideoGenerationConfig", "timeout", "600", "overall deadline"),
        ("models", "models.VideoGenerationConfig", "provider", "required", "Which provider"),
        ("models", "models.VideoGenerationRequest", "duration_seconds", "None", "Length of the video"),
        ("models", "responses.VideoGenerationResponse", "origin", "None", "Where the video came from"),
        ("mock", "mock.config.MockConfig", "order", "'weighted'", "sequence"),
        ("mock", "mock.config.MockResponse", "weight", "1.0", "Relative chance"),
        ("cassettes", "cassettes.config.CassetteConfig", "replay_speed", "'instant'", "twice as fast"),
        ("models", "metadata.ExecutionMetadata", "attempts", "[]", "Every attempt"),
        ("models", "metadata.Origin", "source", "required", "replay"),
    ],
)
def test_api_reference_lists_model_fields_in_chromium(rendered, page, model, field, default, words):
    rows = field_rows(rendered(page), model)
    assert field in rows, sorted(rows)
    name, type_, shown_default, description = rows[field]
    assert type_ and shown_default == default and words in description
