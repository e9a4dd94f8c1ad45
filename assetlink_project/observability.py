"""Per-request observability: a request id, log context (workspace, store, run id from the URL)
and HTTP latency for /metrics; optional Sentry."""

from __future__ import annotations

import logging
import re
import time
import uuid

from assetlink_project.logging_context import bind, log_context
from assetlink_project.metrics import observe_request

logger = logging.getLogger("assetlink.request")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# URL keyword arguments that name the tenant or the subject of a request.
_URL_FIELDS = {
    "workspace_id": "workspace_id",
    "store_id": "store_id",
    "run_id": "run_id",
    "plan_id": "plan_id",
    "batch_id": "upload_batch_id",
}


class RequestContextMiddleware:
    """Outermost: every log line of a request carries its id (taken from X-Request-ID when a
    proxy set a sane one), method and path; one line per request with its status and duration."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        started = time.perf_counter()
        with log_context(request_id=request_id, method=request.method, path=request.path):
            response = self.get_response(request)
            elapsed = time.perf_counter() - started
            match = getattr(request, "resolver_match", None)
            route = match.route if match else "unmatched"
            observe_request(request.method, route, response.status_code, elapsed)
            if getattr(request, "user", None) is not None and request.user.is_authenticated:
                bind(user_id=request.user.pk)
            logger.info(
                "%s %s %s %.1f ms",
                request.method,
                request.path,
                response.status_code,
                elapsed * 1000,
                extra={"status": response.status_code, "duration_ms": round(elapsed * 1000, 1)},
            )
        response["X-Request-ID"] = request_id
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        bind(
            **{field: view_kwargs[key] for key, field in _URL_FIELDS.items() if key in view_kwargs}
        )


def init_sentry(dsn: str, *, environment: str) -> bool:
    """Report errors to Sentry when SENTRY_DSN is set; nothing is sent otherwise."""
    if not dsn:
        return False
    import sentry_sdk

    sentry_sdk.init(dsn=dsn, environment=environment, send_default_pii=False)
    return True
