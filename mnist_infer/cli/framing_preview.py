"""``mnist-infer preprocess``: write the 28x28 the model sees for one image, as a PNG."""

from __future__ import annotations

from pathlib import Path

from mnist_infer.cli.console import CommandError, error_line, flush_output, printable, write_line
from mnist_infer.cli.inputs import expand_paths, is_folder
from mnist_infer.cli.predicting import prepare_entry

__all__ = ["run_preprocess"]


def run_preprocess(source: str, output: Path, *, scale: int = 1) -> int:
    """Write what the model sees for ``source`` as a PNG; return the exit code."""
    if is_folder(source):
        error_line(f"{source}: is a folder; preprocess takes one image file")
        return 1
    entry = expand_paths([source], recursive=False)[0]
    framed = prepare_entry(entry)
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
        image.save(output, format="PNG")
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        error_line(f"{output}: cannot write the PNG ({reason})")
        return 1
    try:
        write_line(
            f"{printable(source)} -> {printable(str(output))} ({image.width}x{image.height})"
        )
        flush_output()
    except CommandError as error:
        error_line(str(error))
        return 1
    return 0
