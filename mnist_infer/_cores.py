"""How many CPU cores this process may use: light on purpose (the CLI imports it at start-up)."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """Return the cores this process may run on (its affinity mask on Linux), at least 1."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
