"""Sync rules through the API (roles and answers) and the notification endpoint's refusals,
without emulators: nothing here reaches Cloudinary or Shopify."""

from __future__ import annotations

import hashlib
import json
import time

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from linking.models import Plan
from linking.sync.models import SyncChange, SyncRule
from stores import services as store_services
from stores.cloudinary.notifications import changes_of
from tests.factories import MemberFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(workspace):
    workspace.cloudinary_cloud_name = "demo"
    workspace.cloudinary_api_key = "key"
    workspace.cloudinary_api_secret = "the-secret"
    workspace.save()
    store = StoreFactory(workspace=workspace, installed_at=timezone.now())
    plan = Plan.objects.create(
        workspace=workspace, expression='folder="x"', cloudinary_field="metadata:sku",
        shopify_field="variant.sku", link_mode="append", alt_source="keep_shopify",
    )  # fmt: skip
    plan.stores.set([store])
    return plan


def _client(workspace, role: str) -> APIClient:
    client = APIClient()
    client.force_login(MemberFactory(workspace=workspace, role=role).user)
    return client


def test_admins_manage_rules_and_users_see_them(plan):
    ws = plan.workspace
    admin, user = _client(ws, "master_admin"), _client(ws, "user")

    refused = user.post(f"/api/workspaces/{ws.pk}/sync-rules/", {"plan": plan.pk}, format="json")
    created = admin.post(
        f"/api/workspaces/{ws.pk}/sync-rules/",
        {"plan": plan.pk, "name": "Shoes", "reconcile_hour": 4},
        format="json",
    )
    again = admin.post(f"/api/workspaces/{ws.pk}/sync-rules/", {"plan": plan.pk}, format="json")

    assert refused.status_code == 403
    assert created.status_code == 201, created.json()
    rule = created.json()
    assert rule["name"] == "Shoes" and rule["paused"] is False
    assert rule["notification_url"].endswith(f"/cloudinary/notifications/{ws.pk}")
    nightly = SyncRule.objects.get(pk=rule["id"]).next_reconcile_at
    assert nightly.hour == 4 and timezone.now() < nightly <= timezone.now() + timezone.timedelta(1)
    assert again.status_code == 400 and "already has a sync rule" in again.json()["detail"]
    listed = user.get(f"/api/workspaces/{ws.pk}/sync-rules/").json()
    assert [r["id"] for r in listed] == [rule["id"]]
    assert user.get(f"/api/sync-rules/{rule['id']}/history/").json() == []
    for action in ("pause", "resume", "reconcile"):
        assert user.post(f"/api/sync-rules/{rule['id']}/{action}/").status_code == 403
    assert user.delete(f"/api/sync-rules/{rule['id']}/").status_code == 403

    paused = admin.post(f"/api/sync-rules/{rule['id']}/pause/").json()
    assert paused["paused"] is True
    assert admin.post(f"/api/sync-rules/{rule['id']}/reconcile/").status_code == 400
    assert admin.post(f"/api/sync-rules/{rule['id']}/resume/").json()["paused"] is False
    assert admin.delete(f"/api/sync-rules/{rule['id']}/").status_code == 204
    assert not SyncRule.objects.exists()


def test_an_api_key_sees_its_stores_rules_but_cannot_manage_them(plan):
    admin = MemberFactory(workspace=plan.workspace, role="master_admin").user
    rule = SyncRule.objects.create(workspace=plan.workspace, plan=plan, name="r")
    _key, token = store_services.api_key_create(user=admin, store=plan.stores.get(), label="ci")
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert client.get(f"/api/sync-rules/{rule.pk}/").status_code == 200
    assert client.post(f"/api/sync-rules/{rule.pk}/pause/").status_code == 403
    create = client.post(
        f"/api/workspaces/{plan.workspace.pk}/sync-rules/", {"plan": plan.pk}, format="json"
    )
    assert create.status_code in (400, 403)
    rule.refresh_from_db()
    assert rule.paused is False


def test_rule_input_is_checked(plan):
    admin = _client(plan.workspace, "master_admin")
    url = f"/api/workspaces/{plan.workspace.pk}/sync-rules/"
    assert admin.post(url, [plan.pk], format="json").status_code == 400
    assert (
        admin.post(url, {"plan": plan.pk, "reconcile_hour": 24}, format="json").status_code == 400
    )
    assert admin.post(url, {"plan": plan.pk, "extra": 1}, format="json").status_code == 400
    assert admin.post(url, {"plan": 999999}, format="json").status_code == 404


def _signed(body: str, secret: str) -> dict:
    ts = str(int(time.time()))
    sig = hashlib.sha1(f"{body}{ts}{secret}".encode()).hexdigest()  # noqa: S324
    return {"HTTP_X_CLD_TIMESTAMP": ts, "HTTP_X_CLD_SIGNATURE": sig}


def test_the_notification_endpoint_refuses_what_it_cannot_trust(plan, client):
    SyncRule.objects.create(workspace=plan.workspace, plan=plan, name="r")
    url = f"/cloudinary/notifications/{plan.workspace.pk}"
    body = json.dumps({"notification_type": "delete", "resources": [{"asset_id": "a" * 32}]})
    post = lambda u, b, **h: client.post(u, b, content_type="application/json", **h)  # noqa: E731

    assert (
        post("/cloudinary/notifications/999999", body, **_signed(body, "the-secret")).status_code
        == 401
    )
    assert post(url, body, **_signed(body, "")).status_code == 401
    assert post(url, body, HTTP_X_CLD_TIMESTAMP="soon", HTTP_X_CLD_SIGNATURE="x").status_code == 401
    assert client.get(url).status_code == 405
    assert not SyncChange.objects.exists()
    for bad in ("[1, 2]", "not json", "[" * 100 + "]" * 100):
        assert post(url, bad, **_signed(bad, "the-secret")).status_code == 400, bad
    assert post(url, body, **_signed(body, "the-secret")).status_code == 200
    assert SyncChange.objects.get().deleted is True


def test_a_workspace_without_cloudinary_refuses_every_notification(workspace, client):
    body = "{}"
    response = client.post(
        f"/cloudinary/notifications/{workspace.pk}", body, content_type="application/json",
        **_signed(body, ""),
    )  # fmt: skip
    assert response.status_code == 401


@pytest.mark.parametrize(
    "payload, expected",
    [
        ({"notification_type": "upload", "asset_id": "a1", "public_id": "p/1"},
         [("a1", "p/1", False)]),
        ({"notification_type": "delete", "resources": [{"asset_id": "a1", "public_id": "p/1"},
                                                       {"asset_id": "a2"}]},
         [("a1", "p/1", True), ("a2", "", True)]),
        ({"notification_type": "resource_metadata_changed",
          "resources": {"p/1": {"asset_id": "a1", "updated": []}, "p/2": {}}},
         [("a1", "p/1", False), ("", "p/2", False)]),
        ({"notification_type": "resource_tags_changed",
          "resources": [{"asset_id": "a1", "public_id": "p/1", "added": ["x"]}]},
         [("a1", "p/1", False)]),
        ({"notification_type": "eager", "asset_id": "a1"}, []),
        ({"notification_type": "delete", "resources": "nonsense"}, []),
        (["not", "an", "object"], []),
    ],
)  # fmt: skip
def test_which_assets_a_notification_names(payload, expected):
    assert [(c.asset_id, c.public_id, c.deleted) for c in changes_of(payload)] == expected


def test_the_django_admin_pauses_for_admins_only(plan, client):
    from django.test import Client

    rule = SyncRule.objects.create(workspace=plan.workspace, plan=plan, name="r")
    url = "/admin/linking/syncrule/"
    action = {"action": "pause", "_selected_action": [rule.pk]}
    user = Client()
    user.force_login(MemberFactory(workspace=plan.workspace, role="user").user)
    assert user.get(f"{url}{rule.pk}/change/").status_code == 200  # members see it
    user.post(url, action)
    rule.refresh_from_db()
    assert rule.paused is False
    admin = Client()
    admin.force_login(MemberFactory(workspace=plan.workspace, role="technical_admin").user)
    admin.post(url, action)
    rule.refresh_from_db()
    assert rule.paused is True


@pytest.mark.django_db(transaction=True)  # django-rq queues a job when the transaction commits
def test_changes_left_waiting_by_a_dead_debounce_job_are_queued_again_once(plan, settings):
    import django_rq

    from linking.sync.services import reconcile_due
    from tests.linking.runs.conftest import _other_redis_db

    url = _other_redis_db(settings.REDIS_URL, 13)
    settings.RQ_QUEUES = {**settings.RQ_QUEUES, "sync-test": {"URL": url, "DEFAULT_TIMEOUT": 60}}
    settings.SYNC_QUEUE = "sync-test"
    queue = django_rq.get_queue("sync-test")
    queue.empty()
    assert queue.count == 0
    long_ago = timezone.now() - timezone.timedelta(minutes=10)
    rule = SyncRule.objects.create(
        workspace=plan.workspace, plan=plan, name="r", flush_queued=True, flush_queued_at=long_ago,
        next_reconcile_at=timezone.now() + timezone.timedelta(hours=5),
    )  # fmt: skip
    change = SyncChange.objects.create(rule=rule, asset_id="a" * 32, notification_type="upload")
    SyncChange.objects.filter(pk=change.pk).update(received_at=long_ago)

    reconcile_due()
    reconcile_due()  # the next sweep: already queued again

    assert [j.func_name for j in queue.get_jobs()] == ["linking.tasks.flush_sync_rule"]
    queue.empty()


@pytest.mark.django_db(transaction=True)  # django-rq queues a job when the transaction commits
def test_a_debounce_job_lets_the_jobs_behind_it_run_while_it_waits(plan, settings):
    """Shipped debounce (2 s of quiet): a job queued behind the debounce job, on a worker of
    that queue, runs within about HOLD_SECONDS, not after the debounce is over."""
    import django_rq
    from rq import SimpleWorker

    from linking.sync.models import SyncRun
    from linking.sync.services import HOLD_SECONDS, record_changes
    from stores.cloudinary.notifications import Change
    from tests.linking.runs.conftest import _other_redis_db

    url = _other_redis_db(settings.REDIS_URL, 13)
    settings.RQ_QUEUES = {**settings.RQ_QUEUES, "sync-test": {"URL": url, "DEFAULT_TIMEOUT": 60}}
    settings.SYNC_QUEUE = "sync-test"
    queue = django_rq.get_queue("sync-test")
    queue.empty()
    SyncRule.objects.create(
        workspace=plan.workspace, plan=plan, name="r",
        next_reconcile_at=timezone.now() + timezone.timedelta(hours=5),
    )  # fmt: skip
    record_changes(workspace=plan.workspace, changes=[Change("a" * 32, "x/shoe", False, "upload")])
    behind = queue.enqueue("linking.tasks.reconcile_sync_rule", 0)  # no such rule: at once
    debounce = queue.get_jobs()[0]
    assert debounce.func_name == "linking.tasks.flush_sync_rule"

    SimpleWorker([queue], connection=queue.connection).work(burst=True, with_scheduler=False)

    behind.refresh()
    debounce.refresh()
    assert behind.is_finished
    received = SyncChange.objects.get().received_at
    applied = SyncRun.objects.get(trigger="notification").created_at
    assert (applied - received).total_seconds() >= settings.SYNC_DEBOUNCE_SECONDS
    # the job behind ran after one pass of the debounce, not after the whole debounce
    assert (behind.ended_at - debounce.started_at).total_seconds() < HOLD_SECONDS + 1.0
    queue.empty()


def test_the_command_line_manages_rules(plan):
    import io

    from django.core.management import CommandError, call_command

    def run(*args) -> str:
        out = io.StringIO()
        call_command("sync_rules", *args, stdout=out)
        return out.getvalue()

    created = run("create", "--plan", str(plan.pk), "--name", "From CI", "--reconcile-hour", "1")
    rule = SyncRule.objects.get(plan=plan)
    assert created.startswith(f"{rule.pk}\tFrom CI\tplan {plan.pk}\tactive")
    assert "/cloudinary/notifications/" in created
    assert "\tpaused\t" in run("pause", str(rule.pk))
    assert run("list", "--workspace", str(plan.workspace.pk)).count("\n") == 1
    assert "\tactive\t" in run("resume", str(rule.pk))
    assert run("history", str(rule.pk)) == ""
    with pytest.raises(CommandError, match="already has a sync rule"):
        run("create", "--plan", str(plan.pk))
    with pytest.raises(CommandError, match="No sync rule 999"):
        run("pause", "999")
