"""One image's way through the SDK is a line: each stage is entered once, in order.

A profiler hook records every call into a module of ``mnist_infer`` while one file is
classified; base modules (contract, errors, naming, image ops, regular files, model files) are
helpers any stage may use and are left out. What remains must read as the line of stages the
docs describe.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np

from mnist_infer import Classifier

BASE = {
    "mnist_infer.contract",
    "mnist_infer.errors",
    "mnist_infer.naming",
    "mnist_infer.frontend.imageops",
    "mnist_infer.regular_files",
    "mnist_infer._cores",
    "mnist_infer._model_files",
    "mnist_infer._onnxruntime",
}


def stages_entered(call: Any) -> list[str]:
    """The modules of mnist_infer that ``call()`` enters, in order, consecutive repeats merged."""
    calls: list[str] = []

    def record(frame: FrameType, event: str, _arg: object) -> None:
        if event != "call":
            return
        module = frame.f_globals.get("__name__", "")
        caller = frame.f_back.f_globals.get("__name__", "") if frame.f_back else ""
        if module.startswith("mnist_infer") and module != caller and module not in BASE:
            calls.append(module.removeprefix("mnist_infer."))

    sys.setprofile(record)
    try:
        call()
    finally:
        sys.setprofile(None)
    return [module for i, module in enumerate(calls) if i == 0 or calls[i - 1] != module]


def test_an_image_file_goes_through_the_stages_in_order(
    classifier: Classifier, digit_file: Path
) -> None:
    classifier.predict(digit_file)  # the line reader loads on first use
    path = stages_entered(lambda: classifier.predict(digit_file))
    # The input is named (inputs); the front end's pipeline runs the stages once: decoding, the
    # aspect check (line), then up to the ink pieces, which are framed for the digit model and
    # made into the line image the reader checks. The nine
    # placements are made before the digit model and combined after it (views twice); the
    # reader's output is judged (line_check): decoded (answer, ctc) into the digits it read,
    # weighed against its doubt (ctc), and its unread ink looked at for plain-bar 1s (answer).
    assert path == [
        "classifier",
        "inputs",
        "frontend.pipeline",
        "frontend.decode",
        "frontend.line",
        "frontend.levels",
        "frontend.clutter",
        "frontend.pieces",
        "frontend.framing",
        "frontend.line",
        "views",
        "session",
        "frontend.arrays",
        "views",
        "reader",
        "line_check",
        "answer",
        "ctc",
        "answer",
    ], path


def test_a_number_goes_through_the_line_stage_and_the_reader(
    classifier: Classifier, digit_file: Path
) -> None:
    classifier.read(digit_file)
    path = stages_entered(lambda: classifier.read(digit_file))
    # A line no wider than one digit is framed for the digit model too (pieces choose the
    # digit, framing frames it); the reader reads the line, the digit model scores the framed
    # digit at nine placements (views, session, views), and predict's check judges the line
    # (line_check, with the reader's digits again): one digit, so the digit model's answer is
    # the reading. The reading's boxes come from the line's map back to the source (line).
    assert path == [
        "classifier",
        "inputs",
        "frontend.pipeline",
        "frontend.decode",
        "frontend.line",
        "frontend.levels",
        "frontend.clutter",
        "frontend.pieces",
        "frontend.line",
        "frontend.pieces",
        "frontend.framing",
        "frontend.line",
        "reader",
        "answer",
        "ctc",
        "frontend.line",
        "results",
        "views",
        "session",
        "frontend.arrays",
        "views",
        "line_check",
        "answer",
        "ctc",
        "answer",
        "results",
    ], path


def test_an_mnist_array_skips_decoding_and_framing(classifier: Classifier) -> None:
    path = stages_entered(lambda: classifier.predict(np.zeros((28, 28), np.uint8)))
    assert path == ["classifier", "frontend.arrays", "session", "frontend.arrays"], path
