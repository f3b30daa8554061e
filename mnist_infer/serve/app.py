"""The FastAPI app: ``/v1/predict``, ``/v1/read``, ``/v1/info``, health checks, and the page.

One ``Classifier`` per process, created at start-up. Classification runs in worker threads, at
most ``settings.threads`` at a time, so the event loop stays free for other clients. Every error
is a JSON body ``{"error": ...}``; no traceback ever reaches a client. Whatever goes wrong with
one image of a request (even a bug) is that image's error, in its place; the others keep
their results.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from mnist_infer._version import __version__
from mnist_infer.errors import (
    InternalError,
    InvalidImageError,
    LineTooLongError,
    MnistInferError,
    ModelError,
    NoDigitFoundError,
    NotADigitError,
    SeveralDigitsError,
    named_error,
)
from mnist_infer.serve.limits import BodyLimit, Overload, TimeLimit
from mnist_infer.serve.responses import (
    DEFAULT_POLICY,
    PAGE_POLICY,
    SECURITY_HEADERS,
    HeadAsGet,
    SecurityHeaders,
    script_policy,
)
from mnist_infer.serve.settings import ServeSettings
from mnist_infer.serve.uploads import Upload, UploadError, read_uploads

__all__ = ["create_app"]

#: The status of a one-image request whose image failed, by the kind of failure: the first
#: kind the error is an instance of, so a subclass comes before its base. An image that decodes
#: but is not what was asked for (no ink, not a digit, several digits where one was asked for,
#: not one line of digits, a line too long to read) is 422; one that does not decode is 415; a
#: failure of the model or inside mnist_infer (a bug) is 500; any other input error is 400.
STATUS_OF_ERROR: dict[type[MnistInferError], int] = {
    SeveralDigitsError: 422,
    LineTooLongError: 422,
    NotADigitError: 422,
    NoDigitFoundError: 422,
    InvalidImageError: 415,
    ModelError: 500,
    InternalError: 500,
}

TopK = Annotated[int, Query(ge=1, le=10, description="Also return the K most likely digits.")]
Framed = Annotated[
    bool, Query(description="Also return the 28x28 image the model saw, as a PNG data URL.")
]
FramedDigits = Annotated[
    bool,
    Query(description="Also return each digit's 28x28 image the model saw, as a PNG data URL."),
]
Work = Callable[[Any, list[Upload]], list[dict[str, Any]]]
_Outcome = TypeVar("_Outcome")
_LOG = logging.getLogger("mnist_infer.serve")


def create_app(settings: ServeSettings | None = None) -> FastAPI:
    """Build the app for ``settings``; the model loads when the app starts.

    Without ``settings``: those ``mnist-infer serve`` passed its worker processes, else the
    defaults.
    """
    settings = settings or ServeSettings.from_environment()
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        from mnist_infer.classifier import Classifier

        state["limiter"] = anyio.CapacityLimiter(settings.threads)
        state["classifier"] = await anyio.to_thread.run_sync(
            lambda: Classifier(settings.model, threads=1, max_pixels=settings.max_pixels)
        )
        yield

    app = FastAPI(
        title="mnist-infer",
        version=__version__,
        summary="Handwritten digits in image files, as JSON.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    # The bundled Swagger UI (4.x) renders OpenAPI 3.0 only, and the schema uses nothing that
    # 3.1 added (no null types, no lists of examples).
    app.openapi_version = "3.0.3"
    _add_error_handlers(app)
    # Each add_middleware wraps the ones before it: a request meets them bottom to top.
    app.add_middleware(TimeLimit, seconds=settings.timeout_s)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(Overload, limit=settings.max_in_flight)  # before any work
    app.add_middleware(HeadAsGet)
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "HEAD", "POST"],
            allow_headers=["*"],
        )
    app.add_middleware(SecurityHeaders)  # outermost: on every response the app sends

    async def answer(request: Request, work: Work) -> JSONResponse:
        """Read a request's images and run ``work`` on them in the bounded pool, off the loop.

        With one image the status code is its outcome; with several it is 200 and each result
        carries its own outcome.
        """
        try:
            uploads = await read_uploads(request, max_files=settings.max_files)
        except UploadError as error:
            return _error(error.status, str(error))
        classifier = state["classifier"]
        results = await anyio.to_thread.run_sync(
            lambda: work(classifier, uploads), limiter=state["limiter"], abandon_on_cancel=True
        )
        status = results[0].pop("_status", 200) if len(results) == 1 else 200
        for result in results:
            result.pop("_status", None)
        return JSONResponse({"results": results}, status_code=status)

    @app.post("/v1/predict", summary="Classify the digit in each image")
    async def predict(request: Request, top_k: TopK = 1, framed: Framed = False) -> JSONResponse:
        """Classify images sent as multipart file fields, or one image as the raw body.

        One result per image, in order: ``{"path", "digit", "confidence", "probabilities"}``
        or ``{"path", "error"}``. With one image the status code is its outcome (415: not a
        supported image; 422: no digit found, ink the model sees no digit in, or several
        digits, which ``/v1/read`` reads); with several it is 200 and each result carries its
        own outcome.
        """
        return await answer(
            request, lambda c, uploads: _classify(c, uploads, top_k, framed, settings.max_pixels)
        )

    @app.post("/v1/read", summary="Read the number written in each image")
    async def read(request: Request, framed: FramedDigits = False) -> JSONResponse:
        """Read numbers (one line of digits) in images sent as ``/v1/predict`` takes them.

        One result per image, in order: ``{"path", "text", "confidence", "digits": [{"digit",
        "confidence", "box": [x0, y0, x1, y1]}]}`` (boxes in the image's pixels, x1 and y1
        exclusive), or ``{"path", "error"}``. Status codes as for ``/v1/predict``.
        """
        return await answer(request, lambda c, uploads: _read(c, uploads, framed))

    @app.get("/v1/info", summary="The model card data")
    async def info() -> dict[str, Any]:
        """Return the loaded model's accuracy, checksum, contract and versions, and the limits."""
        details: dict[str, Any] = state["classifier"].info.as_dict()
        details.pop("location", None)  # a path on the server says nothing to a client
        details["limits"] = {
            "max_body_bytes": settings.max_body_bytes,
            "max_files": settings.max_files,
            "max_pixels": settings.max_pixels,
            "timeout_s": settings.timeout_s,
            "header_timeout_s": settings.header_timeout_s,
            "max_in_flight": settings.max_in_flight,
        }
        return details

    @app.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", summary="Readiness: the model is loaded")
    async def readyz() -> JSONResponse:
        ready = "classifier" in state
        return JSONResponse(
            {"status": "ready" if ready else "starting"}, status_code=200 if ready else 503
        )

    static = resources.files("mnist_infer.serve").joinpath("static")

    @app.get("/", include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(
            static.joinpath("index.html").read_text(encoding="utf-8"),
            headers={"content-security-policy": PAGE_POLICY},
        )

    _add_offline_docs(app)  # before /static, whose mount would catch /static/swagger
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    return app


def _classify(
    classifier: Any, uploads: Sequence[Upload], top_k: int, framed: bool, max_pixels: int
) -> list[dict[str, Any]]:
    """Prepare each upload, score the good ones in one model call; records in upload order."""
    from mnist_infer import prepare_digit

    def frame_and_score(batch: list[Upload]) -> list[tuple[Any, Any] | Exception]:
        digits: list[Any] = []
        for upload in batch:
            try:
                digits.append(prepare_digit(upload.data, name=upload.name, max_pixels=max_pixels))
            except MnistInferError as error:
                digits.append(error)
        good = [index for index, digit in enumerate(digits) if not isinstance(digit, Exception)]
        outcomes: list[tuple[Any, Any] | Exception] = list(digits)
        if good:
            prepared = [digits[index] for index in good]
            scored = classifier.classify_framed(prepared, [batch[index].name for index in good])
            for index, outcome in zip(good, scored, strict=True):
                is_error = isinstance(outcome, Exception)
                outcomes[index] = outcome if is_error else (outcome, digits[index].framed)
        return outcomes

    def record(upload: Upload, outcome: tuple[Any, Any]) -> dict[str, Any]:
        prediction, digit = outcome
        fields = {"path": upload.name, **prediction.to_dict(top_k)}
        if framed:
            fields["framed"] = _png_data_url(digit)
        return fields

    return _records(uploads, _each(uploads, frame_and_score), record)


def _read(classifier: Any, uploads: Sequence[Upload], framed: bool) -> list[dict[str, Any]]:
    """Read each upload's number, all candidates scored together; records in upload order."""

    def read_all(batch: list[Upload]) -> list[Any]:
        outcomes: list[Any] = classifier.read_each(
            [upload.data for upload in batch], names=[upload.name for upload in batch]
        )
        return outcomes

    def record(upload: Upload, reading: Any) -> dict[str, Any]:
        fields: dict[str, Any] = {**reading.to_dict(), "path": upload.name}
        if framed:
            for entry, digit in zip(fields["digits"], reading.digits, strict=True):
                entry["framed"] = _png_data_url(digit.framed)
        return fields

    return _records(uploads, _each(uploads, read_all), record)


def _each(
    uploads: Sequence[Upload], work: Callable[[list[Upload]], Sequence[_Outcome | Exception]]
) -> list[_Outcome | Exception]:
    """One outcome per upload, in order, whatever goes wrong inside one of them.

    ``work`` runs on all the uploads at once (one model call for all); if it raises, or does
    not give one outcome per upload, it runs on each alone, and what one raises is that
    upload's outcome.
    """
    batch = list(uploads)
    try:
        outcomes = list(work(batch))
        if len(outcomes) == len(batch):
            return outcomes
    except Exception as error:
        if len(batch) == 1:
            return [error]
    return [_alone(work, upload) for upload in batch]


def _records(
    uploads: Sequence[Upload],
    outcomes: Sequence[_Outcome | Exception],
    record: Callable[[Upload, _Outcome], dict[str, Any]],
) -> list[dict[str, Any]]:
    """One JSON record per upload, in order: ``record`` of its result, or its error's record."""
    records: list[dict[str, Any]] = []
    for upload, outcome in zip(uploads, outcomes, strict=True):
        if isinstance(outcome, Exception):
            records.append(_failure(upload.name, outcome))
            continue
        try:
            records.append(record(upload, outcome))
        except Exception as error:
            records.append(_failure(upload.name, error))
    return records


def _alone(
    work: Callable[[list[Upload]], Sequence[_Outcome | Exception]], upload: Upload
) -> _Outcome | Exception:
    try:
        (outcome,) = work([upload])
    except Exception as error:
        return error
    return outcome


def _failure(name: str, error: Exception) -> dict[str, Any]:
    """Return the record of a failed upload: its name, and one message that starts with it.

    An exception outside the ``MnistInferError`` family (a bug) is that upload's
    ``InternalError``, and the server's log gets its traceback.
    """
    if not isinstance(error, MnistInferError):
        _LOG.error("%s: internal error", name, exc_info=error)
    error = named_error(error, name)
    status = next((s for kind, s in STATUS_OF_ERROR.items() if isinstance(error, kind)), 400)
    message = str(error)
    if isinstance(error, SeveralDigitsError):
        message += "; over HTTP, POST it to /v1/read"
    return {"path": name, "error": message, "_status": status}


def _png_data_url(pixels: Any) -> str:
    import base64
    import io

    import numpy as np
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.rint(pixels * 255).astype(np.uint8)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _add_error_handlers(app: FastAPI) -> None:
    """Every error a client can cause is JSON with one message; anything else is a bare 500."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        response = _error(error.status_code, str(error.detail))
        response.headers.update(error.headers or {})  # such as Allow, with a 405
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'][1:])}: {item['msg']}"
            for item in error.errors()
        )
        return _error(400, f"invalid request ({problems})")

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, _exc: Exception) -> JSONResponse:
        # Starlette answers this outside all middleware: the headers are added here.
        response = _error(500, "internal server error")
        response.headers.update({k.decode(): v.decode() for k, v in SECURITY_HEADERS})
        response.headers["content-security-policy"] = DEFAULT_POLICY
        return response


def _add_offline_docs(app: FastAPI) -> None:
    """OpenAPI's interactive page at /docs, from a bundled Swagger UI: no CDN, works offline."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:  # the page is optional; /openapi.json always works
        return
    app.mount("/static/swagger", StaticFiles(directory=str(swagger_ui_path)), name="swagger")

    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="mnist-infer API",
        swagger_js_url="/static/swagger/swagger-ui-bundle.js",
        swagger_css_url="/static/swagger/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
    )
    html = bytes(page.body).decode()
    # The page starts Swagger UI from one inline script: the policy allows exactly that one.
    inline = html.split("<script>", 1)[1].split("</script>", 1)[0]
    policy = script_policy(inline)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(html, headers={"content-security-policy": policy})
