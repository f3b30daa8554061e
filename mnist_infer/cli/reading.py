"""``mnist-infer read``: read the written number in every input, one result per input, in order.

As ``predict``: inputs are decoded and made into line images in worker processes
(``mnist_infer.prepare_line``, which never imports onnxruntime) and read in this process by one
``Classifier``, block by block; every line of a block goes through the line reader together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from mnist_infer.cli.inputs import Entry
from mnist_infer.cli.output import ReadingTable, reading_record
from mnist_infer.cli.predicting import InputTask, prepared

if TYPE_CHECKING:
    from mnist_infer import Classifier, Line, Reading

    #: An input's line image, or the error line of an input that has none.
    Prepared: TypeAlias = Line | str

__all__ = ["line_entry", "reading_task"]


def reading_task() -> InputTask[Prepared, Reading]:
    """Return what ``read`` does with each input: make its line image, read it, show it."""
    return InputTask(
        description="reading",
        prepare=line_entry,
        score=_read,
        table=ReadingTable,
        record=reading_record,
    )


def line_entry(entry: Entry) -> Prepared:
    """Decode one input and make its line image; or the error line naming the input.

    Runs in worker processes too, so it returns errors as text instead of raising them.
    """
    from mnist_infer import prepare_line

    return prepared(entry, prepare_line)


def _read(classifier: Classifier, labels: list[str], block: list[Prepared]) -> list[Reading | str]:
    """Read a block's lines in one go; errors (str) stay in their places."""
    good = [index for index, item in enumerate(block) if not isinstance(item, str)]
    outcomes: list[Reading | str] = [item if isinstance(item, str) else "" for item in block]
    if good:
        lines = [item for index in good if not isinstance(item := block[index], str)]
        names: list[str | None] = [labels[index] for index in good]
        read = classifier.read_lines(lines, names)
        for index, outcome in zip(good, read, strict=True):
            outcomes[index] = outcome if not isinstance(outcome, Exception) else str(outcome)
    return outcomes
