"""The class deployment as shipped (deploy/nginx/em-lab.conf): nginx in front of two replicas, driven by chromium.

The test runs the shipped site file (only its replica ports and listen port changed) in a private nginx with
its own prefix, pid and logs under tmp_path, in front of two Streamlit servers of this repository. The
access log records, for every request, the affinity cookie it carried and the replica that answered; from it
the test checks that each browser's page loads, websocket and uploads all went to one replica, while
browsers from the same address (127.0.0.1) still spread over both.

Needs nginx (`apt-get install -y nginx`; .ci/run installs it) and Debian's chromium; CI fails these tests
when they skip.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

from em_core import em, init, stepping
from em_core.data import load_dataset
from tests.browser_page import AppPage
from tests.helpers import REPO
from tests.streamlit_server import StreamlitServer, free_port

pytestmark = pytest.mark.deploy  # the two browser tests are marked browser by their fixture too

NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
NGINX_MISSING = "nginx not found: install it with `apt-get install -y nginx` (CI's .ci/run does)"
SITE = REPO / "deploy" / "nginx" / "em-lab.conf"
#: The access log's format: the affinity cookie sent, the key nginx hashed, the replica, the request.
LOG_FORMAT = "$cookie_em_lab_replica|$em_lab_affinity|$upstream_addr|$status|$request_method $uri"


def site_for(replicas: list[int], listen: int) -> str:
    """The shipped site file with this test's replica ports and listen port."""
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

    def __init__(self, root: Path, replicas: list[int]) -> None:
        self.root = root
        self.port = free_port()
        (root / "logs").mkdir(parents=True, exist_ok=True)
        (root / "site.conf").write_text(site_for(replicas, self.port))
        temp = "".join(
            f"    {name}_temp_path {root / name};\n" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (root / "nginx.conf").write_text(
            f"worker_processes 1;\npid {root / 'nginx.pid'};\nerror_log {root / 'logs' / 'error.log'} warn;\n"
            "events { worker_connections 256; }\n"
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


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    if NGINX is None:
        pytest.skip(NGINX_MISSING)
    root = tmp_path_factory.mktemp("nginx")
    # the same cookie secret on both replicas, as deploy/systemd/em-lab@.service says to set it
    with pytest.MonkeyPatch.context() as env:
        env.setenv("STREAMLIT_SERVER_COOKIE_SECRET", "em-lab-test-secret-shared-by-replicas")
        replicas = [StreamlitServer(log_path=root / f"replica{i}.log").start() for i in range(2)]
    proxy = None
    try:
        proxy = Nginx(root, [server.port for server in replicas]).start()
        yield proxy, replicas
    finally:
        if proxy is not None:
            proxy.stop()
        for server in replicas:
            server.stop()


def replicas_of(proxy: Nginx, key: str) -> set[str]:
    """Every replica that answered a request hashed by ``key``."""
    return {row["upstream"] for row in proxy.requests() if row["key"] == key and row["upstream"] != "-"}


def cookie_of(app: AppPage) -> str:
    cookies = {c["name"]: c["value"] for c in app.page.context.cookies()}
    assert "em_lab_replica" in cookies, f"the proxy set its affinity cookie: {sorted(cookies)}"
    return cookies["em_lab_replica"]


def test_the_shipped_config_is_valid_nginx(tmp_path):
    if NGINX is None:
        pytest.skip(NGINX_MISSING)
    Nginx(tmp_path, [8501, 8502])  # the shipped ports; writes nginx.conf around the shipped site file
    check = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    site = (tmp_path / "site.conf").read_text()
    assert "ip_hash" not in site and "hash $em_lab_affinity consistent;" in site
    assert re.findall(r"server 127\.0\.0\.1:(\d+);", site) == ["8501", "8502"]


def test_stepping_an_upload_and_a_reconnect_stay_on_one_replica(deployment, browser):
    proxy, _ = deployment
    app = AppPage.new_context(browser, proxy.url)
    # every websocket of this tab goes through a route the test can cut, as a dropped Wi-Fi would
    sockets = []

    def through(route):
        route.connect_to_server()
        sockets.append(route)

    app.page.route_web_socket(re.compile(r".*/_stcore/stream$"), through)
    key = ""
    try:
        app.goto("/em_matrix?dataset=demo-small&k=3&seed=0")
        app.wait_opened("EM for matrix completion")
        key = cookie_of(app)
        # three Steps, showing exactly the numbers em_core gives for the same settings
        X = load_dataset("demo-small").X
        state = stepping.start(*init(X, 3, 0))
        for _ in range(3):
            status = app.step()
            state = stepping.step(em.algorithm(), X, state)
            assert (status.iteration, status.score_text) == (state.iteration, f"{state.score:,.6f}")
        app.wait_charts()  # the live charts' frames (page and plotly.js) come through the proxy too, and draw

        # a reconnect: the connection drops, the frontend opens a new websocket, and the session is still there
        assert len(sockets) == 1
        sockets[0].close(code=1001, reason="network drop")
        deadline = time.monotonic() + app.timeout_ms / 1000
        while len(sockets) < 2 and time.monotonic() < deadline:
            app.page.wait_for_timeout(100)  # polling for the reconnect (Streamlit backs off ~1 s)
        assert len(sockets) == 2, "the frontend reconnected"
        app.wait_idle()
        assert app.status().iteration == 3, "the session kept its fit across the reconnect"
        assert app.step().iteration == 4  # and goes on from it

        # an upload (HTTP, not the websocket) goes to the same replica, and the page reads it
        app.go("Data", "Data")
        matrix = np.array([[5, 0, 3, 4], [4, 2, 0, 5], [0, 1, 2, 3], [3, 3, 0, 1], [1, 0, 4, 2]], dtype=float)
        upload = proxy.root / "ratings.txt"
        np.savetxt(upload, matrix, fmt="%g")
        app.sidebar.locator("input[type=file]").first.set_input_files(str(upload))
        expect(app.main.get_by_test_id("stMetric").filter(has_text="Rows (users)")).to_contain_text(
            "5", timeout=app.timeout_ms
        )
        app.wait_idle()
        app.expect_no_exception()
        app.expect_clean()

    finally:
        app.close()
    # nginx logs a websocket when it closes: with the tab closed, every request of it is in the log
    deadline = time.monotonic() + 15
    while True:
        rows = [row for row in proxy.requests() if row["key"] == key]
        websockets = [r for r in rows if r["request"].endswith("/_stcore/stream")]
        if len(websockets) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)  # polling the log file
    uploads = [r for r in rows if "/_stcore/upload_file" in r["request"] and r["request"].startswith(("PUT", "POST"))]
    assert len(websockets) == 2, f"the first websocket and the reconnect's, through the proxy: {websockets}"
    assert uploads, "the upload went through the proxy"
    assert all(r["status"] in {"101", "200", "204"} for r in websockets + uploads), rows
    assert len(replicas_of(proxy, key)) == 1, f"one browser, one replica: {replicas_of(proxy, key)}"


def test_browsers_behind_one_address_spread_over_both_replicas(deployment, browser):
    proxy, replicas = deployment
    wanted = {f"127.0.0.1:{server.port}" for server in replicas}
    seen: dict[str, set[str]] = defaultdict(set)
    # each fresh browser gets a random key; the chance that 12 of them all land on one replica is 2 * 2**-12
    for _ in range(12):
        app = AppPage.new_context(browser, proxy.url)
        try:
            app.goto("/")
            app.wait_opened("Data", status=False)
            key = cookie_of(app)
            seen[key] = replicas_of(proxy, key)
            app.expect_clean()
        finally:
            app.close()
        if set().union(*seen.values()) == wanted:
            break
    assert all(len(found) == 1 for found in seen.values()), f"a browser's requests split across replicas: {seen}"
    assert set().union(*seen.values()) == wanted, f"every browser from 127.0.0.1 went to one replica: {seen}"


def test_health_through_the_proxy(deployment):
    proxy, _ = deployment
    with urllib.request.urlopen(proxy.url + "/_stcore/health", timeout=10) as response:
        assert response.status == 200 and response.read() == b"ok"
        cookies = response.headers.get_all("Set-Cookie") or []
        assert any(cookie.startswith("em_lab_replica=") and "HttpOnly" in cookie for cookie in cookies), cookies
