"""`python -m assetlink_project.healthcheck`: exit 0 when this host's app answers /healthz with
200 (the container's HEALTHCHECK; `make serve` waits on it). The request names APP_URL's host,
which ALLOWED_HOSTS accepts in production."""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit


def healthy(port: int | None = None, timeout: float = 3) -> tuple[bool, str]:
    port = port or int(os.environ.get("PORT", "8000"))
    host = urlsplit(os.environ.get("APP_URL", "http://127.0.0.1:8000")).hostname or "127.0.0.1"
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http to ourselves
            return response.status == 200, response.read().decode()
    except urllib.error.HTTPError as exc:
        return False, f"{exc.code} {exc.read().decode(errors='replace')}"
    except OSError as exc:
        return False, str(exc)


def main() -> None:
    ok, detail = healthy()
    print(detail)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
