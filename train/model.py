"""The models (the shipped MLP, its CNN teacher, the line reader) and the helpers that feed them.

The MLP is exactly 784-256-10: ReLU hidden layer, softmax on the logits (in the export).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from mnist_infer.contract import IMAGE_SIDE, NUM_CLASSES, NUM_PIXELS, ReaderContract

#: Width of the one hidden layer of the shipped model: the contract fixes 784-256-10.
HIDDEN_UNITS = 256


class MLP(nn.Module):
    """784-256-10 multilayer perceptron; ``forward`` returns logits (softmax lives in the export).

    Takes pixels in [0, 1] (0 background, 1 ink), shaped [N, 784] or [N, 28, 28].
    """

    def __init__(self, hidden_units: int = HIDDEN_UNITS, dropout: float = 0.0) -> None:
        super().__init__()
        self.hidden = nn.Linear(NUM_PIXELS, hidden_units)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(hidden_units, NUM_CLASSES)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """Return logits [N, 10] for pixels [N, 784] (or [N, 28, 28])."""
        hidden = torch.relu(self.hidden(pixels.flatten(1)))
        logits: torch.Tensor = self.output(self.dropout(hidden))
        return logits


def images_to_tensor(images: npt.NDArray[np.uint8]) -> torch.Tensor:
    """Turn uint8 images [N, 28, 28] into the model's input: float32 [N, 784] in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).reshape(len(images), -1).float() / 255.0


@torch.no_grad()
def predict_logits(model: nn.Module, pixels: torch.Tensor, batch_size: int = 5000) -> torch.Tensor:
    """Return the model's logits for ``pixels`` [N, 784], in eval mode, in large batches."""
    model.eval()
    return torch.cat([model(pixels[i : i + batch_size]) for i in range(0, len(pixels), batch_size)])


def _conv(inputs: int, outputs: int, size: int) -> list[nn.Module]:
    return [
        nn.Conv2d(inputs, outputs, size, padding=size // 2, bias=False),
        nn.BatchNorm2d(outputs),
        nn.ReLU(),
        nn.MaxPool2d(2),
    ]


class TeacherCNN(nn.Module):
    """A small CNN (three conv blocks of 32, 64, 128 channels, dense 256) that teaches the MLP.

    Same input and output as ``MLP``: pixels [N, 784] in [0, 1] -> logits [N, 10]. About 99.6%
    on MNIST validation with the ``best`` distortions; it only ever produces training targets.
    """

    def __init__(self, dropout: float = 0.0) -> None:
        super().__init__()
        self.features = nn.Sequential(*_conv(1, 32, 5), *_conv(32, 64, 3), *_conv(64, 128, 3))
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(128 * 3 * 3, 256),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(256, NUM_CLASSES),
        )

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """Return logits [N, 10] for pixels [N, 784] (or [N, 28, 28])."""
        images = pixels.reshape(-1, 1, IMAGE_SIDE, IMAGE_SIDE)
        logits: torch.Tensor = self.head(self.features(images))
        return logits


def build_model(kind: str, hidden_units: int = HIDDEN_UNITS, dropout: float = 0.0) -> nn.Module:
    """Return a fresh model of ``kind``: "mlp" (the shipped architecture) or "cnn" (a teacher)."""
    if kind == "mlp":
        return MLP(hidden_units, dropout)
    if kind == "cnn":
        return TeacherCNN(dropout)
    raise ValueError(f"unknown model kind {kind!r}: mlp or cnn")


def exported_weights(path: Path) -> dict[str, torch.Tensor]:
    """Return the MLP weights of an exported ONNX file as a state dict (the graph's initializers).

    The export folds the softmax temperature into the output layer, so these weights give the
    calibrated logits: a model started from them begins where the exported model stands.
    """
    import onnx  # heavy, and only fine-tuning from an export needs it
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    return {
        tensor.name: torch.from_numpy(numpy_helper.to_array(tensor).copy())
        for tensor in graph.initializer
    }


#: Pooling after each of the line reader's five conv blocks (rows, columns): the height halves
#: four times (32 -> 2) and the width twice (ReaderContract.STRIDE = 4).
READER_POOLS: tuple[tuple[int, int] | None, ...] = ((2, 2), (2, 2), (2, 1), (2, 1), None)


class LineReader(nn.Module):
    """A small CNN (optionally with one bidirectional GRU) that reads a line of digits with CTC.

    Takes lines float32 [N, 1, 32, W] (``ReaderContract``: ink = 1, W a multiple of 4) and
    returns log-probabilities [N, W // 4, 11] over the ten digits and the CTC blank (last).
    Five 3x3 conv blocks (batch norm, ReLU, the ``READER_POOLS``) bring the height to 2, a 2x3
    conv removes it, and a linear layer scores each column.
    """

    def __init__(
        self, channels: tuple[int, ...] = (16, 32, 64, 64, 96), recurrent: int = 0
    ) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        inputs = 1
        for outputs, pool in zip(channels, READER_POOLS, strict=True):
            blocks += [
                nn.Conv2d(inputs, outputs, 3, padding=1, bias=False),
                nn.BatchNorm2d(outputs),
                nn.ReLU(),
            ]
            if pool is not None:
                blocks.append(nn.MaxPool2d(pool))
            inputs = outputs
        self.features = nn.Sequential(*blocks)
        self.collapse = nn.Sequential(
            nn.Conv2d(inputs, inputs, (2, 3), padding=(0, 1), bias=False),
            nn.BatchNorm2d(inputs),
            nn.ReLU(),
        )
        self.recurrent = (
            nn.GRU(inputs, recurrent, batch_first=True, bidirectional=True) if recurrent else None
        )
        self.classes = len(ReaderContract.ALPHABET) + 1
        self.output = nn.Linear(2 * recurrent if recurrent else inputs, self.classes)

    def forward(self, lines: torch.Tensor) -> torch.Tensor:
        """Return log-probabilities [N, W // 4, 11] for lines [N, 1, 32, W]."""
        columns = self.collapse(self.features(lines)).squeeze(2).transpose(1, 2)  # [N, T, C]
        if self.recurrent is not None:
            columns, _ = self.recurrent(columns)
        return torch.log_softmax(self.output(columns), dim=-1)
