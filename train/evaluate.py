"""Metrics, tables, figures and the JSON report of a trained model on validation and test.

Accuracy, per-digit precision and recall, the confusion matrix (a rich table and a PNG heatmap),
calibration (ECE before and after the fitted temperature), a PNG grid of the misclassified test
digits, and the training curves.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from rich import box
from rich.table import Table

from mnist_infer.contract import IMAGE_SIDE, NUM_CLASSES
from train.calibrate import ECE_BINS, expected_calibration_error
from train.data import MnistData
from train.model import images_to_tensor, predict_logits
from train.runs import EpochLog, TrainResult

REPORT_NAME = "report.json"
CONFUSION_PNG = "confusion-matrix.png"
MISCLASSIFIED_PNG = "misclassified.png"
CURVES_PNG = "training-curves.png"


@dataclass(frozen=True)
class Metrics:
    """Scores of calibrated probabilities against labels on one split."""

    images: int
    accuracy: float
    errors: int
    ece: float
    ece_uncalibrated: float
    precision: list[float]
    recall: list[float]
    confusion: list[list[int]]  # rows: true digit, columns: predicted digit


def confusion_matrix(
    labels: npt.NDArray[np.integer], predicted: npt.NDArray[np.integer]
) -> npt.NDArray[np.int64]:
    """Return the 10x10 counts: rows are true digits, columns predicted digits."""
    return np.bincount(labels * NUM_CLASSES + predicted, minlength=NUM_CLASSES**2).reshape(
        NUM_CLASSES, NUM_CLASSES
    )


def score(
    logits: torch.Tensor, labels: npt.NDArray[np.integer], temperature: float
) -> tuple[Metrics, npt.NDArray[np.float32]]:
    """Score ``logits`` (softmax at ``temperature``) on ``labels``; also return probabilities."""
    probabilities = torch.softmax(logits / temperature, dim=1).numpy()
    raw = torch.softmax(logits, dim=1).numpy()
    predicted = probabilities.argmax(1)
    matrix = confusion_matrix(labels.astype(np.int64), predicted)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.nan_to_num(np.diag(matrix) / matrix.sum(axis=0))
        recall = np.nan_to_num(np.diag(matrix) / matrix.sum(axis=1))
    metrics = Metrics(
        images=len(labels),
        accuracy=float((predicted == labels).mean()),
        errors=int((predicted != labels).sum()),
        ece=expected_calibration_error(probabilities, labels),
        ece_uncalibrated=expected_calibration_error(raw, labels),
        precision=[round(float(v), 5) for v in precision],
        recall=[round(float(v), 5) for v in recall],
        confusion=matrix.tolist(),
    )
    return metrics, probabilities


def per_digit_table(metrics: Metrics, title: str) -> Table:
    """Return a rich table: per digit, count, precision, recall and its confusion-matrix row."""
    table = Table(title=title, box=box.SIMPLE_HEAD, padding=(0, 0), pad_edge=False)
    table.add_column("digit", justify="right")
    table.add_column("n", justify="right")
    table.add_column("prec.", justify="right")
    table.add_column("recall", justify="right")
    for predicted in range(NUM_CLASSES):
        table.add_column(f"{predicted}", justify="right", no_wrap=True)
    for digit in range(NUM_CLASSES):
        row = metrics.confusion[digit]
        cells = [
            (f"[bold]{count}[/bold]" if digit == predicted else (str(count) if count else "."))
            for predicted, count in enumerate(row)
        ]
        table.add_row(
            str(digit),
            str(sum(row)),
            f"{metrics.precision[digit]:.3f}",
            f"{metrics.recall[digit]:.3f}",
            *cells,
        )
    return table


def plot_confusion(metrics: Metrics, path: Path, title: str) -> None:
    """Save the confusion matrix as a heatmap (log colour scale, counts written in each cell)."""
    import matplotlib  # heavy: loaded only when a figure is drawn

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    matrix = np.asarray(metrics.confusion)
    figure, axes = plt.subplots(figsize=(7, 6))
    image = axes.imshow(np.maximum(matrix, 0.5), cmap="Blues", norm=LogNorm(vmin=0.5))
    for true in range(NUM_CLASSES):
        for predicted in range(NUM_CLASSES):
            count = int(matrix[true, predicted])
            if count:
                colour = "white" if true == predicted else "black"
                axes.text(
                    predicted, true, str(count), ha="center", va="center", fontsize=8, color=colour
                )
    axes.set_xticks(range(NUM_CLASSES))
    axes.set_yticks(range(NUM_CLASSES))
    axes.set_xlabel("predicted digit")
    axes.set_ylabel("true digit")
    axes.set_title(title)
    figure.colorbar(image, ax=axes, label="images (log scale)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_misclassified(
    images: npt.NDArray[np.uint8],
    labels: npt.NDArray[np.integer],
    probabilities: npt.NDArray[np.float32],
    path: Path,
    limit: int = 120,
    split: str = "test",
) -> None:
    """Save a grid of the misclassified digits, each titled 'true -> predicted (confidence)'."""
    import matplotlib  # heavy: loaded only when a figure is drawn

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    predicted = probabilities.argmax(1)
    wrong = np.flatnonzero(predicted != labels)[:limit]
    columns = 12
    rows = max(1, -(-len(wrong) // columns))
    figure, grid = plt.subplots(rows, columns, figsize=(columns * 1.0, rows * 1.15), squeeze=False)
    for axes in grid.flat:
        axes.axis("off")
    for axes, index in zip(grid.flat, wrong, strict=False):
        axes.imshow(images[index].reshape(IMAGE_SIDE, IMAGE_SIDE), cmap="gray_r", vmin=0, vmax=255)
        confidence = probabilities[index, predicted[index]]
        axes.set_title(f"{labels[index]}→{predicted[index]} {confidence:.0%}", fontsize=7)
    figure.suptitle(
        f"{len(wrong)} misclassified {split} digits: true→predicted (confidence)", fontsize=9
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def plot_history(history: list[EpochLog], path: Path) -> None:
    """Save training and validation loss, and validation accuracy, per epoch."""
    import matplotlib  # heavy: loaded only when a figure is drawn

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [log.epoch for log in history]
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 3.6))
    loss_axes.plot(epochs, [log.train_loss for log in history], label="training (augmented)")
    loss_axes.plot(epochs, [log.val_loss for log in history], label="validation")
    loss_axes.set_xlabel("epoch")
    loss_axes.set_ylabel("cross-entropy")
    loss_axes.set_yscale("log")
    loss_axes.legend()
    accuracy_axes.plot(epochs, [100 * log.val_accuracy for log in history], color="tab:green")
    accuracy_axes.set_xlabel("epoch")
    accuracy_axes.set_ylabel("validation accuracy (%)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def evaluate_run(result: TrainResult, data: MnistData, out_dir: Path) -> dict[str, Any]:
    """Score a run on validation and test, write the figures and report.json into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    val_logits = predict_logits(result.model, images_to_tensor(data.val_images))
    test_logits = predict_logits(result.model, images_to_tensor(data.test_images))
    val, _ = score(val_logits, data.val_labels, result.temperature)
    test, test_probabilities = score(test_logits, data.test_labels, result.temperature)
    plot_confusion(test, out_dir / CONFUSION_PNG, f"MNIST test: {test.accuracy:.2%} accurate")
    plot_misclassified(
        data.test_images, data.test_labels, test_probabilities, out_dir / MISCLASSIFIED_PNG
    )
    plot_history(result.history, out_dir / CURVES_PNG)
    report: dict[str, Any] = {
        "recipe": result.config.recipe,
        "config": result.config.to_dict(),
        "best_epoch": result.best_epoch,
        "training_seconds": round(result.seconds, 1),
        "temperature": result.temperature,
        "ece_bins": ECE_BINS,
        "validation": asdict(val),
        "test": asdict(test),
        "history": [asdict(log) for log in result.history],
        "dataset_sha256": data.sha256,
        "figures": {
            "confusion": CONFUSION_PNG,
            "misclassified": MISCLASSIFIED_PNG,
            "curves": CURVES_PNG,
        },
    }
    (out_dir / REPORT_NAME).write_text(json.dumps(report, indent=2) + "\n")
    return report
