"""``BatchClassifier`` on batches in this process (no Ray runtime): one row per input, in place.

An exception escaping the classifier for one row costs that row only; names Arrow cannot hold
(bytes that are not UTF-8) are written as the CLI shows them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyarrow", reason="the ray extra is not installed: pip install '.[ray]'")

from mnist_infer import Classifier
from mnist_infer.ray import RESULT_COLUMNS, BatchClassifier


@pytest.fixture(scope="module")
def batch_classifier() -> BatchClassifier:
    return BatchClassifier()


def _batch(draw, names: list[str]) -> dict[str, list[Any]]:
    data = [draw.encode(draw.digit(draw.clear_digits[i % 3])) for i in range(len(names))]
    return {"bytes": data, "path": names}


@pytest.mark.parametrize("error", [RuntimeError("boom"), MemoryError()])
def test_an_exception_for_one_row_costs_that_row_only(
    monkeypatch: pytest.MonkeyPatch, batch_classifier: BatchClassifier, draw, error: Exception
) -> None:
    names = ["a.png", "bad.png", "c.png", "d.png"]
    batch = _batch(draw, names)
    expected = batch_classifier(batch).to_pylist()
    real = Classifier.classify_each

    def failing(self: Classifier, inputs: Any, names: Any = None) -> Any:
        if names is not None and "bad.png" in names:
            raise error
        return real(self, inputs, names)

    monkeypatch.setattr(Classifier, "classify_each", failing)
    rows = batch_classifier(batch).to_pylist()
    assert [row["path"] for row in rows] == names
    assert all(tuple(row) == RESULT_COLUMNS for row in rows)
    bad = rows.pop(1)
    assert (bad["digit"], bad["confidence"], bad["probabilities"]) == (None, None, None)
    assert bad["error"] == (
        "bad.png: internal error while processing this input (RuntimeError: boom); please report it"
        if isinstance(error, RuntimeError)
        else "bad.png: out of memory while processing this input"
    )
    assert rows == [row for index, row in enumerate(expected) if index != 1]


def test_files_by_path_are_rows_and_names_that_are_not_utf8_are_escaped(
    batch_classifier: BatchClassifier, tmp_path: Path, draw
) -> None:
    odd = tmp_path / "\udcff\udcfe.png"  # the bytes ff fe, as Python names them
    draw.digit(3).save(odd)
    missing = str(tmp_path / "missing.png")
    rows = batch_classifier.classify_paths([str(odd), missing], [str(odd), missing]).to_pylist()
    shown = f"{tmp_path}/\\xff\\xfe.png"
    assert [row["path"] for row in rows] == [shown, missing]
    assert rows[0]["error"] is None
    assert rows[0]["digit"] == Classifier().classify(odd).digit
    assert rows[1]["error"].startswith(f"{missing}: ")
