"""Hypothesis against a real server: random multipart bodies (random, broken and valid image
bytes, odd file and field names, broken boundaries, random headers) to both endpoints.

Every answer is a 2xx or a 4xx with a JSON body of the documented shape, never a 5xx, in bounded
time, and the server answers ``/healthz`` after each. The budget scales with the Hypothesis
profile (``HYPOTHESIS_PROFILE=campaign`` for a long search by hand).
"""

from __future__ import annotations

import io
import time

import httpx
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

#: The longest any one request may take: far above the few hundred milliseconds a request of
#: at most four small images takes on a loaded machine, far below the server's own timeout.
SECONDS_PER_REQUEST = 15.0
TOKEN = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BOUNDARY_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'()+_,-./:=? "
#: Request headers the client itself sets, or that change how the body is framed.
OWN_HEADERS = {
    "host",
    "content-length",
    "transfer-encoding",
    "content-type",
    "connection",
    "expect",
    "upgrade",
    "te",
    "trailer",
    "keep-alive",
    "proxy-connection",
}


def _images() -> list[bytes]:
    """A drawn 7 in each format the server reads, and a strip of digits."""
    digit = Image.new("L", (60, 80), 255)
    ImageDraw.Draw(digit).line([(10, 10), (50, 10), (25, 70)], fill=0, width=6)
    strip = Image.new("L", (200, 60), 255)
    ImageDraw.Draw(strip).line([(20, 10), (20, 50)], fill=0, width=5)
    ImageDraw.Draw(strip).line([(60, 10), (100, 10), (75, 50)], fill=0, width=5)
    encoded = []
    for image, fmt in [
        (digit, "PNG"),
        (digit, "JPEG"),
        (digit, "GIF"),
        (digit, "BMP"),
        (digit.convert("RGBA"), "PNG"),
        (strip, "PNG"),
    ]:
        buffer = io.BytesIO()
        image.save(buffer, format=fmt)
        encoded.append(buffer.getvalue())
    return encoded


IMAGES = _images()


@st.composite
def image_bytes(draw: st.DrawFn) -> bytes:
    """Random bytes, or a valid image whole, cut short, or with bytes flipped."""
    kind = draw(st.sampled_from(["valid", "random", "valid", "cut", "flipped"]))
    if kind == "random":
        return draw(st.binary(max_size=2_000))
    data = draw(st.sampled_from(IMAGES))
    if kind == "cut":
        return data[: draw(st.integers(0, len(data)))]
    if kind == "flipped":
        mutable = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            mutable[draw(st.integers(0, len(mutable) - 1))] ^= draw(st.integers(1, 255))
        return bytes(mutable)
    return data


odd_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet='"\\;\r\n\x00/.%', max_size=10),
    st.just("../../etc/passwd"),
    st.integers(0, 5_000).map(lambda n: "n" * n),
)


@st.composite
def part(draw: st.DrawFn) -> bytes:
    """One multipart part: a Content-Disposition with odd names, odd headers, image bytes."""
    name = draw(odd_text)
    disposition = f'form-data; name="{name}"'
    filename = draw(st.sampled_from(["plain", "plain", "odd", "none"]))
    if filename != "none":
        chosen = "digit.png" if filename == "plain" else draw(odd_text)
        disposition += f'; filename="{chosen}"'
    lines = [f"Content-Disposition: {disposition}"]
    if draw(st.booleans()):
        lines.append(f"Content-Type: {draw(st.sampled_from(['image/png', 'text/plain', '']))}")
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 3]))):
        lines.append(f"{draw(st.text(TOKEN, min_size=1, max_size=12))}: {draw(odd_text)}")
    head = "\r\n".join(lines).encode("utf-8", "surrogatepass")
    return head + b"\r\n\r\n" + draw(image_bytes())


@st.composite
def multipart_request(draw: st.DrawFn) -> tuple[str, bytes, dict[str, str]]:
    """A path with a query, a multipart body (often broken) and the request's headers."""
    boundary = draw(st.text(BOUNDARY_CHARS, min_size=1, max_size=80).map(str.strip))
    # Hypothesis leans to the first of sampled values: the usual case comes first.
    matching = draw(st.sampled_from([True, True, True, False]))
    body_boundary = boundary if matching else draw(st.text(BOUNDARY_CHARS))
    separator = b"--" + body_boundary.encode()
    parts = draw(st.lists(part(), min_size=1, max_size=5) | st.just([]))
    body = b"".join(separator + b"\r\n" + chunk + b"\r\n" for chunk in parts) + separator + b"--"
    body += draw(st.sampled_from([b"\r\n", b"", b"\r\ntrailing junk"]))
    damage = draw(st.sampled_from(["none", "none", "none", "cut", "garbage", "no crlf"]))
    if damage == "cut":
        body = body[: draw(st.integers(0, len(body)))]
    elif damage == "garbage":
        at = draw(st.integers(0, len(body)))
        body = body[:at] + draw(st.binary(min_size=1, max_size=64)) + body[at:]
    elif damage == "no crlf":
        body = body.replace(b"\r\n", b"\n")
    quoted = draw(st.booleans())
    content_type = draw(
        st.sampled_from(
            [
                f"multipart/form-data; boundary={boundary}",
                f'multipart/form-data; boundary="{boundary}"' if quoted else None,
                f"multipart/form-data; boundary={boundary}",
                "multipart/form-data",
                "multipart/mixed; boundary=" + boundary,
                "image/png",
            ]
        ).filter(lambda value: value is not None)
    )
    headers = {"content-type": content_type}
    extra_names = st.text(TOKEN, min_size=1, max_size=16).filter(
        lambda name: name.lower() not in OWN_HEADERS
    )
    extra_values = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60)
    headers.update(draw(st.dictionaries(extra_names, extra_values.map(str.strip), max_size=4)))
    path = draw(st.sampled_from(["/v1/predict", "/v1/read"]))
    query = draw(st.sampled_from(["", "", "?top_k=3", "?framed=true", "?top_k=x", "?framed=2"]))
    return path + query, body, headers


def _check_shape(response: httpx.Response) -> None:
    assert response.headers["content-type"] == "application/json", response.text[:200]
    assert response.headers["x-content-type-options"] == "nosniff"
    body = response.json()
    if "results" in body:
        assert isinstance(body["results"], list)
        assert body["results"]
        for result in body["results"]:
            assert isinstance(result["path"], str)
            assert isinstance(result.get("error"), str) or "digit" in result or "text" in result
            if "error" in result:
                assert result["error"].startswith(f"{result['path']}: ")
        if response.status_code >= 400:
            assert len(body["results"]) == 1
    else:
        assert response.status_code >= 400
        assert set(body) == {"error"}
        assert isinstance(body["error"], str)
        assert body["error"]


@pytest.mark.fuzz
@settings(max_examples=max(10, settings.default.max_examples // 4))
@given(request=multipart_request())
def test_random_multipart_bodies_get_a_json_2xx_or_4xx(server, request) -> None:
    path, body, headers = request
    started = time.monotonic()
    response = httpx.post(
        server.url + path, content=body, headers=headers, timeout=SECONDS_PER_REQUEST
    )
    assert time.monotonic() - started < SECONDS_PER_REQUEST
    event(f"status {response.status_code}")  # shown by --hypothesis-show-statistics
    assert 200 <= response.status_code < 500, response.text[:300]
    _check_shape(response)
    assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200
