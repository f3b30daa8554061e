"""Import onnxruntime with its telemetry off: nothing is written outside what the user asked for.

onnxruntime's telemetry writes a device ID and a database under ``~/.cache/Microsoft`` (and
prints a warning when it cannot). It reads ``ORT_DISABLE_TELEMETRY`` when it is first imported,
so the variable is set just before; a value the user set stays as it is.
"""

from __future__ import annotations

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import onnxruntime

__all__ = ["onnxruntime"]
