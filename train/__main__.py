"""``python -m train``: fit, evaluate and export the MLP and the line reader, each gated."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from train.data import DataError, MnistData, load_mnist
from train.recipes import RECIPES, get_recipe

# Each command imports its own work inside the function, so a command loads only what it runs
# (onnx and onnxruntime for the exports, the line composer and its fonts for the reader).
if TYPE_CHECKING:
    from train.reader_runs import ReaderResult
    from train.runs import TrainResult

app = typer.Typer(
    help="Train, evaluate and export the mnist-infer models: the 784-256-10 MLP, the line reader.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
#: Errors go to stderr, one unwrapped line each, so scripts and logs can grep them.
error_console = Console(stderr=True, soft_wrap=True)

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder with the four MNIST IDX files (.gz or raw). Default: $MNIST_DATA_DIR, then a"
        " download cache.",
        show_default=False,
    ),
]
#: What a run loader returns (the result and the data set hashes).
Loaded = TypeVar("Loaded")

RunDirArgument = Annotated[Path, typer.Argument(help="Run folder written by `fit`.")]


def load_run_or_exit(run_dir: Path) -> tuple[TrainResult, dict[str, str]]:
    """Load a run folder, turning a missing or unreadable checkpoint into one red line, exit 1."""
    from train.runs import load_run

    return _loaded_or_exit(load_run, run_dir)


def load_reader_run_or_exit(run_dir: Path) -> tuple[ReaderResult, dict[str, str]]:
    """Load a line-reader run folder, turning an unreadable checkpoint into one red line, exit 1."""
    from train.reader_runs import load_reader_run

    return _loaded_or_exit(load_reader_run, run_dir)


def _loaded_or_exit(load: Callable[[Path], Loaded], run_dir: Path) -> Loaded:
    """Return ``load(run_dir)``; a missing or unreadable checkpoint is one red line and exit 1."""
    try:
        return load(run_dir)
    except (OSError, RuntimeError, KeyError, TypeError) as error:
        error_console.print(f"[red]error:[/red] cannot load the run {run_dir}: {error}")
        raise typer.Exit(1) from error


def load_data_or_exit(data_dir: Path | None) -> MnistData:
    """Load MNIST, turning a DataError into one red line and exit code 1."""
    try:
        return load_mnist(data_dir)
    except DataError as error:
        error_console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from error


@app.command()
def fit(
    recipe: Annotated[str, typer.Option(help=f"Recipe: {', '.join(RECIPES)}.")] = "quick",
    seed: Annotated[int, typer.Option(help="Seed of weights, batch order, augmentation.")] = 0,
    epochs: Annotated[int | None, typer.Option(help="Override the recipe's epochs.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Run folder. Default: runs/<recipe>-seed<seed>.")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Train a recipe; save checkpoint, config and history in the run folder.

    A stopped run goes on from its last epoch when fitted again into the same folder.
    """
    from torch import nn

    from train.runs import PROGRESS_NAME, EpochLog, save_run
    from train.trainer import train

    try:
        config = get_recipe(recipe, seed=seed, epochs=epochs)
    except KeyError as error:
        raise typer.BadParameter(str(error.args[0]), param_hint="--recipe") from error
    run_dir = out or Path("runs") / f"{recipe}-seed{seed}"
    data = load_data_or_exit(data_dir)
    console.print(f"[bold]recipe[/bold] {config.recipe}: {config.to_json()}")
    console.print(f"train {len(data.train_labels):,} / validation {len(data.val_labels):,} images")

    with Progress(
        TextColumn("[bold]epoch {task.completed}/{task.total}"),
        BarColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("", total=config.epochs)

        def report(log: EpochLog, _: nn.Module) -> None:
            summary = (
                f"loss {log.train_loss:.4f}  val loss {log.val_loss:.4f}"
                f"  val acc {log.val_accuracy:.4f}"
            )
            progress.update(task, advance=1, description=summary)
            if not console.is_terminal:  # logs get one line per epoch instead of a bar
                console.print(f"epoch {log.epoch}/{config.epochs}  {summary}  {log.seconds:.0f} s")

        try:
            result = train(config, data, on_epoch=report, progress=run_dir / PROGRESS_NAME)
        except FileNotFoundError as error:  # a distill recipe whose teacher was never trained
            error_console.print(
                f"[red]error:[/red] {error} (the teacher of recipe {config.recipe!r}: "
                f"python -m train fit --recipe teacher)"
            )
            raise typer.Exit(1) from error
    path = save_run(result, run_dir, data.sha256)
    (run_dir / PROGRESS_NAME).unlink(missing_ok=True)
    console.print(
        f"best epoch {result.best_epoch}: validation accuracy {result.val_accuracy:.4f},"
        f" temperature {result.temperature:.4f}, {result.seconds:.1f} s -> {path}"
    )


@app.command()
def evaluate(
    run_dir: RunDirArgument,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for report.json and the PNGs. Default: the run folder."),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Score a run on validation and test: tables, confusion matrix, figures, report.json."""
    from train.evaluate import Metrics, evaluate_run, per_digit_table

    result, _ = load_run_or_exit(run_dir)
    data = load_data_or_exit(data_dir)
    out_dir = out or (run_dir if run_dir.is_dir() else run_dir.parent)
    report = evaluate_run(result, data, out_dir)
    val, test = report["validation"], report["test"]
    console.print(per_digit_table(Metrics(**test), "MNIST test set: per digit (rows: true digit)"))
    console.print(
        f"validation accuracy {val['accuracy']:.4f} ({val['errors']} errors of {val['images']:,}),"
        f" test accuracy {test['accuracy']:.4f} ({test['errors']} errors of {test['images']:,})"
    )
    console.print(
        f"temperature {report['temperature']:.4f}: ECE ({report['ece_bins']} bins) validation"
        f" {val['ece']:.4f} (uncalibrated {val['ece_uncalibrated']:.4f}), test {test['ece']:.4f}"
        f" (uncalibrated {test['ece_uncalibrated']:.4f})"
    )
    console.print(f"report and figures in {out_dir}")


@app.command()
def export(
    run_dir: RunDirArgument,
    out: Annotated[Path, typer.Option(help="Where the ONNX file goes.")] = Path(
        "models/mnist-mlp.onnx"
    ),
    min_accuracy: Annotated[
        float, typer.Option(help="Refuse to export below this MNIST test accuracy.")
    ] = 0.9791,
    max_digit_rejection: Annotated[
        float,
        typer.Option(
            help="For a run trained with non-digits: the 'not a digit' threshold rejects at most"
            " this share of the validation digits (as arrays, and as image files)."
        ),
    ] = 0.002,
    data_dir: DataDirOption = None,
) -> None:
    """Export a run to ONNX only if it passes the gate: checker, onnxruntime == torch, accuracy."""
    from mnist_infer.contract import MetadataKey
    from train.export import ExportRefusedError, export_model
    from train.model import MLP

    result, dataset_sha256 = load_run_or_exit(run_dir)
    if not isinstance(result.model, MLP):
        error_console.print(
            f"[red]error:[/red] {run_dir} holds a {result.config.model} teacher, not the"
            " 784-256-10 MLP: only MLP runs are exported"
        )
        raise typer.Exit(1)
    data = load_data_or_exit(data_dir)
    if dataset_sha256 != data.sha256:
        error_console.print("[red]error:[/red] the run was trained on other data files than these")
        raise typer.Exit(1)
    metadata = {
        MetadataKey.VAL_ACCURACY: f"{result.val_accuracy:.4f}",
        MetadataKey.RECIPE: result.config.recipe,
        MetadataKey.CONFIG: result.config.to_json(),
        MetadataKey.DATASET_SHA256: json.dumps(data.sha256, sort_keys=True),
    }
    try:
        report = export_model(
            result.model,
            temperature=result.temperature,
            test_images=data.test_images,
            test_labels=data.test_labels,
            metadata=metadata,
            out_path=out,
            min_accuracy=min_accuracy,
            val_images=data.val_images if result.config.not_digits is not None else None,
            val_labels=data.val_labels,
            max_rejected=max_digit_rejection if result.config.not_digits is not None else None,
        )
    except ExportRefusedError as error:
        error_console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from error
    console.print(
        f"exported {report.path} (sha256 {report.sha256[:12]}...): test accuracy"
        f" {report.test_accuracy:.4f} >= {report.min_accuracy:.4f}, test ECE {report.test_ece:.4f},"
        f" onnxruntime vs torch max |diff| {report.max_abs_diff:.2g} and identical digits on all"
        f" {report.images:,} test images"
    )
    if report.threshold is not None:
        t = report.threshold
        console.print(
            f"not_digit_threshold {t.value:.4f}: rejects {t.digits_rejected_arrays:.2%} of the"
            f" validation digits as arrays, {t.digits_rejected_files:.2%} as image files"
            f" (budget {t.max_rejected:.2%}); validation non-digits rejected:"
            f" {t.non_digits_rejected:.2%} (training generators, another seed),"
            f" {t.other_fonts_rejected:.2%} (characters in the validation fonts)"
        )


@app.command()
def samples(
    out: Annotated[Path, typer.Option(help="PNG to draw.")] = Path("docs/images/writer-styles.png"),
    real_dir: Annotated[
        Path | None,
        typer.Option(help="Folder with the real digits shown beside each style (validation)."),
    ] = Path("../shared/data/real-dev"),
    data_dir: DataDirOption = None,
) -> None:
    """Draw the writer styles on MNIST validation digits, each beside a real digit of its kind."""
    from train.samples import draw_samples

    data = load_data_or_exit(data_dir)
    folder = real_dir if real_dir is not None and real_dir.is_dir() else None
    console.print(f"drew {draw_samples(data, out, folder)}")


# --- the line reader ----------------------------------------------------------------------------

ReaderRecipeOption = Annotated[
    str, typer.Option("--recipe", help="Reader recipe: reader-quick, reader.")
]


@app.command("fit-reader")
def fit_reader(
    recipe: ReaderRecipeOption = "reader-quick",
    seed: Annotated[int, typer.Option(help="Seed of weights and lines.")] = 0,
    steps: Annotated[int | None, typer.Option(help="Override the recipe's steps.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Run folder. Default: runs/<recipe>-seed<seed>.")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Train a line reader on composed lines; save it in the run folder.

    The state is written every few hundred steps: fitting again into the same folder goes on.
    """
    from train.reader_runs import READER_PROGRESS_NAME, StepLog, save_reader_run
    from train.reader_trainer import train_reader
    from train.recipes import get_reader_recipe

    try:
        config = get_reader_recipe(recipe, seed=seed, steps=steps)
    except KeyError as error:
        raise typer.BadParameter(str(error.args[0]), param_hint="--recipe") from error
    run_dir = out or Path("runs") / f"{recipe}-seed{seed}"
    data = load_data_or_exit(data_dir)
    console.print(f"[bold]recipe[/bold] {config.recipe}: {config.to_json()}")

    def report(log: StepLog) -> None:
        console.print(
            f"step {log.step}/{config.steps}  loss {log.train_loss:.4f}"
            f"  val lines right {log.val_sequence_accuracy:.4f}  {log.seconds:.0f} s"
        )

    progress = run_dir / READER_PROGRESS_NAME
    if progress.is_file():
        console.print(f"going on from {progress}")
    result = train_reader(config, data, on_measure=report, progress=progress)
    path = save_reader_run(result, run_dir, data.sha256)
    progress.unlink(missing_ok=True)
    console.print(
        f"best step {result.best_step}: validation lines read right"
        f" {result.val_sequence_accuracy:.4f}, {result.seconds:.1f} s -> {path}"
    )


@app.command("evaluate-reader")
def evaluate_reader(
    run_dir: RunDirArgument,
    out: Annotated[
        Path | None, typer.Option(help="Folder for reader-report.json. Default: the run folder.")
    ] = None,
    onnx_model: Annotated[
        Path | None,
        typer.Option("--onnx", help="An exported reader to time in onnxruntime (lines/s)."),
    ] = None,
    usps_dir: Annotated[
        Path | None,
        typer.Option(help="Folder with USPS's zip.train.gz (numbers by other writers)."),
    ] = None,
    lines: Annotated[int, typer.Option(help="Lines per measuring set.")] = 2000,
    data_dir: DataDirOption = None,
) -> None:
    """Read fixed validation, test and USPS lines: accuracy by slice, per digit, beam vs greedy."""
    from train.data import load_usps
    from train.reader_evaluate import evaluate_reader_run, print_reader_report

    result, _ = load_reader_run_or_exit(run_dir)
    data = load_data_or_exit(data_dir)
    try:
        usps = load_usps(usps_dir)
    except DataError as error:
        error_console.print(f"[yellow]no USPS row:[/yellow] {error}")
        usps = None
    out_dir = out or (run_dir if run_dir.is_dir() else run_dir.parent)
    report = evaluate_reader_run(
        result, data, out_dir, usps=usps, lines=lines, onnx_path=onnx_model
    )
    print_reader_report(report, console)
    console.print(f"report in {out_dir}")


@app.command("export-reader")
def export_reader_command(
    run_dir: RunDirArgument,
    out: Annotated[Path, typer.Option(help="Where the ONNX file goes.")] = Path(
        "models/line-reader.onnx"
    ),
    min_accuracy: Annotated[
        float,
        typer.Option(help="Refuse to export below this share of validation lines read right."),
    ] = 0.75,
    lines: Annotated[int, typer.Option(help="Validation and test lines the gate reads.")] = 2000,
    data_dir: DataDirOption = None,
) -> None:
    """Export a line reader to ONNX only if it passes the gate: checker, parity, line accuracy."""
    from mnist_infer.contract import ReaderMetadataKey
    from train.reader_export import ReaderExportRefusedError, export_reader
    from train.reader_measure import digit_line_set

    result, dataset_sha256 = load_reader_run_or_exit(run_dir)
    data = load_data_or_exit(data_dir)
    if dataset_sha256 != data.sha256:
        error_console.print("[red]error:[/red] the run was trained on other data files than these")
        raise typer.Exit(1)
    metadata = {
        ReaderMetadataKey.RECIPE: result.config.recipe,
        ReaderMetadataKey.CONFIG: result.config.to_json(),
        ReaderMetadataKey.DATASET_SHA256: json.dumps(data.sha256, sort_keys=True),
    }
    try:
        report = export_reader(
            result.model,
            val_lines=digit_line_set("validation", data, lines),
            test_lines=digit_line_set("test", data, lines),
            metadata=metadata,
            out_path=out,
            min_sequence_accuracy=min_accuracy,
        )
    except ReaderExportRefusedError as error:
        error_console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from error
    console.print(
        f"exported {report.path} (sha256 {report.sha256[:12]}...): validation lines read right"
        f" {report.val_sequence_accuracy:.4f} >= {report.min_sequence_accuracy:.4f}, test"
        f" {report.test_sequence_accuracy:.4f}; onnxruntime vs torch max |diff|"
        f" {report.max_abs_diff:.2g}, the same reading of all {report.lines:,} validation lines"
    )


if __name__ == "__main__":
    app()
