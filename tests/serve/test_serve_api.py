"""The HTTP API against a real server on loopback: answers, status codes, limits, JSON errors."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
EXECUTABLE = str(Path(sys.executable).with_name("mnist-infer"))


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def cli_record(path: Path, *options: str) -> dict[str, object]:
    done = subprocess.run(
        [EXECUTABLE, "predict", "--json", *options, str(path)], capture_output=True, text=True
    )
    record: dict[str, object] = json.loads(done.stdout)
    return record


def test_health_and_readiness(server) -> None:
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
    assert httpx.get(server.url + "/readyz").json() == {"status": "ready"}


def test_one_file_gives_the_cli_answer(server) -> None:
    photo = EXAMPLES / "0_phone_photo.jpg"
    response = httpx.post(
        server.url + "/v1/predict?top_k=3", files={"file": (photo.name, photo.read_bytes())}
    )
    assert response.status_code == 200
    (result,) = response.json()["results"]
    expected = cli_record(photo, "--top-k", "3")
    assert result == {**expected, "path": photo.name}


def test_a_raw_body_is_one_image(server) -> None:
    photo = EXAMPLES / "9_exif_rotated_photo.jpg"
    response = httpx.post(
        server.url + "/v1/predict",
        content=photo.read_bytes(),
        headers={"content-type": "image/jpeg"},
    )
    assert response.status_code == 200
    (result,) = response.json()["results"]
    assert (result["path"], result["digit"]) == ("body", 9)


def test_several_files_keep_their_order_and_one_bad_file_fails_alone(server, draw) -> None:
    files = [
        ("a", ("seven.png", png(draw.digit(7)))),
        ("b", ("notes.png", b"meeting notes, not an image")),
        ("c", ("blank.png", png(Image.new("L", (60, 60), 255)))),
        ("d", ("three.png", png(draw.digit(3)))),
    ]
    response = httpx.post(server.url + "/v1/predict", files=files)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["path"] for r in results] == ["seven.png", "notes.png", "blank.png", "three.png"]
    assert (results[0]["digit"], results[3]["digit"]) == (7, 3)
    assert results[1] == {
        "path": "notes.png",
        "error": "notes.png: not a supported image format "
        "(supported: PNG, JPEG, BMP, GIF, TIFF, WEBP, PPM)",
    }
    assert results[2]["error"].startswith("blank.png: no ink found")


def test_framed_gives_the_image_the_model_saw(server, draw) -> None:
    response = httpx.post(
        server.url + "/v1/predict?framed=true", files={"file": ("7.png", png(draw.digit(7)))}
    )
    (result,) = response.json()["results"]
    assert result["framed"].startswith("data:image/png;base64,")
    import base64

    seen = Image.open(io.BytesIO(base64.b64decode(result["framed"].split(",", 1)[1])))
    assert (seen.mode, seen.size) == ("L", (28, 28))


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"not an image", 415, "body: not a supported image format"),
        (None, 422, "body: no ink found"),  # a blank PNG
    ],
)
def test_one_failed_image_gives_its_status(server, body, status, message) -> None:
    data = body if body is not None else png(Image.new("L", (50, 50), 255))
    response = httpx.post(server.url + "/v1/predict", content=data)
    assert response.status_code == status
    (result,) = response.json()["results"]
    assert result["error"].startswith(message)


@pytest.fixture(scope="module")
def rejecting_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped weights with a "not a digit" threshold on their card."""
    import onnx

    from mnist_infer.contract import MODEL_FILENAME, MetadataKey

    model = onnx.load(str(ROOT / "models" / MODEL_FILENAME))
    entry = model.metadata_props.add()
    entry.key, entry.value = MetadataKey.NOT_DIGIT_THRESHOLD, "0.999"
    path = tmp_path_factory.mktemp("model") / "rejecting.onnx"
    onnx.save(model, str(path))
    return path


def test_ink_that_is_not_a_digit_is_422(server_factory, rejecting_model, draw) -> None:
    from PIL import ImageDraw, ImageFont

    letter = Image.new("L", (120, 140), 255)
    ImageDraw.Draw(letter).text((20, 5), "A", fill=0, font=ImageFont.load_default(size=110))
    running = server_factory("--model", str(rejecting_model))
    alone = httpx.post(running.url + "/v1/predict", files={"file": ("a.png", png(letter))})
    assert alone.status_code == 422
    (result,) = alone.json()["results"]
    assert set(result) == {"path", "error"}
    assert result["error"].startswith("a.png: not a digit (the closest is ")
    together = httpx.post(
        running.url + "/v1/predict",
        files=[("f", ("a.png", png(letter))), ("f", ("7.png", png(draw.digit(7))))],
    )
    assert together.status_code == 200
    first, second = together.json()["results"]
    assert first["error"].startswith("a.png: not a digit")
    assert second["digit"] == 7


def test_a_bomb_is_refused_from_its_header(server) -> None:
    bomb = png(Image.new("1", (9000, 6000)))
    response = httpx.post(server.url + "/v1/predict", content=bomb)
    assert response.status_code == 415
    assert "image too large (9000x6000" in response.json()["results"][0]["error"]


def test_too_many_files(server, draw) -> None:
    data = png(draw.digit(0))
    files = [("file", (f"{i}.png", data)) for i in range(5)]
    response = httpx.post(server.url + "/v1/predict", files=files)
    assert (response.status_code, response.json()) == (
        400,
        {"error": "too many files: at most 4 per request"},
    )


def test_a_body_over_the_limit_is_413_whether_declared_or_streamed(server) -> None:
    big = bytes(1_200_000)
    declared = httpx.post(server.url + "/v1/predict", content=big)
    assert declared.status_code == 413
    assert declared.json() == {"error": "request body too large (limit 1,000,000 bytes)"}

    def chunks():
        for start in range(0, len(big), 100_000):
            yield big[start : start + 100_000]

    streamed = httpx.post(server.url + "/v1/predict", content=chunks())
    assert streamed.status_code == 413
    assert httpx.get(server.url + "/healthz").status_code == 200


def test_a_truncated_multipart_body_is_400(server, draw) -> None:
    boundary = "XyZ"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    body = head + png(draw.digit(1))[:300]  # no closing boundary
    response = httpx.post(
        server.url + "/v1/predict",
        content=body,
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith(("malformed multipart body", "no image file"))


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("POST", "/v1/predict?top_k=11", 400), ("GET", "/nowhere", 404), ("GET", "/v1/predict", 405)],
)
def test_every_error_is_json_with_one_message(server, method, path, status) -> None:
    response = httpx.request(method, server.url + path, content=b"x")
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    assert isinstance(body["error"], str)
    assert "Traceback" not in response.text


def test_a_text_field_is_never_read_as_a_path(server) -> None:
    response = httpx.post(server.url + "/v1/predict", data={"file": str(EXAMPLES / "3_scan.png")})
    assert response.status_code == 415  # the text itself is the body, and it is not an image
    assert "not a supported image format" in response.json()["results"][0]["error"]
    form = httpx.post(
        server.url + "/v1/predict",
        files={"note": (None, str(EXAMPLES / "3_scan.png"))},
    )
    assert (form.status_code, form.json()) == (
        400,
        {"error": "no image file in the form: send each image as a file field"},
    )


def test_info_is_the_model_card_without_server_paths(server) -> None:
    info = httpx.get(server.url + "/v1/info").json()
    assert "location" not in info
    assert len(info["sha256"]) == 64
    assert info["contract_version"] == 1
    assert info["limits"] == {
        "max_body_bytes": 1_000_000,
        "max_files": 4,
        "max_pixels": 40_000_000,
        "timeout_s": 20.0,
        "header_timeout_s": 3.0,
        "max_in_flight": 256,
    }


def test_the_page_and_the_api_docs_need_no_network(server) -> None:
    page = httpx.get(server.url + "/")
    assert page.status_code == 200
    assert "<canvas" in page.text
    assert "http" not in page.text.replace("http-equiv", "")
    for asset in ("/static/app.js", "/static/style.css", "/static/favicon.svg"):
        assert httpx.get(server.url + asset).status_code == 200
    docs = httpx.get(server.url + "/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower()
    assert httpx.get(server.url + "/static/swagger/swagger-ui-bundle.js").status_code == 200
    schema = httpx.get(server.url + "/openapi.json").json()
    assert {"/v1/predict", "/v1/read", "/v1/info", "/healthz", "/readyz"} <= set(schema["paths"])


def test_cors_is_off_unless_an_origin_is_given(server, server_factory) -> None:
    origin = {"origin": "https://example.org"}
    assert (
        "access-control-allow-origin"
        not in httpx.get(server.url + "/healthz", headers=origin).headers
    )
    open_to = server_factory("--cors-origin", "https://example.org")
    allowed = httpx.get(open_to.url + "/healthz", headers=origin)
    assert allowed.headers["access-control-allow-origin"] == "https://example.org"


def test_sigterm_lets_a_request_in_flight_finish(server_factory, draw) -> None:
    running = server_factory()
    data = png(draw.digit(7))
    head = (
        f"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", running.port), timeout=30) as connection:
        connection.sendall(head + data[: len(data) // 2])
        time.sleep(0.5)
        running.process.send_signal(15)  # SIGTERM while the body is still arriving
        time.sleep(0.5)
        connection.sendall(data[len(data) // 2 :])
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            chunk = connection.recv(65536)
            if not chunk:
                break
            reply += chunk
    status_line, _, rest = reply.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 200 OK"
    assert json.loads(rest.split(b"\r\n\r\n", 1)[1])["results"][0]["digit"] == 7
    # Then the process ends, by the signal's own status as uvicorn re-raises it (or 0).
    assert running.process.wait(timeout=30) in (0, -15)


def test_without_the_extra_serve_says_what_to_install() -> None:
    code = (
        "import sys; sys.modules['fastapi'] = None\n"
        "sys.argv = ['mnist-infer', 'serve']\n"
        "from mnist_infer.cli import main; main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "mnist-infer: error: mnist-infer serve needs FastAPI and uvicorn: "
        "pip install 'mnist-infer[serve]'"
    )


def number_png(draw, digits: str, gap: int = 10) -> bytes:
    """Printed digits side by side on one white strip, as a number is written."""
    tiles = [draw.digit(int(d), size=(90, 140), offset=(10, 5)) for d in digits]
    strip = Image.new("L", (sum(t.width for t in tiles) + gap * (len(tiles) + 1), 150), 255)
    x = gap
    for tile in tiles:
        strip.paste(tile, (x, 5))
        x += tile.width + gap
    return png(strip)


def test_read_gives_the_sdk_and_cli_reading(server, draw, tmp_path: Path) -> None:
    from mnist_infer import Classifier

    data = number_png(draw, "307")
    response = httpx.post(server.url + "/v1/read", files={"file": ("n.png", data)})
    assert response.status_code == 200
    (result,) = response.json()["results"]
    assert result == {**Classifier().read(data).to_dict(), "path": "n.png"}
    path = tmp_path / "n.png"
    path.write_bytes(data)
    done = subprocess.run(
        [EXECUTABLE, "read", "--json", str(path)], capture_output=True, text=True, check=True
    )
    assert result == {**json.loads(done.stdout), "path": "n.png"}
    assert result["text"] == "307"
    assert set(result) == {"path", "text", "confidence", "digits", "unread"}
    boxes = [entry["box"] for entry in result["digits"]]
    assert all(set(entry) == {"digit", "confidence", "box"} for entry in result["digits"])
    assert [box[0] for box in boxes] == sorted(box[0] for box in boxes)  # left to right
    assert all(0 <= x0 < x1 <= 310 and 0 <= y0 < y1 <= 150 for x0, y0, x1, y1 in boxes)
    assert 0 < result["confidence"] <= min(entry["confidence"] for entry in result["digits"])


def test_read_framed_gives_each_digit_the_columns_the_reader_read(server, draw) -> None:
    import base64

    response = httpx.post(
        server.url + "/v1/read?framed=true",
        content=number_png(draw, "70"),
        headers={"content-type": "image/png"},
    )
    assert response.status_code == 200
    (result,) = response.json()["results"]
    assert (result["path"], result["text"]) == ("body", "70")
    for entry in result["digits"]:
        assert entry["framed"].startswith("data:image/png;base64,")
        seen = Image.open(io.BytesIO(base64.b64decode(entry["framed"].split(",", 1)[1])))
        assert (seen.mode, seen.size[1]) == ("L", 32)  # a slice of the 32-row line image
        assert 2 <= seen.size[0] <= 64


def test_read_keeps_order_and_one_bad_file_fails_alone(server, draw) -> None:
    files = [
        ("a", ("37.png", number_png(draw, "37"))),
        ("b", ("notes.png", b"meeting notes, not an image")),
        ("c", ("blank.png", png(Image.new("L", (60, 60), 255)))),
        ("d", ("0.png", png(draw.digit(0)))),
    ]
    response = httpx.post(server.url + "/v1/read", files=files)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["path"] for r in results] == ["37.png", "notes.png", "blank.png", "0.png"]
    assert (results[0]["text"], results[3]["text"]) == ("37", "0")
    assert results[1]["error"].startswith("notes.png: not a supported image format")
    assert set(results[2]) == {"path", "error"}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [(b"not an image", 415, "body: not a supported image format"), (None, 422, "body: ")],
)
def test_read_one_failed_image_gives_its_status(server, body, status, message) -> None:
    data = body if body is not None else png(Image.new("L", (50, 50), 255))
    response = httpx.post(server.url + "/v1/read", content=data)
    assert response.status_code == status
    (result,) = response.json()["results"]
    assert set(result) == {"path", "error"}
    assert result["error"].startswith(message)


def test_several_digits_sent_to_predict_are_422_and_point_to_read(server, draw) -> None:
    response = httpx.post(
        server.url + "/v1/predict", files={"file": ("37.png", number_png(draw, "37"))}
    )
    assert response.status_code == 422
    (result,) = response.json()["results"]
    assert set(result) == {"path", "error"}
    assert result["error"].startswith("37.png: ")
    assert "2" in result["error"]
    assert "read" in result["error"]


def test_read_has_the_limits_of_predict(server, server_factory, draw) -> None:
    files = [("file", (f"{i}.png", number_png(draw, "37"))) for i in range(5)]
    too_many = httpx.post(server.url + "/v1/read", files=files)
    assert (too_many.status_code, too_many.json()) == (
        400,
        {"error": "too many files: at most 4 per request"},
    )
    assert httpx.post(server.url + "/v1/read", content=bytes(1_200_000)).status_code == 413
    small = server_factory("--max-pixels", "20000")
    data = number_png(draw, "37")  # 210x150 = 31,500 pixels
    for path in ("/v1/predict", "/v1/read"):
        response = httpx.post(small.url + path, content=data)
        assert response.status_code == 415
        assert (
            "image too large (210x150 = 31,500 pixels, limit 20,000"
            in (response.json()["results"][0]["error"])
        )
    assert httpx.get(small.url + "/healthz").status_code == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("header_timeout_s", 0),
        ("header_timeout_s", float("nan")),
        ("header_timeout_s", float("inf")),
        ("max_in_flight", 0),
        ("max_in_flight", True),
    ],
)
def test_settings_refuse_limits_that_cannot_work(field, value) -> None:
    from mnist_infer.errors import InvalidInputError
    from mnist_infer.serve import ServeSettings

    with pytest.raises(InvalidInputError, match=f"^{field} must be (a )?positive"):
        ServeSettings(**{field: value})
