"""The Cloudinary notification endpoint: ``POST /cloudinary/notifications/<workspace id>``.

Set it as the product environment's notification URL (Console → Settings → Webhook
Notifications, or an Admin API trigger). Answers: 200 when verified (whether or not a rule
takes the change: Cloudinary retries anything else); 401 for a missing, stale or forged
signature, or a workspace that does not exist or has no Cloudinary connection (the same
answer, so the URL reveals nothing); 400 for a body that is not a JSON object.
"""

from __future__ import annotations

import json
import logging

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from assetlink_project.parsers import JSONTooDeep, check_json_depth
from linking.sync import services
from stores.cloudinary.client import Credentials
from stores.cloudinary.notifications import changes_of, verify
from stores.models import Workspace

logger = logging.getLogger(__name__)

MAX_BODY = 5 * 1024 * 1024


def _text(status: int, message: str) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain")


@csrf_exempt
@require_POST
def cloudinary_notification(request, workspace_id: int):
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    secret = Credentials.of_workspace(workspace).api_secret if workspace else ""
    if len(request.body) > MAX_BODY:
        return _text(413, "Notification too large.")
    try:
        body = request.body.decode("utf-8")
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
    changes = changes_of(payload)
    rules = services.record_changes(workspace=workspace, changes=changes)
    logger.info(
        "Cloudinary %s notification: %d asset(s), %d rule(s)",
        str(payload.get("notification_type"))[:50], len(changes), rules,
    )  # fmt: skip
    return _text(200, f"ok: {len(changes)} change(s) for {rules} rule(s)")
