"""A line-reader run on disk: its records, the finished run (``reader.pt``), the progress file."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from train.model import LineReader
from train.recipes import ReaderConfig

READER_CHECKPOINT_NAME = "reader.pt"
READER_CONFIG_NAME = "config.json"
#: The state of a run in progress, written every ``save_every`` steps; fitting again into the
#: same folder goes on from it.
READER_PROGRESS_NAME = "progress.pt"


@dataclass(frozen=True)
class StepLog:
    """One measurement: mean CTC loss since the last one, validation lines read right, time."""

    step: int
    train_loss: float
    val_sequence_accuracy: float
    seconds: float


@dataclass
class ReaderResult:
    """A trained line reader (at its best validation step) with its history."""

    model: LineReader
    config: ReaderConfig
    history: list[StepLog] = field(default_factory=list)
    best_step: int = 0
    val_sequence_accuracy: float = 0.0
    seconds: float = 0.0


def build_reader(config: ReaderConfig) -> LineReader:
    """Return a fresh line reader of ``config``'s shape."""
    return LineReader(config.channels, config.recurrent)


def save_reader_run(result: ReaderResult, run_dir: Path, dataset_sha256: dict[str, str]) -> Path:
    """Save the trained reader and everything evaluation and export need; return the path."""
    run_dir.mkdir(parents=True, exist_ok=True)
    payload: dict[str, Any] = {
        "state_dict": result.model.state_dict(),
        "config": result.config.to_dict(),
        "history": [dataclasses.asdict(log) for log in result.history],
        "best_step": result.best_step,
        "val_sequence_accuracy": result.val_sequence_accuracy,
        "seconds": result.seconds,
        "dataset_sha256": dataset_sha256,
    }
    path = run_dir / READER_CHECKPOINT_NAME
    torch.save(payload, path)
    (run_dir / READER_CONFIG_NAME).write_text(result.config.to_json() + "\n")
    return path


def load_reader_run(run_dir: Path) -> tuple[ReaderResult, dict[str, str]]:
    """Load a run saved by ``save_reader_run``: the result (model in eval mode), data set hashes."""
    path = run_dir / READER_CHECKPOINT_NAME if run_dir.is_dir() else run_dir
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no line-reader checkpoint here; train one with `python -m train fit-reader`"
        )
    payload = torch.load(path, map_location="cpu", weights_only=True)
    config = ReaderConfig.from_dict(payload["config"])
    model = build_reader(config)
    model.load_state_dict(payload["state_dict"])
    model.eval()
    result = ReaderResult(
        model=model,
        config=config,
        history=[StepLog(**log) for log in payload["history"]],
        best_step=payload["best_step"],
        val_sequence_accuracy=payload["val_sequence_accuracy"],
        seconds=payload["seconds"],
    )
    return result, dict(payload["dataset_sha256"])
