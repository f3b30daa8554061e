"""What a server may accept and how it runs: every limit has a default and a command-line option."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from typing import Final

from mnist_infer._cores import usable_cores
from mnist_infer.errors import InvalidInputError

__all__ = ["SETTINGS_VARIABLE", "ServeSettings"]

#: How settings reach uvicorn's worker processes (each builds its own app from them).
SETTINGS_VARIABLE: Final = "MNIST_INFER_SERVE_SETTINGS"


@dataclass(frozen=True)
class ServeSettings:
    """Limits and resources of one server (each worker process has its own classifier and pool).

    ``max_body_bytes``: larger request bodies get 413. ``max_files``: more files in one request
    get 400. ``max_pixels``: larger images are refused from their header (decompression bombs).
    ``timeout_s``: a request still running after this gets 504. ``header_timeout_s``: a request
    line and headers not all received this long after the connection opened (or after the
    request's first byte) get 408 and the connection is closed, so slow clients cannot hold it.
    ``max_in_flight``: requests in progress at once in this process; more get 503 at once.
    ``threads``: requests classified at once in this process (the bounded pool that keeps CPU
    work off the event loop). ``cors_origins``: origins allowed to call the API from a browser
    (none: CORS off).
    """

    model: str | None = None
    max_body_bytes: int = 10_000_000
    max_files: int = 64
    max_pixels: int = 40_000_000
    timeout_s: float = 30.0
    #: Long enough for a client across the world on a poor link (a request head is a few
    #: hundred bytes), short enough that a client holding connections open gains little.
    header_timeout_s: float = 5.0
    #: Many times what the pool classifies at once (the rest wait their turn in it); past this
    #: many, waiting only adds latency, so a client is told at once.
    max_in_flight: int = 256
    threads: int = field(default_factory=usable_cores)
    cors_origins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_files", "max_pixels", "max_in_flight", "threads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{name} must be a positive integer, got {value!r}")
        if not self.timeout_s > 0:
            raise InvalidInputError(f"timeout_s must be positive, got {self.timeout_s!r}")
        if not 0 < self.header_timeout_s < math.inf:
            raise InvalidInputError(
                f"header_timeout_s must be positive and finite, got {self.header_timeout_s!r}"
            )

    def to_environment(self) -> str:
        """Return the settings as JSON, for ``SETTINGS_VARIABLE``."""
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_environment(cls) -> ServeSettings:
        """Return the settings ``mnist-infer serve`` left in ``SETTINGS_VARIABLE``, or defaults."""
        text = os.environ.get(SETTINGS_VARIABLE)
        if not text:
            return cls()
        values = json.loads(text)
        values["cors_origins"] = tuple(values.get("cors_origins", ()))
        return cls(**values)
