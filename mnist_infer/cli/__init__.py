"""The ``mnist-infer`` command line: one Typer app (``app``) and its console script (``main``).

The entry point (``cli.entry``) runs the Typer app (``cli.app``), which parses every command
line and hands it to the module doing that command's work: ``predicting``, ``model_card``,
``framing_preview``. Those import numpy, Pillow and onnxruntime only when they run.
"""

from mnist_infer.cli.app import app
from mnist_infer.cli.entry import main

__all__ = ["app", "main"]
