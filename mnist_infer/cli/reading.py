"""``mnist-infer read``: read the written number in every input, one result per input, in order.

As ``predict``: inputs are decoded and cut into candidate digits in worker processes
(``mnist_infer.segment``, which never imports onnxruntime) and read in this process by one
``Classifier``, block by block; every candidate of a block goes through the model together.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from mnist_infer._cores import usable_cores
from mnist_infer.cli.console import CommandError, error_line, flush_output, write_error, write_line
from mnist_infer.cli.inputs import Entry, expand_paths
from mnist_infer.cli.output import ReadingTable, reading_record
from mnist_infer.cli.predicting import (
    decoding_pool,
    load_classifier,
    prepared_blocks,
    print_table,
    progress_bar,
)

if TYPE_CHECKING:
    from mnist_infer import Lattice, Reading

    #: An input's candidate digits, or the error line of an input that has none.
    Segmented: TypeAlias = Lattice | str

__all__ = ["run_read", "segment_entry"]


def run_read(
    paths: Sequence[str],
    *,
    json_lines: bool = False,
    recursive: bool = False,
    jobs: int | None = None,
    model: Path | None = None,
    threads: int | None = None,
    reject_non_digits: bool = True,
) -> int:
    """Read every input and print one result per input, in order; return the exit code."""
    entries = expand_paths(paths, recursive=recursive)
    pool = decoding_pool(entries, jobs or usable_cores())  # before onnxruntime: fork safety
    progress = None
    try:
        classifier = load_classifier(model, threads, reject_non_digits=reject_non_digits)
        progress = progress_bar(len(entries), "reading")
        table = None if json_lines else ReadingTable()
        failures = 0
        done = 0
        for block in prepared_blocks(entries, pool, segment_entry):
            labels = [entry.label for entry in entries[done : done + len(block)]]
            for label, outcome in zip(labels, _read(classifier, labels, block), strict=True):
                failures += isinstance(outcome, str)
                if table is not None:
                    table.add(label, outcome)
                else:
                    write_line(reading_record(label, outcome))
            done += len(block)
            if progress is not None:
                progress.update(progress.task_ids[0], completed=done)
        if progress is not None:
            progress.stop()
            progress = None
        if table is not None:
            print_table(table)
        flush_output()
    except CommandError as error:
        error_line(str(error))
        return 1
    finally:
        if progress is not None:
            progress.stop()
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    if failures:
        write_error(f"{failures} of {len(entries)} input(s) failed")
        return 1
    return 0


def segment_entry(entry: Entry) -> Segmented:
    """Decode one input and cut it into candidate digits; or the error line naming the input.

    Runs in worker processes too, so it returns errors as text instead of raising them.
    """
    if entry.error is not None:
        return entry.error
    from mnist_infer import segment
    from mnist_infer.errors import MnistInferError

    source = entry.path if entry.path is not None else (entry.data or b"")
    try:
        return segment(source, name=entry.label)
    except MnistInferError as error:
        return str(error)
    except MemoryError:
        return f"{entry.label}: out of memory while decoding the image"
    except Exception as error:  # a decoder bug must cost one input, not the run
        return f"{entry.label}: could not be processed ({type(error).__name__}: {error})"


def _read(classifier: object, labels: list[str], block: list[Segmented]) -> list[Reading | str]:
    """Read a block's lattices in one go; errors (str) stay in their places."""
    from mnist_infer import Classifier

    assert isinstance(classifier, Classifier)
    good = [index for index, item in enumerate(block) if not isinstance(item, str)]
    outcomes: list[Reading | str] = [item if isinstance(item, str) else "" for item in block]
    if good:
        lattices = [block[index] for index in good]
        names: list[str | None] = [labels[index] for index in good]
        read = classifier.read_segmented(lattices, names)  # type: ignore[arg-type]
        for index, outcome in zip(good, read, strict=True):
            outcomes[index] = outcome if not isinstance(outcome, Exception) else str(outcome)
    return outcomes
