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
import subprocess
import time
import urllib.request
from collections import defaultdict

import numpy as np
import pytest
from playwright.sync_api import expect

from em_core import em, init, stepping
from em_core.data import load_dataset
from tests import nginx_proxy
from tests.browser_page import AppPage
from tests.nginx_proxy import NGINX, NGINX_MISSING, Nginx

pytestmark = pytest.mark.deploy  # the two browser tests are marked browser by their fixture too


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    if NGINX is None:
        pytest.skip(NGINX_MISSING)
    with nginx_proxy.deployment(tmp_path_factory.mktemp("nginx")) as (proxy, replicas):
        yield proxy, replicas


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
