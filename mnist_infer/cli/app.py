"""The Typer app behind ``mnist-infer``: every command line is parsed here, and only here.

Each command checks its options (bad ones are usage errors, exit code 2) and hands them to the
module that does its work, imported inside the command so that ``--help`` and ``--version``
never load numpy, Pillow or onnxruntime.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mnist_infer._cores import MAX_WORKERS
from mnist_infer._version import __version__
from mnist_infer.cli.console import quiet_warnings

__all__ = ["app"]

app = typer.Typer(
    name="mnist-infer",
    help="Recognise handwritten digits (0-9) in image files with a small MNIST model.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"mnist-infer {__version__}")
        raise typer.Exit()


def _non_empty_paths(paths: list[str]) -> list[str]:
    if any(path == "" for path in paths):
        raise typer.BadParameter("an empty string names no file; give a file, a folder or -")
    return paths


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Recognise handwritten digits (0-9) in image files with a small MNIST model."""
    quiet_warnings()


PathsArgument = Annotated[
    list[str],
    typer.Argument(
        help="Image files, folders of images, or - for one image's bytes on stdin.",
        metavar="PATH",
        show_default=False,
        callback=_non_empty_paths,
    ),
]
RecursiveOption = Annotated[
    bool, typer.Option("--recursive", "-r", help="Also look for images in sub-folders.")
]
JobsOption = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        min=1,
        max=MAX_WORKERS,
        help="Processes decoding images (default: the usable cores).",
    ),
]
ModelOption = Annotated[
    Path | None,
    typer.Option(
        "--model", help="ONNX model file to use instead of the shipped one.", show_default=False
    ),
]
ThreadsOption = Annotated[
    int | None,
    typer.Option(
        "--threads",
        min=1,
        max=MAX_WORKERS,
        help="onnxruntime intra-op threads (default: half the cores, 1 to 4).",
    ),
]


@app.command()
def predict(
    paths: PathsArgument,
    json_lines: Annotated[
        bool,
        typer.Option(
            "--json",
            help='JSON Lines: {"path", "digit", "confidence", "probabilities"} or '
            '{"path", "error"} per input, in input order.',
        ),
    ] = False,
    recursive: RecursiveOption = False,
    top_k: Annotated[
        int,
        typer.Option(
            "--top-k", "-k", min=1, max=10, help="Also show the K most likely digits (K > 1)."
        ),
    ] = 1,
    jobs: JobsOption = None,
    model: ModelOption = None,
    threads: ThreadsOption = None,
    no_reject: Annotated[
        bool,
        typer.Option(
            "--no-reject",
            help="Give the likeliest digit even for an image the model sees no digit in.",
        ),
    ] = False,
) -> None:
    """Classify the digit in each image. Exit code 0: all inputs classified, 1: some failed."""
    from mnist_infer.cli.predicting import prediction_task, run_inputs

    raise typer.Exit(
        run_inputs(
            paths,
            prediction_task(top_k),
            json_lines=json_lines,
            recursive=recursive,
            jobs=jobs,
            model=model,
            threads=threads,
            reject_non_digits=not no_reject,
        )
    )


@app.command()
def read(
    paths: PathsArgument,
    json_lines: Annotated[
        bool,
        typer.Option(
            "--json",
            help='JSON Lines: {"path", "text", "confidence", "digits": [{"digit", "confidence", '
            '"box": \\[x0, y0, x1, y1]}]} or {"path", "error"} per input, in input order.',
        ),
    ] = False,
    recursive: RecursiveOption = False,
    jobs: JobsOption = None,
    model: ModelOption = None,
    threads: ThreadsOption = None,
    no_reject: Annotated[
        bool,
        typer.Option(
            "--no-reject", help="Give the likeliest digits even where the model sees no digit."
        ),
    ] = False,
) -> None:
    """Read the number written in each image: one line of digits, left to right.

    Exit code 0: all inputs read, 1: some failed.
    """
    from mnist_infer.cli.predicting import run_inputs
    from mnist_infer.cli.reading import reading_task

    raise typer.Exit(
        run_inputs(
            paths,
            reading_task(),
            json_lines=json_lines,
            recursive=recursive,
            jobs=jobs,
            model=model,
            threads=threads,
            reject_non_digits=not no_reject,
        )
    )


@app.command()
def info(
    json_output: Annotated[bool, typer.Option("--json", help="Print the info as JSON.")] = False,
    model: ModelOption = None,
    threads: ThreadsOption = None,
) -> None:
    """Show the model card data: accuracy, SHA-256, input contract, versions."""
    from mnist_infer.cli.model_card import run_info

    raise typer.Exit(run_info(json_output=json_output, model=model, threads=threads))


def _image_output(output: str) -> str:
    from mnist_infer.cli.framing_preview import OUTPUT_FORMATS, STDOUT_NAME

    if output == STDOUT_NAME:
        return output
    if output == "":
        raise typer.BadParameter("an empty string names no file; give a file name or -")
    suffix = Path(output).suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        problem = f"{suffix!r} is not a format it writes" if suffix else "no suffix names a format"
        raise typer.BadParameter(
            f"{output!r}: {problem}; end it with one of {' '.join(OUTPUT_FORMATS)}, "
            "or give - for a PNG on standard output"
        )
    return output


@app.command("preprocess")
def preprocess_command(
    source: Annotated[
        str, typer.Argument(help="Image file, or - for image bytes on stdin.", metavar="IN")
    ],
    output: Annotated[
        str,
        typer.Argument(
            help="Where to write the 28x28 image, in the format its suffix names (.png, .jpg, "
            ".bmp, .gif, .tif, .webp, .pgm, .ppm, .pbm), or - for a PNG on standard output.",
            metavar="OUT",
            callback=_image_output,
        ),
    ],
    scale: Annotated[
        int, typer.Option("--scale", "-s", min=1, max=64, help="Enlarge by this factor (nearest).")
    ] = 1,
) -> None:
    """Write what the model sees for IN: the 28x28 MNIST-framed digit, white on black."""
    from mnist_infer.cli.framing_preview import run_preprocess

    _non_empty_paths([source])
    raise typer.Exit(run_preprocess(source, output, scale=scale))


@app.command()
def batch(
    sources: Annotated[
        list[str],
        typer.Argument(
            help="Folders, files, local globs (quoted) or URIs (s3://..., gs://...) of images.",
            metavar="SOURCE",
            show_default=False,
            callback=_non_empty_paths,
        ),
    ],
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            help="Where to write the results: a folder of Parquet files (local or a URI).",
            show_default=False,
        ),
    ],
    address: Annotated[
        str | None,
        typer.Option(
            "--address", help="Ray cluster to run on (default: a local Ray on this machine)."
        ),
    ] = None,
    actors: Annotated[
        int | None,
        typer.Option(
            "--actors", min=1, help="Classifier actors, one CPU each (default: the cluster's CPUs)."
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, max=4096, help="Images per model call.")
    ] = 256,
    model: ModelOption = None,
) -> None:
    """Classify many images with Ray (extra: ray); one Parquet row per image, errors in place."""
    from mnist_infer.cli.batching import run_batch

    raise typer.Exit(
        run_batch(
            sources,
            output=output,
            address=address,
            actors=actors,
            batch_size=batch_size,
            model=model,
        )
    )


@app.command()
def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to bind; 0.0.0.0 serves other machines too.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=MAX_WORKERS, help="Server processes.")
    ] = 1,
    max_body_mb: Annotated[
        float, typer.Option("--max-body-mb", min=0.001, help="Largest request body, in MB.")
    ] = 10.0,
    max_files: Annotated[
        int, typer.Option("--max-files", min=1, max=10_000, help="Most images per request.")
    ] = 64,
    max_pixels: Annotated[
        int,
        typer.Option("--max-pixels", min=1, help="Largest image, in pixels (bombs are refused)."),
    ] = 40_000_000,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds a request may take (then 504).")
    ] = 30.0,
    header_timeout: Annotated[
        float,
        typer.Option(
            "--header-timeout",
            min=0.1,
            max=3600,
            help="Seconds a client has to send a request's line and headers (then 408).",
        ),
    ] = 5.0,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option("--cors-origin", help="Origin allowed to call the API from a browser."),
    ] = None,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log every request to standard error.")
    ] = False,
    model: ModelOption = None,
) -> None:
    """Serve the HTTP API and the draw-a-digit page (extra: serve)."""
    from mnist_infer.cli.serving import run_serve

    raise typer.Exit(
        run_serve(
            host=host,
            port=port,
            workers=workers,
            model=model,
            max_body_mb=max_body_mb,
            max_files=max_files,
            max_pixels=max_pixels,
            timeout_s=timeout,
            header_timeout_s=header_timeout,
            cors_origins=cors_origin or [],
            access_log=access_log,
        )
    )
