"""``mnist-infer read``: read the written number in every input, one result per input, in order.

As ``predict``: inputs are decoded and cut into candidate digits in worker processes
(``mnist_infer.segment``, which never imports onnxruntime) and read in this process by one
``Classifier``, block by block; every candidate of a block goes through the model together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from mnist_infer.cli.inputs import Entry
from mnist_infer.cli.output import ReadingTable, reading_record
from mnist_infer.cli.predicting import InputTask, prepared

if TYPE_CHECKING:
    from mnist_infer import Classifier, Lattice, Reading

    #: An input's candidate digits, or the error line of an input that has none.
    Segmented: TypeAlias = Lattice | str

__all__ = ["reading_task", "segment_entry"]


def reading_task() -> InputTask[Segmented, Reading]:
    """Return what ``read`` does with each input: cut into candidate digits, read, show."""
    return InputTask(
        description="reading",
        prepare=segment_entry,
        score=_read,
        table=ReadingTable,
        record=reading_record,
    )


def segment_entry(entry: Entry) -> Segmented:
    """Decode one input and cut it into candidate digits; or the error line naming the input.

    Runs in worker processes too, so it returns errors as text instead of raising them.
    """
    from mnist_infer import segment

    return prepared(entry, segment)


def _read(classifier: Classifier, labels: list[str], block: list[Segmented]) -> list[Reading | str]:
    """Read a block's lattices in one go; errors (str) stay in their places."""
    good = [index for index, item in enumerate(block) if not isinstance(item, str)]
    outcomes: list[Reading | str] = [item if isinstance(item, str) else "" for item in block]
    if good:
        lattices = [block[index] for index in good]
        names: list[str | None] = [labels[index] for index in good]
        read = classifier.read_segmented(lattices, names)  # type: ignore[arg-type]
        for index, outcome in zip(good, read, strict=True):
            outcomes[index] = outcome if not isinstance(outcome, Exception) else str(outcome)
    return outcomes
