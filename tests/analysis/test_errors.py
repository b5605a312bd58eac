"""Error-analysis helpers: grouping against a naive loop, failures shown, sweeps, windows."""

from __future__ import annotations

import copy
import pickle
from html.parser import HTMLParser
from typing import Any

import pytest
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnbook.analysis.errors import (
    accuracy_by,
    counting_windows,
    echo_error_offsets,
    exact_match_by_length,
    first_epoch_reaching,
    format_table,
    mistakes,
    sample_scores,
    sweep,
    time_to_reach,
)
from rnnbook.models.task_model import ModelConfig, build_model
from rnnbook.tasks import DigitSumTask, make_task
from rnnbook.training.fit import History


class Counter(nn.Module):
    """A perfect seq2seq counter (logits of ``x + offset``); offset 0 is always wrong."""

    def __init__(self, vocab: int, offset: int = 1) -> None:
        super().__init__()
        self.vocab, self.offset = vocab, offset
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, inputs: Tensor) -> Tensor:
        return F.one_hot((inputs + self.offset).clamp(max=self.vocab - 1), self.vocab).float()


def test_accuracy_by_matches_a_naive_loop() -> None:
    generator = torch.Generator().manual_seed(0)
    keys = torch.randint(0, 7, (500,), generator=generator)
    correct = torch.rand(500, generator=generator) < 0.6
    groups = accuracy_by(keys, correct.float())
    assert [g.key for g in groups] == sorted(set(keys.tolist()))
    for group in groups:
        members = [
            bool(c) for k, c in zip(keys.tolist(), correct.tolist(), strict=True) if k == group.key
        ]
        assert (group.count, group.correct) == (len(members), sum(members))
        assert group.accuracy == pytest.approx(sum(members) / len(members))
    assert sum(g.count for g in groups) == 500


@pytest.mark.parametrize(
    ("keys", "correct", "message"),
    [
        (torch.zeros(3, dtype=torch.long), torch.ones(4), "same shape"),
        (torch.zeros(3), torch.ones(3), "integer keys"),
    ],
)
def test_accuracy_by_rejects_bad_input(keys: Tensor, correct: Tensor, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        accuracy_by(keys, correct)


def test_mistakes_show_exactly_the_wrong_answers() -> None:
    task = DigitSumTask()
    data = task.generate(40, seed=1)
    scored = data.targets != -100
    outputs = F.one_hot(data.targets.clamp(min=0), task.output_size).float() * scored[..., None]
    wrong = [3, 17]
    for index in wrong:  # write "0" at every answer step: wrong unless the answer is 0-ish
        outputs[index][scored[index]] = F.one_hot(torch.tensor(0), task.output_size).float()
    correct = task.score(outputs, data.targets)["exact_match"]
    assert (correct == 0).nonzero().flatten().tolist() == wrong
    rows = mistakes(task, data, outputs, correct)
    assert [row[0] for row in rows] == [task.decode_input(data.inputs[i]) for i in wrong]
    for row in rows:
        assert row[2] == "0" * len(row[1])
        assert row[1] != row[2]
    assert mistakes(task, data, outputs, correct, limit=1) == rows[:1]
    with pytest.raises(ValueError, match="one correctness value per sample"):
        mistakes(task, data, outputs, correct[:5])


def test_counting_windows_and_sweep_beyond_the_training_range() -> None:
    task = make_task("counting", high=30, vocab_high=50)
    perfect, lazy = Counter(task.input_size), Counter(task.input_size, offset=0)
    rows = counting_windows(perfect, task, task.starts("test"))
    assert len(rows) == len(task.starts("test"))
    assert all(row.correct for row in rows)
    assert rows[0].predicted == rows[0].wanted
    assert not any(row.correct for row in counting_windows(lazy, task, [0, 5]))
    beyond = [{"low": 31, "high": 50, "holdout_fraction": 0.0}]
    assert sweep(perfect, task, beyond, samples=50, seed=0)[0]["exact_match"] == 1.0
    assert sweep(lazy, task, beyond, samples=50, seed=0)[0]["exact_match"] == 0.0
    with pytest.raises(ValueError, match="changes the model's sizes"):
        sweep(perfect, task, [{"vocab_high": 60}], samples=10, seed=0)
    with pytest.raises(ValueError, match="expected a counting task"):
        counting_windows(perfect, DigitSumTask(), [0])


class DigitSumLookup(nn.Module):
    """Answers every listed digit-sum input right, except the strings of ``wrong_length``."""

    def __init__(self, task: DigitSumTask, wrong_length: int | None = None) -> None:
        super().__init__()
        inputs, targets = task.all_examples("test")
        lengths, _ = task.lengths_and_sums(inputs)
        answers = targets.clamp(min=0)
        answers[lengths == wrong_length] = (answers[lengths == wrong_length] + 1) % 12
        self.table = {tuple(x.tolist()): a for x, a in zip(inputs, answers, strict=True)}
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, inputs: Tensor) -> Tensor:
        answers = torch.stack([self.table[tuple(x.tolist())] for x in inputs])
        return F.one_hot(answers, 12).float()  # (N, W, 12)


def test_exact_match_by_length_scores_each_model_on_every_string_once() -> None:
    task = DigitSumTask()
    models = [DigitSumLookup(task), DigitSumLookup(task, wrong_length=3)]
    scores = exact_match_by_length(models, task)
    assert list(scores) == [2, 3, 4]  # no one-digit string is held out
    assert scores == {2: [1.0, 1.0], 3: [1.0, 0.0], 4: [1.0, 1.0]}
    for length, (_, second) in scores.items():  # the same as scoring one length at a time
        inputs, targets = task.all_examples("test", length=length)
        exact = task.score(models[1](inputs), targets)["exact_match"]
        assert second == pytest.approx(float(exact.mean()))
    with pytest.raises(ValueError, match="expected a DigitSumTask"):
        exact_match_by_length(models, make_task("counting"))
    with pytest.raises(ValueError, match="at least one model"):
        exact_match_by_length([], task)


def test_sample_scores_agree_with_the_task_metrics() -> None:
    torch.manual_seed(0)
    task = make_task("counting", formulation="linear")
    model = build_model(task, ModelConfig(cell="sru", hidden_size=4))
    data = task.generate(64, seed=2, split="test")
    outputs, scores = sample_scores(model, task, data, batch_size=16)
    assert outputs.shape == (64, 1)
    with torch.no_grad():
        expected = task.metrics(model.eval()(data.inputs), data.targets)
    assert float(scores["abs_error"].mean()) == pytest.approx(expected["abs_error"], rel=1e-5)


def test_format_table_aligns_columns() -> None:
    text = format_table(["length", "acc"], [[1, "100.0%"], [12, "9.5%"]])
    lines = text.splitlines()
    assert len({len(line) for line in lines}) == 1
    assert lines[2].endswith("100.0%")
    assert lines[3].startswith("    12")
    with pytest.raises(ValueError, match="rows of 2 cells"):
        format_table(["a", "b"], [[1]])


def test_format_table_prints_the_same_text_and_shows_as_html() -> None:
    table = format_table(["n", "acc", "name"], [[1, "100.0%", "a<b"], [12, "97.5%", "x & y"]])
    text = " n |    acc |  name\n---+--------+------\n 1 | 100.0% |   a<b\n12 |  97.5% | x & y"
    assert isinstance(table, str)
    assert str(table) == text
    assert f"{table}" == text
    parser = _TableParser()
    parser.feed(table._repr_html_())
    assert parser.tables == 1
    assert parser.rows[0] == [("th", "right", "n"), ("th", "right", "acc"), ("th", "left", "name")]
    assert parser.rows[1:] == [
        [("td", "right", "1"), ("td", "right", "100.0%"), ("td", "left", "a<b")],
        [("td", "right", "12"), ("td", "right", "97.5%"), ("td", "left", "x & y")],
    ]
    assert "a&lt;b" in table._repr_html_()


@pytest.mark.parametrize(
    ("cells", "numeric"),
    [
        ([1, 2.5, "3"], True),
        (["19,724", "-1.2e-3", "−4"], True),
        (["15.53 ms", "97 / 97", "nan"], True),
        (["35.", "0.0%"], True),
        ([True, False], False),
        (["0 1 2", "3"], False),
        (["60=6", "4"], False),
        (["rnn", "lstm"], False),
    ],
)
def test_format_table_right_aligns_only_numeric_columns(cells: list[Any], numeric: bool) -> None:
    table = format_table(["column"], [[cell] for cell in cells])
    assert table.numeric == (numeric,)
    assert f"text-align: {'right' if numeric else 'left'}" in table._repr_html_()


def test_format_table_without_rows_has_a_header() -> None:
    parser = _TableParser()
    parser.feed(format_table(["a", "b"], [])._repr_html_())
    assert parser.rows == [[("th", "left", "a"), ("th", "left", "b")]]


def test_format_table_survives_copy_and_pickle() -> None:
    table = format_table(["a"], [[1]])
    for clone in (copy.copy(table), copy.deepcopy(table), pickle.loads(pickle.dumps(table))):
        assert clone == table
        assert clone._repr_html_() == table._repr_html_()


def test_format_table_as_a_cells_last_expression_shows_html_and_text() -> None:
    formatters = pytest.importorskip("IPython.core.formatters")
    table = format_table(["a", "b"], [["x", 1]])
    shown, _ = formatters.DisplayFormatter().format(table)
    assert shown["text/plain"] == str(table)  # the text, not a quoted repr
    assert shown["text/html"] == table._repr_html_()


class _TableParser(HTMLParser):
    """Counts tables and collects each row's cells as (tag, text-align, text)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables = 0
        self.rows: list[list[tuple[str, str, str]]] = []
        self._cell: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables += 1
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("th", "td"):
            style = dict(attrs).get("style") or ""
            self._cell = (tag, style.removeprefix("text-align: "))
            self.rows[-1].append((tag, self._cell[1], ""))

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            tag, align, text = self.rows[-1][-1]
            self.rows[-1][-1] = (tag, align, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td"):
            self._cell = None


def _history(values: list[float], seconds: list[float]) -> History:
    epochs = list(range(1, len(values) + 1))
    return History(
        epoch=epochs, train_loss=values, val_loss=values, metrics={"accuracy": values},
        seconds=seconds,
    )  # fmt: skip


def test_time_to_reach() -> None:
    history = _history([0.2, 0.6, 0.95, 0.9], [1.0, 2.5, 4.0, 5.5])
    assert time_to_reach(history, "accuracy", 0.9) == 4.0
    assert time_to_reach(history, "accuracy", 0.99) is None
    assert time_to_reach(history, "accuracy", 0.5, higher_is_better=False) == 1.0
    with pytest.raises(ValueError, match=r"time_to_reach: expected a metric in \['accuracy'\]"):
        time_to_reach(history, "mse", 0.1)


def test_first_epoch_reaching() -> None:
    history = _history([0.2, 0.6, 0.95, 0.9], [1.0, 2.5, 4.0, 5.5])
    assert first_epoch_reaching(history, "accuracy", 0.9) == 3
    assert first_epoch_reaching(history, "accuracy", 0.99) is None
    assert first_epoch_reaching(history, "accuracy", 0.5, higher_is_better=False) == 1
    with pytest.raises(ValueError, match=r"first_epoch_reaching: expected a metric"):
        first_epoch_reaching(history, "mse", 0.1)


def test_echo_error_offsets() -> None:
    inputs = torch.tensor([[0, 1, 2, 3, 4, 5, 6, 7, 0, 1]])
    delay = 2
    correct = torch.roll(inputs, delay, 1)
    assert set(echo_error_offsets(correct, inputs, delay, window=1).values()) == {0.0}
    late = torch.roll(inputs, delay + 1, 1)  # repeats the symbol from delay + 1 steps back
    offsets = echo_error_offsets(late, inputs, delay, window=1)
    assert offsets == {1: 0.0, 2: 0.0, 3: 1.0}
    mixed = late.clone()
    mixed[0, -1] = inputs[0, -2]  # one error at offset 1 instead
    offsets = echo_error_offsets(mixed, inputs, delay, window=1)
    assert offsets[3] == pytest.approx(6 / 7)
    assert offsets[1] == pytest.approx(1 / 7)
    with pytest.raises(ValueError, match="echo_error_offsets: expected predictions and inputs"):
        echo_error_offsets(late[0], inputs, delay)
    with pytest.raises(ValueError, match="echo_error_offsets: expected delay >= 0, window >= 1"):
        echo_error_offsets(late, inputs, 8, window=3)


def test_recall_accuracy_by_position_matches_the_task_metric() -> None:
    from rnnbook.analysis.errors import recall_accuracy_by_position
    from rnnbook.training.fit import evaluate

    torch.manual_seed(0)
    task = make_task("copy", seq_len=6, padding=2, output_len=4)
    data = task.generate(40, seed=1)
    model = build_model(task, ModelConfig(cell="gru", hidden_size=8))
    whole = recall_accuracy_by_position(model, task, data.inputs, data.targets)
    chunked = recall_accuracy_by_position(model, task, data.inputs, data.targets, chunk_len=5)
    assert whole.shape == (4,)
    torch.testing.assert_close(whole, chunked)
    expected = evaluate(model, task, data)["symbol_accuracy"]
    assert abs(whole.mean().item() - expected) < 1e-6
    with pytest.raises(ValueError, match="CopyTask"):
        recall_accuracy_by_position(model, make_task("adding"), data.inputs, data.targets)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="expected inputs"):
        recall_accuracy_by_position(model, task, data.inputs[:, :5], data.targets)
