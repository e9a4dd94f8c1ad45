"""The list endpoints read rows (values()), not a model instance and serializer per object: what
they answer is what the model-based serializers answer for the same objects, and a list of a
workspace the caller reaches but holding nothing is empty, not a 404."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from linking.api import PlanSerializer
from reports.api import run_json
from reports.models import Run
from stores import services as store_services
from stores.api import ApiKeySerializer, MemberSerializer
from stores.models import ApiKey, Member
from tests.factories import MemberFactory, PlanFactory, StoreFactory, UploadBatchFactory

pytestmark = pytest.mark.django_db


def _json(data):
    """As the API renders it (datetimes as DRF writes them)."""
    return json.loads(JSONRenderer().render(data))


@pytest.fixture
def client(admin_member):
    client = APIClient()
    client.force_login(admin_member.user)
    return client


def test_lists_answer_what_the_model_serializers_answer(client, workspace, admin_member):
    stores = [StoreFactory(workspace=workspace) for _ in range(2)]
    other = StoreFactory()  # another workspace's store: never shown
    plan = PlanFactory(workspace=workspace, position=3, manual_orders={"g": ["a", "b"]},
                       alt_overrides={"a": "Alt"}, dry_run_at=timezone.now())  # fmt: skip
    plan.stores.set([*stores, other])
    MemberFactory(workspace=workspace, role="user")
    store_services.api_key_create(user=admin_member.user, store=stores[0], label="PIM")
    revoked, _ = store_services.api_key_create(user=admin_member.user, store=stores[0], label="x")
    ApiKey.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    now = timezone.now()
    for n, status in enumerate(("succeeded", "completed_with_failures", "running", "queued")):
        Run.objects.create(store=stores[n % 2], plan=plan, status=status, failures=n,
                           started_at=now, finished_at=now if n < 2 else None,
                           created_by=admin_member.user if n % 2 else None,
                           summary={"created": n})  # fmt: skip

    class Request:  # what PlanSerializer's context needs: the caller
        user = admin_member.user
        auth = None

    listed = client.get(f"/api/workspaces/{workspace.pk}/plans/").json()
    assert listed == _json([PlanSerializer(plan, context={"request": Request}).data])
    assert listed[0]["stores"] == sorted(s.shop_domain for s in stores)
    assert client.get(f"/api/plans/{plan.pk}/").json() == listed[0]

    members = Member.objects.filter(workspace=workspace).select_related("user")
    assert client.get(f"/api/workspaces/{workspace.pk}/members/").json() == _json(
        MemberSerializer(members, many=True).data
    )
    keys = ApiKey.objects.filter(store=stores[0]).select_related("store")
    answered = client.get(f"/api/stores/{stores[0].pk}/api-keys/").json()
    assert answered == _json(ApiKeySerializer(keys, many=True).data)
    assert sorted(k["is_active"] for k in answered) == [False, True]

    runs = Run.objects.filter(store__workspace=workspace).select_related("store", "created_by")
    assert client.get("/api/runs/").json() == _json([run_json(r) for r in runs])


def test_an_empty_list_of_a_reachable_workspace_is_empty_and_another_is_404(client, workspace):
    elsewhere = StoreFactory().workspace
    PlanFactory(workspace=elsewhere)
    UploadBatchFactory(workspace=elsewhere)
    for kind in ("plans", "uploads"):
        assert client.get(f"/api/workspaces/{workspace.pk}/{kind}/").json() == []
        assert client.get(f"/api/workspaces/{elsewhere.pk}/{kind}/").status_code == 404
        assert client.get(f"/api/workspaces/999999/{kind}/").status_code == 404


def test_the_upload_batch_list_is_the_detail_without_the_dry_runs_rows(client, workspace):
    # The list counts the selection and leaves the rows out in the database (not read to be
    # counted or dropped): the same JSON as the detail otherwise, of every shape a batch has.
    stores = [StoreFactory(workspace=workspace) for _ in range(2)]
    other = StoreFactory()  # another workspace's store: never shown
    rows = [{"asset_id": f"a{n}", "action": "created", "alt": 'é "q"', "n": 1.5} for n in range(3)]
    dry_run = {
        store.shop_domain: {"counts": {"created": 3, "skipped": 0}, "rows": rows, "z": [1, None]}
        for store in [*stores, other]
    }
    full = UploadBatchFactory(workspace=workspace, assets=[{"id": f"a{n}"} for n in range(3)],
                              dry_run=dry_run, dry_run_at=timezone.now(), status="planned")  # fmt: skip
    full.stores.set([*stores, other])
    empty = UploadBatchFactory(workspace=workspace)  # a draft: no selection, no dry run
    empty.stores.set(stores[:1])
    listed = client.get(f"/api/workspaces/{workspace.pk}/uploads/").json()
    assert [batch["id"] for batch in listed] == [empty.pk, full.pk]
    for batch in listed:
        detail = client.get(f"/api/uploads/{batch['id']}/").json()
        without_rows = {domain: {k: v for k, v in counts.items() if k != "rows"}
                        for domain, counts in detail["dry_run"].items()}  # fmt: skip
        assert batch == {**detail, "dry_run": without_rows}
    assert listed[1]["assets"] == 3 and listed[0]["assets"] == 0
    assert listed[1]["dry_run"] == {
        store.shop_domain: {"counts": {"created": 3, "skipped": 0}, "z": [1, None]}
        for store in sorted(stores, key=lambda s: s.shop_domain)
    }
    assert listed[0]["dry_run"] == {}
