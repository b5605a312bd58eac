"""Tables that print as aligned text and show as HTML ``<table>`` elements in a notebook.

Every table in the book goes through :func:`format_table`: ``print`` gives fixed-width
text (what nbval compares), ``display`` gives a real HTML table on the page.

Introduced in the crash-course chapter.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

__all__ = ["Table", "format_list", "format_span", "format_table"]

# A cell reads as a number (right-aligned in HTML) if it is an int or float, or text such
# as "97.5%", "-1.2e-3", "19,724", "15.53 ms" or "97 / 97".
_NUMBER = re.compile(
    r"[+\-−]?(\d[\d,]*\.?\d*|\.\d+)([eE][+\-]?\d+)?"
    r"(\s*(%|ms|s|µs|x|×)|\s*/\s*\d+)?|[+\-]?(nan|inf)"
)


def _is_number(cell: Any) -> bool:
    if isinstance(cell, bool):
        return False
    if isinstance(cell, int | float):
        return True
    return _NUMBER.fullmatch(str(cell).strip()) is not None


class Table(str):
    """A table that prints as aligned text and shows as an HTML ``<table>`` in a notebook.

    It *is* the text (a :class:`str`), so ``print(table)`` and ``str(table)`` give the
    fixed-width layout; Jupyter, Colab and the book call ``_repr_html_`` when the table is
    a cell's last expression or passed to ``display``.
    """

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]

    def __new__(cls, text: str, headers: Sequence[Any], rows: Sequence[Sequence[Any]]) -> Table:
        table = super().__new__(cls, text)
        table.headers = tuple(str(h) for h in headers)
        table.rows = tuple(tuple(str(c) for c in row) for row in rows)
        table.numeric = tuple(
            bool(rows) and all(_is_number(row[j]) for row in rows) for j in range(len(headers))
        )
        return table

    def __getnewargs__(self) -> tuple[str, Any, Any]:  # type: ignore[override]
        # copy and pickle rebuild a Table (str's own would give __new__ the text alone)
        return str(self), self.headers, self.rows

    def _repr_html_(self) -> str:
        align = ["right" if numeric else "left" for numeric in self.numeric]

        def row(tag: str, cells: Sequence[str]) -> str:
            return (
                "<tr>"
                + "".join(
                    f'<{tag} style="text-align: {a}">{html.escape(c)}</{tag}>'
                    for c, a in zip(cells, align, strict=True)
                )
                + "</tr>"
            )

        body = "\n".join(row("td", r) for r in self.rows)
        return (
            '<table class="rnnbook-table">\n'
            f"<thead>{row('th', self.headers)}</thead>\n"
            f"<tbody>\n{body}\n</tbody>\n</table>"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # IPython's plain-text view (and nbval's text/plain): the text, not a quoted repr.
        printer.text(str(self))


def format_table(headers: Sequence[Any], rows: Sequence[Sequence[Any]]) -> Table:
    """A table with right-aligned text columns that also shows as HTML in a notebook.

    ``print(format_table(...))`` prints fixed-width text; ``display(format_table(...))``,
    or the table as a cell's last expression, shows an HTML ``<table>`` (header row,
    escaped cells, numeric columns right-aligned, others left-aligned).

    >>> print(format_table(["n", "acc"], [[1, "100.0%"], [12, "97.5%"]]))
     n |    acc
    ---+-------
     1 | 100.0%
    12 |  97.5%
    """
    if any(len(row) != len(headers) for row in rows):
        raise ValueError(f"format_table: expected rows of {len(headers)} cells")
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[j]) for row in cells) for j in range(len(headers))]
    lines = [" | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return Table("\n".join(lines), headers, rows)


def format_span(values: Sequence[float], form: str = "{:.1%}") -> str:
    """The range of ``values`` as prose: ``"11.1% to 11.6%"``, or one value if all agree.

    ``form`` formats each end (a ``str.format`` pattern with one field).

    >>> format_span([0.116, 0.111, 0.112])
    '11.1% to 11.6%'
    >>> format_span([2.0, 2.0], "{:.0f}")
    '2'
    """
    if not values:
        raise ValueError("format_span: expected at least one value")
    low, high = form.format(min(values)), form.format(max(values))
    return low if low == high else f"{low} to {high}"


def format_list(items: Sequence[Any], empty: str = "none") -> str:
    """Items as prose: ``"150, 200 and 250"``; one item alone; ``empty`` for none.

    >>> format_list([150, 200, 250])
    '150, 200 and 250'
    >>> format_list(["RNN"])
    'RNN'
    """
    words = [str(item) for item in items]
    if not words:
        return empty
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} and {words[-1]}"
