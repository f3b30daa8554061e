"""A stopped run goes on from its last epoch to the same weights; a run can start from an export."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from train.data import MnistData
from train.model import MLP, exported_weights, images_to_tensor
from train.recipes import AugmentConfig, StyleConfig, TrainConfig
from train.runs import EpochLog
from train.trainer import train

BASE_MODEL = Path(__file__).resolve().parents[2] / "models" / "best-seed0.onnx"


class StopError(Exception):
    """Raised from ``on_epoch`` to stop a run as a kill would."""


@pytest.mark.slow
def test_a_stopped_run_goes_on_to_the_same_weights(
    mnist_subset: MnistData, tiny_config: TrainConfig, tmp_path: Path
) -> None:
    config = dataclasses.replace(
        tiny_config, augment=AugmentConfig(styles=StyleConfig(pen=0.2)), threads=1
    )
    whole = train(config, mnist_subset)

    def stop_after_two(log: EpochLog, _: object) -> None:
        if log.epoch == 2:
            raise StopError

    progress = tmp_path / "progress.pt"
    with pytest.raises(StopError):
        train(config, mnist_subset, on_epoch=stop_after_two, progress=progress)
    assert progress.is_file()
    resumed = train(config, mnist_subset, progress=progress)
    assert [log.epoch for log in resumed.history] == [1, 2, 3]
    assert resumed.best_epoch == whole.best_epoch
    for name, tensor in whole.model.state_dict().items():
        assert torch.equal(tensor, resumed.model.state_dict()[name]), name

    other = dataclasses.replace(config, seed=config.seed + 1)
    with pytest.raises(ValueError, match="another config"):
        train(other, mnist_subset, progress=progress)


def test_exported_weights_give_the_exported_probabilities(mnist: MnistData) -> None:
    from mnist_infer import Classifier

    model = MLP()
    model.load_state_dict(exported_weights(BASE_MODEL))
    pixels = images_to_tensor(mnist.val_images[:200])
    with torch.no_grad():
        ours = torch.softmax(model(pixels), dim=1).numpy()
    sdk = Classifier(BASE_MODEL, shift_views=False).predict_proba(mnist.val_images[:200])
    assert np.allclose(ours, sdk, atol=1e-5)
