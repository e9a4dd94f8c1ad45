"""Objects spanning several stores, and what is said to a caller narrowed to one store.

(a) Shared objects: for every kind of object that spans several stores (a plan, an upload
batch, a sync rule, a link set, a run of a shared plan), a caller narrowed to store a1 (a
session token, an API key) is refused every route that creates or acts on one spanning a2 too,
and nothing changes on a2. A new multi-store kind (a model with stores, or one hanging on such
a model) fails `test_every_multi_store_kind_has_its_row` until it is in SHARED_KINDS.

(b) What is said: every answer to a narrowed caller (lists, details, progress, messages,
histories, counts, CSVs) names no store outside its reach: no domain, no store name, no id of
a2's or a3's products or files, no store id of theirs."""

from __future__ import annotations

import json
import re

import pytest
from django.apps import apps

from linking.models import DryRun, LinkRecord, LinkStoreChoice, Plan, PlanStore
from linking.sync.models import SyncRule, SyncRun
from reports.models import Run
from stores.models import Role, Store
from tests.security.test_tenancy_api import (
    LISTINGS,
    _snapshot,
    _store_requests,
    _workspace_requests,
)
from uploads.models import UploadBatch, UploadDryRun

pytestmark = pytest.mark.django_db

NARROWED = ["session-token", "api-key", "api-key-header"]
A2 = "shop-a2.myshopify.com"


@pytest.fixture
def shared(world):
    """Workspace A's objects spanning a1 and a2, each of whose messages names a2."""
    a = world.a
    a1, a2 = a.stores["a1"].store, a.stores["a2"].store
    for key, store in a.stores.items():
        Store.objects.filter(pk=store.store.pk).update(name=f"Store {key.upper()} of A")
    plan = world.shared_plan
    said = {a1.shop_domain: "1 products planned", A2: f"{A2} answered 500"}
    DryRun.objects.create(
        plan=plan, status=DryRun.Status.FAILED, phase=f"Failed on {A2}", stores=said,
        stores_total=2, stores_done=2, error=f"{A2} answered 500",
    )  # fmt: skip
    batch = UploadBatch.objects.create(workspace=a.workspace, expression='folder="shared"')
    batch.stores.set([a1, a2])
    UploadDryRun.objects.create(
        batch=batch, status=UploadDryRun.Status.FAILED, phase=f"Failed on {A2}", stores=said,
        stores_total=2, stores_done=2, error=f"{A2} answered 500",
    )  # fmt: skip
    rule = SyncRule.objects.create(workspace=a.workspace, plan=plan, name="shared", paused=True)
    SyncRun.objects.create(rule=rule, status=SyncRun.Status.FAILED, message=f"Failed on {A2}.")
    runs = {
        store.shop_domain: Run.objects.create(
            store=store, plan=plan, status=Run.Status.FAILED, link_mode="append"
        )
        for store in (a1, a2)
    }
    return {"plan": plan, "batch": batch, "rule": rule, "runs": runs}


def _shared_requests(world, shared) -> dict[str, list]:
    """Every route that creates or acts on a multi-store object of A spanning a2."""
    ws, plan, batch = world.a.workspace.pk, shared["plan"].pk, shared["batch"].pk
    rule, both = shared["rule"].pk, ["shop-a1.myshopify.com", A2]
    a2_run = shared["runs"][A2].pk
    return {
        "plan-list": [("post", f"/api/workspaces/{ws}/plans/",
                       {"expression": 'folder="x"', "cloudinary_field": "metadata:sku",
                        "stores": both})],
        "plan-detail": [("patch", f"/api/plans/{plan}/", {"expression": 'folder="y"'})],
        "plan-dry-run": [("post", f"/api/plans/{plan}/dry-run/", None)],
        "plan-dry-run-cancel": [("post", f"/api/plans/{plan}/dry-run/cancel/", None)],
        "upload-batch-list": [("post", f"/api/workspaces/{ws}/uploads/",
                               {"expression": 'folder="x"', "stores": both})],
        "upload-batch-dry-run": [("post", f"/api/uploads/{batch}/dry-run/", None)],
        "upload-batch-dry-run-cancel": [("post", f"/api/uploads/{batch}/dry-run/cancel/", None)],
        "sync-rule-list": [("post", f"/api/workspaces/{ws}/sync-rules/", {"plan": plan})],
        "sync-rule-detail": [("delete", f"/api/sync-rules/{rule}/", None)],
        "sync-rule-pause": [("post", f"/api/sync-rules/{rule}/pause/", None)],
        "sync-rule-resume": [("post", f"/api/sync-rules/{rule}/resume/", None)],
        "sync-rule-reconcile": [("post", f"/api/sync-rules/{rule}/reconcile/", None)],
        "links-unlink": [("post", f"/api/workspaces/{ws}/links/unlink/",
                          {"stores": both, "all": True})],
        "links-relink": [("post", f"/api/workspaces/{ws}/links/relink/",
                          {"stores": both, "all": True})],
        "link-store-choice": [("put", f"/api/workspaces/{ws}/link-stores/", {"stores": both})],
        "run-retry": [("post", f"/api/runs/{a2_run}/retry/", None)],
    }  # fmt: skip


# Routes that act on a shared object for the caller's own stores only (one run per store):
# asked for a2, they may answer, but start nothing there (the snapshot and the run counts).
OWN_STORES_ONLY = {
    "plan-run": lambda world, shared: (
        "post", f"/api/plans/{shared['plan'].pk}/run/", {"stores": [A2]}),
    "upload-batch-start": lambda world, shared: (
        "post", f"/api/uploads/{shared['batch'].pk}/start/", {"stores": [A2]}),
}  # fmt: skip

# Every multi-store kind and the routes (of `_shared_requests` / OWN_STORES_ONLY) acting on it.
SHARED_KINDS = {
    Plan: {"plan-list", "plan-detail", "plan-dry-run", "plan-dry-run-cancel", "plan-run"},
    DryRun: {"plan-dry-run", "plan-dry-run-cancel"},
    PlanStore: {"plan-dry-run"},  # a plan's per-store results: written by its dry run only
    UploadBatch: {"upload-batch-list", "upload-batch-dry-run", "upload-batch-dry-run-cancel",
                  "upload-batch-start"},
    UploadDryRun: {"upload-batch-dry-run", "upload-batch-dry-run-cancel"},
    SyncRule: {"sync-rule-list", "sync-rule-detail", "sync-rule-pause", "sync-rule-resume",
               "sync-rule-reconcile"},
    SyncRun: {"sync-rule-reconcile"},  # a rule's history: made by its reconciliations
    LinkRecord: {"links-unlink", "links-relink"},  # the link set: a workspace's links
    LinkStoreChoice: {"link-store-choice"},
    Run: {"run-retry", "plan-run", "upload-batch-start"},
}  # fmt: skip


def _multi_store_kinds() -> set:
    """Models with stores (many-to-many), and models hanging on one of them."""
    multi = {
        model
        for model in apps.get_models()
        for f in model._meta.get_fields()
        if not f.auto_created and f.many_to_many and f.related_model is Store
    }
    return multi | {
        model
        for model in apps.get_models()
        for f in model._meta.get_fields()
        if not f.auto_created and f.is_relation and f.related_model in multi
    }


def test_every_multi_store_kind_has_its_row(world, shared):
    assert _multi_store_kinds() - set(SHARED_KINDS) == set()
    routes = set(_shared_requests(world, shared)) | set(OWN_STORES_ONLY)
    assert set().union(*SHARED_KINDS.values()) - routes == set()


def _state(world):
    a2 = world.a.stores["a2"].store
    return {
        **_snapshot(world.a),
        "a2_runs": Run.objects.filter(store=a2).count(),
        "dry_runs": list(DryRun.objects.values_list("pk", "status", "cancel_requested_at")),
        "upload_dry_runs": list(
            UploadDryRun.objects.values_list("pk", "status", "cancel_requested_at")
        ),
        "choices": list(LinkStoreChoice.stores.through.objects.values_list("store_id")),
    }


@pytest.fixture(params=NARROWED)
def narrowed(request, world):
    return world.narrowed()[request.param]


def test_a_narrowed_caller_is_refused_every_multi_store_object_spanning_another_store(
    world, shared, narrowed
):
    client = narrowed
    before = _state(world)
    wrong = []
    for name, calls in _shared_requests(world, shared).items():
        for method, url, body in calls:
            response = getattr(client, method)(url, body, format="json")
            # 403 for an object it reaches in part; 404 for a store it does not reach at all;
            # an error may echo what the caller sent, and nothing else of a2.
            if response.status_code not in (403, 404) or (
                A2 not in str(body) and A2.encode() in response.content
            ):
                wrong.append((name, method, url, response.status_code, response.content[:200]))
    assert wrong == [], "\n".join(map(repr, wrong))
    for name, call in OWN_STORES_ONLY.items():
        method, url, body = call(world, shared)
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code < 500, (name, response.content[:300])
    assert _state(world) == before


# --- (b) what is said -------------------------------------------------------------------------


def _outside(world) -> list[Store]:
    return [world.a.stores[k].store for k in ("a2", "a3")] + [world.b.stores["b1"].store]


def _leaks(content: bytes, outside: list[Store]) -> list[str]:
    found = []
    for store in outside:
        for text in (store.shop_domain.split(".")[0], store.name):
            if text and text.encode() in content:
                found.append(text)
        # the fixtures' product and file ids carry the store's id
        if re.search(rb"(Product|MediaImage)/%d\b" % store.pk, content):
            found.append(f"an id of {store.shop_domain}")
    try:
        data = json.loads(content)
    except ValueError:
        return found
    ids = {store.pk for store in outside}
    found += [f"store id {v}" for k, v in _pairs(data) if k in ("store", "store_id") and v in ids]
    return found


def _pairs(data):
    if isinstance(data, dict):
        for key, value in data.items():
            yield key, value
            yield from _pairs(value)
    elif isinstance(data, list):
        for value in data:
            yield from _pairs(value)


def _said_requests(world, shared) -> list[tuple[str, str, str, object]]:
    """Every answer a caller of a1 can get: its store's and workspace's routes, the shared
    objects' reads and the listings (reads first: the writes then change what is there)."""
    plan, batch, rule = shared["plan"].pk, shared["batch"].pk, shared["rule"].pk
    reads = [
        f"/api/plans/{plan}/", f"/api/plans/{plan}/statistics/", f"/api/plans/{plan}/result/",
        f"/api/plans/{plan}/report.csv", f"/api/plans/{plan}/dry-run/",
        f"/api/uploads/{batch}/", f"/api/uploads/{batch}/dry-run/",
        f"/api/sync-rules/{rule}/", f"/api/sync-rules/{rule}/history/",
        f"/api/workspaces/{world.a.workspace.pk}/plans/",
        f"/api/workspaces/{world.a.workspace.pk}/uploads/",
        f"/api/workspaces/{world.a.workspace.pk}/sync-rules/",
        f"/api/runs/{shared['runs']['shop-a1.myshopify.com'].pk}/",
        *LISTINGS.values(),
    ]  # fmt: skip
    out = [("shared", "get", url, None) for url in reads]
    a1 = world.a.stores["a1"]
    routes = {
        **_workspace_requests(world.a, world.a.members[Role.USER].pk),
        **_store_requests(a1, world.a.workspace),
    }
    calls = [(name, *call) for name, calls in routes.items() for call in calls]
    return out + sorted(calls, key=lambda call: call[1] != "get")


def _content(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_nothing_said_to_a_narrowed_caller_names_a_store_outside_its_reach(world, shared, narrowed):
    client = narrowed
    outside = _outside(world)
    leaks = []
    for name, method, url, body in _said_requests(world, shared):
        response = getattr(client, method)(url, body, format="json")
        # (502/503: Cloudinary is not running here; what is said is scanned all the same)
        assert response.status_code < 500 or response.status_code in (502, 503), (
            name, method, url, response.content[:300])  # fmt: skip
        leaks += [(name, method, url, leak) for leak in _leaks(_content(response), outside)]
    assert leaks == [], "\n".join(map(repr, leaks))


def test_the_refusals_and_the_scan_would_see_it(world, shared):
    """The checks are not vacuous: a workspace login is answered, and is told of a2."""
    client = world.principals()[f"login-{Role.MASTER_ADMIN}"]
    response = client.get(f"/api/uploads/{shared['batch'].pk}/dry-run/")
    assert response.status_code == 200
    assert _leaks(response.content, _outside(world))
    assert client.post(f"/api/uploads/{shared['batch'].pk}/dry-run/cancel/").status_code == 200


@pytest.mark.parametrize("principal", ["session-token", "api-key"])
def test_starting_a_shared_batch_before_its_dry_run_is_refused_to_a_narrowed_caller(
    world, shared, principal
):
    """Its start would dry run the batch first, on every store of it (a2 too)."""
    batch = shared["batch"]
    response = world.narrowed()[principal].post(
        f"/api/uploads/{batch.pk}/start/", {}, format="json"
    )
    assert response.status_code == 403, response.content
    assert A2.encode() not in response.content
    batch.refresh_from_db()
    assert batch.dry_run_at is None and not batch.runs.exists()
