"""What a request carries: image files in a multipart form, or one image as the raw body.

A request is only bytes: a text field is never read as a path on the server. Every problem with
the request itself (not with an image in it) is an ``UploadError`` with its HTTP status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Upload", "UploadError", "read_uploads"]


@dataclass(frozen=True)
class Upload:
    """One image sent by the client: the name it is reported under, and its bytes."""

    name: str
    data: bytes


class UploadError(Exception):
    """A request that cannot be read: its status code and one clear message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def read_uploads(request: Any, *, max_files: int) -> list[Upload]:
    """Return the images of a request, in order: every file field of a form, or the body."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        return await _form_files(request, max_files)
    body = await request.body()  # any other type (curl --data-binary sends a form's) is raw
    if not body:
        raise UploadError(400, "empty request body: send an image, or files as multipart")
    return [Upload("body", body)]


async def _form_files(request: Any, max_files: int) -> list[Upload]:
    from starlette.datastructures import UploadFile
    from starlette.exceptions import HTTPException
    from starlette.formparsers import MultiPartException
    from starlette.requests import ClientDisconnect

    body = await request.body()  # read once (within the body limit); the form parses it
    boundary = _boundary(request.headers.get("content-type", ""))
    if boundary is None:
        raise UploadError(400, "malformed multipart body (no boundary in Content-Type)")
    if b"--" + boundary + b"--" not in body:
        raise UploadError(400, "malformed multipart body (truncated: no closing boundary)")
    try:
        form = await request.form(max_files=max_files, max_fields=max_files + 16)
    except (MultiPartException, HTTPException) as error:  # Starlette wraps the parser's errors
        detail = str(getattr(error, "detail", None) or getattr(error, "message", error))
        if "too many files" in detail.lower():
            raise UploadError(400, f"too many files: at most {max_files} per request") from None
        reason = _parser_reason(error)
        limit = _part_limit(reason)
        if limit is not None:
            raise UploadError(400, limit) from None
        cause = f": {reason}" if reason else ""
        raise UploadError(400, f"malformed multipart body ({detail.rstrip('.')}{cause})") from None
    except ClientDisconnect:
        raise
    except Exception as error:  # python-multipart rejects a truncated body in several ways
        raise UploadError(400, f"malformed multipart body ({type(error).__name__})") from None
    try:
        files = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
        if not files:
            raise UploadError(400, "no image file in the form: send each image as a file field")
        return [
            Upload(file.filename or f"file {index}", await file.read())
            for index, file in enumerate(files)
        ]
    finally:
        await form.close()


def _parser_reason(error: BaseException) -> str:
    """Return the python-multipart parser's message behind Starlette's error, or ""."""
    from python_multipart.exceptions import FormParserError

    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, FormParserError):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    return ""


def _part_limit(reason: str) -> str | None:
    """Name the python-multipart limit that a well-formed body passed, from the parser's error.

    The parser bounds each part's header lines (the file name is in one of them) in size and in
    number; Starlette reports either as "Invalid multipart data".
    """
    import python_multipart.multipart as parser

    reason = reason.lower()
    if "header size" in reason:
        size = getattr(parser, "DEFAULT_MAX_HEADER_SIZE", None)
        limit = f"limit {size:,} bytes, " if isinstance(size, int) else ""
        return f"a multipart part's header line is too long ({limit}its file name included)"
    if "header count" in reason:
        count = getattr(parser, "DEFAULT_MAX_HEADER_COUNT", None)
        limit = f" (limit {count})" if isinstance(count, int) else ""
        return f"a multipart part has too many header lines{limit}"
    return None


def _boundary(content_type: str) -> bytes | None:
    """Return the multipart boundary named in a Content-Type header."""
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "boundary" and value:
            return value.strip('"').encode("latin-1")
    return None
