"""Shared plumbing for the emulators: a threaded WSGI server that runs in the background.

The server is cheroot's (CherryPy's WSGI server): HTTP/1.1 with keep-alive, as Shopify and
Cloudinary answer, on a pool of worker threads. werkzeug's development server closes every
connection after one answer ("Connection: close") and starts a thread per connection, so each
call and each media download paid a TCP connect, a thread start and a teardown: about 0.6 ms of
CPU per request more, on the two cores the benchmarks share with the run they measure.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

from cheroot import wsgi
from cheroot.workers import threadpool

logger = logging.getLogger("sandbox")

# Worker threads per server. Requests are answered in parallel up to this many (an answer held
# back by a fault — slow, or a lost answer's timeout — holds one); idle keep-alive connections
# hold none (cheroot watches them with a selector).
THREADS = 64
BACKLOG = 128


class _Gateway(wsgi.Gateway_10):
    """WSGI 1.0, plus the connection's socket as ``werkzeug.socket`` (the Shopify emulator's
    "drop" fault shuts it down, as werkzeug's server let it)."""

    def get_environ(self):
        environ = super().get_environ()
        environ["werkzeug.socket"] = self.req.conn.socket
        return environ


class _Pool(threadpool.ThreadPool):
    """Daemon worker threads, as werkzeug's were: a test or bench that does not stop its
    server can still exit."""

    def _spawn_worker(self):
        worker = threadpool.WorkerThread(self.server)
        worker.name = f"sandbox worker {worker.name}"
        worker.daemon = True
        worker.start()
        return worker


class _Server(wsgi.Server):
    keep_alive_conn_limit = None  # clients keep pools of connections (the emulator's own: 32)

    def __init__(self, bind_addr, wsgi_app):
        # A listen backlog like werkzeug's (128), not cheroot's 5: Shopify's 32 download threads
        # and a run's concurrent calls open connections in bursts, and an overflowing backlog
        # turned downloads into IMAGE_DOWNLOAD_FAILURE on a loaded machine.
        super().__init__(bind_addr, wsgi_app, numthreads=THREADS, request_queue_size=BACKLOG)
        self.gateway = _Gateway
        self.requests = _Pool(self, min=THREADS)


def _logged(wsgi_app):
    """`wsgi_app`, logging each request when SANDBOX_LOG_REQUESTS=1 (tests and the demo stay
    readable otherwise)."""
    if os.environ.get("SANDBOX_LOG_REQUESTS") != "1":
        return wsgi_app

    def app(environ, start_response):
        def start(status, headers, exc_info=None):
            logger.warning(
                '%s "%s %s" %s',
                environ.get("REMOTE_ADDR", "-"),
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
                status.split(" ", 1)[0],
            )
            return start_response(status, headers, exc_info)

        return wsgi_app(environ, start)

    return app


@dataclass
class RunningServer:
    """A WSGI app served on a background thread; `url` has no trailing slash."""

    server: wsgi.Server
    thread: threading.Thread
    host: str

    @property
    def port(self) -> int:
        return self.server.bind_addr[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def shutdown(self) -> None:
        self.server.stop()
        self.thread.join(timeout=5)


def serve_in_thread(wsgi_app, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve `wsgi_app` on host:port (0 picks a free port) from a daemon thread."""
    server = _Server((host, port), _logged(wsgi_app))
    server.prepare()  # binds: the port is known from here on
    thread = threading.Thread(
        target=server.serve, name=f"sandbox:{server.bind_addr[1]}", daemon=True
    )
    thread.start()
    return RunningServer(server=server, thread=thread, host=host)
