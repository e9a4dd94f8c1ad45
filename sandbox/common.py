"""Shared plumbing for the emulators: a threaded WSGI server that runs in the background."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class QuietRequestHandler(WSGIRequestHandler):
    """Logs nothing per request unless SANDBOX_LOG_REQUESTS=1 (tests and the demo stay readable)."""

    def log_request(self, code="-", size="-") -> None:
        if os.environ.get("SANDBOX_LOG_REQUESTS") == "1":
            super().log_request(code, size)


@dataclass
class RunningServer:
    """A WSGI app served on a background thread; `url` has no trailing slash."""

    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return self.server.server_port

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.port}"

    def shutdown(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve_in_thread(wsgi_app, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve `wsgi_app` on host:port (0 picks a free port) from a daemon thread."""
    server = make_server(host, port, wsgi_app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name=f"sandbox:{port}", daemon=True)
    thread.start()
    return RunningServer(server=server, thread=thread)
