"""Distillation and outlier exposure: the losses, the teacher's cached views, the CNN teacher's
shape, and a student trained on the views with non-digits."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from train.__main__ import app
from train.data import MnistData
from train.distill import teacher_views
from train.model import MLP, TeacherCNN, build_model, images_to_tensor, predict_logits
from train.recipes import DistillConfig, NotDigitConfig, TrainConfig, get_recipe
from train.runs import TrainResult, load_run, save_run
from train.trainer import distillation_loss, not_digit_loss, train


def test_distillation_loss_is_zero_only_when_the_student_matches() -> None:
    teacher = torch.randn(16, 10)
    assert float(distillation_loss(teacher.clone(), teacher, 2.0)) == pytest.approx(0.0, abs=1e-6)
    assert float(distillation_loss(torch.zeros(16, 10), teacher, 2.0)) > 0.0


def test_models_take_the_same_input_and_give_logits() -> None:
    pixels = torch.rand(3, 784)
    assert build_model("mlp")(pixels).shape == (3, 10)
    assert build_model("cnn")(pixels).shape == (3, 10)
    assert isinstance(build_model("mlp"), MLP)
    assert isinstance(build_model("cnn"), TeacherCNN)
    with pytest.raises(ValueError, match="unknown model kind"):
        build_model("transformer")


def test_teacher_views_are_cached_and_reproducible(tmp_path: Path) -> None:
    torch.manual_seed(0)
    teacher_config = dataclasses.replace(get_recipe("teacher"), epochs=0)
    teacher = TrainResult(model=build_model("cnn").eval(), config=teacher_config)
    save_run(teacher, tmp_path / "teacher", {})
    config: TrainConfig = dataclasses.replace(
        get_recipe("distill"), distill=DistillConfig(teacher=str(tmp_path / "teacher"), views=3)
    )
    images = (np.random.default_rng(0).random((40, 28, 28)) * 255).astype(np.uint8)
    first = teacher_views(config, images)
    assert first.pixels.shape == (3, 40, 784)
    assert first.logits.shape == (3, 40, 10)
    assert torch.equal(first.pixels[0], torch.from_numpy(images.reshape(40, 784)))  # clean view
    assert not torch.equal(first.pixels[1], first.pixels[0])  # distorted views
    reloaded, _ = load_run(tmp_path / "teacher")
    expected = predict_logits(reloaded.model, first.pixels[2].float() / 255.0)
    assert torch.allclose(first.logits[2].float(), expected, atol=1e-2)
    assert len(list((tmp_path / "teacher").glob("views3-seed0-*.pt"))) == 1
    again = teacher_views(config, images)  # from the cache
    assert torch.equal(again.pixels, first.pixels)
    assert torch.equal(again.logits, first.logits)
    other = teacher_views(dataclasses.replace(config, seed=1), images)
    assert not torch.equal(other.pixels[1], first.pixels[1])
    assert images_to_tensor(images).shape == (40, 784)


def test_not_digit_losses() -> None:
    flat = torch.zeros(4, 10)  # every probability 0.1
    confident = torch.zeros(4, 10)
    confident[:, 3] = 10.0
    assert float(not_digit_loss(flat, "uniform", 0.2)) == pytest.approx(math.log(10), rel=1e-5)
    assert float(not_digit_loss(confident, "uniform", 0.2)) > math.log(10)
    assert float(not_digit_loss(flat, "cap", 0.2)) == 0.0  # below the cap: nothing to learn
    assert float(not_digit_loss(confident, "cap", 0.2)) == pytest.approx(
        math.log(1 / 0.2), abs=1e-3
    )  # only the confident digit is penalised, by log(p / cap)
    with pytest.raises(ValueError, match="unknown non-digit loss"):
        not_digit_loss(flat, "energy", 0.2)


@pytest.mark.parametrize("fresh", [True, False])
def test_a_student_trains_on_the_views_with_non_digits(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mnist_subset: MnistData,
    fresh: bool,
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the non-digits' cache
    torch.manual_seed(0)
    teacher_config = dataclasses.replace(get_recipe("teacher"), epochs=0)
    teacher = TrainResult(model=build_model("cnn").eval(), config=teacher_config)
    save_run(teacher, tmp_path / "t", {})
    data = dataclasses.replace(
        mnist_subset,
        train_images=mnist_subset.train_images[:512],
        train_labels=mnist_subset.train_labels[:512],
    )
    config = dataclasses.replace(
        get_recipe("distill"),
        epochs=1,
        distill=DistillConfig(teacher=str(tmp_path / "t"), views=2, fresh=fresh),
        not_digits=NotDigitConfig(count=64, loss="cap", cap=0.25, weight=1.0),
    )
    result = train(config, data)
    assert len(result.history) == 1
    assert math.isfinite(result.history[0].train_loss)
    assert result.history[0].train_loss > 0.0
    assert isinstance(result.model, MLP)


def test_fit_without_its_teacher_says_how_to_train_it(
    mnist_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the recipe's teacher folder, runs/teacher-seed0, is not here
    fitted = CliRunner().invoke(
        app, ["fit", "--recipe", "distill", "--epochs", "1", "--data-dir", str(mnist_dir)]
    )
    assert fitted.exit_code == 1
    assert "python -m train fit --recipe teacher" in fitted.output
    assert not (tmp_path / "runs" / "distill-seed0").exists()


def test_a_distill_config_survives_its_json() -> None:
    config = dataclasses.replace(
        get_recipe("distill"),
        distill=DistillConfig(alpha=0.5, fresh=False),
        not_digits=NotDigitConfig(loss="cap", cap=0.25, weight=0.5),
    )
    assert TrainConfig.from_dict(config.to_dict()) == config
