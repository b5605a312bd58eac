"""Chapter 07's language models, the CPU-seconds budget and truncated BPTT in ``fit``."""

from __future__ import annotations

import itertools
import math

import matplotlib.pyplot as plt
import pytest
import torch

from rnnbook.analysis.lmstudy import arm_summary, finished_runs, lr_grid, plot_loss_vs_cpu, run_row
from rnnbook.experiments.runs import RunConfig, train_run
from rnnbook.models.charlm import CharTransformer, count_parameters
from rnnbook.models.task_model import ModelConfig, build_model
from rnnbook.tasks import make_task
from rnnbook.training.fit import TrainConfig, detach_state, fit, stateful_batches

# the study's arms (scripts/lm_study.sh): about 0.8-0.9 M parameters each
ARMS = {
    "torch-lstm": ModelConfig(cell="torch-lstm", hidden_size=256, num_layers=2, embedding_size=64),
    "torch-gru": ModelConfig(cell="torch-gru", hidden_size=296, num_layers=2, embedding_size=64),
    "torch-rnn": ModelConfig(cell="torch-rnn", hidden_size=512, num_layers=2, embedding_size=64),
    "sru": ModelConfig(cell="sru", hidden_size=480, num_layers=2, embedding_size=64),
    "transformer": ModelConfig(cell="transformer", hidden_size=128, num_layers=4),
}


def build_lm(context: int, config: ModelConfig) -> torch.nn.Module:
    """A language model for Tiny Shakespeare with windows of ``context`` characters."""
    return build_model(make_task("shakespeare", seq_len=context), config)


def test_the_study_arms_have_matched_parameter_counts() -> None:
    task = make_task("shakespeare")
    counts = {name: count_parameters(build_model(task, c)) for name, c in ARMS.items()}
    assert all(800_000 <= n <= 900_000 for n in counts.values()), counts
    assert max(counts.values()) / min(counts.values()) < 1.1


@pytest.mark.parametrize("cell", ["torch-lstm", "torch-gru", "torch-rnn", "sru", "lstm", "gru"])
def test_two_chunks_with_the_state_carried_equal_one_pass(cell: str) -> None:
    torch.manual_seed(0)
    model = build_lm(64, ModelConfig(cell=cell, hidden_size=24, num_layers=2)).eval()
    x = torch.randint(0, 65, (3, 40))
    with torch.no_grad():
        whole, _ = model.run(x)
        first, state = model.run(x[:, :17])
        second, _ = model.run(x[:, 17:], detach_state(state))
    assert torch.equal(torch.cat([first, second], 1), whole)
    with torch.no_grad():
        reset, _ = model.run(x[:, 17:])  # the control: without the state, it differs
    assert not torch.allclose(reset, second)


def test_the_transformer_is_causal_and_bounded_by_its_context() -> None:
    torch.manual_seed(0)
    model = CharTransformer(65, context=16, width=32, num_layers=2, num_heads=2).eval()
    x = torch.randint(0, 65, (2, 16))
    changed = x.clone()
    changed[:, 10:] = (changed[:, 10:] + 1) % 65
    with torch.no_grad():
        a, b = model(x), model(changed)
    torch.testing.assert_close(a[:, :10], b[:, :10])
    assert not torch.allclose(a[:, 10:], b[:, 10:])
    wanted = r"expected inputs \(N, T\) with 1 <= T <= 16, got \(2, 17\)"
    with pytest.raises(ValueError, match=wanted):
        model(torch.zeros(2, 17, dtype=torch.long))
    task = make_task("shakespeare", seq_len=16)
    built = build_model(task, ModelConfig(cell="transformer", hidden_size=128, num_layers=1))
    assert isinstance(built, CharTransformer)
    assert built.blocks[0].attention.num_heads == 2  # one head per 64 features


def test_stateful_batches_continue_each_stream() -> None:
    task = make_task("shakespeare", seq_len=8, layout="contiguous")
    data = task.generate(70, seed=1)
    got = list(stateful_batches(data, 4))
    assert len(got) == 70 // 4
    for (_, t0), (x1, _) in itertools.pairwise(got):
        assert torch.equal(t0[:, -1], x1[:, 0])  # row b of batch i+1 continues row b of batch i


def test_fit_stops_on_its_cpu_budget_and_counts_cpu_seconds() -> None:
    task = make_task("shakespeare", seq_len=16)
    model = build_model(task, ModelConfig(cell="torch-gru", hidden_size=16, embedding_size=8))
    data = task.generate(64, seed=0)
    history = fit(model, task, data, data, epochs=10_000, batch_size=8, max_cpu_seconds=0.5)
    assert history.stop_reason == "max_cpu_seconds"
    assert len(history.cpu_seconds) == len(history) < 10_000
    assert history.cpu_seconds[-1] >= 0.5
    assert history.cpu_seconds == sorted(history.cpu_seconds)


def test_a_stateful_run_resumes_as_if_never_stopped(tmp_path: pytest.TempPathFactory) -> None:
    task = make_task("shakespeare", seq_len=16, layout="contiguous")
    data = task.generate(64, seed=0)
    config = TrainConfig(epochs=3, batch_size=8, lr=1e-2, carry_state=True)

    def model() -> torch.nn.Module:
        torch.manual_seed(0)
        return build_model(task, ModelConfig(cell="torch-lstm", hidden_size=16, embedding_size=8))

    straight = model()
    whole = fit(straight, task, data, data, config)

    def stop_at_2(history: object) -> None:
        if len(history) == 2:  # type: ignore[arg-type]
            raise KeyboardInterrupt

    checkpoint = tmp_path / "run.pt"  # type: ignore[operator]
    interrupted = model()
    with pytest.raises(KeyboardInterrupt):
        fit(interrupted, task, data, data, config, [stop_at_2], checkpoint=checkpoint)
    resumed = model()
    history = fit(resumed, task, data, data, config, checkpoint=checkpoint)
    assert history.train_loss == whole.train_loss
    for a, b in zip(resumed.state_dict().values(), straight.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert history.cpu_seconds[0] <= history.cpu_seconds[-1]


def test_carrying_the_state_changes_training() -> None:
    task = make_task("shakespeare", seq_len=16, layout="contiguous")
    data = task.generate(64, seed=0)
    losses = {}
    for carry in (False, True):
        torch.manual_seed(0)
        model = build_model(task, ModelConfig(cell="torch-gru", hidden_size=16, embedding_size=8))
        losses[carry] = fit(model, task, data, epochs=2, batch_size=8, carry_state=carry)
    assert losses[True].train_loss != losses[False].train_loss


def test_carry_state_needs_a_recurrent_model() -> None:
    task = make_task("shakespeare", seq_len=16)
    model = build_model(task, ModelConfig(cell="transformer", hidden_size=32, num_layers=1))
    data = task.generate(16, seed=0)
    with pytest.raises(ValueError, match=r"carry_state needs a model with \.run"):
        fit(model, task, data, epochs=1, batch_size=8, carry_state=True)
    with pytest.raises(ValueError, match="expected max_cpu_seconds > 0, got -1"):
        TrainConfig(max_cpu_seconds=-1)


def test_the_study_reads_finished_runs_only(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RNNBOOK_RESULTS", str(tmp_path))
    config = RunConfig(
        task="shakespeare",
        task_options={"seq_len": 16, "layout": "contiguous"},
        model=ModelConfig(cell="torch-gru", hidden_size=16, embedding_size=8),
        train=TrainConfig(epochs=2, batch_size=8),
        train_samples=32,
        val_samples=16,
        test_samples=16,
    )
    train_run(config, tmp_path / "lm-gru-s0")  # type: ignore[operator]
    (tmp_path / ".lm-gru-s1.partial").mkdir()  # type: ignore[operator]  # unfinished: not read
    runs = finished_runs("gru")
    assert [run.config.train.seed for run in runs] == [0]
    row = run_row(runs[0])
    assert row["steps"] == 2 * 32 // 8
    assert row["characters"] == row["steps"] * 8 * 16
    assert row["bits"] == pytest.approx(row["loss"] / math.log(2))
    assert row["perplexity"] == pytest.approx(math.exp(row["loss"]))
    assert row["cpu_seconds"] > 0
    summary = arm_summary(runs)
    assert summary["seeds"] == 1
    assert summary["mean"] == summary["low"] == row["loss"]
    assert finished_runs("lstm") == []
    assert lr_grid("gru") is None
    assert row["val_loss"] == min(runs[0].history.val_loss)
    ax = plot_loss_vs_cpu({"GRU": runs})
    assert len(ax.lines) == 1
    plt.close(ax.figure)
    ax = plot_loss_vs_cpu({"GRU": runs}, train=True)
    assert len(ax.lines) == 2
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="expected an arm of"):
        finished_runs("lstm2")
    with pytest.raises(ValueError, match="expected at least one run"):
        arm_summary([])


def test_stream_loss_reads_each_stream_as_one_pass() -> None:
    from torch.nn import functional as F

    from rnnbook.models.charlm import stream_loss

    torch.manual_seed(0)
    model = build_lm(16, ModelConfig(cell="torch-lstm", hidden_size=16, embedding_size=8))
    ids = torch.randint(0, 65, (101,))
    with torch.no_grad():
        whole = [model.run(ids[None, s * 50 : s * 50 + 50])[0][0] for s in range(2)]
        targets = torch.cat([ids[1:51], ids[51:101]])
        expected = float(F.cross_entropy(torch.cat(whole), targets))
    assert stream_loss(model, ids, streams=2, chunk_len=7) == pytest.approx(expected, rel=1e-5)
    transformer = build_lm(16, ModelConfig(cell="transformer", hidden_size=32))
    with pytest.raises(ValueError, match="expected a recurrent model"):
        stream_loss(transformer, ids)
    with pytest.raises(ValueError, match="expected at least 17 characters, got 5"):
        stream_loss(model, ids[:5])
