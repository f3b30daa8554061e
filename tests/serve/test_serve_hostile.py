"""A real server against hostile clients: held connections, what the parser refuses, odd
methods and names, and one image that fails in any way among good ones."""

from __future__ import annotations

import io
import json
import random
import selectors
import socket
import time

import httpx
import pytest
from PIL import Image, ImageDraw

SECURITY = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}

#: Digits as polylines in a unit box (x, y), for strips of many drawn digits.
STROKES = {
    0: [(0.2, 0.1), (0.8, 0.1), (0.8, 0.9), (0.2, 0.9), (0.2, 0.1)],
    1: [(0.5, 0.1), (0.5, 0.9)],
    2: [(0.2, 0.2), (0.5, 0.1), (0.8, 0.25), (0.2, 0.9), (0.8, 0.9)],
    3: [(0.2, 0.1), (0.8, 0.1), (0.5, 0.45), (0.8, 0.7), (0.5, 0.9), (0.2, 0.8)],
    4: [(0.7, 0.9), (0.7, 0.1), (0.15, 0.65), (0.85, 0.65)],
    5: [(0.8, 0.1), (0.25, 0.1), (0.2, 0.45), (0.7, 0.45), (0.75, 0.8), (0.2, 0.9)],
    6: [(0.7, 0.1), (0.25, 0.5), (0.25, 0.9), (0.75, 0.9), (0.75, 0.55), (0.25, 0.55)],
    7: [(0.2, 0.1), (0.8, 0.1), (0.45, 0.9)],
    8: [(0.5, 0.5), (0.2, 0.3), (0.5, 0.1), (0.8, 0.3), (0.2, 0.7), (0.5, 0.9), (0.8, 0.7)],
    9: [(0.75, 0.45), (0.25, 0.45), (0.25, 0.1), (0.75, 0.1), (0.75, 0.9)],
}


def drawn_strip(digits: list[int], size: tuple[int, int] | None = None) -> bytes:
    """Digits drawn with Pillow lines side by side, squeezed to ``size`` if given, as PNG."""
    width, height = 60, 90
    image = Image.new("L", (width * len(digits) + 20, height + 20), 255)
    pen = ImageDraw.Draw(image)
    for place, digit in enumerate(digits):
        points = [(10 + (place + x) * width, 10 + y * height) for x, y in STROKES[digit]]
        pen.line(points, fill=0, width=6, joint="curve")
    if size is not None:
        image = image.resize(size)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def raw_exchange(port: int, data: bytes, timeout: float = 10) -> tuple[str, dict[str, str], bytes]:
    """Send bytes on a fresh connection; return the reply's status line, headers and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(data)
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (h.partition(":") for h in lines)}
    return status, headers, body


def test_heads_never_finished_are_closed_in_time_while_others_are_served(server, draw) -> None:
    # The server's --header-timeout is 3 s.
    held = 300  # more than the requests the server takes at once (256)
    selector = selectors.DefaultSelector()
    opened = {}
    for _ in range(held):
        connection = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never ends its head
        connection.setblocking(False)
        selector.register(connection, selectors.EVENT_READ)
        opened[connection] = time.monotonic()
    try:
        image = io.BytesIO()
        draw.digit(7).save(image, format="PNG")
        for _ in range(2):
            assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200
            answer = httpx.post(server.url + "/v1/predict", content=image.getvalue(), timeout=20)
            assert (answer.status_code, answer.json()["results"][0]["digit"]) == (200, 7)
        assert not selector.select(timeout=0)  # answered while every one of them was held
        lifetimes = []
        replies = set()
        deadline = time.monotonic() + 15
        while opened and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=1):
                connection = key.fileobj
                reply = b""
                while chunk := _recv(connection):
                    reply += chunk
                lifetimes.append(time.monotonic() - opened.pop(connection))
                replies.add(reply.split(b"\r\n", 1)[0] + b" " + reply.rpartition(b"\r\n\r\n")[2])
                selector.unregister(connection)
                connection.close()
    finally:
        for connection in opened:
            connection.close()
    assert not opened, f"{len(opened)} held connections still open after 15 s"
    expected = b'HTTP/1.1 408 Request Timeout {"error": "request head not received within 3 s"}'
    assert replies == {expected}
    assert min(lifetimes) > 2.9  # the deadline, from the connection's opening
    assert max(lifetimes) < 7
    assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200


def _recv(connection: socket.socket) -> bytes:
    connection.setblocking(True)
    connection.settimeout(5)
    return connection.recv(65536)


def test_a_request_head_over_its_bound_is_431(server) -> None:
    status, headers, body = raw_exchange(
        server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 70_000
    )
    assert status == "HTTP/1.1 431 Request Header Fields Too Large"
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"error": "request head too large (limit 65,536 bytes)"}
    assert httpx.get(server.url + "/healthz").status_code == 200


@pytest.mark.parametrize(
    ("request_bytes", "reason"),
    [
        (b"HELLO THERE\r\n\r\n", "Invalid method encountered"),
        (
            b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
            "Invalid character in Content-Length",
        ),
        (
            b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "Transfer-Encoding can't be present with Content-Length",
        ),
    ],
    ids=["garbage request line", "negative Content-Length", "Content-Length with chunked"],
)
def test_what_the_parser_refuses_is_a_json_400_with_its_reason(
    server, request_bytes, reason
) -> None:
    status, headers, body = raw_exchange(server.port, request_bytes)
    assert status == "HTTP/1.1 400 Bad Request"
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    assert all(headers[name] == value for name, value in SECURITY.items())
    assert headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert json.loads(body) == {"error": f"invalid HTTP request ({reason})"}
    assert httpx.get(server.url + "/healthz").status_code == 200


@pytest.mark.parametrize("path", ["/", "/healthz", "/readyz", "/v1/info"])
def test_head_answers_as_get_without_a_body(server, path) -> None:
    got = httpx.get(server.url + path)
    head = httpx.head(server.url + path)
    assert (head.status_code, got.status_code) == (200, 200)
    assert head.content == b""
    for name in ("content-type", "content-length", "content-security-policy", *SECURITY):
        assert head.headers[name] == got.headers[name]


def test_head_on_a_post_route_is_405_as_get_is(server) -> None:
    response = httpx.head(server.url + "/v1/predict")
    assert (response.status_code, response.content) == (405, b"")
    assert response.headers["allow"] == "POST"


def _security_cases(draw) -> list[tuple[str, str, dict[str, object]]]:
    image = io.BytesIO()
    draw.digit(3).save(image, format="PNG")
    return [
        ("GET", "/", {}),
        ("GET", "/healthz", {}),
        ("GET", "/v1/info", {}),
        ("GET", "/static/app.js", {}),
        ("GET", "/static/style.css", {}),
        ("GET", "/docs", {}),
        ("GET", "/openapi.json", {}),
        ("GET", "/nowhere", {}),
        ("GET", "/v1/predict", {}),
        ("POST", "/v1/predict", {"content": image.getvalue()}),
        ("POST", "/v1/read", {"content": b"not an image"}),
        ("POST", "/v1/predict", {"content": bytes(1_200_000)}),
        ("POST", "/v1/predict?top_k=0", {"content": b"x"}),
    ]


def test_every_response_carries_the_security_headers(server, draw) -> None:
    statuses = set()
    for method, path, options in _security_cases(draw):
        response = httpx.request(method, server.url + path, **options)  # type: ignore[arg-type]
        statuses.add(response.status_code)
        for name, value in SECURITY.items():
            assert response.headers.get(name) == value, (method, path, response.status_code)
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert "unsafe-eval" not in policy
        if path in ("/", "/docs"):
            assert "script-src 'self'" in policy
        else:
            assert policy == "default-src 'none'; frame-ancestors 'none'"
    assert statuses == {200, 400, 404, 405, 413, 415}


def test_a_long_file_name_is_refused_naming_the_limit(server, draw) -> None:
    from python_multipart.multipart import DEFAULT_MAX_HEADER_COUNT, DEFAULT_MAX_HEADER_SIZE

    image = io.BytesIO()
    draw.digit(7).save(image, format="PNG")
    data = image.getvalue()
    fits = "n" * 4_000 + ".png"
    ok = httpx.post(server.url + "/v1/predict", files={"file": (fits, data)})
    assert (ok.status_code, ok.json()["results"][0]["path"]) == (200, fits)
    long = httpx.post(server.url + "/v1/predict", files={"file": ("n" * 8_000 + ".png", data)})
    assert (long.status_code, long.json()) == (
        400,
        {
            "error": "a multipart part's header line is too long"
            f" (limit {DEFAULT_MAX_HEADER_SIZE:,} bytes, its file name included)"
        },
    )
    many = (
        b'--XX\r\nContent-Disposition: form-data; name="f"; filename="a.png"\r\n'
        + b"".join(b"X-%d: 1\r\n" % i for i in range(DEFAULT_MAX_HEADER_COUNT))
        + b"\r\n"
        + data
        + b"\r\n--XX--\r\n"
    )
    crowded = httpx.post(
        server.url + "/v1/predict",
        content=many,
        headers={"content-type": "multipart/form-data; boundary=XX"},
    )
    assert (crowded.status_code, crowded.json()) == (
        400,
        {"error": f"a multipart part has too many header lines (limit {DEFAULT_MAX_HEADER_COUNT})"},
    )


@pytest.mark.parametrize("path", ["/v1/read", "/v1/predict"])
@pytest.mark.parametrize(("count", "size"), [(100, (9990, 30)), (200, (20000, 30))])
def test_a_squeezed_strip_of_many_digits_fails_alone(server, draw, path, count, size) -> None:
    picks = random.Random(count)
    strip = drawn_strip([picks.randrange(10) for _ in range(count)], size)
    files = [
        ("file", ("d3.png", drawn_strip([3]))),
        ("file", ("strip.png", strip)),
        ("file", ("n42.png", drawn_strip([4, 2]))),
    ]
    response = httpx.post(server.url + path, files=files, timeout=60)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [result["path"] for result in results] == ["d3.png", "strip.png", "n42.png"]
    key = "text" if path == "/v1/read" else "digit"
    assert key in results[0]
    assert key in results[2] or results[2]["error"].startswith("n42.png: holds ")
    assert key in results[1] or results[1]["error"].startswith("strip.png: ")
    alone = httpx.post(server.url + path, files=files[1:2], timeout=60)
    assert alone.json()["results"][0]["path"] == "strip.png"
    if path == "/v1/read":  # decodes fine, but is too long for its height to read as one line
        assert alone.status_code == 422
        assert "too long for its height" in alone.json()["results"][0]["error"]
    else:
        assert alone.status_code in (200, 422)


def test_a_bug_in_one_image_is_its_error_in_place(faulty_server, draw) -> None:
    buggy = faulty_server
    image = io.BytesIO()
    draw.digit(7).save(image, format="PNG")
    good = image.getvalue()
    files = [("f", ("a.png", good)), ("f", ("bug.png", good)), ("f", ("b.png", good))]
    for path, key, seven in (("/v1/read", "text", "7"), ("/v1/predict", "digit", 7)):
        response = httpx.post(buggy.url + path, files=files, timeout=30)
        assert response.status_code == 200
        first, bug, last = response.json()["results"]
        assert (first["path"], first[key]) == ("a.png", seven)
        assert (last["path"], last[key]) == ("b.png", seven)
        assert bug == {
            "path": "bug.png",
            "error": "bug.png: internal error while processing this input"
            " (RuntimeError: a bug in one image); please report it",
        }
        alone = httpx.post(buggy.url + path, files=files[1:2], timeout=30)
        assert (alone.status_code, alone.json()) == (500, {"results": [bug]})


def test_requests_over_the_limit_get_a_json_503_and_health_checks_answer(
    faulty_server, draw
) -> None:
    limited = faulty_server  # 2 requests in progress at most
    image = io.BytesIO()
    draw.digit(3).save(image, format="PNG")
    # Two requests in progress: heads complete, bodies that never come.
    waiting = [socket.create_connection(("127.0.0.1", limited.port)) for _ in range(2)]
    for connection in waiting:
        connection.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
    time.sleep(0.5)
    busy = httpx.post(limited.url + "/v1/predict", content=image.getvalue())
    assert busy.status_code == 503
    assert busy.headers["retry-after"] == "1"
    assert busy.headers["x-content-type-options"] == "nosniff"
    assert busy.json() == {"error": "server busy (2 requests in progress); retry shortly"}
    assert httpx.get(limited.url + "/healthz").status_code == 200
    assert httpx.get(limited.url + "/readyz").status_code == 200
    for connection in waiting:
        connection.close()
    time.sleep(0.5)
    answered = httpx.post(limited.url + "/v1/predict", content=image.getvalue())
    assert (answered.status_code, answered.json()["results"][0]["digit"]) == (200, 3)
