"""Link runs started with an API key (issue 24, defect 4): a key is no Django user, so a run it
starts records the key (``Run.api_key``), not a ``created_by`` user, and every endpoint that
starts a run answers 202 for it — a plan's run, undo, retry, unlink and re-link."""

from __future__ import annotations

import pytest
import requests
from rest_framework.test import APIClient

from linking.models import LinkRecord
from reports.models import Run
from stores import services as store_services
from tests.factories import MemberFactory
from tests.linking.runs.conftest import dry_run, work
from tests.linking.runs.test_runs import runs_start

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def store(sandbox):
    return sandbox.shop(products=len(sandbox.skus()) - 2, media_per_product=2)


@pytest.fixture
def key(sandbox, store):
    admin = MemberFactory(workspace=sandbox.workspace, role="master_admin")
    api_key, token = store_services.api_key_create(user=admin.user, store=store, label="CI")
    return api_key, APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")


def _worked(response, queue) -> Run:
    """The run a 202 answer started (a plan's run answers a list, Manage links its runs), once
    the worker has done it."""
    assert response.status_code == 202, response.content
    body = response.json()
    [started] = body["runs"] if isinstance(body, dict) and "runs" in body else [body]
    started = started[0] if isinstance(started, list) else started
    work(queue)
    run = Run.objects.get(pk=started["id"])
    assert run.status == Run.Status.SUCCEEDED, (run.error, list(run.rows.values()))
    return run


def test_a_key_runs_a_plan_undoes_it_and_the_runs_list_names_the_key(sandbox, store, queue, key):
    api_key, client = key
    plan = dry_run(sandbox, store, link_mode="append")

    run = _worked(client.post(f"/api/plans/{plan.pk}/run/", {}, format="json"), queue)
    assert (run.created_by, run.api_key) == (None, api_key)
    who = f"API key CI ({api_key.prefix}…)"
    assert client.get(f"/api/runs/{run.pk}/").json()["created_by"] == who
    assert [r["created_by"] for r in client.get("/api/runs/").json()] == [who]

    undo = _worked(client.post(f"/api/runs/{run.pk}/undo/"), queue)
    assert (undo.kind, undo.api_key, undo.created_by) == (Run.Kind.UNDO, api_key, None)


def test_a_key_retries_a_runs_failures(sandbox, store, queue, key):
    api_key, client = key
    first = runs_start(dry_run(sandbox, store, link_mode="append"), store, break_asset=True)
    work(queue)
    first.refresh_from_db()
    assert first.status == Run.Status.COMPLETED_WITH_FAILURES

    retried = client.post(f"/api/runs/{first.pk}/retry/")
    assert retried.status_code == 202, retried.content
    retry = Run.objects.get(pk=retried.json()["id"])
    assert (retry.plan, retry.api_key, retry.created_by) == (first.plan, api_key, None)


def test_a_key_unlinks_and_relinks_through_manage_links(sandbox, store, queue, key):
    api_key, client = key
    plan = dry_run(sandbox, store, link_mode="append")
    _worked(client.post(f"/api/plans/{plan.pk}/run/", {}, format="json"), queue)
    links = f"/api/workspaces/{sandbox.workspace.pk}/links/"
    record = LinkRecord.objects.filter(store=store).exclude(product_id="").order_by("pk").first()

    requests.post(
        f"{sandbox.cloudinary_url}/_control/clouds/{sandbox.cloud}/assets/{record.asset_id}",
        json={},
        timeout=10,
    ).raise_for_status()
    body = {"stores": [store.shop_domain], "all": True}
    relink = _worked(client.post(links + "relink/", body, format="json"), queue)
    assert (relink.link_mode, relink.api_key, relink.created_by) == ("relink", api_key, None)

    unlink = client.post(links + "unlink/", {"asset_ids": [record.asset_id]}, format="json")
    run = _worked(unlink, queue)
    assert (run.link_mode, run.api_key, run.created_by) == ("unlink", api_key, None)
