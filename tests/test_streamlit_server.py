"""The test server helper (tests/streamlit_server.py) in two pytest-xdist workers at once: a port another process
binds between :func:`free_port` and the server's own bind is given up for another, and each server logs apart."""

from __future__ import annotations

import socket
import urllib.request

from tests.streamlit_server import StreamlitServer


def test_a_port_taken_before_the_server_binds_it_is_given_up_for_another():
    server = StreamlitServer()
    chosen = server.port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:  # another worker's server, say
        other.bind((server.host, chosen))
        other.listen()
        with server:
            assert server.port != chosen
            assert server.log_path.name == f"streamlit-{server.port}.log"
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=10) as response:
                assert response.read() == b"ok"
            process = server.process
    assert process.poll() is not None, "the server is stopped on leaving the block"
