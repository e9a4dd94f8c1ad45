"""The Cloudinary notification endpoint: ``POST /cloudinary/notifications/<workspace id>``.

Set it as the product environment's notification URL (Console → Settings → Webhook
Notifications, or an Admin API trigger). Answers: 200 when verified (whether or not a rule
takes the change: Cloudinary retries anything else); 401 for a missing, stale or forged
signature, or a workspace that does not exist or has no Cloudinary connection (the same
answer, so the URL reveals nothing); 400 for a body that is not a JSON object; 413 over
DATA_UPLOAD_MAX_MEMORY_SIZE. A signed notification is taken once: a replay (or a retry of
one taken) answers 200 and changes nothing; 503 when Redis, which remembers them, is down.
"""

from __future__ import annotations

import json
import logging

import redis
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from assetlink_project.parsers import JSONTooDeep, check_json_depth
from linking.sync import services
from stores.cloudinary.client import Credentials
from stores.cloudinary.notifications import changes_of, first_delivery, verify
from stores.models import Workspace

logger = logging.getLogger(__name__)


def _text(status: int, message: str) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain")


@csrf_exempt
@require_POST
def cloudinary_notification(request, workspace_id: int):
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    secret = Credentials.of_workspace(workspace).api_secret if workspace else ""
    # One limit, Django's (DATA_UPLOAD_MAX_MEMORY_SIZE), with this view's own answer.
    try:
        raw = request.body
    except RequestDataTooBig:
        raw = None
    if raw is None or len(raw) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return _text(
            413, f"Notification too large (over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes)."
        )
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _text(400, "The body is not UTF-8 JSON.")
    if not verify(
        body,
        request.headers.get("X-Cld-Timestamp"),
        request.headers.get("X-Cld-Signature"),
        secret,
    ):
        logger.warning("Cloudinary notification for workspace %s refused: bad signature",
                       workspace_id)  # fmt: skip
        return _text(401, "Invalid or missing X-Cld-Signature / X-Cld-Timestamp.")
    try:
        check_json_depth(body)
        payload = json.loads(body)
    except (JSONTooDeep, ValueError):
        return _text(400, "The body is not a JSON object.")
    if not isinstance(payload, dict):
        return _text(400, "The body is not a JSON object.")
    try:
        first = first_delivery(workspace.pk, request.headers["X-Cld-Signature"])
    except redis.RedisError:
        logger.exception("Cloudinary notification for workspace %s: Redis is down", workspace.pk)
        return _text(503, "Redis is down: the notification cannot be checked; retry later.")
    if not first:
        logger.info("Cloudinary notification for workspace %s already taken", workspace.pk)
        return _text(200, "ok: already received; not applied again")
    changes = changes_of(payload)
    rules = services.record_changes(workspace=workspace, changes=changes)
    logger.info(
        "Cloudinary %s notification: %d asset(s), %d rule(s)",
        str(payload.get("notification_type"))[:50], len(changes), rules,
    )  # fmt: skip
    return _text(200, f"ok: {len(changes)} change(s) for {rules} rule(s)")
