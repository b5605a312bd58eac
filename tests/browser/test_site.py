"""The built site, page by page, in headless Chromium, the way a reader sees it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlparse

import pytest
from browser_support import ROOT, SITE, toc_pages

pytestmark = pytest.mark.browser

PAGES = toc_pages()
CHAPTERS = [page for page in PAGES if (ROOT / page.replace(".html", ".ipynb")).exists()]


@dataclass
class Visit:
    """A loaded page and everything that went wrong while loading it."""

    page: Any
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    transferred: dict[str, int] = field(default_factory=dict)  # url: bytes (body + headers)


def _count_bytes(record: Visit, request: Any) -> None:
    sizes = request.sizes()
    record.transferred[request.url] = sizes["responseBodySize"] + sizes["responseHeadersSize"]


def visit(browser: Any, url: str, color_scheme: str = "light", width: int = 1280) -> Visit:
    """Open ``url`` in a new context; ``width`` 390 is a phone (a touch screen, mobile UA)."""
    phone = width < 600
    context = browser.new_context(
        color_scheme=color_scheme,
        viewport={"width": width, "height": 844 if phone else 900},
        is_mobile=phone,
        has_touch=phone,
    )
    page = context.new_page()
    record = Visit(page)
    page.on("requestfinished", lambda request: _count_bytes(record, request))
    page.on(
        "console",
        lambda message: message.type == "error" and record.console_errors.append(message.text),
    )
    page.on("pageerror", lambda error: record.console_errors.append(str(error)))
    page.on(
        "requestfailed",
        lambda request: record.failed_requests.append(f"{request.url} ({request.failure})"),
    )
    page.on(
        "response",
        lambda response: (
            response.status >= 400
            and record.failed_requests.append(f"{response.url} (HTTP {response.status})")
        ),
    )
    response = page.goto(url, wait_until="networkidle")
    assert response is not None, f"{url} did not answer"
    assert response.ok, f"{url} answered HTTP {response.status}"
    return record


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_without_errors_and_every_image_shows(
    browser: Any, base_url: str, path: str
) -> None:
    record = visit(browser, base_url + path)
    assert record.console_errors == [], f"{path}: console errors"
    assert record.failed_requests == [], f"{path}: failed requests"
    # a slider's hidden frames load when first shown (loading=lazy): load them all now
    record.page.evaluate(
        "() => Promise.all([...document.querySelectorAll('img[loading=lazy]')].map((img) =>"
        " { img.loading = 'eager'; return img.complete ? null"
        " : new Promise((done) => { img.onload = img.onerror = done; }); }))"
    )
    assert record.failed_requests == [], f"{path}: failed requests"
    broken = record.page.eval_on_selector_all(
        "img", "imgs => imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
    )
    assert broken == [], f"{path}: images that did not load"
    record.page.context.close()


@pytest.mark.parametrize("path", PAGES)
def test_math_is_rendered(browser: Any, base_url: str, path: str) -> None:
    source = (SITE / path).read_text()
    expected = source.count('class="math')
    record = visit(browser, base_url + path)
    page = record.page
    if expected:
        page.wait_for_selector("mjx-container", timeout=15_000)
    rendered = page.locator("mjx-container").count()
    errors = page.locator("mjx-merror").count()
    assert rendered >= expected, f"{path}: {rendered} of {expected} math blocks rendered"
    assert errors == 0, f"{path}: {errors} MathJax errors"
    page.context.close()


@pytest.mark.parametrize("path", CHAPTERS)
def test_chapter_shows_outputs_figures_and_launch_buttons(
    browser: Any, base_url: str, path: str
) -> None:
    record = visit(browser, base_url + path)
    page = record.page
    assert page.locator(".cell_output").count() > 0, f"{path}: no code outputs"
    assert page.locator(".cell_output img").count() > 0, f"{path}: no figures"
    notebook = path.replace(".html", ".ipynb")
    links = page.eval_on_selector_all("a[href]", "anchors => anchors.map(a => a.href)")
    colab = [link for link in links if "colab.research.google.com" in link]
    binder = [link for link in links if "mybinder.org" in link]
    assert colab, f"{path}: no Colab button"
    assert all(link.endswith(f"/blob/main/{notebook}") for link in colab), colab
    assert binder, f"{path}: no Binder button"
    assert all(link.endswith(f"urlpath=tree/{notebook}") for link in binder), binder
    downloads = [link for link in links if link.endswith(f"_sources/{notebook}")]
    assert downloads, f"{path}: no download button for {notebook}"
    response = page.request.get(downloads[0])
    assert response.ok, f"{downloads[0]} answered HTTP {response.status}"
    assert b'"cells"' in response.body(), f"{downloads[0]} is not a notebook"
    page.context.close()


def test_search_finds_lstm(browser: Any, base_url: str) -> None:
    page = visit(browser, base_url + "search.html?q=LSTM").page
    page.wait_for_selector("#search-results ul.search li", timeout=15_000)
    hits = page.locator("#search-results ul.search li").count()
    assert hits > 0, "searching for LSTM found nothing"
    page.context.close()


def test_light_dark_switch_changes_the_theme(browser: Any, base_url: str) -> None:
    page = visit(browser, base_url + CHAPTERS[0]).page

    def state() -> tuple[str, str]:
        theme = page.evaluate("document.documentElement.dataset.theme")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        return theme, background

    seen = {state()}
    for _ in range(2):  # the switch cycles light -> dark -> auto
        page.locator(".theme-switch-button").first.click()
        page.wait_for_timeout(200)
        seen.add(state())
    themes = {theme for theme, _ in seen}
    backgrounds = {background for _, background in seen}
    assert {"light", "dark"} <= themes, f"themes seen: {themes}"
    assert len(backgrounds) >= 2, "the background colour never changed"
    page.context.close()


def test_screenshot_of_a_chapter(browser: Any, base_url: str) -> None:
    page = visit(browser, base_url + CHAPTERS[0]).page
    page.wait_for_selector("mjx-container", timeout=15_000)
    out = ROOT / "_build" / "screenshots" / CHAPTERS[0].replace("/", "-").replace(".html", ".png")
    out.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out))
    assert out.stat().st_size > 10_000, "the screenshot is suspiciously small"
    page.context.close()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        for key in ("href", "src"):
            if values.get(key) and (tag != "link" or key == "href"):
                self.hrefs.append(str(values[key]))


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(errors="replace"))
    return parser


def test_no_internal_link_is_broken(site: Path) -> None:
    """Every relative href/src of every page resolves to a file, and its #anchor exists."""
    broken = []
    parsed: dict[Path, _Links] = {}
    for page in sorted(site.rglob("*.html")):
        if page.relative_to(site).parts[0] in {"_static", "_sources"}:
            continue  # theme templates and downloads, not pages
        parsed.setdefault(page, _parse(page))
        for href in parsed[page].hrefs:
            url = urlparse(href)
            if url.scheme or href.startswith(("//", "mailto:", "javascript:", "data:")):
                continue
            target = (
                page
                if not url.path
                else Path(unquote(urljoin(page.as_uri(), url.path)).removeprefix("file://"))
            )
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(site)} -> {href}")
                continue
            if url.fragment and target.suffix == ".html":
                if target not in parsed:  # parse each page once (setdefault would not)
                    parsed[target] = _parse(target)
                anchors = parsed[target].ids
                if unquote(url.fragment) not in anchors:
                    broken.append(f"{page.relative_to(site)} -> {href} (no such anchor)")
    assert broken == [], "broken internal links:\n" + "\n".join(broken[:30])


def test_every_toc_page_was_built(site: Path) -> None:
    missing = [page for page in PAGES if not (site / page).exists()]
    assert missing == [], f"pages in _toc.yml without HTML: {missing}"
    assert re.search(r"book/intro\.html", (site / "index.html").read_text())


# Read from the notebooks, not the built pages, so that collecting needs no built site.
SLIDER_PAGES = [
    page
    for page in CHAPTERS
    if "rnnbook-slider" in (ROOT / page.replace(".html", ".ipynb")).read_text()
]


def test_some_chapter_has_a_static_slider() -> None:
    assert SLIDER_PAGES, "no chapter shows a precomputed slider"


@pytest.mark.parametrize("path", SLIDER_PAGES)
def test_static_slider_changes_the_figure_without_a_kernel(
    browser: Any, base_url: str, path: str
) -> None:
    page = visit(browser, base_url + path).page
    sliders = page.locator(".rnnbook-slider")
    for index in range(sliders.count()):
        slider = sliders.nth(index)
        visible = slider.locator("img:not([hidden])")
        before = (visible.get_attribute("src"), slider.locator("output").inner_text())
        range_input = slider.locator("input[type=range]")
        current = int(range_input.input_value())
        last = int(range_input.get_attribute("max") or 0)
        range_input.fill(str(0 if current == last else last))
        after = (visible.get_attribute("src"), slider.locator("output").inner_text())
        assert slider.locator("img:not([hidden])").count() == 1, f"{path}: one frame at a time"
        assert after[0] != before[0], f"{path}: slider {index} did not change the figure"
        assert after[1] != before[1], f"{path}: slider {index} did not change its label"
    page.context.close()


# --- Layout: nothing in the text column runs past it; every page photographed ----------

# Elements of the main content that must fit the column. Anything that overflows its own
# box must scroll (overflow-x auto/scroll) rather than be cut off (hidden/clip) or spill.
CONTENT = ", ".join(
    [
        ".cell_input",
        ".cell_output",
        ".cell_output > *",
        "div.highlight",
        "pre",
        "div.math",
        'mjx-container[display="true"]',
        "table",
        "figure",
        "img",
        ".rnnbook-slider",
    ]
)

MEASURE = """([selector, slack]) => {
    const article = document.querySelector("article.bd-article") || document.querySelector("main");
    const style = getComputedStyle(article);
    const box = article.getBoundingClientRect();
    const left = box.left + parseFloat(style.paddingLeft);
    const right = box.right - parseFloat(style.paddingRight);
    const hidden = "mjx-assistive-mml, .visually-hidden, .sr-only";
    const describe = (el) => {
        const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
            + [...el.classList].slice(0, 3).map((c) => "." + c).join("");
        const text = (el.innerText || el.textContent || "").trim().split("\\n")[0].slice(0, 60);
        return `${name} "${text}"`;
    };
    const overflowX = (el) => getComputedStyle(el).overflowX;
    const scrolls = (el) => ["auto", "scroll"].includes(overflowX(el));
    const insideScroller = (el) => {
        for (let p = el.parentElement; p && p !== article; p = p.parentElement) {
            if (scrolls(p)) return true;
        }
        return false;
    };
    // How far the visible things inside el reach, left and right. scrollWidth alone would
    // also count MathJax's invisible assistive MathML.
    const reach = (el) => {
        const own = el.getBoundingClientRect();
        let [from, to] = [own.left, own.right];
        if (el.scrollWidth <= el.clientWidth + slack) return [from, to];
        for (const inner of el.querySelectorAll("*")) {
            if (inner.closest(hidden)) continue;
            const rect = inner.getBoundingClientRect();
            if (rect.width === 0 || rect.height === 0) continue;
            [from, to] = [Math.min(from, rect.left), Math.max(to, rect.right)];
        }
        return [from, to];
    };
    const span = (from, to) =>
        `spans ${Math.round(from - left)}..${Math.round(to - left)} px of a `
        + `${Math.round(right - left)} px column`;
    const problems = [];
    const content = new Set(article.querySelectorAll(selector));
    for (const el of article.querySelectorAll("*")) {
        if (el.closest(hidden)) continue;
        const overflow = overflowX(el);
        const rect = el.getBoundingClientRect();
        if (rect.width === 0 && rect.height === 0) continue;  // not shown (a hidden frame)
        if (overflow === "hidden" || overflow === "clip") {
            // cut off: something visible lies past the edges of a box that does not scroll
            const [from, to] = reach(el);
            const cut = Math.max(to - rect.right, rect.left - from);
            if (cut > slack) {
                problems.push(`${describe(el)} is clipped: ${Math.round(cut)} px cut off`);
            }
        }
        if (!(content.has(el) || scrolls(el)) || insideScroller(el)) continue;
        // content and every sideways scroller must fit; content that overflows its own box
        // without scrolling (overflow: visible) must fit as well
        const [from, to] = overflow === "visible" ? reach(el) : [rect.left, rect.right];
        if (from < left - slack || to > right + slack) {
            problems.push(`${describe(el)} ${span(from, to)}`);
        }
    }
    return problems;
}"""


def settle(page: Any, path: str) -> None:
    """Wait until MathJax has typeset the page and every image has loaded."""
    if 'class="math' in (SITE / path).read_text():
        page.wait_for_selector("mjx-container", timeout=15_000)
        # MathJax 3 resolves startup.promise once the first typeset is done
        page.evaluate("() => window.MathJax?.startup?.promise?.then(() => true) ?? true")
    page.evaluate(
        "() => Promise.all([document.fonts.ready, ...[...document.images]"
        ".filter((img) => img.loading !== 'lazy').map((img) =>"
        " img.complete ? null : new Promise((done) => { img.onload = img.onerror = done; }))])"
    )


@pytest.mark.parametrize("path", PAGES)
def test_nothing_in_the_content_is_wider_than_the_column(
    browser: Any, base_url: str, path: str
) -> None:
    page = visit(browser, base_url + path).page
    settle(page, path)
    problems = page.evaluate(MEASURE, [CONTENT, 1])
    assert problems == [], f"{path}: content wider than the column:\n" + "\n".join(problems)
    page.context.close()


SCREENSHOTS = ROOT / "_build" / "screenshots"


# Every page in the light theme; the dark theme for one chapter with figures, tables and
# sliders (a full-page screenshot costs seconds per page, the API page most of all).
SCREENSHOT_CASES = [(path, "light") for path in PAGES] + [
    (path, "dark") for path in CHAPTERS if "03-sru" in path
]
MAX_SCREENSHOT_HEIGHT = 20_000  # pixels: the API page's first screens, not all 56,000


@pytest.mark.parametrize(("path", "color_scheme"), SCREENSHOT_CASES)
def test_full_page_screenshot(browser: Any, base_url: str, path: str, color_scheme: str) -> None:
    """_build/screenshots/{light,dark}/<page>.png at 1280 px, for a person to read."""
    page = visit(browser, base_url + path, color_scheme=color_scheme).page
    settle(page, path)
    assert page.evaluate("document.documentElement.dataset.theme") == color_scheme
    out = SCREENSHOTS / color_scheme / path.replace("/", "-").replace(".html", ".png")
    out.parent.mkdir(parents=True, exist_ok=True)
    height = page.evaluate("document.documentElement.scrollHeight")
    clip = None
    if height > MAX_SCREENSHOT_HEIGHT:
        clip = {"x": 0, "y": 0, "width": 1280, "height": MAX_SCREENSHOT_HEIGHT}
    page.screenshot(path=str(out), full_page=True, clip=clip)
    assert out.stat().st_size > 10_000, f"{out} is suspiciously small"
    page.context.close()


@pytest.mark.parametrize("path", CHAPTERS)
def test_output_tables_have_a_header_row(browser: Any, base_url: str, path: str) -> None:
    """Tables a chapter displays (``display(format_table(...))``) are real HTML tables."""
    page = visit(browser, base_url + path).page
    tables = page.eval_on_selector_all(
        ".cell_output table",
        """tables => tables.map((table) => {
            const rows = [...table.rows];
            const head = rows.length ? [...rows[0].cells] : [];
            return {
                header: head.length > 0 && head.every((cell) => cell.tagName === "TH"),
                columns: head.length,
                ragged: rows.filter((row) => row.cells.length !== head.length).length,
                text: (table.innerText || "").slice(0, 60),
            };
        })""",
    )
    no_header = [table["text"] for table in tables if not table["header"]]
    ragged = [table["text"] for table in tables if table["ragged"]]
    assert no_header == [], f"{path}: output tables without a header row: {no_header}"
    assert ragged == [], f"{path}: output tables whose rows differ from the header: {ragged}"
    page.context.close()


# --- Issue 24: at 1280 px no code box scrolls sideways, and no output is a text table ------

CODE_BOXES_JS = """() => [...document.querySelectorAll("article.bd-article div.highlight pre")]
    .filter((pre) => pre.getClientRects().length > 0)
    .filter((pre) => pre.scrollWidth > pre.clientWidth + 1)
    .map((pre) => `${pre.scrollWidth - pre.clientWidth} px: `
        + pre.innerText.split("\\n").sort((a, b) => b.length - a.length)[0].slice(0, 60))"""


@pytest.mark.parametrize("path", CHAPTERS)  # every chapter fits 84 columns (issue 24)
def test_no_code_box_scrolls_sideways_at_1280_px(browser: Any, base_url: str, path: str) -> None:
    """Every code line fits its box (84 columns, tests/test_notebooks.py): nothing to scroll."""
    page = visit(browser, base_url + path).page
    settle(page, path)
    scrolling = page.evaluate(CODE_BOXES_JS)
    assert scrolling == [], f"{path}: code boxes that scroll sideways:\n" + "\n".join(scrolling)
    page.context.close()


# A cell's printed output is a text table if it has a rule line of dashes (format_table's
# "---+---"), or if three lines in a row share two or more column edges: positions where a
# run of two or more spaces ends and text begins (columns padded with f"{x:>9}").
TEXT_TABLES_JS = """() => {
    const edges = (line) => {
        const found = new Set();
        for (const m of line.matchAll(/ {2,}(?=\\S)/g)) found.add(m.index + m[0].length);
        return found;
    };
    const isTable = (text) => {
        const lines = text.split("\\n").filter((line) => line.trim() !== "");
        if (lines.some((line) => /^[\\s|+]*-{3,}[-+|\\s]*$/.test(line) && /[+|]/.test(line)))
            return true;
        for (let i = 0; i + 2 < lines.length; i++) {
            const [a, b, c] = [edges(lines[i]), edges(lines[i + 1]), edges(lines[i + 2])];
            const shared = [...a].filter((x) => b.has(x) && c.has(x));
            if (shared.length >= 2) return true;
        }
        return false;
    };
    // a cell's printed lines, together: print() in a loop may give one <pre> per line
    return [...document.querySelectorAll("article.bd-article div.cell_output")]
        .map((output) => [...output.querySelectorAll("pre")]
            .filter((pre) => pre.getClientRects().length > 0)
            .map((pre) => pre.innerText).join("\\n"))
        .filter(isTable)
        .map((text) => text.split("\\n")[0].slice(0, 60));
}"""


@pytest.mark.parametrize("path", CHAPTERS)
def test_no_output_is_a_text_table(browser: Any, base_url: str, path: str) -> None:
    """Tables are shown as HTML (``display(format_table(...))``), never as printed text."""
    page = visit(browser, base_url + path).page
    tables = page.evaluate(TEXT_TABLES_JS)
    assert tables == [], f"{path}: outputs printed as text tables: {tables}"
    page.context.close()
