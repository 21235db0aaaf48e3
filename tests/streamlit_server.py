"""Start the dashboard in a subprocess for the browser test, and stop it again by its PID.

``with StreamlitServer() as server: page.goto(server.url)``. The server runs
``python -m streamlit run app.py`` (or the ``script`` given) from the repository root on a free port of
127.0.0.1, with the current environment (so ``EM_DATA_DIR`` passes through); its output goes to a log file whose tail
is shown when it fails to start. Tests run in two pytest-xdist workers at once, so each server has a log
of its own, and a port another process took between :func:`free_port` and the server's bind is given up
for another.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.helpers import CHROMIUM, CHROMIUM_MISSING, REPO

START_TIMEOUT = 30.0  # seconds for the first answer on /_stcore/health
STOP_TIMEOUT = 10.0  # seconds between terminate and kill
PORT_ATTEMPTS = 3  # free ports tried when another process binds the chosen one first
PORT_TAKEN = "is not available"  # what streamlit logs, then exits, when its port is taken


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def first_free_port(ports: range, host: str = "127.0.0.1") -> int:
    """The first of ``ports`` nobody listens on (a test file's own range, so its server runs beside the
    others'); one the OS picks when all are taken."""
    for port in ports:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind((host, port))
            return port
        except OSError:
            continue
    return free_port(host)


class StreamlitServer:
    """``streamlit run app.py`` as a child process; a context manager.

    Parameters
    ----------
    log_path : Path, optional
        Where the server's stdout and stderr go; ``test-artifacts/streamlit-PORT.log`` by default.
    host : str
        The address to listen on; only 127.0.0.1 is ever meant.
    extra_args : sequence of str, optional
        More arguments for ``streamlit run`` after the default ones, e.g.
        ``["--server.disconnectedSessionTTL", "2"]``.
    script : str
        The script to run, from the repository's root (``app.py``; a benchmark runs its own).
    """

    def __init__(
        self,
        log_path: Path | None = None,
        host: str = "127.0.0.1",
        extra_args: Sequence[str] = (),
        script: str = "app.py",
    ) -> None:
        self.host = host
        self.script = script
        self.extra_args = list(extra_args)
        self.port = free_port(host)
        self._default_log = log_path is None
        self.log_path = log_path or self._log_for(self.port)
        self.process: subprocess.Popen | None = None
        self._log = None

    @staticmethod
    def _log_for(port: int) -> Path:
        return REPO / "test-artifacts" / f"streamlit-{port}.log"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "streamlit", "run", self.script,
            "--server.address", self.host,
            "--server.port", str(self.port),
            "--server.headless", "true",
            "--browser.gatherUsageStats", "false",
            *self.extra_args,
        ]  # fmt: skip

    def start(self, timeout: float = START_TIMEOUT) -> StreamlitServer:
        """Launch the server and wait until ``/_stcore/health`` answers ``ok`` (on a new free port if
        another process took this one first)."""
        attempt = 1
        while True:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_path, "wb")  # closed in stop()
            self.process = subprocess.Popen(
                self.command(), cwd=REPO, env=os.environ.copy(), stdout=self._log, stderr=subprocess.STDOUT
            )
            healthy = False
            try:
                self._wait_healthy(timeout)
                healthy = True
            except RuntimeError:
                if attempt == PORT_ATTEMPTS or f"Port {self.port} {PORT_TAKEN}" not in self.log_tail():
                    raise
            finally:
                if not healthy:
                    self.stop()
            if healthy:
                return self
            attempt += 1
            self.port = free_port(self.host)
            if self._default_log:
                self.log_path = self._log_for(self.port)

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        health = f"{self.url}/_stcore/health"
        while True:
            code = self.process.poll()
            if code is not None:
                raise RuntimeError(f"streamlit exited with status {code} before answering:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(health, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"streamlit did not answer {health} within {timeout:g} s:\n{self.log_tail()}")
            time.sleep(0.2)  # polling interval, not a wait for the app

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server's output (for failure messages)."""
        if self._log is not None:
            self._log.flush()
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop this server by its PID: terminate, wait, kill if it does not exit."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=timeout)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> StreamlitServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def browser_test_server(log_name: str, ports: range, extra_args: Sequence[str] = ()) -> Iterator[StreamlitServer]:
    """A browser test file's server, for its module-scoped fixture (``yield from``): on the first free port of
    the file's own ``ports``, logging to ``test-artifacts/{log_name}``; the test skips, saying how to install
    it, where there is no chromium."""
    if CHROMIUM is None:
        pytest.skip(CHROMIUM_MISSING)
    server = StreamlitServer(log_path=REPO / "test-artifacts" / log_name, extra_args=extra_args)
    server.port = first_free_port(ports)
    with server:
        yield server
