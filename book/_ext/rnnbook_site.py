"""Small fixes to the Jupyter Book 1 page template, applied at HTML build time.

- sphinx-thebe registers its configuration script once per read of the environment,
  (and sphinx-togglebutton its selector) twice, once with the file name ``None`` and
  once with ``""``; a page then declares ``THEBE_JS_URL`` twice, which the browser
  reports as an error. Each script is kept once.
- ``glue(..., display=False)`` between two ``print`` calls splits a cell's stdout into
  several stream outputs, and the page draws each as its own grey box (a table printed
  row by row in a loop became one box per row). Adjacent stream outputs of one cell are
  joined into one block, as Jupyter itself shows them.
- A figure's ``alt`` text is its description: the ``text/plain`` form stored beside the
  PNG in the notebook, which ``rnnbook.figures.plots.describe_figure`` writes from what the figure
  draws. MyST-NB names each image file by the SHA-256 of its bytes, so the image node is
  matched to its output by that hash. Without this the alt text is the file's path.
- Page weight: MathJax loads only what the pages use (TeX input, HTML output, assistive
  MathML for screen readers; not the 430 kB context menu), and each page drops two
  scripts it does not use: Font Awesome's JavaScript (1.5 MB; the icons are drawn by the
  theme's icon font, loaded by its CSS either way) and, except on the search page,
  Sphinx's search index and tools (the search box sends the reader to that page);
  pages without a sphinx-design element drop its CSS and script. Figures are stored with
  at most 256 colours (a third of the bytes; plots have few colours), and the frames of a
  static slider, inline PNGs in the notebook, become such files too, each loaded only
  when the slider first shows it (``loading="lazy"`` on a hidden image).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import re
from binascii import a2b_base64
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx


def _dedupe_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, str]] = set()
    unique = []
    for script in scripts:
        # An inline script is registered once with filename None and once with "".
        filename = str(getattr(script, "filename", script) or "")
        key = (filename, repr(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique
    if 'class="sd-' not in str(context.get("body", "")):  # no sphinx-design element here
        name = lambda asset: str(getattr(asset, "filename", asset))  # noqa: E731
        context["script_files"] = [js for js in unique if "design-tabs" not in name(js)]
        context["css_files"] = [
            css for css in context.get("css_files", []) if "sphinx-design" not in name(css)
        ]


def _is_stream(node: nodes.Node) -> bool:
    return isinstance(node, nodes.literal_block) and "output" in node["classes"]


def _merge_streams(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for container in doctree.findall(nodes.container):
        if "cell_output" not in container["classes"]:
            continue
        children = list(container.children)
        for before, after in itertools.pairwise(children):
            if not (_is_stream(before) and _is_stream(after)):
                continue
            if before["classes"] != after["classes"] or before.get("language") != after.get(
                "language"
            ):
                continue  # stdout next to stderr stays apart
            # `after` absorbs `before`, so a run of three or more ends in one block
            text = before.astext() + after.astext()
            after.children = [nodes.Text(text)]
            after.rawsource = text
            container.remove(before)


def _figure_descriptions(notebook: Path) -> dict[str, str]:
    """``{sha256 of a PNG output: its text/plain form}`` for the figures of ``notebook``."""
    described = {}
    for cell in json.loads(notebook.read_text()).get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            png, text = data.get("image/png"), data.get("text/plain")
            if not (png and text):
                continue
            png = "".join(png) if isinstance(png, list) else png
            text = "".join(text) if isinstance(text, list) else text
            if text.startswith("<Figure size"):  # matplotlib's own repr says nothing
                continue
            described[hashlib.sha256(a2b_base64(png)).hexdigest()] = " ".join(text.split())
    return described


def _alt_text(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    source = Path(app.env.doc2path(docname))
    if source.suffix != ".ipynb":
        return
    described = _figure_descriptions(source)
    for image in doctree.findall(nodes.image):
        text = described.get(Path(str(image.get("uri", ""))).stem)
        if text and not image.get("alt"):
            image["alt"] = text


# MathJax 3 from its components: TeX in, HTML out, hidden MathML for screen readers.
_MATHJAX_COMPONENTS = ["input/tex", "output/chtml", "a11y/assistive-mml"]


def _light_mathjax(app: Sphinx, config: Any) -> None:
    # after every extension's setup: sphinx-mathjax-offline sets mathjax_path in its own
    if str(config.mathjax_path).endswith("mathjax/tex-chtml.js"):
        config.mathjax_path = "mathjax/startup.js"
        mathjax3 = dict(config.mathjax3_config or {})
        loader = dict(mathjax3.get("loader", {}))
        loader["load"] = list(_MATHJAX_COMPONENTS)
        mathjax3["loader"] = loader
        config.mathjax3_config = mathjax3


_UNUSED_SCRIPTS = re.compile(
    r'[ \t]*<script[^>]*src="[^"]*(_static/scripts/fontawesome\.js)[^"]*"[^>]*></script>\n?'
)
_SEARCH_SCRIPTS = re.compile(
    r'[ \t]*<script[^>]*src="[^"]*(_static/searchtools\.js|_static/language_data\.js'
    r'|searchindex\.js)"[^>]*></script>\n?'
)


def _smaller_png(data: bytes) -> bytes:
    """``data`` with at most 256 colours, if that is smaller (plots have few colours)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        if image.mode not in {"RGB", "RGBA"} or (
            image.mode == "RGBA" and image.getchannel("A").getextrema() != (255, 255)
        ):
            return data  # keep real transparency and palettes as they are
        palette = image.convert("RGB").quantize(256, dither=Image.Dither.NONE)
        buffer = io.BytesIO()
        palette.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue() if buffer.tell() < len(data) else data


_DATA_PNG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"([^>]*)>')


def _slider_frames_to_files(html: str, page: Path, images: Path) -> str:
    """Each inline PNG (a static slider's frames) becomes a file; a hidden frame is loaded
    only when the slider first shows it."""

    def to_file(match: re.Match[str]) -> str:
        data = _smaller_png(a2b_base64(match[1]))
        name = hashlib.sha256(data).hexdigest() + ".png"
        (images / name).write_bytes(data)
        lazy = ' loading="lazy"' if re.search(r"\shidden\b", match[2]) else ""
        return f'<img{lazy} src="{os.path.relpath(images / name, page.parent)}"{match[2]}>'

    return _DATA_PNG.sub(to_file, html)


def _lighter_pages(app: Sphinx, exception: Exception | None) -> None:
    """Drop unused scripts, move slider frames into lazy files, and shrink every figure."""
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    images = out / "_images"
    images.mkdir(exist_ok=True)
    for figure in images.glob("*.png"):
        data = figure.read_bytes()
        smaller = _smaller_png(data)
        if smaller is not data:
            figure.write_bytes(smaller)
    for page in out.rglob("*.html"):
        if page.relative_to(out).parts[0] in {"_static", "_sources"}:
            continue
        html = page.read_text()
        lighter = _UNUSED_SCRIPTS.sub("", html)
        if page.relative_to(out) != Path("search.html"):
            lighter = _SEARCH_SCRIPTS.sub("", lighter)
        lighter = _slider_frames_to_files(lighter, page, images)
        if lighter != html:
            page.write_text(lighter)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", _dedupe_scripts)
    app.connect("doctree-resolved", _merge_streams)
    app.connect("doctree-resolved", _alt_text)
    app.connect("config-inited", _light_mathjax)
    app.connect("build-finished", _lighter_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
