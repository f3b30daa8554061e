"""The ``mnist-infer`` command line: entry point and work of ``predict``, ``info``, ``preprocess``.

The Typer app that parses options lives in ``mnist_infer._cli_app`` (``mnist_infer.cli.app``);
this module stays free of Typer so that the commonest call, ``mnist-infer predict FILE...``, can
skip building Typer's parameter machinery (which imports pydantic) and start fast. Every failure
a user can cause becomes one line naming the input, never a traceback; one bad input never stops
the others. numpy, Pillow, onnxruntime and rich are imported only where needed.
"""

from __future__ import annotations

import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NoReturn

from mnist_infer._cores import usable_cores

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    import numpy as np
    import numpy.typing as npt
    import typer

    from mnist_infer.classifier import Classifier, Prediction

__all__ = ["main", "run_info", "run_predict", "run_preprocess"]  # and `app`, imported lazily

#: File name endings treated as images when a folder is given (compared case-insensitively).
IMAGE_SUFFIXES: Final = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm"}
)
#: Inputs decoded and classified per round; results are printed after each round.
BLOCK_SIZE: Final = 2048
#: Below this many files, decoding in worker processes costs more than it saves.
PARALLEL_MIN_FILES: Final = 64
#: A progress bar appears (on a terminal) from this many inputs on.
PROGRESS_MIN_INPUTS: Final = 50
STDIN_NAME: Final = "-"


class CommandError(Exception):
    """A failure that ends a command with one line on stderr and exit code 1."""


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


def _err(line: str) -> None:
    sys.stderr.write(line + "\n")


def quiet_warnings() -> None:
    """Silence library warnings (odd EXIF, PNG chunks): noise on a terminal; errors are shown."""
    if not os.environ.get("MNIST_INFER_DEBUG"):
        warnings.simplefilter("ignore")


# --- inputs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    """One input as the user will see it named, with where its bytes come from or why it failed."""

    label: str
    path: str | None = None
    data: bytes | None = None
    error: str | None = None


def _expand(
    paths: Sequence[str], *, recursive: bool, read_stdin: Callable[[], bytes]
) -> list[_Entry]:
    """Turn the PATH arguments into entries, in order: files as given, folders as their images."""
    entries: list[_Entry] = []
    stdin_data: bytes | None = None
    for given in paths:
        if given == STDIN_NAME:
            if stdin_data is None:
                stdin_data = read_stdin()
            entries.append(_Entry(label=STDIN_NAME, data=stdin_data))
            continue
        folder = Path(given)
        if not _is_folder(folder):
            entries.append(_Entry(label=given, path=given))  # decoding reports missing files
            continue
        try:
            found = _images_in(folder, recursive=recursive)
            # Only an empty, non-recursive look needs the hint, and only then the second read.
            has_subfolders = (
                not found and not recursive and any(c.is_dir() for c in folder.iterdir())
            )
        except OSError as error:
            reason = error.strerror or str(error)
            entries.append(_Entry(label=given, error=f"{given}: cannot read folder ({reason})"))
            continue
        if found:
            entries.extend(_Entry(label=str(path), path=str(path)) for path in found)
            continue
        hint = (
            "; use --recursive to look in sub-folders" if has_subfolders and not recursive else ""
        )
        suffixes = ", ".join(sorted(IMAGE_SUFFIXES))
        entries.append(
            _Entry(label=given, error=f"{given}: no image files in this folder ({suffixes}){hint}")
        )
    return entries


def _is_folder(path: Path) -> bool:
    """Whether ``path`` is a folder; False for names the system refuses (too long, say)."""
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def _images_in(folder: Path, *, recursive: bool) -> list[Path]:
    """List the image files in ``folder`` (and below, if ``recursive``), sorted by path."""
    children = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(
        path for path in children if path.suffix.lower() in IMAGE_SUFFIXES and not path.is_dir()
    )


def _prepare(job: tuple[str, str | None, bytes | None]) -> npt.NDArray[np.float32] | str:
    """Decode and frame one input; return the 28x28, or the one-line error naming the input.

    Runs in worker processes too, so it returns errors as text instead of raising them.
    """
    label, path, data = job
    from mnist_infer._inputs import prepare_input
    from mnist_infer.errors import MnistInferError

    source: str | bytes = path if path is not None else (data or b"")
    try:
        return prepare_input(source, name=label)
    except MnistInferError as error:
        return _one_line(str(error))
    except OSError as error:
        return _one_line(f"{label}: {error.strerror or error}")
    except MemoryError:
        return f"{label}: out of memory while decoding the image"
    except Exception as error:  # a decoder bug must cost one input, not the run
        return _one_line(f"{label}: could not be processed ({type(error).__name__}: {error})")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _prepared_blocks(
    entries: list[_Entry], pool: Any
) -> Iterator[list[npt.NDArray[np.float32] | str]]:
    """Yield the prepared inputs block by block, decoded by ``pool``'s workers when one is given."""
    from concurrent.futures.process import BrokenProcessPool

    for start in range(0, len(entries), BLOCK_SIZE):
        block = entries[start : start + BLOCK_SIZE]
        todo = [(entry.label, entry.path, entry.data) for entry in block if entry.error is None]
        done: Iterator[npt.NDArray[np.float32] | str] | None = None
        if pool is not None:
            chunk = max(1, min(64, len(todo) // usable_cores() // 4))
            try:
                done = iter(list(pool.map(_prepare, todo, chunksize=chunk)))
            except BrokenProcessPool:  # a worker died (killed for memory?): go on in this process
                pool = None
        if done is None:
            done = iter([_prepare(job) for job in todo])
        yield [entry.error if entry.error is not None else next(done) for entry in block]


def _decoding_pool(entries: list[_Entry], jobs: int) -> Any:
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


# --- output -----------------------------------------------------------------------------------


def _json_line(
    label: str, probabilities: npt.NDArray[np.float32] | None, error: str | None, top_k: int
) -> str:
    import json

    if probabilities is None:
        return json.dumps({"path": label, "error": error})
    prediction = _prediction(probabilities)
    record: dict[str, Any] = {
        "path": label,
        "digit": prediction.digit,
        "confidence": prediction.confidence,
        "probabilities": list(prediction.probabilities),
    }
    if top_k > 1:
        record["top_k"] = [{"digit": d, "probability": p} for d, p in prediction.top(top_k)]
    return json.dumps(record)


def _prediction(probabilities: npt.NDArray[np.float32]) -> Prediction:
    """Read one row of probabilities as a Prediction (its module is loaded once rows exist)."""
    from mnist_infer.classifier import Prediction

    return Prediction.from_probabilities(probabilities)


class _Table:
    """Rows for the human-readable table, printed once all inputs are done."""

    def __init__(self, top_k: int) -> None:
        self.top_k = top_k
        self.rows: list[tuple[str, str, str, str, str]] = []

    def add(
        self, label: str, probabilities: npt.NDArray[np.float32] | None, error: str | None
    ) -> None:
        if probabilities is None:
            message = error or ""
            prefix = f"{label}: "
            self.rows.append((label, "-", "-", "", message.removeprefix(prefix)))
            return
        prediction = _prediction(probabilities)
        top = ", ".join(f"{d} ({p:.2%})" for d, p in prediction.top(self.top_k))
        self.rows.append((label, str(prediction.digit), f"{prediction.confidence:.2%}", top, ""))

    def print(self) -> None:
        """Draw the table with rich on a terminal; as plain aligned text when piped."""
        if not sys.stdout.isatty():
            self._print_plain()
            return
        self._print_rich()

    def _columns(self) -> tuple[list[str], list[list[str]]]:
        show_top = self.top_k > 1
        show_errors = any(row[4] for row in self.rows)
        header = ["path", "digit", "confidence"]
        header += [f"top {self.top_k}"] if show_top else []
        header += ["error"] if show_errors else []
        cells = [
            [label, digit, confidence]
            + ([top] if show_top else [])
            + ([error] if show_errors else [])
            for label, digit, confidence, top, error in self.rows
        ]
        return header, cells

    def _print_plain(self) -> None:
        """Print space-aligned columns (no rich import: keeps one-file runs fast)."""
        header, cells = self._columns()
        widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header))]
        right = {"digit", "confidence"}
        for row in [header, *cells]:
            fields = [
                value.rjust(width) if name in right else value.ljust(width)
                for name, value, width in zip(header, row, widths, strict=True)
            ]
            _out("  ".join(fields).rstrip())

    def _print_rich(self) -> None:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        header, cells = self._columns()
        table = Table(show_edge=False, header_style="bold")
        for name in header:
            table.add_column(
                name,
                justify="right" if name in ("digit", "confidence") else "left",
                overflow="fold",
                style="red" if name == "error" else None,
            )
        for row in cells:
            table.add_row(*(Text(cell) for cell in row))  # Text: no markup in file names
        Console(highlight=False).print(table)


def _progress(total: int) -> Any:
    """Start a rich progress bar on stderr for long runs on a terminal; None otherwise."""
    if total < PROGRESS_MIN_INPUTS or not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import Progress

    # No redirection: results must go to stdout, not around the bar on stderr.
    progress = Progress(
        console=Console(stderr=True), transient=True, redirect_stdout=False, redirect_stderr=False
    )
    progress.add_task("classifying", total=total)
    progress.start()
    return progress


# --- commands (called by the Typer app, and by main's fast path) ------------------------------


def run_predict(
    paths: Sequence[str],
    *,
    json_lines: bool = False,
    recursive: bool = False,
    top_k: int = 1,
    jobs: int | None = None,
    model: Path | None = None,
    threads: int | None = None,
) -> int:
    """Classify every input and print one result per input, in order; return the exit code."""
    entries = _expand(paths, recursive=recursive, read_stdin=lambda: sys.stdin.buffer.read())
    # Worker processes start first: forking after onnxruntime has started its threads is unsafe.
    pool = _decoding_pool(entries, jobs or usable_cores())
    progress = _progress(len(entries))
    classifier: Classifier | None = None
    table = None if json_lines else _Table(top_k)
    failures = 0
    try:
        done = 0
        for block in _prepared_blocks(entries, pool):
            good = [item for item in block if not isinstance(item, str)]
            if good and classifier is None:
                classifier = _load_classifier(model, threads)
            rows: Iterator[npt.NDArray[np.float32]] = iter(
                _classify(classifier, good) if classifier and good else []
            )
            for entry, item in zip(entries[done : done + len(block)], block, strict=True):
                error = item if isinstance(item, str) else None
                probabilities = next(rows) if error is None else None
                failures += error is not None
                if table is not None:
                    table.add(entry.label, probabilities, error)
                else:
                    _out(_json_line(entry.label, probabilities, error, top_k))
            done += len(block)
            if progress is not None:
                progress.update(progress.task_ids[0], completed=done)
    except CommandError as error:
        _err(f"mnist-infer: error: {_one_line(str(error))}")
        return 1
    finally:
        if progress is not None:
            progress.stop()
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    if table is not None:
        table.print()
    if failures:
        _err(f"{failures} of {len(entries)} input(s) failed")
        return 1
    return 0


def _classify(
    classifier: Classifier, images: Sequence[npt.NDArray[np.float32]]
) -> npt.NDArray[np.float32]:
    """Run one block through the model; a model failure becomes a CommandError (exit code 1)."""
    import numpy as np

    from mnist_infer.errors import MnistInferError

    try:
        return classifier.predict_proba_framed(np.stack(images))
    except MnistInferError as error:
        raise CommandError(str(error)) from None


def _load_classifier(model: Path | None, threads: int | None) -> Classifier:
    """Create the classifier; a model problem becomes a CommandError (one line, exit code 1)."""
    from mnist_infer.classifier import Classifier
    from mnist_infer.errors import MnistInferError

    try:
        return Classifier(model, threads=threads)
    except MnistInferError as error:
        raise CommandError(str(error)) from None


def run_info(
    *, json_output: bool = False, model: Path | None = None, threads: int | None = None
) -> int:
    """Print the model card data; return the exit code."""
    try:
        details = _load_classifier(model, threads).info.as_dict()
    except CommandError as error:
        _err(f"mnist-infer: error: {_one_line(str(error))}")
        return 1
    if json_output:
        import json

        _out(json.dumps(details, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    def percent(value: float | None) -> str:
        return "unknown" if value is None else f"{value:.2%}"

    def shape(spec: dict[str, Any]) -> str:
        return "[" + ", ".join(str(dim) for dim in spec["shape"]) + "]"

    rows = [
        ("model", details["location"] + (" (shipped)" if details["shipped"] else "")),
        ("sha256", details["sha256"]),
        ("recipe", details["recipe"] or "unknown"),
        ("test accuracy", percent(details["test_accuracy"]) + " (MNIST test set, 10,000 images)"),
        ("validation accuracy", percent(details["val_accuracy"])),
        ("calibration error", percent(details["test_ece"]) + " (ECE, 15 bins, MNIST test)"),
        ("temperature", str(details["temperature"] or "unknown")),
        (
            "input",
            f"{details['input']['name']} float32 {shape(details['input'])}, 0 = paper, 1 = ink",
        ),
        (
            "output",
            f"{details['output']['name']} float32 {shape(details['output'])}, softmax over 0-9",
        ),
        ("contract version", str(details["contract_version"])),
        ("created", details["created"] or "unknown"),
        ("git commit", details["git_commit"] or "unknown"),
        (
            "providers",
            ", ".join(details["providers"])
            + f" ({details['threads']} thread{'s' if details['threads'] != 1 else ''})",
        ),
        ("mnist-infer", details["mnist_infer_version"]),
        ("onnxruntime", details["onnxruntime_version"]),
    ]
    rows += [(f"trained with {name}", version) for name, version in details["versions"].items()]
    table = Table(show_header=False, show_edge=False, box=None)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, value in rows:
        table.add_row(Text(key), Text(value))
    Console(highlight=False).print(table)
    return 0


def run_preprocess(source: str, output: Path, *, scale: int = 1) -> int:
    """Write the 28x28 the model sees for ``source`` as a PNG; return the exit code."""
    if source != STDIN_NAME and _is_folder(Path(source)):
        _err(f"mnist-infer: error: {source}: is a directory; preprocess takes one image file")
        return 1
    entry = _expand([source], recursive=False, read_stdin=lambda: sys.stdin.buffer.read())[0]
    prepared = _prepare((entry.label, entry.path, entry.data))
    if isinstance(prepared, str):
        _err(f"mnist-infer: error: {prepared}")
        return 1
    import numpy as np
    from PIL import Image

    pixels = np.rint(np.asarray(prepared) * 255.0).clip(0, 255).astype(np.uint8)
    image = Image.fromarray(pixels)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    try:
        image.save(output, format="PNG")
    except (OSError, ValueError) as error:
        _err(f"mnist-infer: error: {output}: cannot write the PNG ({_one_line(str(error))})")
        return 1
    _out(f"{source} -> {output} ({image.width}x{image.height})")
    return 0


# --- entry point ----------------------------------------------------------------------------


def main() -> None:
    """Entry point of the ``mnist-infer`` console script: no traceback ever reaches the user."""
    _finish(_run_command_line(sys.argv[1:]))


def _run_command_line(arguments: Sequence[str]) -> int:
    """Run one command line and return its exit code, turning every exception into one line."""
    try:
        if _is_plain_predict(arguments):
            # Fast path for the commonest call, `mnist-infer predict FILE...`: the same work as
            # the Typer command, without importing Typer or building its parameter machinery
            # (which imports pydantic: about 0.1 s). Any option at all goes through Typer.
            quiet_warnings()
            return run_predict(arguments[1:])
        from mnist_infer._cli_app import app as typer_app

        typer_app(args=list(arguments), prog_name="mnist-infer")
        return 0
    except SystemExit as done:  # Typer ends every command this way
        if done.code is None or isinstance(done.code, int):
            return done.code or 0
        _err(str(done.code))
        return 1
    except KeyboardInterrupt:
        _err("mnist-infer: interrupted")
        return 130
    except BrokenPipeError:  # e.g. `mnist-infer predict --json folder | head`
        return 1
    except Exception as error:
        if os.environ.get("MNIST_INFER_DEBUG"):
            raise
        _err(
            f"mnist-infer: internal error: {type(error).__name__}: {_one_line(str(error))} "
            "(set MNIST_INFER_DEBUG=1 to see the traceback)"
        )
        return 3


def _finish(code: int) -> NoReturn:
    """Flush the output and end the process at once, skipping the interpreter's teardown.

    Freeing numpy, onnxruntime and Pillow module by module at exit takes 0.05-0.1 s (measured)
    and serves no purpose once the command is done and its output flushed; nothing here relies
    on atexit hooks (worker processes are already shut down). ``MNIST_INFER_DEBUG=1`` keeps the
    ordinary exit, for profilers and coverage tools that report at exit.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (BrokenPipeError, ValueError):  # reader gone, or stream closed
            code = code or 1
    if os.environ.get("MNIST_INFER_DEBUG"):
        sys.exit(code)
    os._exit(code)


def _is_plain_predict(arguments: Sequence[str]) -> bool:
    """Whether the command line is ``predict`` followed only by paths (``-`` included)."""
    return (
        len(arguments) >= 2
        and arguments[0] == "predict"
        and all(arg == STDIN_NAME or (arg and not arg.startswith("-")) for arg in arguments[1:])
    )


def __getattr__(name: str) -> typer.Typer:
    """``mnist_infer.cli.app``: the Typer app, imported on first use (see the module notes)."""
    if name == "app":
        from mnist_infer._cli_app import app as typer_app

        return typer_app
    raise AttributeError(f"module 'mnist_infer.cli' has no attribute {name!r}")


if __name__ == "__main__":
    main()
