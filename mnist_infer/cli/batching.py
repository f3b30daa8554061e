"""``mnist-infer batch``: classify a folder, a glob or object-storage files on a Ray cluster.

The files are read by Ray Data (``read_binary_files``; any URI pyarrow's filesystems understand,
``s3://`` and ``gs://`` among them), classified by ``mnist_infer.ray.BatchClassifier`` actors,
and written as Parquet (a folder of part files, one row per input). Local sources are looked at
here first, folders as ``predict -r`` lists them: a file whose name is not UTF-8 (Arrow strings
cannot hold it), that is not a regular file (a FIFO would block a read task) or that is missing
is classified by path in this process, and a folder that cannot be listed is an error row, so
each costs only its own row. Without ``--address`` a local Ray is started on this machine's
cores. Ray comes with the ``ray`` extra.
"""

from __future__ import annotations

import glob
import logging
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mnist_infer._cores import usable_cores
from mnist_infer.cli.console import (
    CommandError,
    error_line,
    flush_output,
    printable,
    write_error,
    write_line,
)
from mnist_infer.cli.inputs import IMAGE_SUFFIXES, folder_entries, is_folder

__all__ = ["run_batch"]

INSTALL_HINT = "mnist-infer batch needs Ray: pip install 'mnist-infer[ray]'"


def run_batch(
    sources: Sequence[str],
    *,
    output: str,
    address: str | None = None,
    actors: int | None = None,
    batch_size: int = 256,
    model: Path | None = None,
) -> int:
    """Classify every image under ``sources`` with Ray, write Parquet; return the exit code."""
    try:
        import ray
        import ray.data
    except ImportError:
        error_line(INSTALL_HINT)
        return 1
    try:
        _check_output(output)
        found = _expand(sources)
        _start(ray, address)
        rows, failures = _classify(ray, found, output, actors, batch_size, model)
        write_line(f"{rows} result(s) written to {printable(output)}")
        flush_output()
    except CommandError as error:
        error_line(str(error))
        return 1
    finally:
        if ray.is_initialized():
            ray.shutdown()
    if failures:
        write_error(f"{failures} of {rows} input(s) failed (their rows hold the error)")
        return 1
    return 0


def _check_output(output: str) -> None:
    """Refuse to mix results with an earlier run's part files."""
    if "://" in output:
        return
    target = Path(output)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise CommandError(f"{output}: already exists; choose another --output or remove it")


@dataclass
class _Sources:
    """What a job reads: listed by Ray, files read by Ray, files read here, listing errors."""

    listed: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    by_path: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def add_file(self, path: str) -> None:
        """Take a local file with an image suffix: for Ray if Ray can open it by name."""
        if Path(path).suffix.lower() in IMAGE_SUFFIXES:
            (self.files if _ray_can_read(path) else self.by_path).append(path)
        elif not _exists(path):
            self.failed.append((path, f"{path}: no such file or folder"))

    def add_folder(self, folder: str) -> None:
        """Take a local folder: Ray lists it, unless it holds what Ray cannot read or list."""
        entries = folder_entries(folder, recursive=True)
        if all(entry.path is not None and _ray_can_read(entry.path) for entry in entries):
            self.listed.append(folder)  # Ray's listing is faster than a list of its files
            return
        for entry in entries:
            if entry.error is not None:
                self.failed.append((entry.label, entry.error))
            elif entry.path is not None:
                self.add_file(entry.path)


def _expand(sources: Sequence[str]) -> _Sources:
    """URIs go to Ray as given; local globs, folders (recursively) and files are looked at here."""
    found = _Sources()
    for source in sources:
        if "://" in source:
            found.listed.append(source)
            continue
        paths = [source]
        if glob.has_magic(source):
            paths = sorted(glob.glob(source, recursive=True))  # noqa: PTH207 - absolute too
            if not paths:
                raise CommandError(f"{source}: no file matches this pattern")
        for path in paths:
            if is_folder(path):
                found.add_folder(path)
            else:
                found.add_file(path)
    return found


def _exists(path: str) -> bool:
    try:
        return Path(path).exists() or Path(path).is_symlink()
    except (OSError, ValueError):
        return False


def _ray_can_read(path: str) -> bool:
    """Whether Ray can read ``path`` by name: a regular file whose name is UTF-8."""
    try:
        path.encode("utf-8")
        return stat.S_ISREG(Path(path).stat().st_mode)
    except (UnicodeEncodeError, OSError, ValueError):
        return False


def _start(ray: Any, address: str | None) -> None:
    """Connect to the cluster at ``address``, or start a local Ray on this machine's cores."""
    try:
        ray.init(
            address=address,
            num_cpus=None if address else usable_cores(),
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.ERROR,
        )
    except Exception as error:  # Ray raises ConnectionError, RuntimeError, ValueError...
        where = address or "a local Ray"
        raise CommandError(f"cannot start or reach {where} ({_reason(error)})") from None
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = bool(sys.stderr is not None and sys.stderr.isatty())
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)


def _classify(
    ray: Any,
    sources: _Sources,
    output: str,
    actors: int | None,
    batch_size: int,
    model: Path | None,
) -> tuple[int, int]:
    """Run the job; return (rows written, rows with an error)."""
    from mnist_infer.errors import MnistInferError

    pool = actors or max(1, int(ray.cluster_resources().get("CPU", 1)))
    try:
        parts = _parts(ray, sources, pool, batch_size, model)
        if not parts:
            raise CommandError("no image files to classify")
        results = _union(parts).materialize()
        results.write_parquet(output)
        errors = results.select_columns(["error"]).to_pandas()["error"]
    except CommandError:
        raise
    except MnistInferError as error:  # the model, loaded here for the files read by path
        raise CommandError(str(error)) from None
    except Exception as error:  # a missing source, an unreachable bucket, a failed model load
        raise CommandError(f"batch job failed ({_reason(error)})") from None
    return len(errors), int(errors.notna().sum())


def _parts(
    ray: Any, sources: _Sources, pool: int, batch_size: int, model: Path | None
) -> list[Any]:
    """Return the job's datasets of result rows: read by Ray, read here, listing errors."""
    from mnist_infer.errors import MnistInferError
    from mnist_infer.ray import BatchClassifier, results_table

    reads = []
    if sources.listed:
        suffixes = sorted(suffix.lstrip(".") for suffix in IMAGE_SUFFIXES)
        reads.append(
            ray.data.read_binary_files(sources.listed, include_paths=True, file_extensions=suffixes)
        )
    if sources.files:
        reads.append(ray.data.read_binary_files(sources.files, include_paths=True))
    parts = [
        read.map_batches(
            BatchClassifier,
            compute=ray.data.ActorPoolStrategy(min_size=1, max_size=pool),
            batch_size=batch_size,
            fn_constructor_kwargs={"model": str(model)} if model is not None else None,
        )
        for read in ([_union(reads)] if reads else [])
    ]
    if sources.by_path:
        table = BatchClassifier(model).classify_paths(sources.by_path, sources.by_path)
        parts.append(ray.data.from_arrow(table))
    if sources.failed:
        labels = [label for label, _ in sources.failed]
        errors = [MnistInferError(message) for _, message in sources.failed]
        parts.append(ray.data.from_arrow(results_table(labels, errors)))
    return parts


def _union(datasets: list[Any]) -> Any:
    """One dataset of the rows of all ``datasets`` (Ray's ``union`` needs two or more)."""
    return datasets[0].union(*datasets[1:]) if len(datasets) > 1 else datasets[0]


def _reason(error: BaseException) -> str:
    text = " ".join(str(error).split())
    first = text.split(". ")[0][:300]
    return f"{type(error).__name__}: {first}" if first else type(error).__name__
