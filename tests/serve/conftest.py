"""A real server in a subprocess on a free loopback port, for the API and browser tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx", reason="the serve extra is not installed")
pytest.importorskip("fastapi", reason="the serve extra is not installed: pip install '.[serve]'")

EXECUTABLE = str(Path(sys.executable).with_name("mnist-infer"))


@dataclass
class Server:
    """A running ``mnist-infer serve``: its base URL and its process."""

    url: str
    port: int
    process: subprocess.Popen[bytes]

    def stop(self) -> int:
        """SIGTERM, as a process manager would; return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(*options: str, command: list[str] | None = None) -> Server:
    """Start ``mnist-infer serve`` with ``options`` (or ``command``, given the port last) on a
    free loopback port; return it once it is ready."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "MNIST_INFER_SERVE_SETTINGS"}
    argv = [*command, str(port)] if command else [EXECUTABLE, "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*argv, *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited: {process.stderr.read().decode() if process.stderr else ''}"
            )
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return Server(url, port, process)
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not become ready in 60 s")


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """One server for the API tests, with small limits so that they are quick to reach."""
    running = start_server(
        "--max-body-mb", "1", "--max-files", "4", "--timeout", "20", "--header-timeout", "3"
    )
    yield running
    running.stop()


@pytest.fixture
def server_factory() -> Iterator[Callable[..., Server]]:
    """Start servers with other options; each is stopped at the end of the test."""
    started: list[Server] = []

    def make(*options: str) -> Server:
        started.append(start_server(*options))
        return started[-1]

    yield make
    for running in started:
        running.stop()


#: Runs the app as ``mnist-infer serve`` does, allowing 2 requests in progress, with an SDK that
#: raises a bug's exception (not an error of its family) for a batch with an image named bug.png.
FAULTY_SERVER = """
import functools, sys
import uvicorn
from mnist_infer.classifier import Classifier
from mnist_infer.serve import ServeSettings, create_app
from mnist_infer.serve.protocol import HeadDeadlineProtocol

def failing(method):
    def wrapped(self, images, names=None):
        if names is not None and "bug.png" in list(names):
            raise RuntimeError("a bug in one image")
        return method(self, images, names)
    return wrapped

Classifier.read_each = failing(Classifier.read_each)
Classifier.classify_framed = failing(Classifier.classify_framed)
settings = ServeSettings(max_in_flight=2, threads=1)
uvicorn.run(create_app(settings), port=int(sys.argv[1]), log_level="critical",
            http=functools.partial(HeadDeadlineProtocol, head_timeout=settings.header_timeout_s))
"""


@pytest.fixture(scope="module")
def faulty_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app with 2 requests in progress at most and a bug for images named bug.png."""
    script = tmp_path_factory.mktemp("faulty") / "faulty_server.py"
    script.write_text(FAULTY_SERVER)
    running = start_server(command=[sys.executable, str(script)])
    yield running
    running.stop()
