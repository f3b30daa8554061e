"""The line reader trains (its CTC loss falls) and a stopped run goes on to the same weights."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from train.data import MnistData
from train.lines import LineSet
from train.reader_measure import digit_line_set
from train.reader_runs import StepLog, load_reader_run, save_reader_run
from train.reader_trainer import train_reader
from train.recipes import READER_QUICK, ReaderConfig

pytestmark = [pytest.mark.mnist, pytest.mark.slow]


class StopError(Exception):
    """Raised from ``on_measure`` to stop a run as a kill would."""


@pytest.fixture(scope="module")
def few_val_lines(mnist: MnistData) -> LineSet:
    return digit_line_set("validation", mnist, 32)


def test_the_quick_recipe_trains_and_its_loss_falls(
    mnist: MnistData, few_val_lines: LineSet, tmp_path: Path
) -> None:
    config = dataclasses.replace(READER_QUICK, steps=120, eval_every=40)
    result = train_reader(config, mnist, val_lines=few_val_lines)
    losses = [log.train_loss for log in result.history]
    assert [log.step for log in result.history] == [40, 80, 120]
    assert losses[-1] < 0.5 * losses[0], losses
    save_reader_run(result, tmp_path, mnist.sha256)
    loaded, hashes = load_reader_run(tmp_path)
    assert hashes == mnist.sha256
    assert loaded.config == config
    for name, tensor in result.model.state_dict().items():
        assert torch.equal(tensor, loaded.model.state_dict()[name]), name


def test_a_stopped_run_goes_on_to_the_same_weights(
    mnist: MnistData, few_val_lines: LineSet, tmp_path: Path
) -> None:
    config: ReaderConfig = dataclasses.replace(
        READER_QUICK, steps=30, eval_every=10, save_every=10, batch_size=8
    )
    whole = train_reader(config, mnist, val_lines=few_val_lines, prefetch=False)

    def stop_at_twenty(log: StepLog) -> None:
        if log.step == 20:
            raise StopError

    progress = tmp_path / "progress.pt"
    with pytest.raises(StopError):
        train_reader(config, mnist, stop_at_twenty, progress, val_lines=few_val_lines)
    resumed = train_reader(config, mnist, progress=progress, val_lines=few_val_lines)
    assert [log.step for log in resumed.history] == [10, 20, 30]
    assert resumed.best_step == whole.best_step
    for name, tensor in whole.model.state_dict().items():
        assert torch.equal(tensor, resumed.model.state_dict()[name]), name

    other = dataclasses.replace(config, seed=config.seed + 1)
    with pytest.raises(ValueError, match="another config"):
        train_reader(other, mnist, progress=progress, val_lines=few_val_lines)
