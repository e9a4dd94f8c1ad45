"""The tenancy matrix over every API endpoint: every caller of tenant A (each role's login, a
session token, API keys) aimed at tenant B's objects gets 404 and changes nothing; the callers
of store a1 get the same for store a2 of their own workspace; a revoked key and the key of an
uninstalled store get 401 everywhere. A new endpoint fails `test_the_matrix_covers_every_api_
endpoint` until it is added here."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from linking.models import LinkRecord, LinkStoreChoice, Plan
from linking.sync.models import SyncRule
from reports.models import Run
from stores.models import ApiKey, Invitation, Member, Role, WorkspaceSettings
from uploads.models import UploadBatch

pytestmark = pytest.mark.django_db

PLAN_BODY = {"expression": 'folder="x"', "cloudinary_field": "metadata:sku"}


def _workspace_requests(tenant, member_id):
    """Endpoints of one workspace (aimed at tenant B's)."""
    ws = tenant.workspace.pk
    domain = next(iter(tenant.stores.values())).store.shop_domain
    plan = next(iter(tenant.stores.values())).plan.pk
    return {
        "workspace-setup": [("get", f"/api/workspaces/{ws}/setup/", None),
                            ("patch", f"/api/workspaces/{ws}/setup/", {"case_sensitive": True})],
        "workspace-members": [("get", f"/api/workspaces/{ws}/members/", None),
                              ("post", f"/api/workspaces/{ws}/members/", {"user": "a-user"})],
        "workspace-invitations": [("get", f"/api/workspaces/{ws}/invitations/", None)],
        "workspace-invitation": [
            ("delete", f"/api/workspaces/{ws}/invitations/{tenant.invitation.pk}/", None)],
        "workspace-member": [("patch", f"/api/workspaces/{ws}/members/{member_id}/",
                              {"role": "master_admin"})],
        "plan-list": [("get", f"/api/workspaces/{ws}/plans/", None),
                      ("post", f"/api/workspaces/{ws}/plans/", {**PLAN_BODY, "stores": [domain]})],
        "upload-batch-list": [("get", f"/api/workspaces/{ws}/uploads/", None),
                              ("post", f"/api/workspaces/{ws}/uploads/",
                               {"expression": 'folder="x"', "stores": [domain]})],
        "picker-assets": [("get", f"/api/workspaces/{ws}/assets/?expression=x", None)],
        "picker-caption": [("post", f"/api/workspaces/{ws}/assets/abc/caption/", None)],
        "selection-groups": [("post", f"/api/workspaces/{ws}/selection/groups/",
                              {"expression": "x", "cloudinary_field": "metadata:sku"})],
        "metadata-fields": [("get", f"/api/workspaces/{ws}/metadata-fields/", None)],
        "match-counts": [("post", f"/api/workspaces/{ws}/match/",
                          {"stores": [domain], "shopify_field": "variant.sku",
                           "groups": {"SKU-1": ["a"]}})],
        "link-store-choice": [("get", f"/api/workspaces/{ws}/link-stores/", None),
                              ("put", f"/api/workspaces/{ws}/link-stores/", {"stores": [domain]})],
        "test-connection": [("post", f"/api/workspaces/{ws}/test-connection/", None)],
        "workspace-cloudinary": [
            ("get", f"/api/workspaces/{ws}/cloudinary/", None),
            ("put", f"/api/workspaces/{ws}/cloudinary/",
             {"cloud_name": "intruder", "api_key": "k", "api_secret": "s"})],
        "workspace-cloudinary-test": [
            ("post", f"/api/workspaces/{ws}/cloudinary/test/",
             {"cloud_name": "intruder", "api_key": "k", "api_secret": "s"})],
        "workspace-store-connect": [
            ("post", f"/api/workspaces/{ws}/stores/connect/", {"shop": "intruder.myshopify.com"})],
        "links": [("get", f"/api/workspaces/{ws}/links/?check_versions=1", None)],
        "links-unlink": [("post", f"/api/workspaces/{ws}/links/unlink/", {"all": True})],
        "links-relink": [("post", f"/api/workspaces/{ws}/links/relink/", {"all": True})],
        "sync-rule-list": [("get", f"/api/workspaces/{ws}/sync-rules/", None),
                           ("post", f"/api/workspaces/{ws}/sync-rules/", {"plan": plan})],
    }  # fmt: skip


def _store_requests(objects, own_workspace):
    """Endpoints of one store's objects; creations aim the caller's own workspace at it."""
    o = objects
    ws, domain = own_workspace.pk, o.store.shop_domain
    rule = _rule(o.plan).pk
    return {
        "store-api-keys": [("get", f"/api/stores/{o.store.pk}/api-keys/", None),
                           ("post", f"/api/stores/{o.store.pk}/api-keys/", {"label": "intruder"})],
        "store-api-key": [("delete", f"/api/stores/{o.store.pk}/api-keys/{o.key.pk}/", None)],
        "plan-list": [("post", f"/api/workspaces/{ws}/plans/", {**PLAN_BODY, "stores": [domain]})],
        "link-store-choice": [("put", f"/api/workspaces/{ws}/link-stores/", {"stores": [domain]})],
        "plan-detail": [("get", f"/api/plans/{o.plan.pk}/", None),
                        ("patch", f"/api/plans/{o.plan.pk}/", {"expression": 'folder="y"'})],
        "plan-dry-run": [("post", f"/api/plans/{o.plan.pk}/dry-run/", None),
                         ("get", f"/api/plans/{o.plan.pk}/dry-run/", None)],
        "plan-dry-run-cancel": [("post", f"/api/plans/{o.plan.pk}/dry-run/cancel/", None)],
        "plan-statistics": [("get", f"/api/plans/{o.plan.pk}/statistics/", None)],
        "plan-result": [("get", f"/api/plans/{o.plan.pk}/result/", None)],
        "plan-report": [("get", f"/api/plans/{o.plan.pk}/report.csv", None)],
        "plan-run": [("post", f"/api/plans/{o.plan.pk}/run/", {})],
        "run-detail": [("get", f"/api/runs/{o.run.pk}/", None)],
        "run-abort": [("post", f"/api/runs/{o.run.pk}/abort/", None)],
        "run-resume": [("post", f"/api/runs/{o.run.pk}/resume/", None)],
        "run-undo": [("post", f"/api/runs/{o.run.pk}/undo/", None)],
        "run-report": [("get", f"/api/runs/{o.run.pk}/report.csv", None)],
        "run-rows": [("get", f"/api/runs/{o.run.pk}/rows/?action=failed", None)],
        "run-retry": [("post", f"/api/runs/{o.run.pk}/retry/", None)],
        "upload-batch-list": [("post", f"/api/workspaces/{ws}/uploads/",
                               {"expression": 'folder="x"', "stores": [domain]})],
        "upload-batch": [("get", f"/api/uploads/{o.batch.pk}/", None)],
        "upload-batch-dry-run": [("post", f"/api/uploads/{o.batch.pk}/dry-run/", None),
                                 ("get", f"/api/uploads/{o.batch.pk}/dry-run/", None)],
        "upload-batch-dry-run-cancel": [
            ("post", f"/api/uploads/{o.batch.pk}/dry-run/cancel/", None)],
        "upload-batch-start": [("post", f"/api/uploads/{o.batch.pk}/start/", {})],
        "upload-run": [("get", f"/api/upload-runs/{o.upload_run.pk}/", None)],
        "upload-run-abort": [("post", f"/api/upload-runs/{o.upload_run.pk}/abort/", None)],
        "upload-run-resume": [("post", f"/api/upload-runs/{o.upload_run.pk}/resume/", None)],
        "upload-run-report": [("get", f"/api/upload-runs/{o.upload_run.pk}/report.csv", None)],
        "upload-run-rows": [("get", f"/api/upload-runs/{o.upload_run.pk}/rows/", None)],
        # Manage links: the caller's own workspace, aimed at the other store's links.
        "links": [("get", f"/api/workspaces/{ws}/links/?store={domain}", None)],
        "links-unlink": [("post", f"/api/workspaces/{ws}/links/unlink/",
                          {"stores": [domain], "all": True})],
        "links-relink": [("post", f"/api/workspaces/{ws}/links/relink/",
                          {"stores": [o.store.pk], "all": True})],
        "sync-rule-list": [("post", f"/api/workspaces/{ws}/sync-rules/", {"plan": o.plan.pk})],
        "sync-rule-detail": [("get", f"/api/sync-rules/{rule}/", None),
                             ("delete", f"/api/sync-rules/{rule}/", None)],
        "sync-rule-pause": [("post", f"/api/sync-rules/{rule}/pause/", None)],
        "sync-rule-resume": [("post", f"/api/sync-rules/{rule}/resume/", None)],
        "sync-rule-reconcile": [("post", f"/api/sync-rules/{rule}/reconcile/", None)],
        "sync-rule-history": [("get", f"/api/sync-rules/{rule}/history/", None)],
    }  # fmt: skip


def _rule(plan) -> SyncRule:
    return SyncRule.objects.get(plan=plan)  # made with the store's objects (conftest)


LISTINGS = {
    "session": "/api/session/",
    "workspace-list": "/api/workspaces/",
    "run-list": "/api/runs/",
}
NOT_ENDPOINTS = {"api-schema", "api-docs"}  # public documents, no tenant data


def _api_names(resolver=None, prefix="") -> set[str]:
    names = set()
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            names |= _api_names(pattern, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/"):
            names.add(pattern.name)
    return names


def _all_requests(world, target):
    """Every endpoint aimed at `target` (tenant B): its workspace and each of its stores."""
    member = target.members[Role.USER].pk
    out = _workspace_requests(target, member)
    for objects in target.stores.values():
        for name, requests in _store_requests(objects, world.a.workspace).items():
            out.setdefault(name, []).extend(requests)
    return out


def test_the_matrix_covers_every_api_endpoint(world):
    covered = set(_all_requests(world, world.b)) | set(LISTINGS) | NOT_ENDPOINTS
    assert _api_names() - covered == set()


def _snapshot(tenant_or_objects):
    return {
        "runs": list(Run.objects.order_by("pk").values_list("pk", "abort_requested_at", "status")),
        "plans": list(Plan.objects.order_by("pk").values_list("pk", "expression", "status")),
        "plan_stores": sorted(Plan.stores.through.objects.values_list("plan_id", "store_id")),
        "batches": UploadBatch.objects.count(),
        "keys": list(ApiKey.objects.order_by("pk").values_list("pk", "revoked_at", "store_id")),
        "roles": list(Member.objects.order_by("pk").values_list("pk", "role", "workspace_id")),
        "invitations": list(Invitation.objects.order_by("pk").values_list("pk", "revoked_at")),
        "setup": list(WorkspaceSettings.objects.values_list("pk", "case_sensitive")),
        "links": list(LinkRecord.objects.order_by("pk").values_list("pk", "media_id", "version")),
        "rules": list(SyncRule.objects.order_by("pk").values_list("pk", "paused", "plan_id")),
        "link_stores": sorted(
            LinkStoreChoice.stores.through.objects.values_list("linkstorechoice_id", "store_id")
        ),
    }


def _body(response) -> bytes:
    """The answer's bytes, streamed (the report CSVs) or not."""
    return b"".join(response.streaming_content) if response.streaming else response.content


def _check_refused(client, requests, secrets, expected=404):
    for name, calls in requests.items():
        for method, url, body in calls:
            response = getattr(client, method)(url, body, format="json")
            content = _body(response)
            assert response.status_code == expected, (name, method, url, content[:300])
            for secret in secrets:
                if secret not in str(body):  # an error may echo what the caller sent
                    assert secret.encode() not in content, (name, url, secret)


def _listings_hide(client, secrets):
    for url in LISTINGS.values():
        response = client.get(url)
        content = _body(response)
        assert response.status_code == 200, (url, content)
        for secret in secrets:
            assert secret.encode() not in content, (url, secret)


PRINCIPALS = [f"login-{r.value}" for r in
              (Role.MASTER_ADMIN, Role.TECHNICAL_ADMIN, Role.MEDIA_LIBRARY_ADMIN, Role.USER)] + [
    "session-token", "api-key", "api-key-header"]  # fmt: skip


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_another_workspace_is_404_and_unchanged(world, principal):
    client = world.principals()[principal]
    before = _snapshot(world.b)
    secrets = ["Workspace B", "shop-b1"]
    _check_refused(client, _all_requests(world, world.b), secrets)
    _listings_hide(client, secrets)
    assert _snapshot(world.b) == before


@pytest.mark.parametrize("principal", ["session-token", "api-key", "api-key-header"])
def test_a_session_token_or_api_key_does_not_reach_another_store_of_its_workspace(world, principal):
    client = world.narrowed()[principal]
    before = _snapshot(world.a)
    a2 = world.a.stores["a2"]
    _check_refused(client, _store_requests(a2, world.a.workspace), ["shop-a2"])
    _listings_hide(client, ["shop-a2", "shop-a3"])
    assert _snapshot(world.a) == before


@pytest.mark.parametrize("principal", ["session-token", "api-key"])
def test_a_shared_plan_shows_only_the_callers_store(world, principal):
    client = world.narrowed()[principal]
    plan = world.shared_plan.pk
    for url in (f"/api/plans/{plan}/", f"/api/plans/{plan}/statistics/",
                f"/api/plans/{plan}/result/", f"/api/plans/{plan}/report.csv"):  # fmt: skip
        response = client.get(url)
        content = _body(response)
        assert response.status_code == 200, (url, content)
        assert b"shop-a1" in content and b"shop-a2" not in content, url
    # Changing or dry running it would act on a2 too.
    assert (
        client.patch(f"/api/plans/{plan}/", {"expression": "x"}, format="json").status_code == 403
    )
    assert client.post(f"/api/plans/{plan}/dry-run/").status_code == 403
    assert client.post(f"/api/plans/{plan}/dry-run/cancel/").status_code == 403
    # Running it starts nothing on a2.
    client.post(f"/api/plans/{plan}/run/", {"stores": ["shop-a2.myshopify.com"]}, format="json")
    assert not Run.objects.filter(plan_id=plan).exists()


def test_a_workspace_login_sees_every_store_of_a_shared_plan(world):
    client = world.principals()["login-user"]
    result = client.get(f"/api/plans/{world.shared_plan.pk}/result/").json()
    assert [r["store"] for r in result] == ["shop-a1.myshopify.com", "shop-a2.myshopify.com"]


@pytest.mark.parametrize("which", ["revoked", "uninstalled"])
def test_a_revoked_key_or_a_key_of_an_uninstalled_store_is_401_everywhere(world, which):
    from rest_framework.test import APIClient

    token = world.revoked_token if which == "revoked" else world.uninstalled_token
    a3 = world.a.stores["a3"]
    before = _snapshot(world.a)
    for client in (APIClient(HTTP_AUTHORIZATION=f"Bearer {token}"),
                   APIClient(HTTP_X_ASSETLINK_KEY=token)):  # fmt: skip
        requests = _all_requests(world, world.a)
        requests.update(_store_requests(a3, world.a.workspace))
        _check_refused(client, requests, [], expected=401)
        for url in LISTINGS.values():
            assert client.get(url).status_code == 401, url
    assert _snapshot(world.a) == before
