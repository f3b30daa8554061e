"""The shipped architecture: exactly 784-256-10, ReLU hidden layer, softmax on the logits."""

from __future__ import annotations

import torch
from torch import nn

from mnist_infer.contract import NUM_CLASSES, NUM_PIXELS

#: Width of the one hidden layer of the shipped model (the brief fixes 784-256-10).
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
