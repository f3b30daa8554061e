"""The ``mnist-infer`` console script: run the Typer app, and never show a user a traceback.

Usage errors print Typer's usage line (exit code 2); Ctrl-C prints ``mnist-infer: interrupted``
(130); a reader that went away (``| head``) ends the run quietly (1); anything unexpected is one
``internal error`` line (3), with the traceback only under ``MNIST_INFER_DEBUG=1``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from mnist_infer.cli.app import app
from mnist_infer.cli.console import OutputError, error_line, write_error

__all__ = ["main", "run_command_line"]

INTERRUPTED = 130


def main() -> NoReturn:
    """Entry point of the ``mnist-infer`` console script."""
    _finish(run_command_line(sys.argv[1:]))


def run_command_line(arguments: Sequence[str]) -> int:
    """Run one command line and return its exit code, turning every exception into one line."""
    try:
        app(args=list(arguments), prog_name="mnist-infer")
        code = 0
    except SystemExit as done:  # Typer ends every command this way, usage errors included
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except KeyboardInterrupt:
        code = INTERRUPTED
    except BrokenPipeError:  # e.g. `mnist-infer predict --json folder | head`
        return 1
    except Exception as error:
        if os.environ.get("MNIST_INFER_DEBUG"):
            raise
        detail = " ".join(str(error).split())
        write_error(
            f"mnist-infer: internal error: {type(error).__name__}: {detail} "
            "(set MNIST_INFER_DEBUG=1 to see the traceback)"
        )
        return 3
    if code == INTERRUPTED:  # Typer turns Ctrl-C inside a command into exit code 130
        write_error("mnist-infer: interrupted")
    return code


def _finish(code: int) -> NoReturn:
    """Flush the output and end the process at once, skipping the interpreter's teardown.

    Freeing numpy, onnxruntime and Pillow module by module at exit takes 0.05-0.1 s (measured)
    and serves no purpose once the command is done and its output flushed; nothing here relies
    on atexit hooks (worker processes are already shut down). ``MNIST_INFER_DEBUG=1`` keeps the
    ordinary exit, for profilers and coverage tools that report at exit.
    """
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:
        code = code or 1
    except (OSError, ValueError) as error:
        error_line(str(OutputError(f"cannot write the results to standard output ({error})")))
        code = code or 1
    if sys.stderr is not None:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
    if os.environ.get("MNIST_INFER_DEBUG"):
        sys.exit(code)
    os._exit(code)
