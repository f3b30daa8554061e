"""load_image: every source type and pixel mode, EXIF, frames, every bad file and its message."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mnist_infer.errors import InvalidImageError, InvalidInputError
from mnist_infer.frontend.decode import MAX_PIXELS, load_image


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_sources_path_str_bytes_and_pil_give_the_same_pixels(tmp_path: Path, draw) -> None:
    image = draw.digit(7)
    path = tmp_path / "seven.png"
    image.save(path)
    data = path.read_bytes()
    results = [
        load_image(path),
        load_image(str(path)),
        load_image(data),
        load_image(bytearray(data)),
        load_image(memoryview(data)),
        load_image(image),
    ]
    for result in results:
        assert result.mode == "L"
        np.testing.assert_array_equal(np.asarray(result), np.asarray(image))


def test_pil_input_is_left_untouched() -> None:
    frames = [Image.new("L", (8, 8), value) for value in (10, 20, 30)]
    data = io.BytesIO()
    frames[0].save(data, format="GIF", save_all=True, append_images=frames[1:])
    animated = Image.open(io.BytesIO(data.getvalue()))
    animated.seek(2)
    first = load_image(animated)
    assert np.asarray(first)[0, 0] == 10  # the first frame, as documented
    assert animated.tell() == 2  # the caller's image still shows its frame


@pytest.mark.parametrize(
    ("fmt", "extra"),
    [("GIF", {}), ("PNG", {}), ("WEBP", {"lossless": True}), ("TIFF", {})],
    ids=["gif", "apng", "webp", "tiff"],
)
def test_multi_frame_files_use_the_first_frame(fmt: str, extra: dict[str, object]) -> None:
    frames = [Image.new("L", (16, 16), value) for value in (200, 50, 120)]
    data = io.BytesIO()
    frames[0].save(data, format=fmt, save_all=True, append_images=frames[1:], **extra)
    assert Image.open(io.BytesIO(data.getvalue())).n_frames == 3
    result = load_image(data.getvalue())
    assert abs(int(np.asarray(result)[8, 8]) - 200) <= 2


def test_exif_orientation_is_applied() -> None:
    image = Image.new("L", (60, 30), 0)
    image.paste(255, (0, 0, 10, 5))  # a mark in the top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", exif=exif.tobytes())
    result = load_image(buffer.getvalue())
    assert result.size == (30, 60)
    np.testing.assert_array_equal(
        np.asarray(result), np.asarray(image.transpose(Image.Transpose.ROTATE_270))
    )


def test_one_bit_becomes_grey() -> None:
    image = Image.new("1", (20, 20), 0)
    image.paste(1, (5, 5, 15, 15))
    result = load_image(png(image))
    assert result.mode == "L"
    assert set(np.unique(np.asarray(result)).tolist()) == {0, 255}


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    values = np.array([[0, 257 * 100, 30000, 65535]], dtype=np.uint16)
    source = Image.fromarray(values)
    assert source.mode == "I;16"
    result = np.asarray(load_image(png(source)))
    assert result.tolist() == [[0, 100, round(30000 * 255 / 65535), 255]]


def test_rgb_and_cmyk_become_grey_with_ink_dark(draw) -> None:
    digit = draw.digit(3)
    rgb = Image.merge("RGB", [digit, digit, digit])
    cmyk = Image.merge(
        "CMYK", [Image.new("L", digit.size, 0)] * 3 + [Image.eval(digit, lambda v: 255 - v)]
    )
    for data in (png(rgb), _encode(cmyk, "JPEG", quality=95), _encode(cmyk, "TIFF")):
        result = np.asarray(load_image(data), dtype=np.int16)
        assert load_image(data).mode == "L"
        assert np.abs(result - np.asarray(digit, dtype=np.int16)).mean() < 4


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def test_rgba_keeps_alpha(draw) -> None:
    result = load_image(png(draw.on_transparent(7)))
    assert result.mode == "LA"
    alpha = np.asarray(result)[..., 1]
    assert alpha.min() == 0
    assert alpha.max() == 255


def test_palette_with_transparency_becomes_grey_with_alpha() -> None:
    image = Image.new("P", (10, 10), 0)
    image.putpalette([255, 255, 255, 0, 0, 0])
    image.paste(1, (2, 2, 8, 8))
    image.info["transparency"] = 0
    result = load_image(png(image))
    assert result.mode == "LA"
    pixels = np.asarray(result)
    assert pixels[0, 0, 1] == 0  # transparent background
    assert pixels[5, 5].tolist() == [0, 255]  # opaque black ink


def test_palette_without_transparency_becomes_grey() -> None:
    image = Image.new("P", (10, 10), 1)
    image.putpalette([0, 0, 0, 128, 128, 128])
    assert load_image(png(image)).mode == "L"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (np.array([[0, 128, 255]], dtype=np.int32), [0, 128, 255]),
        (np.array([[0, 32896, 65535]], dtype=np.int32), [0, 128, 255]),
        (np.array([[-10, 0, 10]], dtype=np.int32), [0, 128, 255]),
    ],
    ids=["8-bit-range", "16-bit-range", "stretched"],
)
def test_32_bit_integer_images_are_scaled_by_their_range(
    values: np.ndarray, expected: list[int]
) -> None:
    image = Image.fromarray(values, mode=None)
    assert image.mode == "I"
    assert np.asarray(load_image(_encode(image, "TIFF"))).ravel().tolist() == expected


def test_float_images_in_0_1_are_scaled() -> None:
    image = Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32))
    assert image.mode == "F"
    assert np.asarray(load_image(_encode(image, "TIFF"))).ravel().tolist() == [0, 128, 255]


def test_float_image_with_nan_is_refused() -> None:
    image = Image.fromarray(np.array([[0.0, np.nan]], dtype=np.float32))
    with pytest.raises(InvalidImageError, match="NaN or infinity"):
        load_image(image, name="nan.tif")


# --- bad input -----------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.png"
    with pytest.raises(InvalidImageError, match=r"missing\.png: file not found"):
        load_image(path)


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidImageError, match="is a directory, not an image file") as caught:
        load_image(tmp_path)
    assert str(caught.value).startswith(str(tmp_path))


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(InvalidImageError, match=r"empty\.png: empty file \(0 bytes\)"):
        load_image(path)


def test_empty_bytes() -> None:
    with pytest.raises(InvalidImageError, match=r"upload: empty file \(0 bytes\), not an image"):
        load_image(b"", name="upload")


def test_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("these are not pixels\n")
    with pytest.raises(InvalidImageError, match=r"notes\.png: not a supported image format"):
        load_image(path)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP"])
def test_truncated_file(tmp_path: Path, fmt: str) -> None:
    noise = Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64), dtype=np.uint8))
    data = _encode(noise, fmt)
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(InvalidImageError, match=r"cut\.\w+: (truncated or corrupt|not a valid)"):
        load_image(path)


def test_corrupt_png_checksum(tmp_path: Path, draw) -> None:
    data = bytearray(png(draw.digit(3)))
    data[len(data) // 2] ^= 0xFF  # flip bits inside the compressed pixel data
    with pytest.raises(InvalidImageError, match=r"corrupt\.png: truncated or corrupt image data"):
        load_image(bytes(data), name="corrupt.png")


def test_decompression_bomb_over_our_limit() -> None:
    bomb = Image.new("1", (8000, 6000))  # 48 megapixels, a few kB as PNG
    data = png(bomb)
    assert len(data) < 100_000
    with pytest.raises(InvalidImageError, match=r"bomb\.png: image too large \(8000x6000"):
        load_image(data, name="bomb.png")
    assert MAX_PIXELS < 8000 * 6000


def test_decompression_bomb_over_pillows_limit() -> None:
    bomb = png(Image.new("1", (20000, 10000)))  # 200 MP: Pillow itself objects
    with pytest.raises(InvalidImageError, match=r"huge\.png: image too large"):
        load_image(bomb, name="huge.png")


def test_unsupported_source_type() -> None:
    with pytest.raises(InvalidInputError, match="cannot read a int as an image"):
        load_image(42)  # type: ignore[arg-type]


def test_empty_and_overlong_paths(tmp_path: Path) -> None:
    with pytest.raises(InvalidImageError, match=r"'': empty path"):
        load_image("")
    with pytest.raises(InvalidImageError, match=r"cannot open file \(OSError"):
        load_image(tmp_path / ("x" * 5000))


def test_tiff_with_a_broken_second_directory_is_refused_not_crashed() -> None:
    # Counting a TIFF's frames walks its directory chain; Pillow raises TypeError on a directory
    # without dimensions. That must become InvalidImageError like any other corrupt file.
    import struct

    buffer = io.BytesIO()
    Image.new("L", (20, 24), 128).save(buffer, format="TIFF")
    data = bytearray(buffer.getvalue())
    first = struct.unpack_from("<I", data, 4)[0]
    entries = struct.unpack_from("<H", data, first)[0]
    second = len(data)
    data += struct.pack("<HHHII", 1, 0x0106, 3, 1, 1) + b"\0\0\0\0"
    struct.pack_into("<I", data, first + 2 + 12 * entries, second)
    with pytest.raises(InvalidImageError, match=r"scan\.tif: truncated or corrupt image data"):
        load_image(bytes(data), name="scan.tif")
