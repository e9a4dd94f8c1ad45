"""The one outbound HTTP client: no redirects followed, idempotent requests retried on a failed
connection or a 502/503/504, a POST never re-sent by the transport, no cookies kept — and no
production module makes an HTTP call any other way."""

from __future__ import annotations

import ast
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from assetlink_project import http_client

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ["assetlink_project", "common", "stores", "linking", "uploads", "reports", "pages"]
# Tools that drive the local emulators' control APIs in development (never Shopify or
# Cloudinary): the demo's readiness wait and seeding, and the sandbox install command, which
# reads the emulator's install redirect itself.
DEV_TOOLS = {
    "assetlink_project/demo.py",
    "assetlink_project/demo_seed.py",
    "assetlink_project/healthcheck.py",
    "stores/dev_install.py",
}


class _Recorder(BaseHTTPRequestHandler):
    answers: list[tuple[int, dict]] = []
    seen: list[tuple[str, str, str]] = []

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.seen.append((self.command, self.path, self.headers.get("Cookie") or ""))
        status, headers = self.answers.pop(0) if self.answers else (200, {})
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_PUT = do_POST = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Recorder.answers, _Recorder.seen = [], []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Recorder
    httpd.shutdown()
    httpd.server_close()


def test_a_redirect_is_refused_and_not_followed(server):
    url, recorder = server
    recorder.answers = [(302, {"Location": f"{url}/elsewhere"})]
    with pytest.raises(http_client.RedirectRefused, match="302"):
        http_client.session().get(f"{url}/file")
    assert [path for _, path, _ in recorder.seen] == ["/file"]


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_an_idempotent_request_is_sent_again_after_a_503(server, method):
    url, recorder = server
    recorder.answers = [(503, {}), (502, {})]
    response = http_client.session().request(method, f"{url}/x", data=b"abc")
    assert response.status_code == 200
    assert [m for m, _, _ in recorder.seen] == [method] * 3


def test_a_post_is_never_sent_again_by_the_transport(server):
    url, recorder = server
    recorder.answers = [(503, {})]
    assert http_client.session().post(f"{url}/graphql", json={}).status_code == 503
    assert len(recorder.seen) == 1


def test_a_refused_connection_of_a_post_fails_at_once():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(requests.ConnectionError):
        http_client.session().post(f"http://127.0.0.1:{port}/graphql", json={}, timeout=2)


def test_no_cookie_is_kept(server):
    url, recorder = server
    recorder.answers = [(200, {"Set-Cookie": "shop=a; Path=/"})]
    http_client.session().get(f"{url}/one")
    http_client.session().get(f"{url}/two")
    assert [cookie for _, _, cookie in recorder.seen] == ["", ""]


def test_download_returns_the_bytes_and_raises_on_an_error(server):
    url, recorder = server
    assert http_client.download(f"{url}/asset.jpg") == b"ok"
    recorder.answers = [(404, {})]
    with pytest.raises(requests.HTTPError):
        http_client.download(f"{url}/missing.jpg")


def _http_calls(path: Path) -> list[str]:
    """Calls that open HTTP besides the one session: requests.get/put/post/request/Session(),
    httpx.Client(...) without our transport, urllib's urlopen."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner = node.func.value
        name = owner.id if isinstance(owner, ast.Name) else ""
        call = f"{name}.{node.func.attr}"
        if name == "requests" and node.func.attr in {"get", "put", "post", "request", "Session"}:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {call}")
        ours = any(k.arg == "transport" for k in node.keywords)
        if name == "httpx" and node.func.attr == "Client" and not ours:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {call}")
        if node.func.attr == "urlopen":
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {call}")
    return found


def test_production_code_makes_http_calls_only_through_the_one_session():
    calls = []
    for package in PRODUCTION:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = str(path.relative_to(ROOT))
            if relative in DEV_TOOLS or relative == "assetlink_project/http_client.py":
                continue
            calls += _http_calls(path)
    assert not calls, "HTTP outside assetlink_project/http_client.py:\n" + "\n".join(calls)
