"""The HTTP server under load and under abuse, on loopback only, against the in-process SDK.

    python benchmarks/serve_load.py                  # load, abuse (30 s), slow headers
    python benchmarks/serve_load.py --quick          # fewer requests, a 10 s abuse run
    python benchmarks/serve_load.py --only slow-headers

Starts ``mnist-infer serve`` on a free loopback port (default settings: a pool of as many
classifying threads as cores) and measures, in one run:

1. **Load** at concurrency 1, 8 and 32, for small canvas PNGs (a 280x280 drawing) and for
   300-400 px photo-like JPEGs: requests/s, p50/p95/p99 latency, errors, and the ratio to the
   in-process ``Classifier`` classifying the same files one by one (measured just before).
   Then ``/v1/read`` at concurrency 1 and 8 on canvas PNGs of 2-4 digit numbers, against the
   in-process ``Classifier.read``.
2. **Bad requests**: one of each kind, with the status code and message it got.
3. **Abuse**: while good clients keep sending photos, others send garbage bodies, bodies over
   the limit, decompression bombs, truncated multipart bodies and slow senders (one byte at a
   time). The good clients' errors must be 0, the server must stay up, and its peak memory
   (VmHWM) is printed.
4. **Slow headers**: good clients send photos, first alone, then while 300 other connections
   each send a request line and one header and never finish their head (each re-opened as
   soon as the server closes it, so 300 are held all the time). The good clients' errors must
   be 0; their latency is printed beside the run without holders, and how long the server let
   a held connection live, and what it answered it.

The client is asyncio + httpx in this process, so it shares the 2 cores with the server.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from number_images import compose, style_canvas  # beside this one
from PIL import Image
from realistic_images import camera, lighting, paint, pen_shape, random_place

from mnist_infer import Classifier
from mnist_infer.serve import ServeSettings
from train.data import load_mnist

EXECUTABLE = str(Path(sys.executable).with_name("mnist-infer"))


def canvas_png(digit: np.ndarray, rng: np.random.Generator) -> bytes:
    """A digit drawn on a 280x280 web canvas: dark strokes on a transparent background."""
    ink = random_place(pen_shape(digit, rng.uniform(150, 220)), (280, 280), rng, margin=0.03)
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = (ink * 255 + 0.5).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").save(buffer, format="PNG")
    return buffer.getvalue()


def photo_jpeg(digit: np.ndarray, rng: np.random.Generator) -> bytes:
    """A 300-400 px phone-photo-like JPEG: ink on paper, uneven light, noise, slight blur."""
    side = int(rng.integers(300, 401))
    canvas = (int(side * rng.uniform(0.85, 1.15)), side)
    ink = random_place(pen_shape(digit, rng.uniform(0.4, 0.7) * min(canvas)), canvas, rng, 0.08)
    rgb = paint(ink, (0.08, 0.08, 0.15), (0.92, 0.9, 0.85))
    rgb = rgb * lighting(canvas, rng, strength=0.3)[..., None]
    buffer = io.BytesIO()
    camera(rgb, rng, noise=0.02, blur=1.0).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def number_png(digits: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> bytes:
    """A number of 2-4 MNIST digits, spaced, drawn on a transparent canvas."""
    count = int(rng.integers(2, 5))
    picks = rng.choice(len(digits), size=count, replace=False)
    number = compose(
        [digits[i] for i in picks],
        [int(labels[i]) for i in picks],
        "spaced",
        rng,
        height=float(rng.uniform(60, 90)),
    )
    data: bytes = style_canvas(number, rng).to_bytes()
    return data


def start_server(*options: str) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [EXECUTABLE, "serve", "--port", str(port), *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


def peak_memory_mb(pid: int) -> float:
    """VmHWM (peak resident set) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def in_process_rate(files: list[bytes], path: str = "/v1/predict", seconds: float = 3.0) -> float:
    """Files per second through one in-process ``Classifier``, one file at a time.

    Whole passes over ``files`` until ``seconds`` have gone by, so that a moment of load from
    other processes on shared cores weighs no more here than in the load run that follows.
    """
    classifier = Classifier()
    call = classifier.read if path == "/v1/read" else classifier.classify
    call(files[0])  # warm
    done = 0
    started = time.perf_counter()
    while done == 0 or time.perf_counter() - started < seconds:
        for data in files:
            call(data)
        done += len(files)
    return done / (time.perf_counter() - started)


async def load(
    url: str, files: list[bytes], concurrency: int, total: int, path: str = "/v1/predict"
) -> dict[str, Any]:
    """``total`` requests from ``concurrency`` clients; latencies in seconds and errors."""
    key = "text" if path == "/v1/read" else "digit"
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    queue = iter(range(total))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def worker() -> None:
            for index in queue:
                started = time.perf_counter()
                try:
                    response = await client.post(path, content=files[index % len(files)])
                    if response.status_code != 200 or key not in response.json()["results"][0]:
                        errors[f"status {response.status_code}"] += 1
                except httpx.HTTPError as error:
                    errors[type(error).__name__] += 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "latencies": latencies, "errors": errors, "total": total}


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def bad_requests(url: str, good: bytes, number: bytes) -> list[tuple[str, int, str]]:
    """One request of each bad kind: (what was sent, status, message)."""
    big = bytes(11_000_000)
    bomb = io.BytesIO()
    Image.new("1", (12_000, 10_000)).save(bomb, format="PNG")
    boundary = "b0undary"
    truncated = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode() + good[:200]
    cases: list[tuple[str, Callable[[httpx.Client], httpx.Response]]] = [
        (
            "a text file as the body",
            lambda c: c.post("/v1/predict", content=b"hello, not an image"),
        ),
        ("an empty body", lambda c: c.post("/v1/predict", content=b"")),
        ("a blank white PNG", lambda c: c.post("/v1/predict", content=_blank_png())),
        (
            "a number (several digits) to /v1/predict",
            lambda c: c.post("/v1/predict", content=number),
        ),
        ("a blank white PNG to /v1/read", lambda c: c.post("/v1/read", content=_blank_png())),
        ("an 11 MB body (limit 10 MB)", lambda c: c.post("/v1/predict", content=big)),
        ("a 120-megapixel PNG bomb", lambda c: c.post("/v1/predict", content=bomb.getvalue())),
        (
            "65 files (limit 64)",
            lambda c: c.post("/v1/predict", files=[("f", (f"{i}.png", good)) for i in range(65)]),
        ),
        (
            "a truncated multipart body",
            lambda c: c.post(
                "/v1/predict",
                content=truncated,
                headers={"content-type": f"multipart/form-data; boundary={boundary}"},
            ),
        ),
        (
            "a form with text, no file",
            lambda c: c.post("/v1/predict", files={"path": (None, "/etc/passwd")}),
        ),
        (
            "a file name of 8,000 characters",
            lambda c: c.post("/v1/predict", files={"f": ("n" * 7_996 + ".png", good)}),
        ),
        ("top_k=11", lambda c: c.post("/v1/predict?top_k=11", content=good)),
        ("GET /v1/predict", lambda c: c.get("/v1/predict")),
        ("an unknown path", lambda c: c.get("/v2/predict")),
    ]
    rows = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for what, call in cases:
            response = call(client)
            body = response.json()
            message = body.get("error") or body["results"][0].get("error", "")
            rows.append((what, response.status_code, str(message)))
    return rows


def _blank_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (64, 64), 255).save(buffer, format="PNG")
    return buffer.getvalue()


async def abuse(url: str, port: int, photos: list[bytes], seconds: float) -> dict[str, Any]:
    """Good clients send photos while abusers send bad requests, for ``seconds``."""
    stop = time.monotonic() + seconds
    good_sent = 0
    good_errors: Counter[str] = Counter()
    sent: Counter[str] = Counter()
    answered: Counter[str] = Counter()
    big = bytes(11_000_000)
    bomb = io.BytesIO()
    Image.new("1", (12_000, 10_000)).save(bomb, format="PNG")
    rng = np.random.default_rng(1)

    async def good_client(client: httpx.AsyncClient, offset: int) -> None:
        nonlocal good_sent
        index = offset
        while time.monotonic() < stop:
            index += 1
            try:
                response = await client.post("/v1/predict", content=photos[index % len(photos)])
                ok = response.status_code == 200 and "digit" in response.json()["results"][0]
                if not ok:
                    good_errors[f"status {response.status_code}"] += 1
            except httpx.HTTPError as error:
                good_errors[type(error).__name__] += 1
            good_sent += 1

    async def abuser(client: httpx.AsyncClient, kind: str) -> None:
        while time.monotonic() < stop:
            sent[kind] += 1
            try:
                if kind == "garbage":
                    response = await client.post(
                        "/v1/predict", content=rng.bytes(int(rng.integers(1, 50_000)))
                    )
                elif kind == "over the limit":
                    response = await client.post("/v1/predict", content=big)
                elif kind == "bomb":
                    response = await client.post("/v1/predict", content=bomb.getvalue())
                else:  # truncated multipart
                    body = (
                        b'--x\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n\r\n'
                        + photos[0][:500]
                    )
                    response = await client.post(
                        "/v1/predict",
                        content=body,
                        headers={"content-type": "multipart/form-data; boundary=x"},
                    )
                answered[f"{kind}: {response.status_code}"] += 1
            except httpx.HTTPError as error:
                # A body over the limit is answered 413 from its Content-Length and the
                # connection closed, while the client is still sending: it sees the close.
                answered[f"{kind}: connection closed ({type(error).__name__})"] += 1

    async def slow_sender() -> None:
        while time.monotonic() < stop:
            sent["slow sender"] += 1
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(
                    b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"
                )
                while time.monotonic() < stop:
                    writer.write(b"\x00")
                    await writer.drain()
                    await asyncio.sleep(0.5)
                    if reader.at_eof():
                        break
                writer.close()
                answered["slow sender: held until the end or cut off"] += 1
            except OSError:
                answered["slow sender: connection refused or reset"] += 1

    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        tasks = [good_client(client, i * 7) for i in range(4)]
        tasks += [
            abuser(client, kind)
            for kind in ("garbage", "over the limit", "bomb", "truncated multipart")
        ]
        tasks += [slow_sender() for _ in range(20)]
        await asyncio.gather(*tasks)
    return {"good_sent": good_sent, "good_errors": good_errors, "sent": sent, "answered": answered}


async def slow_headers(
    url: str, port: int, photos: list[bytes], held: int, requests: int, concurrency: int = 8
) -> dict[str, Any]:
    """Good clients' latency without, then with, ``held`` connections that never end a head.

    The holders open over one header deadline, so that the server closes them (and they open
    again) spread over time rather than all at once.
    """
    alone = await load(url, photos, concurrency, requests)
    deadline = ServeSettings().header_timeout_s
    lifetimes: list[float] = []
    replies: Counter[str] = Counter()
    open_now = 0
    counts: list[int] = []
    holding = True

    async def holder(index: int) -> None:
        nonlocal open_now
        await asyncio.sleep(deadline * index / held)
        while holding:
            started = time.monotonic()
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError as error:
                replies[f"connect failed ({type(error).__name__})"] += 1
                await asyncio.sleep(0.1)
                continue
            open_now += 1
            try:
                writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # the head never ends
                reply = await reader.read()  # until the server closes the connection
                if holding:
                    lifetimes.append(time.monotonic() - started)
                    replies[reply.split(b"\r\n", 1)[0].decode(errors="replace") or "closed"] += 1
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                open_now -= 1
                writer.close()

    async def watch() -> None:
        while holding:
            counts.append(open_now)
            await asyncio.sleep(0.05)

    tasks = [asyncio.create_task(holder(index)) for index in range(held)]
    while open_now < held:
        await asyncio.sleep(0.05)
    watcher = asyncio.create_task(watch())
    loaded = await load(url, photos, concurrency, requests)
    if not lifetimes:  # the run was shorter than the deadline: hold on until some close
        while not lifetimes:
            await asyncio.sleep(0.1)
    holding = False
    for task in [*tasks, watcher]:
        task.cancel()
    await asyncio.gather(*tasks, watcher, return_exceptions=True)
    return {
        "alone": alone,
        "held": loaded,
        "lifetimes": lifetimes,
        "replies": replies,
        "open": counts,
    }


def print_slow_headers(report: dict[str, Any], held: int) -> None:
    print(f"\nslow headers: {held} connections that never finish their request head")
    print("| good clients (photos, concurrency 8) | requests | req/s | p50 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, key in (("alone", "alone"), (f"beside {held} held connections", "held")):
        run = report[key]
        lat = [1e3 * x for x in run["latencies"]]
        print(
            f"| {name} | {run['total']} | {run['total'] / run['seconds']:.0f} |"
            f" {percentile(lat, 50):.1f} | {percentile(lat, 99):.1f} |"
            f" {sum(run['errors'].values())} {dict(run['errors']) or ''} |"
        )
    lives = report["lifetimes"]
    print(
        f"held connections closed by the server: {len(lives)}, each after"
        f" {min(lives):.2f} s (median {percentile(lives, 50):.2f} s, max {max(lives):.2f} s);"
        f" answered: {dict(report['replies'])}"
    )
    counts = report["open"]
    print(
        f"connections held during the run (sampled every 50 ms): mean {np.mean(counts):.0f},"
        f" fewest {min(counts)}, most {max(counts)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", choices=["slow-headers"], help="Run only this phase.")
    parser.add_argument("--held", type=int, default=300, help="Connections holding a head.")
    args = parser.parse_args()
    data = load_mnist(None)
    rng = np.random.default_rng(0)
    digits = data.test_images[:200]
    canvases = [canvas_png(d, rng) for d in digits]
    photos = [photo_jpeg(d, rng) for d in digits]
    numbers = [number_png(digits, data.test_labels[:200], rng) for _ in range(100)]
    per_level = {1: 300, 8: 1200, 32: 1500} if not args.quick else {1: 50, 8: 200, 32: 200}
    read_levels = {1: 100, 8: 400} if not args.quick else {1: 20, 8: 80}

    process, url = start_server()
    port = int(url.rsplit(":", 1)[1])
    slow_requests = 300 if args.quick else 1200
    try:
        load_average = os.getloadavg()[0]
        print(f"server pid {process.pid} on {url}, {os.cpu_count()} cores, load {load_average:.1f}")
        if args.only == "slow-headers":
            report = asyncio.run(slow_headers(url, port, photos, args.held, slow_requests))
            print_slow_headers(report, args.held)
            print(f"load {os.getloadavg()[0]:.1f} at the end")
            return
        print(
            "| files | concurrency | requests | req/s | p50 ms | p95 ms | p99 ms | errors |"
            " vs in-process |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        total = 0
        runs = (
            ("canvas PNG 280 px", canvases, "/v1/predict", per_level),
            ("photo JPEG 300-400 px", photos, "/v1/predict", per_level),
            ("number canvas PNG, 2-4 digits, /v1/read", numbers, "/v1/read", read_levels),
        )
        for name, files, path, levels in runs:
            baseline = in_process_rate(files, path)
            for concurrency, count in levels.items():
                result = asyncio.run(load(url, files, concurrency, count, path))
                rate = count / result["seconds"]
                total += count
                errors = sum(result["errors"].values())
                lat = [1e3 * x for x in result["latencies"]]
                print(
                    f"| {name} | {concurrency} | {count} | {rate:.0f} | {percentile(lat, 50):.1f} |"
                    f" {percentile(lat, 95):.1f} | {percentile(lat, 99):.1f} | {errors} |"
                    f" {rate / baseline:.2f}x of {baseline:.0f}/s |"
                )
        print(f"\n{total} requests; server peak memory {peak_memory_mb(process.pid):.0f} MB\n")

        print("| bad request | status | message |")
        print("|---|---:|---|")
        for what, status, message in bad_requests(url, canvases[0], numbers[0]):
            print(f"| {what} | {status} | {message} |")

        seconds = 10.0 if args.quick else 30.0
        before = peak_memory_mb(process.pid)
        report = asyncio.run(abuse(url, port, photos, seconds))
        alive = httpx.get(url + "/healthz", timeout=5).status_code == 200
        errors = report["good_errors"]
        print(
            f"\nabuse run, {seconds:.0f} s: good clients sent {report['good_sent']} requests,"
            f" errors {sum(errors.values())} {dict(errors)}"
        )
        for kind, count in sorted(report["sent"].items()):
            print(f"  sent {count:5d} x {kind}")
        for outcome, count in sorted(report["answered"].items()):
            print(f"  got  {count:5d} x {outcome}")
        print(
            f"server alive afterwards: {alive}; peak memory {before:.0f} MB before the abuse,"
            f" {peak_memory_mb(process.pid):.0f} MB after"
        )
        report = asyncio.run(slow_headers(url, port, photos, args.held, slow_requests))
        print_slow_headers(report, args.held)
        print(f"load {os.getloadavg()[0]:.1f} at the end")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


if __name__ == "__main__":
    main()
