"""Small fixes to the Jupyter Book 1 page template, applied at HTML build time.

- sphinx-thebe registers its configuration script once per read of the environment,
  (and sphinx-togglebutton its selector) twice, once with the file name ``None`` and
  once with ``""``; a page then declares ``THEBE_JS_URL`` twice, which the browser
  reports as an error. Each script is kept once.
"""

from __future__ import annotations

from typing import Any

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


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", _dedupe_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
