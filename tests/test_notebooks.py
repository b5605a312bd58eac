"""The notebook pipeline: each chapter's MyST source and its executed .ipynb agree.

These checks read files only (nothing is executed); `make book` runs them before the
site is built, so a stale or failed notebook never reaches the page.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CHAPTER_SOURCES = sorted(BOOK.glob("[0-9][0-9]-*.md"))
BUDGET_SECONDS = 90.0


def _cells(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part.get("chapters", [])]
    return files


def test_there_are_chapters() -> None:
    assert CHAPTER_SOURCES, "no book/NN-*.md chapter found"


@pytest.mark.parametrize("source", CHAPTER_SOURCES, ids=lambda p: p.stem)
def test_markdown_and_notebook_agree(source: Path) -> None:
    executed = source.with_suffix(".ipynb")
    assert executed.exists(), f"{executed.name} is missing: run `make notebooks`"
    text = jupytext.read(source)
    notebook = jupytext.read(executed)
    assert _cells(text) == _cells(notebook), (
        f"{source.name} and {executed.name} differ: run `make notebooks` after editing"
    )


@pytest.mark.parametrize("source", CHAPTER_SOURCES, ids=lambda p: p.stem)
def test_notebook_is_executed_without_errors(source: Path) -> None:
    notebook = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells, f"{source.stem} has no code"
    for index, cell in enumerate(code_cells):
        assert cell.execution_count is not None, f"{source.stem}: code cell {index} never ran"
        errors = [out for out in cell.outputs if out.output_type == "error"]
        assert not errors, f"{source.stem}: code cell {index} stored an error: {errors[0].ename}"
    seconds = notebook.metadata.get("rnnbook", {}).get("execution_seconds")
    assert seconds is not None, f"{source.stem}: not executed by scripts/execute_notebooks.py"
    assert seconds <= BUDGET_SECONDS, f"{source.stem} took {seconds} s > {BUDGET_SECONDS} s"


def test_every_chapter_is_in_the_toc_and_every_toc_entry_exists() -> None:
    toc = _toc_files()
    for source in CHAPTER_SOURCES:
        assert f"book/{source.stem}" in toc, f"{source.name} is not listed in _toc.yml"
    for entry in toc:
        candidates = [ROOT / f"{entry}{suffix}" for suffix in (".md", ".ipynb")]
        assert any(path.exists() for path in candidates), f"_toc.yml names missing {entry}"


@pytest.mark.parametrize("source", CHAPTER_SOURCES, ids=lambda p: p.stem)
def test_first_cell_fetches_the_book_from_the_configured_repository(source: Path) -> None:
    """Colab opens a notebook alone: its first cell clones the repository named in _config.yml."""
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    notebook = jupytext.read(source)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert "remove-cell" in first.metadata.get("tags", []), "the set-up cell must be hidden"
    assert f'os.environ.get("RNNBOOK_REPOSITORY", "{url}")' in first.source, (
        f"{source.name}: the first code cell must clone {url} when rnnbook is missing"
    )
    assert '"git", "clone", "--depth", "1", url, "rnnbook"' in first.source
    assert 'find_spec("rnnbook") is None' in first.source
    assert '"-e", "rnnbook[book]"' in first.source, "the set-up cell must install the extras"
    assert "chdir" not in first.source, "chapters find results with rnnbook.results_path"


@pytest.mark.parametrize("source", CHAPTER_SOURCES, ids=lambda p: p.stem)
def test_chapters_find_results_by_name_not_by_relative_path(source: Path) -> None:
    text = source.read_text()
    assert "../results" not in text, (
        f"{source.name}: load run folders with rnnbook.results_path(NAME), which works from "
        "any working folder (Colab after a restart, nbval, Binder)"
    )


@pytest.mark.parametrize("source", CHAPTER_SOURCES, ids=lambda p: p.stem)
def test_every_output_not_compared_exactly_asserts_its_claim(source: Path) -> None:
    """The portability rule (README, "Writing a chapter").

    A cell tagged ``nbval-ignore-output`` shows numbers whose digits depend on the machine
    (training outcomes, timings); nbval does not compare them, so the cell must state its
    lesson with ``claim(...)``, which raises if the lesson does not hold on this run.
    """
    notebook = jupytext.read(source)
    unchecked = [
        index
        for index, cell in enumerate(c for c in notebook.cells if c.cell_type == "code")
        if "nbval-ignore-output" in cell.metadata.get("tags", []) and "claim(" not in cell.source
    ]
    assert not unchecked, (
        f"{source.name}: code cells {unchecked} are tagged nbval-ignore-output but make no "
        "claim(...): assert what the cell teaches, or let nbval compare its output"
    )


@pytest.mark.parametrize("source", CHAPTER_SOURCES, ids=lambda p: p.stem)
def test_no_output_is_skipped_or_sanitized_away(source: Path) -> None:
    """Only the two documented mechanisms relax nbval: ignore-output (with claims), sanitizer."""
    notebook = jupytext.read(source)
    for cell in notebook.cells:
        tags = set(cell.metadata.get("tags", []))
        assert not tags & {"nbval-skip", "raises-exception"}, f"{source.name}: {tags}"
        assert "NBVAL_SKIP" not in cell.source
        assert "NBVAL_IGNORE_OUTPUT" not in cell.source


def _prose(text: str) -> str:
    """A chapter's prose: no code cells, math, roles, inline code or labels."""
    text = re.sub(r"^---\n.*?\n---\n", "", text, flags=re.S)
    text = re.sub(r"```\{code-cell\}.*?```", "", text, flags=re.S)
    text = re.sub(r"```\{math\}.*?```", "", text, flags=re.S)
    text = re.sub(r"```python\n.*?```", "", text, flags=re.S)  # solutions' code
    text = re.sub(r"^ {6,}.*$", "", text, flags=re.M)  # code indented inside a list item
    text = re.sub(r"\$\$.*?\$\$", "", text, flags=re.S)
    text = re.sub(r"\$[^$\n]+\$", "", text)
    text = re.sub(r"\{[a-z:]+\}`[^`]*`", "", text)  # {glue:text}, {cite}, {eq} ...
    text = re.sub(r"`[^`\n]*`", "", text)
    return text


# Typed results allowed in the prose of chapters 01-04, each a citation of a source, not a
# measurement of ours: everything this book measures is glued from code or a run folder.
CITED = {
    "02-digit-sums": {
        "23%",  # the source assignment's RNN accuracy
        "47%",  # ... and its LSTM's
        "80%",  # its training split (a setting)
    },
    "03-sru": {
        "84.8%",  # SST-2, the source assignment's 2-layer SRU
        "12.5%",  # chance for 8 symbols (a task fact)
        "0.01",  # the adding problem's "solved" threshold (a convention)
        "95%",  # the echo task's "solved" threshold (ours, stated as such)
        "100%",  # "a row need not add up to 100%"
        "0.003",  # the echo runs' learning rate (a setting, printed in their commands)
    },
    "04-counting": {
        "99.92%",  # the source assignment's model 2
        "0.01",  # one step between consecutive numbers on the scaled axis (a setting)
        "0.005",  # half of that step: the rounding tolerance
        "0.001",  # the step at scale 1000 (an exercise's setting)
        "0.2",  # the holdout fraction (a setting)
        "0.99",  # the largest scaled input (a setting)
        "3.00",  # an input far outside the range (an example)
        "100%",  # an exercise's question ("does it still reach 100%?")
    },
}
MEASURED = re.compile(r"\d+(?:\.\d+)?\s?%|\b\d+\.\d+\b|\b\d(?:\.\d+)?e-?\d+\b")


@pytest.mark.parametrize(
    "source",
    [s for s in CHAPTER_SOURCES if s.stem[:2] in {"01", "02", "03", "04"}],
    ids=lambda p: p.stem,
)
def test_numbers_in_prose_are_glued_or_cited(source: Path) -> None:
    """Percentages, decimals and powers typed in prose must come from code (glue) or a citation."""
    typed = set(MEASURED.findall(_prose(source.read_text())))
    unexplained = sorted(typed - CITED.get(source.stem, set()))
    assert not unexplained, (
        f"{source.name} types numbers that look measured: {unexplained}; glue them from the "
        "code that computes them, or add a cited figure to CITED with its source"
    )


CODE_WIDTH = 88  # characters: what fits the site's code box (book/_static/rnnbook.css)


@pytest.mark.parametrize("source", CHAPTER_SOURCES, ids=lambda p: p.stem)
def test_code_lines_fit_the_column(source: Path) -> None:
    """Readers see every code line whole on the site: none is wider than the code box."""
    notebook = jupytext.read(source)
    long = [
        line
        for cell in notebook.cells
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if len(line) > CODE_WIDTH
    ]
    assert not long, (
        f"{source.name}: {len(long)} code line(s) over {CODE_WIDTH} characters, e.g. "
        f"{long[0]!r}; format with `ruff format --line-length {CODE_WIDTH}`"
    )
