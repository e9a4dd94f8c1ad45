"""Schemathesis against the OpenAPI schema (`/api/schema/`) with valid credentials of every
kind: every operation gets generated valid and invalid inputs (its coverage phase's boundary
values, and MAX_EXAMPLES fuzzed ones per mode; deterministic) on real objects of a scratch
workspace (the sandbox's, made for each test in its own transaction: the demo data is never
touched), against both emulators; no response may be a 5xx. Each generated case is sent by
one principal, chosen from the case itself (so a failing case replays with the same one): a
staff member's session token, an API key of the store, or a Master Admin's login — each
principal gets about a third of every operation's cases. The counts per principal are printed
at the end (about 4,000 requests in all)."""

from __future__ import annotations

import json
import zlib
from collections import Counter
from urllib.parse import urlsplit

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from linking.models import Plan
from reports.models import Run
from stores import services
from stores.models import Member, Role
from tests.factories import MemberFactory
from tests.linking.plans.conftest import emulators, sandbox  # noqa: F401
from tests.linking.runs.conftest import queue  # noqa: F401
from tests.stores.helpers import session_token
from tests.uploads.conftest import uploads_queue  # noqa: F401
from uploads.models import UploadBatch

MAX_EXAMPLES = 8
STAFF = "fuzz-staff"
PRINCIPALS = ("session-token", "api-key", "admin-login")
SENT: Counter = Counter()  # answers per principal and status class (printed at the end)


@pytest.fixture
def fuzz_ids(sandbox, queue, uploads_queue):  # noqa: F811
    """A store of the sandbox with a staff Master Admin, and one object of every kind."""
    store = sandbox.shop(products=3)
    staff = services.staff_arrive(store=store, shopify_user_id=STAFF)
    Member.objects.filter(user=staff).update(role=Role.MASTER_ADMIN)
    asset = sandbox.assets(limit=1)[0]
    plan = Plan.objects.create(
        workspace=sandbox.workspace, asset_ids=[asset["asset_id"]],
        cloudinary_field="metadata:sku", shopify_field="variant.sku", link_mode="append",
        alt_source="keep_shopify",
    )  # fmt: skip
    plan.stores.set([store])
    run = Run.objects.create(store=store, plan=plan, status=Run.Status.FAILED, link_mode="append")
    batch = UploadBatch.objects.create(workspace=sandbox.workspace, asset_ids=[asset["asset_id"]])
    batch.stores.set([store])
    upload_run = Run.objects.create(store=store, kind=Run.Kind.UPLOAD, status=Run.Status.FAILED)
    batch.runs.add(upload_run)
    key, key_token = services.api_key_create(user=staff, store=store, label="fuzz")
    admin = MemberFactory(workspace=sandbox.workspace, role=Role.MASTER_ADMIN).user
    login = Client()
    login.force_login(admin)
    return {
        "principals": {
            "session-token": lambda: (
                Client(),
                f"Bearer {session_token(store.shop_domain, sub=STAFF)}",
            ),
            "api-key": lambda: (Client(), f"Bearer {key_token}"),
            "admin-login": lambda: (login, None),
        },
        "shop": store.shop_domain,
        "workspace_id": sandbox.workspace.pk,
        "store_id": store.pk,
        "key_id": key.pk,
        "member_id": Member.objects.get(user=staff).pk,
        "plan_id": plan.pk,
        "batch_id": batch.pk,
        "asset_id": asset["asset_id"],
        "run_id": {"upload-runs": upload_run.pk, "runs": run.pk},
    }


def _openapi() -> dict:
    """The schema `/api/schema/` serves, generated in-process (no request, no database)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document, renderer_context={}))


schema = schemathesis.openapi.from_dict(_openapi())
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
    deterministic=True,
    with_security_parameters=False,  # the test authenticates every call itself
)
schema.config.phases.coverage.unexpected_methods = set()  # 405s teach nothing
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


@pytest.fixture(autouse=True)
def _empty_queues(queue, uploads_queue):  # noqa: F811
    yield
    queue.empty()
    uploads_queue.empty()


def _real_ids(case, ids) -> None:
    for name in list(case.path_parameters or {}):
        value = ids.get(name)
        if isinstance(value, dict):  # run ids: link runs and upload runs differ
            value = value["upload-runs" if "upload-runs" in case.path else "runs"]
        if value is not None:
            case.path_parameters[name] = value


_DROPPED_HEADERS = {"authorization", "x-assetlink-key", "cookie", "connection", "content-type",
                    "accept-encoding", "content-length", "host"}  # fmt: skip


def _principal(case) -> str:
    """The principal sending `case`: a function of the case, so that a failure replays."""
    what = repr((case.method, case.path, case.path_parameters, case.query, case.body))
    return PRINCIPALS[zlib.crc32(what.encode()) % len(PRINCIPALS)]


def _send(case, client: Client, authorization: str | None):
    """The generated request through Django's test client, as the given principal."""
    request = case.as_transport_kwargs(base_url="http://testserver")
    headers = {k: v for k, v in (request.get("headers") or {}).items()
               if k.lower() not in _DROPPED_HEADERS}  # fmt: skip
    if authorization:
        headers["Authorization"] = authorization
    content_type = (request.get("headers") or {}).get("Content-Type", "application/octet-stream")
    if "json" in request:
        data, content_type = json.dumps(request["json"]), "application/json"
    else:
        data = request.get("data") or b""
    return client.generic(
        request["method"],
        urlsplit(request["url"]).path,
        data=data,
        content_type=content_type,
        headers=headers,
        query_params=request.get("params") or None,
    )


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.django_db
def test_no_operation_answers_with_a_server_error(case, fuzz_ids):
    _real_ids(case, fuzz_ids)
    principal = _principal(case)
    response = _send(case, *fuzz_ids["principals"][principal]())
    SENT[principal, f"{response.status_code // 100}xx"] += 1
    SENT[principal, str(response.status_code)] += response.status_code == 401
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} as {principal} -> {response.status_code}\n"
        f"{case.as_curl_command()}"
    )


def teardown_module():
    for principal in PRINCIPALS:
        counts = {k: n for (p, k), n in sorted(SENT.items()) if p == principal and n}
        print(f"\nschemathesis, {principal}: {counts}")
