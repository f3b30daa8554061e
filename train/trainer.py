"""The MLP's training loop, read top to bottom: its helpers, then ``train`` and its loop.

The helpers come in call order (the losses, one epoch's inputs, one batch's loss); ``train``
sets up (seeds, model, data, optimiser) and loops over the epochs. The whole data set is one
tensor and a batch is a slice of it. AdamW with a one-cycle schedule, optional on-the-fly
batched augmentation (``train.augment``), optional distillation from a teacher's cached views
(``train.distill``), optional outlier exposure (synthetic non-digits, ``train.non_digits``, with
a uniform target or a cap on their probabilities), the best epoch chosen on the validation
split, and a softmax temperature fitted on validation at the end. Deterministic for a given
seed and thread count.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 - the usual name
from torch import nn

from train.augment import Augmenter
from train.calibrate import fit_temperature
from train.data import MnistData
from train.distill import TeacherViews, teacher_views
from train.model import build_model, exported_weights, images_to_tensor, predict_logits
from train.non_digits import cached_non_digits
from train.progress import resume_progress, write_progress
from train.recipes import TrainConfig
from train.runs import EpochLog, TrainResult


def distillation_loss(
    student: torch.Tensor, teacher: torch.Tensor, temperature: float
) -> torch.Tensor:
    """T^2 x KL(softmax(teacher / T) || softmax(student / T)), averaged over the batch."""
    target = torch.log_softmax(teacher / temperature, dim=1)
    log_student = torch.log_softmax(student / temperature, dim=1)
    kl = F.kl_div(log_student, target, log_target=True, reduction="batchmean")
    return kl * temperature**2


def not_digit_loss(logits: torch.Tensor, kind: str, cap: float) -> torch.Tensor:
    """Return the loss on a batch of non-digits' logits.

    "uniform": the cross-entropy to the uniform distribution (the mean negative log-probability).
    "cap": the sum over the digits of max(0, log p - log cap), averaged over the batch.
    """
    log_probabilities = torch.log_softmax(logits, dim=1)
    if kind == "uniform":
        return -log_probabilities.mean()
    if kind == "cap":
        return torch.relu(log_probabilities - math.log(cap)).sum(dim=1).mean()
    raise ValueError(f"unknown non-digit loss {kind!r}: uniform or cap")


@dataclass(frozen=True)
class EpochInputs:
    """One epoch's training inputs in the epoch's order: batch ``k`` is a slice of each."""

    pixels: torch.Tensor  # float32 [N, 784]: the digits whose labels are learnt
    labels: torch.Tensor  # int64 [N]
    views: torch.Tensor | None  # float32 [N, 784]: what the teacher saw, when not ``pixels``
    teacher: torch.Tensor | None  # float32 [N, 10]: the teacher's logits on its views
    outliers: torch.Tensor  # float32 [M, 784]: the non-digits, shuffled (and distorted)
    outliers_per_batch: int  # non-digits in each batch's forward pass (0: none)

    def outlier_batch(self, step: int) -> torch.Tensor:
        """Return batch ``step``'s non-digits: the next share, wrapping around (maybe none)."""
        if not self.outliers_per_batch:
            return self.outliers[:0]
        first = (step * self.outliers_per_batch) % len(self.outliers)
        return self.outliers[first : first + self.outliers_per_batch]


def epoch_inputs(
    config: TrainConfig,
    pixels: torch.Tensor,
    labels: torch.Tensor,
    generator: torch.Generator,
    augment: Augmenter | None,
    views: TeacherViews | None,
    outliers: torch.Tensor,
) -> EpochInputs:
    """Draw one epoch's inputs from ``generator``: order, teacher views, distortions, non-digits."""
    order = torch.randperm(len(pixels), generator=generator)
    epoch_labels, epoch_views, teacher = labels[order], None, None
    if views is not None:  # one of the cached views of each image, and the teacher on it
        chosen = torch.randint(len(views.pixels), (len(order),), generator=generator)
        epoch_views = views.pixels[chosen, order].float() / 255.0
        teacher = views.logits[chosen, order].float()
    if epoch_views is not None and not (config.distill and config.distill.fresh):
        epoch_pixels, epoch_views = epoch_views, None  # the labels are learnt on the views
    elif augment is not None:
        epoch_pixels = augment(pixels[order], epoch_labels)
    else:
        epoch_pixels = pixels[order]
    epoch_outliers = outliers[torch.randperm(len(outliers), generator=generator)]
    if augment is not None and len(epoch_outliers):
        epoch_outliers = augment(epoch_outliers)
    per_batch = 0
    if config.not_digits is not None:
        per_batch = max(1, round(config.batch_size * config.not_digits.share))
    return EpochInputs(epoch_pixels, epoch_labels, epoch_views, teacher, epoch_outliers, per_batch)


def batch_loss(
    model: nn.Module, config: TrainConfig, inputs: EpochInputs, rows: slice, outliers: torch.Tensor
) -> torch.Tensor:
    """Return the loss of the digits in ``rows`` and of ``outliers``, from one forward pass.

    The pass scores the digits, the views the teacher saw (when they are not the digits) and the
    non-digits: cross-entropy on the labels, blended with distillation, plus the non-digit loss.
    """
    parts = {"digits": inputs.pixels[rows]}
    if inputs.views is not None:
        parts["views"] = inputs.views[rows]
    if len(outliers):
        parts["outliers"] = outliers
    stacked = torch.cat(list(parts.values())) if len(parts) > 1 else parts["digits"]
    sizes = [len(part) for part in parts.values()]
    logits = dict(zip(parts, torch.split(model(stacked), sizes), strict=True))

    loss = F.cross_entropy(
        logits["digits"], inputs.labels[rows], label_smoothing=config.label_smoothing
    )
    if inputs.teacher is not None and config.distill is not None:
        distill = config.distill
        student = logits.get("views", logits["digits"])
        loss = (1 - distill.alpha) * loss + distill.alpha * distillation_loss(
            student, inputs.teacher[rows], distill.temperature
        )
    if "outliers" in logits and config.not_digits is not None:
        not_digits = config.not_digits
        loss = loss + not_digits.weight * not_digit_loss(
            logits["outliers"], not_digits.loss, not_digits.cap
        )
    return loss


def train(
    config: TrainConfig,
    data: MnistData,
    on_epoch: Callable[[EpochLog, Any], None] | None = None,
    progress: Path | None = None,
) -> TrainResult:
    """Train a model per ``config`` on ``data.train_*``, choosing the epoch on ``data.val_*``.

    ``on_epoch(log, model)`` is called after every epoch (progress bars, benchmarks). With
    ``progress``, the run's whole state is written there after every epoch, and a run that finds
    the file goes on after its last epoch, with the same numbers as one that was never stopped.
    """
    # Settings: the thread count and the seed fix every number of the run.
    started = time.perf_counter()
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)

    # The model first, so its weights depend on the seed alone (a teacher draws from torch's RNG).
    model = build_model(config.model, config.hidden_units, config.dropout)
    if config.start_from is not None:
        model.load_state_dict(exported_weights(Path(config.start_from)))

    # The data as whole tensors: a batch is a slice.
    train_pixels = images_to_tensor(data.train_images)
    train_labels = torch.from_numpy(data.train_labels.astype(np.int64))
    val_pixels = images_to_tensor(data.val_images)
    val_labels = torch.from_numpy(data.val_labels.astype(np.int64))

    # What each epoch draws from: the distortions, the teacher's fixed views (and its logits on
    # them), the non-digits (drawn once from the run's seed).
    augment = Augmenter(config.augment, generator) if config.augment is not None else None
    views = teacher_views(config, data.train_images) if config.distill is not None else None
    outliers = torch.empty(0, train_pixels.shape[1])
    if config.not_digits is not None:
        outliers = cached_non_digits(
            config.not_digits.count,
            config.seed,
            mix=config.not_digits.mix(),
            digits=(data.train_images, data.train_labels),
        )

    # AdamW with a one-cycle schedule over every step of every epoch.
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    steps_per_epoch = math.ceil(len(train_pixels) / config.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer,
        max_lr=config.learning_rate,
        total_steps=config.epochs * steps_per_epoch,
        pct_start=config.warmup_fraction,
    )

    # Go on where a stopped run left off, if its progress file is there.
    result = TrainResult(model=model, config=config, val_accuracy=-1.0)
    best_state = copy.deepcopy(model.state_dict())
    first_epoch = 1
    if progress is not None and progress.is_file():
        saved = resume_progress(progress, config.to_dict(), model, optimizer, schedule)
        generator.set_state(saved["generator"])
        torch.set_rng_state(saved["torch_rng"])
        best_state = saved["best_state"]
        result.history = [EpochLog(**log) for log in saved["history"]]
        result.val_accuracy, result.best_epoch = saved["val_accuracy"], saved["best_epoch"]
        first_epoch = saved["epoch"] + 1
        started -= result.history[-1].seconds

    for epoch in range(first_epoch, config.epochs + 1):
        # This epoch's order, teacher views, distortions and non-digits.
        inputs = epoch_inputs(
            config, train_pixels, train_labels, generator, augment, views, outliers
        )

        # Each batch: one forward pass, its loss, one step of the optimiser and the schedule.
        model.train()
        loss_sum = 0.0
        for step, first in enumerate(range(0, len(inputs.labels), config.batch_size)):
            rows = slice(first, first + config.batch_size)
            loss = batch_loss(model, config, inputs, rows, inputs.outlier_batch(step))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            schedule.step()
            loss_sum += float(loss.detach()) * len(inputs.labels[rows])

        # Evaluate on the validation split.
        val_logits = predict_logits(model, val_pixels)
        log = EpochLog(
            epoch=epoch,
            train_loss=loss_sum / len(inputs.labels),
            val_loss=float(F.cross_entropy(val_logits, val_labels)),
            val_accuracy=float((val_logits.argmax(1) == val_labels).double().mean()),
            seconds=time.perf_counter() - started,
        )
        result.history.append(log)

        # Keep the best epoch's weights; ties go to the later (cooler) epoch.
        if log.val_accuracy >= result.val_accuracy:
            result.val_accuracy, result.best_epoch = log.val_accuracy, epoch
            best_state = copy.deepcopy(model.state_dict())

        # Save the run's whole state, so a stopped run goes on from here.
        if progress is not None:
            write_progress(progress, {
                "epoch": epoch,
                "config": config.to_dict(),
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "schedule": schedule.state_dict(),
                "generator": generator.get_state(),
                "torch_rng": torch.get_rng_state(),
                "best_state": best_state,
                "history": [dataclasses.asdict(log) for log in result.history],
                "val_accuracy": result.val_accuracy,
                "best_epoch": result.best_epoch,
            })  # fmt: skip
        if on_epoch is not None:
            on_epoch(log, model)

    # The best epoch's weights, and the softmax temperature fitted on validation.
    model.load_state_dict(best_state)
    result.temperature = fit_temperature(predict_logits(model, val_pixels), val_labels)
    result.seconds = time.perf_counter() - started
    return result
