"""``mnist-infer predict``: classify every input and print one result per input, in order.

Inputs are decoded, framed and made into line images in worker processes when there are enough
files to pay for them (``mnist_infer.prepare_digit`` does that work; it never imports
onnxruntime), and scored in this process by one ``Classifier`` (the digit model, and the line
reader's check), block by block, so output starts before a large folder is done.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Generic, TypeAlias, TypeVar

from mnist_infer._cores import usable_cores
from mnist_infer.cli.console import CommandError, error_line, flush_output, write_error, write_line
from mnist_infer.cli.inputs import Entry, expand_paths
from mnist_infer.cli.output import ResultTable, json_record

if TYPE_CHECKING:
    from mnist_infer import PreparedDigit
    from mnist_infer.classifier import Classifier
    from mnist_infer.results import Prediction

    #: A prepared digit, or the error line of an input that could not be prepared.
    Framed: TypeAlias = PreparedDigit | str

__all__ = [
    "InputTask",
    "decoding_pool",
    "error_text",
    "load_classifier",
    "named",
    "prediction_task",
    "prepare_entry",
    "prepared",
    "prepared_blocks",
    "print_table",
    "progress_bar",
    "run_inputs",
    "scored_in_place",
]

_T = TypeVar("_T")
_P = TypeVar("_P")
_R = TypeVar("_R")

#: Inputs decoded and classified per round; results are printed after each round.
BLOCK_SIZE: Final = 2048
#: Below this many files, decoding in worker processes costs more than it saves.
PARALLEL_MIN_FILES: Final = 64
#: A progress bar appears (on a terminal) from this many inputs on.
PROGRESS_MIN_INPUTS: Final = 50


@dataclass(frozen=True)
class InputTask(Generic[_P, _R]):
    """What a command does with each input: how it prepares, scores and shows them.

    ``prepare`` runs in worker processes (a module-level function; it returns an error line as
    a str instead of raising); ``score`` takes a block's labels and prepared inputs and returns
    an outcome or an error line for each, in place; ``table`` makes the terminal's table and
    ``record`` one JSON line. Whatever ``score`` raises costs only the inputs it was raised for
    (``scored_in_place``).
    """

    description: str
    prepare: Callable[[Entry], _P | str]
    score: Callable[[Classifier, list[str], list[_P | str]], list[_R | str]]
    table: Callable[[], Any]
    record: Callable[[str, _R | str], str]


def run_inputs(
    paths: Sequence[str],
    task: InputTask[_P, _R],
    *,
    json_lines: bool = False,
    recursive: bool = False,
    jobs: int | None = None,
    model: Path | None = None,
    threads: int | None = None,
    reject_non_digits: bool = True,
) -> int:
    """Run ``task`` on each input, one result per input in order; return the exit code."""
    entries = expand_paths(paths, recursive=recursive)
    # Worker processes start before onnxruntime exists here: forking after it started its
    # threads is unsafe. The model is then loaded before any input is looked at, so a bad
    # --model is one error line whatever the inputs are.
    pool = decoding_pool(entries, jobs or usable_cores())
    progress = None
    try:
        classifier = load_classifier(model, threads, reject_non_digits=reject_non_digits)
        progress = progress_bar(len(entries), task.description)
        table = None if json_lines else task.table()
        failures = 0
        done = 0
        for block in prepared_blocks(entries, pool, task.prepare):
            labels = [entry.label for entry in entries[done : done + len(block)]]
            outcomes = scored_in_place(task.score, classifier, labels, block)
            for label, outcome in zip(labels, outcomes, strict=True):
                failures += _show(task, table, label, outcome)
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


def _show(task: InputTask[_P, _R], table: Any, label: str, outcome: _R | str) -> bool:
    """Show one input's outcome (a table row, or a JSON line now); return whether it failed.

    An outcome that cannot be shown is that input's error, not the end of the run.
    """
    try:
        line = task.record(label, outcome) if table is None else None
        if table is not None:
            table.add(label, outcome)
    except Exception as error:
        if isinstance(outcome, str):
            raise
        return _show(task, table, label, error_text(label, error))
    if line is not None:
        write_line(line)
    return isinstance(outcome, str)


def prediction_task(top_k: int = 1) -> InputTask[Framed, Prediction]:
    """Return what ``predict`` does with each input: frame, classify, show the top ``top_k``."""
    return InputTask(
        description="classifying",
        prepare=prepare_entry,
        score=_score,
        table=lambda: ResultTable(top_k),
        record=lambda label, outcome: json_record(label, outcome, top_k),
    )


def load_classifier(
    model: Path | None, threads: int | None, *, reject_non_digits: bool = True
) -> Classifier:
    """Create the classifier; a model problem becomes a CommandError (one line, exit code 1)."""
    from mnist_infer.classifier import Classifier
    from mnist_infer.errors import MnistInferError

    try:
        return Classifier(model, threads=threads, reject_non_digits=reject_non_digits)
    except MnistInferError as error:
        raise CommandError(str(error)) from None


def prepare_entry(entry: Entry) -> Framed:
    """Decode and frame one input and make its line; or the error line naming the input.

    Runs in worker processes too, so it returns errors as text instead of raising them.
    """
    from mnist_infer import prepare_digit

    return prepared(entry, prepare_digit)


def prepared(entry: Entry, prepare: Callable[..., _T]) -> _T | str:
    """Return ``prepare(source, name=label)`` for one input, or the error line naming it.

    Every failure costs that input alone: the SDK's errors, memory, and a decoder's bugs.
    """
    if entry.error is not None:
        return entry.error

    source = entry.path if entry.path is not None else (entry.data or b"")
    try:
        return prepare(source, name=entry.label)
    except Exception as error:  # a decoder bug must cost one input, not the run
        return error_text(entry.label, error)


def error_text(label: str, error: Exception) -> str:
    """Return the error line of input ``label``, stopped by ``error``: it starts ``label: ``.

    The SDK's errors keep their message; anything else is a bug inside one input (or memory
    ran out), and the line says so as the SDK's ``InternalError`` does.
    """
    from mnist_infer.errors import named_error

    return str(named_error(error, label))


def named(label: str, message: str) -> str:
    """``message`` starting with ``label: ``, as every error line of an input does."""
    return message if message.startswith(f"{label}: ") else f"{label}: {message}"


def scored_in_place(
    score: Callable[[Classifier, list[str], list[_P | str]], list[_R | str]],
    classifier: Classifier,
    labels: list[str],
    block: list[_P | str],
) -> list[_R | str]:
    """``score`` a block in one go; if that raises, each input alone, so one costs only itself.

    One outcome per input, in place; every error line starts with its input's label.
    """
    try:
        outcomes = score(classifier, labels, block)
        if len(outcomes) != len(block):
            raise ValueError(f"{len(outcomes)} outcomes for {len(block)} inputs")
    except Exception:  # which input raised is unknown: score them one at a time
        outcomes = [
            _scored_alone(score, classifier, label, item)
            for label, item in zip(labels, block, strict=True)
        ]
    return [
        named(label, outcome) if isinstance(outcome, str) else outcome
        for label, outcome in zip(labels, outcomes, strict=True)
    ]


def _scored_alone(
    score: Callable[[Classifier, list[str], list[_P | str]], list[_R | str]],
    classifier: Classifier,
    label: str,
    item: _P | str,
) -> _R | str:
    if isinstance(item, str):
        return item
    try:
        return score(classifier, [label], [item])[0]
    except Exception as error:
        return error_text(label, error)


def _score(
    classifier: Classifier, labels: list[str], block: list[Framed]
) -> list[Prediction | str]:
    """Score a block's prepared digits in one go; errors (str) stay in their places."""
    good = [index for index, item in enumerate(block) if not isinstance(item, str)]
    outcomes: list[Prediction | str] = [item if isinstance(item, str) else "" for item in block]
    if good:
        names = [labels[index] for index in good]
        digits = [item for index in good if not isinstance(item := block[index], str)]
        scored = classifier.classify_framed(digits, names)
        for index, outcome in zip(good, scored, strict=True):
            outcomes[index] = outcome if not isinstance(outcome, Exception) else str(outcome)
    return outcomes


def prepared_blocks(
    entries: list[Entry], pool: Any, prepare: Callable[[Entry], _T]
) -> Iterator[list[_T]]:
    """Yield ``prepare`` of each input, block by block, run by ``pool``'s workers if given."""
    for start in range(0, len(entries), BLOCK_SIZE):
        block = entries[start : start + BLOCK_SIZE]
        if pool is not None:
            chunk = max(1, min(64, len(block) // usable_cores() // 4))
            try:
                yield list(pool.map(prepare, block, chunksize=chunk))
                continue
            except Exception:  # a worker died (killed for memory?) or a result would not unpickle
                pool = None  # go on in this process
        yield [prepare(entry) for entry in block]


def decoding_pool(entries: list[Entry], jobs: int) -> Any:
    """Worker processes for decoding when there are enough files to pay for them, else None."""
    files = sum(entry.path is not None for entry in entries)
    workers = min(jobs, files // (PARALLEL_MIN_FILES // 2))
    return _start_pool(workers) if workers > 1 and files >= PARALLEL_MIN_FILES else None


def _start_pool(workers: int) -> Any:
    """Start decoding worker processes now, before onnxruntime's threads exist (fork safety)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    method = "fork" if sys.platform == "linux" else "spawn"
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method))
    pool.submit(int).result()  # with fork, this starts every worker at once
    return pool


def progress_bar(total: int, description: str) -> Any:
    """Start a rich progress bar on stderr for long runs on a terminal; None otherwise."""
    if total < PROGRESS_MIN_INPUTS or sys.stderr is None or not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import Progress

    # No redirection: results must go to stdout, not around the bar on stderr.
    progress = Progress(
        console=Console(stderr=True), transient=True, redirect_stdout=False, redirect_stderr=False
    )
    progress.add_task(description, total=total)
    progress.start()
    return progress


def print_table(table: Any) -> None:
    """Print a result table; a failing standard output is one clear error."""
    from mnist_infer.cli.console import OutputError

    try:
        table.print()
    except BrokenPipeError:
        raise
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise OutputError(f"cannot write the results to standard output ({reason})") from None
