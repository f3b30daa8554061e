"""The teacher's view of the training set: fixed distorted views and their logits, cached.

Distillation needs the teacher's answer on exactly the image the student sees. Running the
teacher on every fresh batch would triple the cost of an epoch, so ``teacher_views`` computes it
once: ``views`` versions of every training image (the clean image, then ``views - 1`` distorted
by the student's ``AugmentConfig`` from the student's seed), kept as uint8 pixels with the
teacher's float16 logits. The cache lives in the teacher's run folder, named by the number of
views, the seed and a hash of everything that shaped it, so a changed recipe never reads stale
views.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from train.augment import Augmenter
from train.model import images_to_tensor, predict_logits
from train.recipes import TrainConfig
from train.runs import CHECKPOINT_NAME, load_run


@dataclass(frozen=True)
class TeacherViews:
    """``views`` versions of each training image and the teacher's logits on each."""

    pixels: torch.Tensor  # uint8 [views, N, 784]
    logits: torch.Tensor  # float16 [views, N, 10]


def _key(config: TrainConfig, teacher_checkpoint: Path, train_images: np.ndarray) -> str:
    assert config.distill is not None
    parts = {
        "views": config.distill.views,
        "seed": config.seed,
        "augment": None if config.augment is None else config.augment.__dict__,
        "teacher": hashlib.sha256(teacher_checkpoint.read_bytes()).hexdigest(),
        "images": hashlib.sha256(np.ascontiguousarray(train_images).tobytes()).hexdigest(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def teacher_views(config: TrainConfig, train_images: np.ndarray) -> TeacherViews:
    """Load the cached views of ``config.distill.teacher``, computing and saving them if absent."""
    assert config.distill is not None
    teacher_dir = Path(config.distill.teacher)
    checkpoint = teacher_dir / CHECKPOINT_NAME
    key = _key(config, checkpoint, train_images)
    path = teacher_dir / f"views{config.distill.views}-seed{config.seed}-{key}.pt"
    if path.is_file():
        cached = torch.load(path, weights_only=True)
        return TeacherViews(pixels=cached["pixels"], logits=cached["logits"])

    teacher, _ = load_run(teacher_dir)
    clean = images_to_tensor(train_images)
    generator = torch.Generator().manual_seed(config.seed + 7_919)
    augment = Augmenter(config.augment, generator) if config.augment is not None else None
    pixels = torch.empty((config.distill.views, *clean.shape), dtype=torch.uint8)
    logits = torch.empty((config.distill.views, len(clean), 10), dtype=torch.float16)
    for view in range(config.distill.views):
        images = clean if view == 0 or augment is None else augment(clean)
        quantised = (images.clamp(0, 1) * 255).round().to(torch.uint8)
        pixels[view] = quantised
        logits[view] = predict_logits(teacher.model, quantised.float() / 255.0).half()
    torch.save({"pixels": pixels, "logits": logits}, path)
    return TeacherViews(pixels=pixels, logits=logits)
