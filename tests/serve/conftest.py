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
    running = start_server("--max-body-mb", "1", "--max-files", "4", "--timeout", "20")
    yield running
    running.stop()


@pytest.fixture
def server_factory() -> Iterator[Callable[..., Server]]:
    """Start servers with other options (or another command); each is stopped after the test."""
    started: list[Server] = []

    def make(*options: str, command: list[str] | None = None) -> Server:
        started.append(start_server(*options, command=command))
        return started[-1]

    yield make
    for running in started:
        running.stop()
