"""Issue 25, hole 5: a Cloudinary notification is accepted within a bounded window both ways
and only once; a body over Django's upload limit gets the view's own 413."""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from linking.sync.models import SyncChange, SyncRule
from tests.linking.sync.test_api import plan  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

BODY = json.dumps({"notification_type": "delete", "resources": [{"asset_id": "a" * 32}]})


def _post(client, plan, body: str, timestamp: int, secret: str = "the-secret"):  # noqa: F811
    sig = hashlib.sha1(f"{body}{timestamp}{secret}".encode()).hexdigest()  # noqa: S324
    return client.post(
        f"/cloudinary/notifications/{plan.workspace.pk}",
        body,
        content_type="application/json",
        HTTP_X_CLD_TIMESTAMP=str(timestamp),
        HTTP_X_CLD_SIGNATURE=sig,
    )


@pytest.mark.parametrize(
    "ahead", [3600, 10 * 365 * 86400, 10**30], ids=["hour", "ten-years", "1e30"]
)
def test_a_notification_signed_in_the_future_is_refused(client, plan, ahead):  # noqa: F811
    SyncRule.objects.create(workspace=plan.workspace, plan=plan)
    response = _post(client, plan, BODY, int(time.time()) + ahead)
    assert response.status_code == 401
    assert not SyncChange.objects.exists()


def test_a_replayed_notification_is_taken_once(client, plan):  # noqa: F811
    SyncRule.objects.create(workspace=plan.workspace, plan=plan)
    captured = int(time.time()) - 60
    answers = [_post(client, plan, BODY, captured) for _ in range(4)]
    assert [a.status_code for a in answers] == [200] * 4
    assert "already received" in answers[-1].content.decode()
    assert SyncChange.objects.count() == 1
    # Another notification (another timestamp, so another signature) is taken.
    assert _post(client, plan, BODY, captured + 1).status_code == 200
    assert SyncChange.objects.count() == 2


def test_a_body_over_the_upload_limit_is_the_views_413(client, plan, settings):  # noqa: F811
    body = json.dumps({"notification_type": "upload", "pad": "x" * 3_000_000})
    response = _post(client, plan, body, int(time.time()))
    assert response.status_code == 413
    assert "too large" in response.content.decode()
