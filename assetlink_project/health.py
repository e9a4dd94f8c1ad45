"""/healthz: is the database reachable, is Redis reachable."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"error: {type(exc).__name__}"
    return "ok"


def check_redis() -> str:
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
        )
        client.ping()
    except (redis.RedisError, OSError) as exc:
        return f"error: {type(exc).__name__}"
    return "ok"


def checks() -> dict[str, str]:
    """What the app needs to answer, each "ok" or "error: <kind>" (also used by /metrics)."""
    return {"database": check_database(), "redis": check_redis()}


@require_GET
def healthz(request):
    checks_ = checks()
    healthy = all(value == "ok" for value in checks_.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks_},
        status=200 if healthy else 503,
    )
