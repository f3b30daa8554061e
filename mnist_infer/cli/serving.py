"""``mnist-infer serve``: the HTTP API and the draw-a-digit page, run by uvicorn (extra: serve)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from mnist_infer.cli.console import error_line, write_error

__all__ = ["run_serve"]

INSTALL_HINT = "mnist-infer serve needs FastAPI and uvicorn: pip install 'mnist-infer[serve]'"


def run_serve(
    *,
    host: str,
    port: int,
    workers: int,
    model: Path | None,
    max_body_mb: float,
    max_files: int,
    max_pixels: int,
    timeout_s: float,
    header_timeout_s: float,
    cors_origins: list[str],
    access_log: bool,
) -> int:
    """Serve until stopped (SIGTERM and Ctrl-C let requests in flight finish); return the code."""
    try:
        import fastapi  # noqa: F401 - only to say what is missing before uvicorn does
        import httptools  # noqa: F401 - the parser the server's protocol builds on
        import uvicorn
    except ImportError:
        error_line(INSTALL_HINT)
        return 1
    from mnist_infer.errors import MnistInferError
    from mnist_infer.serve.protocol import HeadDeadlineProtocol
    from mnist_infer.serve.settings import SETTINGS_VARIABLE, ServeSettings

    try:
        settings = ServeSettings(
            model=str(model) if model is not None else None,
            max_body_bytes=int(max_body_mb * 1_000_000),
            max_files=max_files,
            max_pixels=max_pixels,
            timeout_s=timeout_s,
            header_timeout_s=header_timeout_s,
            cors_origins=tuple(cors_origins),
        )
        if model is not None and not model.is_file():
            raise MnistInferError(f"{model}: model file not found")
    except MnistInferError as error:
        error_line(str(error))
        return 1
    os.environ[SETTINGS_VARIABLE] = settings.to_environment()  # worker processes read it
    shown = f"[{host}]" if ":" in host else host
    write_error(f"mnist-infer serving on http://{shown}:{port}/ (API docs: /docs); Ctrl-C stops")
    # Each request's head arrives under a deadline (the protocol); the app limits the requests
    # in progress itself (uvicorn's limit_concurrency would count idle and half-open
    # connections too, so clients that hold connections could shut everyone out).
    protocol = functools.partial(HeadDeadlineProtocol, head_timeout=settings.header_timeout_s)
    uvicorn.run(
        "mnist_infer.serve.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http=protocol,  # type: ignore[arg-type]  # a class's partial, as uvicorn calls it
        log_level="warning",
        access_log=access_log,
        timeout_graceful_shutdown=int(timeout_s) + 5,
        server_header=False,
    )
    return 0
