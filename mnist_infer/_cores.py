"""How many CPU cores this process may use: light on purpose (the CLI imports it at start-up)."""

from __future__ import annotations

import os
from typing import Final

#: The most threads (onnxruntime's intra-op pool) or processes (the CLI's decoding workers)
#: accepted: far more than this small model can use, and a bound that keeps a typo such as
#: ``--threads 100000`` from starting thousands of them.
MAX_WORKERS: Final = 64


def usable_cores() -> int:
    """Return the cores this process may run on (its affinity mask on Linux), at least 1."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
