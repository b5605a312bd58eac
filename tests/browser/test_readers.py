"""Every reader's path through the built site: a phone, a screen reader, the dark theme, and
a page's weight (issue 26). Figures are measured as displayed, in headless Chromium."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from test_site import CHAPTERS, PAGES, settle, visit

pytestmark = pytest.mark.browser

PHONE = 390  # px: a phone held upright (CSS pixels)
MIN_FIGURE_SCALE = 0.65  # book/_static/rnnbook.js: 10 pt at 100 dpi is 13.9 px, x 0.65 = 9 px
MIN_TOUCH = 44  # px: the smallest comfortable touch target (WCAG 2.5.5, Apple, Material)
# Bytes a chapter page transferred before issue 26 (commit a0ff1e2, everything included,
# uncompressed as this test's server sends it): Font Awesome's 1.5 MB script, MathJax's
# 1.2 MB bundle and the search index on every page. The budget: half of that.
BYTES_BEFORE = {
    "01-rnn-crash-course": 4_349_130,
    "02-digit-sums": 4_322_851,
    "03-sru": 4_904_507,
    "04-counting": 4_204_884,
    "05-copy-task": 4_644_117,
    "06-adding-problem": 4_807_971,
}
NEW_CHAPTER_BUDGET = min(BYTES_BEFORE.values()) // 2  # a chapter written after the issue

PHONE_JS = """() => {
    const article = document.querySelector("article.bd-article");
    const shown = (el) => el.getClientRects().length > 0;
    const pres = [...article.querySelectorAll("pre")].filter(shown);
    return {
        page: document.documentElement.scrollWidth,
        scrolling_code: pres.filter((p) => p.scrollWidth > p.clientWidth + 1)
            .map((p) => p.innerText.split("\\n")[0].slice(0, 60)),
        figures: [...article.querySelectorAll(
            "div.cell_output > img, .rnnbook-slider img:not([hidden])")].filter(shown)
            .map((img) => [img.getBoundingClientRect().width / img.naturalWidth, img.alt]),
        sliders: [...article.querySelectorAll(".rnnbook-slider input[type=range]")]
            .map((r) => r.getBoundingClientRect())
            .map((box) => Math.min(box.width, box.height)),
    };
}"""


@pytest.mark.parametrize("path", PAGES)
def test_on_a_phone_nothing_is_wider_than_the_screen(
    browser: Any, base_url: str, path: str
) -> None:
    page = visit(browser, base_url + path, width=PHONE).page
    settle(page, path)
    page.wait_for_timeout(100)  # rnnbook.js sizes the figures once they have loaded
    seen = page.evaluate(PHONE_JS)
    assert seen["page"] <= PHONE, f"{path}: the page is {seen['page']} px wide at {PHONE} px"
    assert seen["scrolling_code"] == [], f"{path}: code boxes that scroll sideways"
    small = [(round(scale, 2), alt[:50]) for scale, alt in seen["figures"]]
    small = [figure for figure in small if figure[0] < MIN_FIGURE_SCALE - 0.01]
    assert small == [], f"{path}: figures shown below {MIN_FIGURE_SCALE:.0%} of their size"
    tiny = [size for size in seen["sliders"] if size < MIN_TOUCH]
    assert tiny == [], f"{path}: slider touch targets under {MIN_TOUCH} px: {tiny}"
    page.context.close()


@pytest.mark.parametrize("path", CHAPTERS)
def test_every_image_has_real_alt_text(browser: Any, base_url: str, path: str) -> None:
    """Screen readers read a figure's description, never its file name."""
    page = visit(browser, base_url + path).page
    alts = page.eval_on_selector_all(
        "article.bd-article img", "imgs => imgs.map((img) => img.getAttribute('alt') || '')"
    )
    assert alts, f"{path}: no images"
    bad = [alt for alt in alts if not alt.strip() or "_images/" in alt or alt.endswith(".png")]
    assert bad == [], f"{path}: images without real alt text: {bad[:5]}"
    figures = page.eval_on_selector_all(
        "article.bd-article div.cell_output > img", "imgs => imgs.map((img) => img.alt)"
    )
    assert all(alt.startswith("Figure") for alt in figures), figures  # describe_figure's
    page.context.close()


def _luminance(rgb: tuple[float, ...]) -> float:
    """WCAG relative luminance of an sRGB colour (0-255 channels)."""

    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: float, b: float) -> float:
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def figure_contrast(png: bytes) -> tuple[tuple[int, ...], float]:
    """``(background, ink contrast)`` of a screenshot of a figure.

    The background is the most common colour; the ink contrast is that of the 0.5 % of
    pixels farthest from it (text, axes and lines, which antialiasing blurs at the edges).
    """
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=image.width * image.height) or []
    background = max(colours)[1]
    base = _luminance(background)
    weighted = sorted((_contrast(_luminance(colour), base), count) for count, colour in colours)
    enough, seen = 0.995 * image.width * image.height, 0
    for contrast, count in weighted:
        seen += count
        if seen >= enough:
            return background, contrast
    return background, weighted[-1][0]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", CHAPTERS)
def test_figures_are_readable_in_both_themes(
    browser: Any, base_url: str, path: str, scheme: str
) -> None:
    """Each figure sits on the page's own background, its ink at WCAG's 4.5:1 or more."""
    page = visit(browser, base_url + path, color_scheme=scheme).page
    settle(page, path)
    page_background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page_rgb = tuple(int(float(c)) for c in re.findall(r"[\d.]+", page_background)[:3])
    problems = []
    figures = page.locator("article.bd-article div.cell_output > img")
    for index in range(figures.count()):
        background, ink = figure_contrast(figures.nth(index).screenshot())
        box = _contrast(_luminance(background), _luminance(page_rgb))
        if box > 1.25 or ink < 4.5:
            problems.append(
                f"figure {index}: background {background} against the page's "
                f"{page_rgb} ({box:.2f}:1), ink {ink:.1f}:1"
            )
    assert figures.count() > 0
    assert problems == [], f"{path} ({scheme}):\n" + "\n".join(problems)
    page.context.close()


@pytest.mark.parametrize("path", CHAPTERS)
def test_a_chapter_page_is_light(browser: Any, base_url: str, path: str) -> None:
    record = visit(browser, base_url + path)
    settle(record.page, path)
    total = sum(record.transferred.values())
    stem = path.rsplit("/", 1)[-1].removesuffix(".html")
    budget = BYTES_BEFORE.get(stem, 2 * NEW_CHAPTER_BUDGET) // 2
    heaviest = sorted(record.transferred.items(), key=lambda item: -item[1])[:5]
    assert total <= budget, (
        f"{path}: {total:,} bytes transferred, over {budget:,}; the heaviest: "
        + ", ".join(f"{url.rsplit('/', 1)[-1]} {size:,}" for url, size in heaviest)
    )
    mathjax = [url for url in record.transferred if "/mathjax/" in url]
    assert mathjax, f"{path}: MathJax was not served by the site itself"
    assert all(url.startswith(base_url) for url in record.transferred), "a request left the site"
    record.page.context.close()


def test_the_theme_icons_still_show(browser: Any, base_url: str) -> None:
    """Without Font Awesome's script the icons come from its font, loaded by the theme CSS."""
    page = visit(browser, base_url + CHAPTERS[0]).page
    settle(page, CHAPTERS[0])
    fonts = page.evaluate(
        "() => document.fonts.ready.then(() => [...document.fonts]"
        ".filter((f) => f.status === 'loaded').map((f) => f.family))"
    )
    assert any("Font Awesome" in family for family in fonts), fonts
    icons = page.eval_on_selector_all(
        ".bd-header i[class*=fa-], .article-header-buttons i[class*=fa-]",
        "icons => icons.filter((i) => i.getClientRects().length)"
        ".map((i) => i.getBoundingClientRect().width)",
    )
    assert icons, "no icons in the page header"
    assert all(width > 4 for width in icons), f"icons without a glyph: {icons}"
    page.context.close()
