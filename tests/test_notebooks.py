"""The notebook pipeline: each chapter's MyST source and its executed .ipynb agree.

These checks read files only (nothing is executed); `make book` runs them before the
site is built, so a stale or failed notebook never reaches the page.
"""

from __future__ import annotations

import ast
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
    [s for s in CHAPTER_SOURCES if s.stem[:2] in {"01", "02", "03", "04", "08"}],
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


# --- Comparative words beside glued values (issue 24, item 4) -----------------------------

# A word that states a difference or a shape, and the words a claim's sentence may use to
# check it. "linear" counts only as a shape ("linear in T", "linearly"), not as the name
# of a model ("the linear model").
COMPARATIVE = re.compile(r"\b(larger|smaller|faster|slower|flat|linear in|linearly)\b", re.I)
_SIZE = ("larger", "smaller", "more", "less", "above", "below", "at least", "under", "grows")
_SPEED = ("faster", "slower", "cheaper", "costs more", "costs less", "longer", "less than")
_SHAPE = ("linear", "flat", "grows", "times as long", "the same")
CHECKED_BY = {
    "larger": _SIZE,
    "smaller": _SIZE,
    "faster": _SPEED,
    "slower": _SPEED,
    "flat": _SHAPE,
    "linear in": _SHAPE,
    "linearly": _SHAPE,
}
GLUED = re.compile(r"\bglue\(\s*f?([\"'])(.+?)\1")
GLUE_ROLE = re.compile(r"\{glue:text\}`([^`]+)`")


def _claim_sentences(source: str) -> list[str]:
    """The sentences (first argument) of every ``claim(...)`` call in a code cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a cell with IPython syntax: no claim is read from it
        return []
    sentences = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "claim"
            and node.args
        ):
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                sentences.append(first.value)
            elif isinstance(first, ast.JoinedStr):
                sentences.append(
                    "".join(
                        part.value
                        for part in first.values
                        if isinstance(part, ast.Constant) and isinstance(part.value, str)
                    )
                )
    return sentences


def _glue_checks(notebook: nbformat.NotebookNode) -> list[tuple[re.Pattern[str], list[str]]]:
    """For every glued name (f-string parts as wildcards), the claims made in its cell."""
    checks = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        claims = _claim_sentences(cell.source)
        for _, name in GLUED.findall(cell.source):
            parts = re.split(r"\{[^}]*\}", name)
            checks.append((re.compile("^" + ".+".join(map(re.escape, parts)) + "$"), claims))
    return checks


def _prose_sentences(notebook: nbformat.NotebookNode) -> list[str]:
    """Sentences of the markdown cells, each table row a sentence of its own."""
    sentences = []
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        text = re.sub(r"```.*?```", "", cell.source, flags=re.S)
        text = re.sub(r"\$\$.*?\$\$", "", text, flags=re.S)
        text = re.sub(r"\$[^$\n]+\$", "X", text)
        for block in re.split(r"\n\s*\n", text):
            lines = block.splitlines()
            rows = [line for line in lines if line.lstrip().startswith("|")]
            sentences += rows
            rest = " ".join(line for line in lines if line not in rows)
            sentences += re.split(r"(?<=[.!?;:])\s+", rest)
    return sentences


def unchecked_comparatives(notebook: nbformat.NotebookNode) -> list[str]:
    """Sentences that put a comparative or shape word beside a glued value no claim checks."""
    checks = _glue_checks(notebook)
    problems = []
    for sentence in _prose_sentences(notebook):
        names = GLUE_ROLE.findall(sentence)
        for word in {w.lower() for w in COMPARATIVE.findall(sentence)} if names else ():
            allowed = CHECKED_BY[word]
            if not any(
                pattern.match(name) and any(w in c.lower() for c in claims for w in allowed)
                for name in names
                for pattern, claims in checks
            ):
                problems.append(f"{word!r} beside {names}: {sentence.strip()[:100]!r}")
    return problems


@pytest.mark.parametrize("source", CHAPTER_SOURCES, ids=lambda p: p.stem)
def test_comparative_words_beside_glued_values_are_claimed(source: Path) -> None:
    """A difference or a shape stated about a glued value is checked by a claim.

    The rule, per sentence of prose (a table row is a sentence): if it holds a
    ``{glue:text}`` value and one of the words "larger", "smaller", "faster", "slower",
    "flat", "linear in", "linearly", then at least one of its glued values must be glued
    in a code cell that also makes a ``claim(...)`` whose sentence uses a word of the same
    kind (:data:`CHECKED_BY`: "faster" is checked by a claim saying "faster", "slower",
    "cheaper", "costs more"...). So the number the reader sees and the claim that checks
    the comparison come from the same computation: a claim elsewhere in the chapter, or a
    claim about something else in the same cell, does not count. A verdict glued from code
    ("faster" if ... else "slower") carries its word inside the glued value, not in the
    prose, and is not scanned.
    """
    problems = unchecked_comparatives(jupytext.read(source))
    assert not problems, f"{source.name}: comparisons no claim checks:\n" + "\n".join(problems)


def test_comparative_rule_needs_the_claim_in_the_glued_values_cell() -> None:
    """The rule is not met by any claim somewhere: it must sit where the value is glued."""
    text = (
        "A {glue:text}`ratio` times faster layer.\n\n"
        "```{code-cell} ipython3\nglue('ratio', '2', display=False)\n```\n\n"
        "```{code-cell} ipython3\nclaim('the layer is faster', True)\n```\n"
    )
    notebook = jupytext.reads(text, fmt="md:myst")
    assert unchecked_comparatives(notebook) != []
    together = text.replace("display=False)\n```\n\n```{code-cell} ipython3\n", "display=False)\n")
    assert unchecked_comparatives(jupytext.reads(together, fmt="md:myst")) == []


# --- Length: no chapter over 4,000 words of prose (issue 24, item 2) ----------------------

PROSE_WORDS = 4000


@pytest.mark.parametrize("source", CHAPTER_SOURCES, ids=lambda p: p.stem)
def test_no_chapter_has_more_than_4000_words_of_prose(source: Path) -> None:
    """A chapter a learner reads in one sitting: at most 4,000 words of prose.

    Prose is the chapter's markdown as a reader reads it, counted in whitespace-separated
    words by :func:`_prose`: code cells, ``{math}`` blocks, display and inline math,
    roles (glued values, citations, equation references), inline code and code indented
    inside a list are left out, as are the lines that open or close a directive
    (```` ```{admonition} ````, ``:class: dropdown``); the text inside a directive, such
    as exercise solutions, counts.
    """
    text = re.sub(
        r"^```\{[a-z-]+\}.*$|^```\s*$|^:[a-z-]+:.*$", "", _prose(source.read_text()), flags=re.M
    )
    words = len(text.split())
    assert words <= PROSE_WORDS, (
        f"{source.name} has {words} words of prose, over {PROSE_WORDS}: split it or cut it"
    )


# --- Code width ---------------------------------------------------------------------------

CODE_WIDTH = 84  # characters: a line of 84 fits the site's code box at 1280 px (rnnbook.css)
HIDDEN_CODE_WIDTH = 80  # a hide-input or hide-cell box is narrower (83 columns scroll 6 px)


def _long_lines(source: Path) -> list[str]:
    """Code lines wider than their cell's box: 84 columns, 80 in a toggled (hidden) cell."""
    notebook = jupytext.read(source)
    long = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        hidden = "hide-input" in tags or "hide-cell" in tags
        width = HIDDEN_CODE_WIDTH if hidden else CODE_WIDTH
        long += [f"{line} ({len(line)} > {width})" for line in cell.source.splitlines()
                 if len(line) > width]  # fmt: skip
    return long


@pytest.mark.parametrize("source", CHAPTER_SOURCES, ids=lambda p: p.stem)
def test_code_lines_fit_the_column(source: Path) -> None:
    """Readers see every code line whole on the site: none is wider than its code box."""
    long = _long_lines(source)
    assert not long, f"{source.name}: {len(long)} code line(s) too wide, e.g. {long[0]!r}"
