"""``mnist-infer preprocess``: write the 28x28 the model sees for one image, as an image file.

The output's format is the one its suffix names (``seen.jpg`` is a JPEG); ``-`` writes a PNG to
standard output, never to a terminal.
"""

from __future__ import annotations

import io
from typing import Any, Final

from mnist_infer.cli.console import (
    CommandError,
    error_line,
    flush_output,
    printable,
    write_binary,
    write_line,
)
from mnist_infer.cli.inputs import expand_paths, is_folder
from mnist_infer.cli.predicting import prepared

__all__ = ["OUTPUT_FORMATS", "STDOUT_NAME", "run_preprocess"]

#: OUT naming standard output.
STDOUT_NAME: Final = "-"
#: Suffix (lower case) -> Pillow format, image mode and save options. The formats ``predict``
#: reads; ``.ppm`` holds colour and ``.pbm`` black and white, as those formats are defined, and
#: WebP is written lossless.
OUTPUT_FORMATS: Final[dict[str, tuple[str, str, dict[str, Any]]]] = {
    ".png": ("PNG", "L", {}),
    ".jpg": ("JPEG", "L", {"quality": 95}),
    ".jpeg": ("JPEG", "L", {"quality": 95}),
    ".bmp": ("BMP", "L", {}),
    ".gif": ("GIF", "L", {}),
    ".tif": ("TIFF", "L", {}),
    ".tiff": ("TIFF", "L", {}),
    ".webp": ("WEBP", "L", {"lossless": True}),
    ".pgm": ("PPM", "L", {}),
    ".ppm": ("PPM", "RGB", {}),
    ".pbm": ("PPM", "1", {}),
}


def run_preprocess(source: str, output: str, *, scale: int = 1) -> int:
    """Write what the model sees for ``source`` to ``output`` (or stdout); return the exit code."""
    if is_folder(source):
        error_line(f"{source}: is a folder; preprocess takes one image file")
        return 1
    from mnist_infer import preprocess

    entry = expand_paths([source], recursive=False)[0]
    framed = prepared(entry, preprocess)
    if isinstance(framed, str):
        error_line(framed)
        return 1
    import numpy as np
    from PIL import Image

    pixels = np.rint(np.asarray(framed) * 255.0).clip(0, 255).astype(np.uint8)
    image = Image.fromarray(pixels)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    try:
        if output == STDOUT_NAME:
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            write_binary(buffer.getvalue())  # nothing else on stdout: it holds the image
            return 0
        _save(image, output)
        write_line(f"{printable(source)} -> {printable(output)} ({image.width}x{image.height})")
        flush_output()
    except CommandError as error:
        error_line(str(error))
        return 1
    return 0


def _save(image: Any, output: str) -> None:
    """Save ``image`` in the format ``output``'s suffix names; ``CommandError`` if that fails."""
    from pathlib import Path

    from PIL import Image

    fmt, mode, options = OUTPUT_FORMATS[Path(output).suffix.lower()]
    if mode == "1":  # black and white at mid-grey, not dithered: the pixels stay where they are
        image = image.point(lambda value: 255 if value >= 128 else 0).convert(
            "1", dither=Image.Dither.NONE
        )
    else:
        image = image.convert(mode)
    try:
        image.save(output, format=fmt, **options)
    except (OSError, ValueError, KeyError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise CommandError(f"{output}: cannot write the {fmt} image ({reason})") from None
