"""`python -m sandbox`: start the Shopify and Cloudinary emulators until Ctrl-C.

Environment: SANDBOX_HOST (127.0.0.1), SANDBOX_SHOPIFY_PORT (8701),
SANDBOX_CLOUDINARY_PORT (8702). See sandbox/README.md.
"""

from __future__ import annotations

import os
import signal
import threading

from sandbox.common import serve_in_thread


def main() -> None:
    host = os.environ.get("SANDBOX_HOST", "127.0.0.1")
    servers = []
    from sandbox.shopify.server import make_app as make_shopify

    servers.append(
        (
            "Shopify",
            serve_in_thread(
                make_shopify(), host, int(os.environ.get("SANDBOX_SHOPIFY_PORT", "8701"))
            ),
        )
    )
    from sandbox.cloudinary.server import make_app as make_cloudinary

    servers.append(
        (
            "Cloudinary",
            serve_in_thread(
                make_cloudinary(), host, int(os.environ.get("SANDBOX_CLOUDINARY_PORT", "8702"))
            ),
        )
    )
    for name, running in servers:
        print(f"{name} emulator: {running.url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for _, running in servers:
            running.shutdown()


if __name__ == "__main__":
    main()
