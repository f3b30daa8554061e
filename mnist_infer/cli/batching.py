"""``mnist-infer batch``: classify a folder, a glob or object-storage files on a Ray cluster.

The files are read by Ray Data (``read_binary_files``; any URI pyarrow's filesystems understand,
``s3://`` and ``gs://`` among them), classified by ``mnist_infer.ray.BatchClassifier`` actors,
and written as Parquet (a folder of part files, one row per input). Without ``--address`` a local
Ray is started on this machine's cores. Ray comes with the ``ray`` extra.
"""

from __future__ import annotations

import glob
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mnist_infer._cores import usable_cores
from mnist_infer.cli.console import CommandError, error_line, flush_output, write_error, write_line
from mnist_infer.cli.inputs import IMAGE_SUFFIXES

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
        paths = _expand(sources)
        _start(ray, address)
        rows, failures = _classify(ray, paths, output, actors, batch_size, model)
        write_line(f"{rows} result(s) written to {output}")
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


def _expand(sources: Sequence[str]) -> list[str]:
    """Local globs become their matches; folders, files and URIs go to Ray as given."""
    paths: list[str] = []
    for source in sources:
        if "://" not in source and glob.has_magic(source):
            matches = sorted(glob.glob(source, recursive=True))  # noqa: PTH207 - absolute too
            if not matches:
                raise CommandError(f"{source}: no file matches this pattern")
            paths.extend(matches)
        else:
            paths.append(source)
    return paths


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
    paths: list[str],
    output: str,
    actors: int | None,
    batch_size: int,
    model: Path | None,
) -> tuple[int, int]:
    """Run the job; return (rows written, rows with an error)."""
    from mnist_infer.ray import BatchClassifier

    pool = actors or max(1, int(ray.cluster_resources().get("CPU", 1)))
    try:
        files = ray.data.read_binary_files(
            paths,
            include_paths=True,
            file_extensions=sorted(suffix.lstrip(".") for suffix in IMAGE_SUFFIXES),
        )
        results = files.map_batches(
            BatchClassifier,
            compute=ray.data.ActorPoolStrategy(min_size=1, max_size=pool),
            batch_size=batch_size,
            fn_constructor_kwargs={"model": str(model)} if model is not None else None,
        ).materialize()
        results.write_parquet(output)
        errors = results.select_columns(["error"]).to_pandas()["error"]
    except Exception as error:  # a missing source, an unreachable bucket, a failed model load
        raise CommandError(f"batch job failed ({_reason(error)})") from None
    return len(errors), int(errors.notna().sum())


def _reason(error: BaseException) -> str:
    text = " ".join(str(error).split())
    first = text.split(". ")[0][:300]
    return f"{type(error).__name__}: {first}" if first else type(error).__name__
