"""The class deployment as shipped, on this machine: nginx (deploy/nginx/em-lab.conf) in front of replicas.

:class:`Nginx` runs the shipped site file (only its replica ports and listen port changed) in a private
nginx with its own prefix, pid and logs; :func:`deployment` starts replicas of this repository with one
cookie secret, as deploy/systemd/em-lab@.service says to set it, and the proxy in front of them. Used by
tests/test_deploy.py and by ``benchmarks/load_sessions.py --replicas``. Everything listens on 127.0.0.1
and is stopped by its PID.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

from tests.helpers import REPO
from tests.streamlit_server import StreamlitServer, free_port

NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
NGINX_MISSING = "nginx not found: install it with `apt-get install -y nginx` (CI's .ci/run does)"
SITE = REPO / "deploy" / "nginx" / "em-lab.conf"
#: The access log's format: the affinity cookie sent, the key nginx hashed, the replica, the request.
LOG_FORMAT = "$cookie_em_lab_replica|$em_lab_affinity|$upstream_addr|$status|$request_method $uri"
#: What the replicas of a test or benchmark deployment share (the shipped unit reads it from a file).
COOKIE_SECRET = "em-lab-test-secret-shared-by-replicas"


def site_for(replicas: list[int], listen: int) -> str:
    """The shipped site file with these replica ports and listen port."""
    text = SITE.read_text()
    upstream = re.search(r"upstream em_lab \{(.*?)\}", text, re.S)
    assert upstream is not None, "deploy/nginx/em-lab.conf has an upstream em_lab block"
    body, servers = re.subn(r"^[ \t]*server 127\.0\.0\.1:\d+;[ \t]*\n", "", upstream.group(1), flags=re.M)
    assert servers, "the upstream lists its replicas as `server 127.0.0.1:PORT;` lines"
    body = body.rstrip() + "\n" + "".join(f"    server 127.0.0.1:{port};\n" for port in replicas)
    text = text[: upstream.start(1)] + body + text[upstream.end(1) :]
    text, listens = re.subn(r"listen 80;", f"listen 127.0.0.1:{listen};", text)
    assert listens == 1
    return text


class Nginx:
    """A private nginx (foreground, own prefix) serving the shipped site; stopped by its PID."""

    def __init__(self, root: Path, replicas: list[int], connections: int = 256) -> None:
        self.root = root
        self.port = free_port()
        (root / "logs").mkdir(parents=True, exist_ok=True)
        (root / "site.conf").write_text(site_for(replicas, self.port))
        temp = "".join(
            f"    {name}_temp_path {root / name};\n" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (root / "nginx.conf").write_text(
            f"worker_processes 1;\npid {root / 'nginx.pid'};\nerror_log {root / 'logs' / 'error.log'} warn;\n"
            f"events {{ worker_connections {connections}; }}\n"
            "http {\n"
            f"    log_format affinity '{LOG_FORMAT}';\n"
            f"    access_log {root / 'logs' / 'access.log'} affinity;\n"
            f"{temp}"
            f"    include {root / 'site.conf'};\n"
            "}\n"
        )
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> Nginx:
        conf = str(self.root / "nginx.conf")
        check = subprocess.run([NGINX, "-t", "-p", str(self.root), "-c", conf], capture_output=True, text=True)
        assert check.returncode == 0, f"nginx -t refuses the shipped site file:\n{check.stderr}"
        self.process = subprocess.Popen(
            [NGINX, "-p", str(self.root), "-c", conf, "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=open(self.root / "logs" / "stderr.log", "wb"),  # noqa: SIM115 (closed with the process)
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((self.root / "logs" / "error.log").read_text()) from None
                time.sleep(0.1)  # polling for the port, not a wait for the app

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def requests(self) -> list[dict[str, str]]:
        """The access log so far: one dict per request."""
        path = self.root / "logs" / "access.log"
        rows = []
        for line in path.read_text().splitlines() if path.exists() else []:
            cookie, key, upstream, status, request = line.split("|", 4)
            rows.append(dict(cookie=cookie, key=key, upstream=upstream, status=status, request=request))
        return rows


@contextlib.contextmanager
def deployment(root: Path, replicas: int = 2, connections: int = 256) -> Iterator[tuple[Nginx, list[StreamlitServer]]]:
    """``replicas`` servers with one cookie secret and the shipped nginx site in front; logs under ``root``.

    Each replica's environment is this process's, with ``STREAMLIT_SERVER_COOKIE_SECRET`` set (the
    XSRF cookie one replica signs must hold at the others, as the shipped unit arranges).
    """
    if NGINX is None:
        raise RuntimeError(NGINX_MISSING)
    root.mkdir(parents=True, exist_ok=True)
    servers: list[StreamlitServer] = []
    proxy = None
    try:
        with mock.patch.dict(os.environ, {"STREAMLIT_SERVER_COOKIE_SECRET": COOKIE_SECRET}):
            for i in range(replicas):
                servers.append(StreamlitServer(log_path=root / f"replica{i}.log").start())
        proxy = Nginx(root, [server.port for server in servers], connections).start()
        yield proxy, servers
    finally:
        if proxy is not None:
            proxy.stop()
        for server in servers:
            server.stop()
