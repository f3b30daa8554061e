"""A stopped run's state on disk: written atomically, and read back only into the same config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn


def write_progress(path: Path, state: dict[str, Any]) -> None:
    """Write a run's state (weights, optimiser, schedule, records) atomically."""
    partial = path.with_name(path.name + ".partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, partial)
    partial.replace(path)


def resume_progress(
    path: Path,
    config: dict[str, Any],
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LRScheduler,
) -> dict[str, Any]:
    """Load the state at ``path`` into model, optimiser and schedule; return it for the rest.

    Raises ``ValueError`` when the state was written by a run of another config.
    """
    saved: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=False)
    if saved["config"] != config:
        raise ValueError(f"{path} belongs to another config; delete it to start afresh")
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    schedule.load_state_dict(saved["schedule"])
    return saved
