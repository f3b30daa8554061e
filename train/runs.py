"""An MLP (or teacher) run on disk: its records, the finished run (``checkpoint.pt``), progress.

``EpochLog`` and ``TrainResult`` are what ``train.trainer.train`` returns; ``save_run`` writes
them with the weights into a run folder and ``load_run`` reads them back, model and all.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from train.model import build_model
from train.recipes import TrainConfig

CHECKPOINT_NAME = "checkpoint.pt"
CONFIG_NAME = "config.json"
#: The state of a run in progress, written after every epoch; fitting again into the same
#: folder goes on from it (deleted once the run is saved).
PROGRESS_NAME = "progress.pt"


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


def save_run(result: TrainResult, run_dir: Path, dataset_sha256: dict[str, str]) -> Path:
    """Save the trained model and everything needed to evaluate and export it; return the path."""
    run_dir.mkdir(parents=True, exist_ok=True)
    payload: dict[str, Any] = {
        "state_dict": result.model.state_dict(),
        "config": result.config.to_dict(),
        "history": [dataclasses.asdict(log) for log in result.history],
        "best_epoch": result.best_epoch,
        "val_accuracy": result.val_accuracy,
        "temperature": result.temperature,
        "seconds": result.seconds,
        "dataset_sha256": dataset_sha256,
    }
    path = run_dir / CHECKPOINT_NAME
    torch.save(payload, path)
    (run_dir / CONFIG_NAME).write_text(result.config.to_json() + "\n")
    return path


def load_run(run_dir: Path) -> tuple[TrainResult, dict[str, str]]:
    """Load a run saved by ``save_run``: the result (model in eval mode) and the data set hashes."""
    path = run_dir / CHECKPOINT_NAME if run_dir.is_dir() else run_dir
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no checkpoint here; train one with `python -m train fit`")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    config = TrainConfig.from_dict(payload["config"])
    model = build_model(config.model, config.hidden_units, config.dropout)
    model.load_state_dict(payload["state_dict"])
    model.eval()
    result = TrainResult(
        model=model,
        config=config,
        history=[EpochLog(**log) for log in payload["history"]],
        best_epoch=payload["best_epoch"],
        val_accuracy=payload["val_accuracy"],
        temperature=payload["temperature"],
        seconds=payload["seconds"],
    )
    return result, dict(payload["dataset_sha256"])
