"""The training loop, readable top to bottom: whole data set as one tensor, batches by indexing.

AdamW with a one-cycle schedule, optional on-the-fly batched augmentation, optional distillation
from a teacher's cached views (``train.distill``), optional outlier exposure (synthetic
non-digits, ``train.non_digits``, with a uniform target or a cap on their probabilities), the
best epoch chosen on the validation split, and a softmax temperature fitted on validation at the
end. Deterministic for a given seed and thread count.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F  # noqa: N812 - the usual name
from torch import nn

from train.calibrate import fit_temperature
from train.data import MnistData
from train.model import build_model, exported_weights
from train.progress import resume_progress, write_progress
from train.recipes import TrainConfig

#: Images augmented per call: big enough to amortise the per-op overhead, small enough for cache.
AUGMENT_CHUNK = 2048


@dataclass(frozen=True)
class EpochLog:
    """What one epoch did: mean training loss, validation loss and accuracy, seconds so far."""

    epoch: int
    train_loss: float
    val_loss: float
    val_accuracy: float
    seconds: float


@dataclass
class TrainResult:
    """A trained model (at its best validation epoch) with its history and temperature."""

    model: nn.Module
    config: TrainConfig
    history: list[EpochLog] = field(default_factory=list)
    best_epoch: int = 0
    val_accuracy: float = 0.0
    temperature: float = 1.0
    seconds: float = 0.0


def images_to_tensor(images: npt.NDArray[np.uint8]) -> torch.Tensor:
    """Turn uint8 images [N, 28, 28] into the model's input: float32 [N, 784] in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).reshape(len(images), -1).float() / 255.0


@torch.no_grad()
def predict_logits(model: nn.Module, pixels: torch.Tensor, batch_size: int = 5000) -> torch.Tensor:
    """Return the model's logits for ``pixels`` [N, 784], in eval mode, in large batches."""
    model.eval()
    return torch.cat([model(pixels[i : i + batch_size]) for i in range(0, len(pixels), batch_size)])


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


def save_progress(
    path: Path,
    epoch: int,
    config: TrainConfig,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LRScheduler,
    generator: torch.Generator,
    result: TrainResult,
    best_state: dict[str, Any],
) -> None:
    """Write everything a stopped run needs to go on after ``epoch`` (atomically)."""
    state = {
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
    }
    write_progress(path, state)


def train(
    config: TrainConfig,
    data: MnistData,
    on_epoch: Callable[[EpochLog, Any], None] | None = None,
    progress: Path | None = None,
) -> TrainResult:
    """Train an MLP per ``config`` on ``data.train_*``, choosing the epoch on ``data.val_*``.

    ``on_epoch(log, model)`` is called after every epoch (progress bars, benchmarks). With
    ``progress``, the run's whole state is written there after every epoch, and a run that finds
    the file goes on after its last epoch, with the same numbers as one that was never stopped.
    """
    started = time.perf_counter()
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    # First, so the weights depend on the seed alone (building a teacher draws from torch's RNG).
    model = build_model(config.model, config.hidden_units, config.dropout)
    if config.start_from is not None:
        model.load_state_dict(exported_weights(Path(config.start_from)))

    train_pixels, train_labels = (
        images_to_tensor(data.train_images),
        torch.from_numpy(data.train_labels.astype(np.int64)),
    )
    val_pixels, val_labels = (
        images_to_tensor(data.val_images),
        torch.from_numpy(data.val_labels.astype(np.int64)),
    )
    augment = None
    if config.augment is not None:
        from train.augment import Augmenter  # only augmented recipes pay for building it

        augment = Augmenter(config.augment, generator)
    # Distillation: fixed views of every training image and the teacher's logits on them.
    views = None
    if config.distill is not None:
        from train.distill import teacher_views

        views = teacher_views(config, data.train_images)
    # Outlier exposure: non-digits drawn once from the run's seed, each batch gets a share.
    outliers, per_batch = torch.empty(0, train_pixels.shape[1]), 0
    if config.not_digits is not None:
        from train.non_digits import cached_non_digits

        outliers = cached_non_digits(
            config.not_digits.count,
            config.seed,
            mix=config.not_digits.mix(),
            digits=(data.train_images, data.train_labels),
        )
        per_batch = max(1, round(config.batch_size * config.not_digits.share))

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

    result = TrainResult(model=model, config=config, val_accuracy=-1.0)
    best_state = copy.deepcopy(model.state_dict())
    first_epoch, earlier_seconds = 1, 0.0
    if progress is not None and progress.is_file():  # go on where a stopped run left off
        saved = resume_progress(progress, config.to_dict(), model, optimizer, schedule)
        generator.set_state(saved["generator"])
        torch.set_rng_state(saved["torch_rng"])
        best_state = saved["best_state"]
        result.history = [EpochLog(**log) for log in saved["history"]]
        result.val_accuracy, result.best_epoch = saved["val_accuracy"], saved["best_epoch"]
        first_epoch, earlier_seconds = saved["epoch"] + 1, result.history[-1].seconds
        started -= earlier_seconds
    for epoch in range(first_epoch, config.epochs + 1):
        model.train()
        order = torch.randperm(len(train_pixels), generator=generator)
        epoch_labels, epoch_views, epoch_teacher = train_labels[order], None, None
        if views is not None:  # one of the cached views of each image, and the teacher on it
            chosen = torch.randint(len(views.pixels), (len(order),), generator=generator)
            epoch_views = views.pixels[chosen, order].float() / 255.0
            epoch_teacher = views.logits[chosen, order].float()
        if epoch_views is not None and not (config.distill and config.distill.fresh):
            epoch_pixels = epoch_views  # the labels are learnt on the views themselves
        elif augment is not None:  # in large chunks: far less per-call overhead than per batch
            epoch_pixels = torch.cat(
                [
                    augment(c, y)
                    for c, y in zip(
                        torch.split(train_pixels[order], AUGMENT_CHUNK),
                        torch.split(epoch_labels, AUGMENT_CHUNK),
                        strict=True,
                    )
                ]
            )
        else:
            epoch_pixels = train_pixels[order]
        epoch_outliers = outliers[torch.randperm(len(outliers), generator=generator)]
        if augment is not None and len(epoch_outliers):
            epoch_outliers = torch.cat(
                [augment(c) for c in torch.split(epoch_outliers, AUGMENT_CHUNK)]
            )
        loss_sum = 0.0
        for step, start in enumerate(range(0, len(order), config.batch_size)):
            batch = slice(start, start + config.batch_size)
            pixels, labels = epoch_pixels[batch], epoch_labels[batch]
            # One forward pass: the digits, the views the teacher saw (if they are not the
            # digits themselves), the non-digits.
            parts = [pixels]
            separate_views = epoch_views is not None and epoch_views is not epoch_pixels
            if separate_views and epoch_views is not None:
                parts.append(epoch_views[batch])
            if per_batch:
                first = (step * per_batch) % len(epoch_outliers)
                parts.append(epoch_outliers[first : first + per_batch])
            logits = model(torch.cat(parts)) if len(parts) > 1 else model(pixels)
            pieces = list(torch.split(logits, [len(part) for part in parts]))
            digit_logits = pieces.pop(0)
            view_logits = pieces.pop(0) if separate_views else digit_logits
            other_logits = pieces.pop(0) if per_batch else None
            loss = F.cross_entropy(digit_logits, labels, label_smoothing=config.label_smoothing)
            if epoch_teacher is not None and config.distill is not None:
                teacher = epoch_teacher[batch]
                loss = (1 - config.distill.alpha) * loss + config.distill.alpha * distillation_loss(
                    view_logits, teacher, config.distill.temperature
                )
            if other_logits is not None and config.not_digits is not None:
                loss = loss + config.not_digits.weight * not_digit_loss(
                    other_logits, config.not_digits.loss, config.not_digits.cap
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            schedule.step()
            loss_sum += float(loss.detach()) * len(labels)

        val_logits = predict_logits(model, val_pixels)
        log = EpochLog(
            epoch=epoch,
            train_loss=loss_sum / len(order),
            val_loss=float(F.cross_entropy(val_logits, val_labels)),
            val_accuracy=float((val_logits.argmax(1) == val_labels).double().mean()),
            seconds=time.perf_counter() - started,
        )
        result.history.append(log)
        if log.val_accuracy >= result.val_accuracy:  # ties go to the later (cooler) epoch
            result.val_accuracy, result.best_epoch = log.val_accuracy, epoch
            best_state = copy.deepcopy(model.state_dict())
        if progress is not None:
            save_progress(progress, epoch, config, model, optimizer, schedule, generator, result,
                          best_state)  # fmt: skip
        if on_epoch is not None:
            on_epoch(log, model)

    model.load_state_dict(best_state)
    result.temperature = fit_temperature(predict_logits(model, val_pixels), val_labels)
    result.seconds = time.perf_counter() - started
    return result
