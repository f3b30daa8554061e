"""The SDK on mixed lists of hostile inputs: one outcome per input, in place, and nothing else.

``classify_each`` and ``read_each`` answer every input with a result or a ``MnistInferError``
whose message starts with that input's name; ``predict_proba`` answers finite probabilities or
raises one of our errors. Each budget is a share of the profile's ``max_examples`` (see
``tests/conftest.py``): small under "ci", large under "campaign".
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

import numpy as np
import pytest
from hostile_inputs import drawn, inputs
from hypothesis import given, settings
from hypothesis import strategies as st

from mnist_infer import Classifier, MnistInferError, Prediction, Reading

pytestmark = pytest.mark.fuzz

#: No input may take longer than this (seconds) on a busy machine: the slowest real input (a
#: large drawn number) takes well under one.
SECONDS_PER_INPUT: Final = 10.0
#: Each property's share of the profile's examples: under "ci" (100) the three took 6.4 s
#: together (2.2, 3.4 and 0.7 s) on 2 busy cores; under "campaign" they scale with it.
EVERY: Final = settings(max_examples=settings.default.max_examples)
HALF: Final = settings(max_examples=max(10, settings.default.max_examples // 2))


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A folder for paths that do not exist (and to be passed itself), and a real image file."""
    folder = tmp_path_factory.mktemp("fuzz")
    image_file = folder / "seven.png"
    drawn([7], (60, 80)).save(image_file)
    return folder, image_file


@pytest.fixture(scope="module")
def mixed(places: tuple[Path, Path]) -> st.SearchStrategy[tuple[list[object], list[str] | None]]:
    """A list of 1 to 5 inputs of every kind, and maybe a name for each."""
    items = st.lists(inputs(*places), min_size=1, max_size=5)
    return items.flatmap(
        lambda drawn_items: st.tuples(
            st.just(drawn_items),
            st.one_of(st.none(), st.just([f"input {i}" for i in range(len(drawn_items))])),
        )
    )


def expected_name(item: object, index: int, names: list[str] | None) -> str:
    """How the outcome of ``item`` must start: its given name, its path, or its position."""
    if names is not None:
        return f"{names[index]}: "
    if isinstance(item, (str, os.PathLike)):
        return f"{os.fspath(item) or repr('')}: "
    return f"item {index} <"


def timed(call: Callable[..., object], *args: object, **kwargs: object) -> tuple[object, float]:
    """Return the call's result (or the exception it raised) and its duration in seconds."""
    start = time.perf_counter()
    try:
        result = call(*args, **kwargs)
    except Exception as error:  # each property says which exceptions are allowed
        result = error
    return result, time.perf_counter() - start


def check_outcomes(items: list[object], names: list[str] | None, outcomes: object) -> None:
    assert isinstance(outcomes, list), outcomes
    assert len(outcomes) == len(items)
    for index, (item, outcome) in enumerate(zip(items, outcomes, strict=True)):
        if isinstance(outcome, MnistInferError):
            assert str(outcome).startswith(expected_name(item, index, names)), (item, outcome)
        else:
            assert isinstance(outcome, (Prediction, Reading)), outcome


def check_probabilities(probabilities: tuple[float, ...]) -> None:
    assert len(probabilities) == 10
    assert all(math.isfinite(p) and 0.0 <= p <= 1.0 for p in probabilities)
    assert math.isclose(sum(probabilities), 1.0, abs_tol=1e-4)


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow warns about odd TIFF tags, EXIF
@EVERY
@given(data=st.data())
def test_classify_each_answers_every_input_in_its_place(
    classifier: Classifier, mixed: st.SearchStrategy[tuple[list[object], list[str] | None]],
    data: st.DataObject,
) -> None:  # fmt: skip
    items, names = data.draw(mixed)
    outcomes, seconds = timed(classifier.classify_each, items, names=names)
    check_outcomes(items, names, outcomes)
    assert seconds < SECONDS_PER_INPUT * len(items)
    for outcome in outcomes:  # type: ignore[attr-defined]
        if isinstance(outcome, Prediction):
            assert 0 <= outcome.digit <= 9
            check_probabilities(outcome.probabilities)


@pytest.mark.filterwarnings("ignore::UserWarning")
@EVERY
@given(data=st.data())
def test_read_each_answers_every_input_in_its_place(
    classifier: Classifier, mixed: st.SearchStrategy[tuple[list[object], list[str] | None]],
    data: st.DataObject,
) -> None:  # fmt: skip
    items, names = data.draw(mixed)
    outcomes, seconds = timed(classifier.read_each, items, names=names)
    check_outcomes(items, names, outcomes)
    assert seconds < SECONDS_PER_INPUT * len(items)
    for outcome in outcomes:  # type: ignore[attr-defined]
        if isinstance(outcome, Reading):
            assert outcome.text.isdigit()
            assert len(outcome.text) == len(outcome.digits)
            assert 0.0 <= outcome.confidence <= 1.0
            for digit in outcome.digits:
                check_probabilities(digit.probabilities)
                x0, y0, x1, y1 = digit.box
                assert 0 <= x0 < x1
                assert 0 <= y0 < y1


@pytest.mark.filterwarnings("ignore::UserWarning")
@HALF
@given(data=st.data())
def test_predict_proba_gives_finite_rows_or_one_of_our_errors(
    classifier: Classifier, mixed: st.SearchStrategy[tuple[list[object], list[str] | None]],
    data: st.DataObject,
) -> None:  # fmt: skip
    items, _ = data.draw(mixed)
    answer, seconds = timed(classifier.predict_proba, items)
    assert seconds < SECONDS_PER_INPUT * len(items)
    if isinstance(answer, Exception):
        assert isinstance(answer, MnistInferError), repr(answer)
        return
    assert isinstance(answer, np.ndarray)
    assert answer.dtype == np.float32
    assert answer.shape == (len(items), 10)
    for row in answer:
        check_probabilities(tuple(float(p) for p in row))
