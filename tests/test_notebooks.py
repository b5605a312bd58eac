"""The notebook pipeline: each chapter's MyST source and its executed .ipynb agree.

These checks read files only (nothing is executed); `make book` runs them before the
site is built, so a stale or failed notebook never reaches the page.
"""

from __future__ import annotations

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
