"""Small fixes to the Jupyter Book 1 page template, applied at HTML build time.

- sphinx-thebe registers its configuration script once per read of the environment,
  (and sphinx-togglebutton its selector) twice, once with the file name ``None`` and
  once with ``""``; a page then declares ``THEBE_JS_URL`` twice, which the browser
  reports as an error. Each script is kept once.
- ``glue(..., display=False)`` between two ``print`` calls splits a cell's stdout into
  several stream outputs, and the page draws each as its own grey box (a table printed
  row by row in a loop became one box per row). Adjacent stream outputs of one cell are
  joined into one block, as Jupyter itself shows them.
"""

from __future__ import annotations

import itertools
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


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", _dedupe_scripts)
    app.connect("doctree-resolved", _merge_streams)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
