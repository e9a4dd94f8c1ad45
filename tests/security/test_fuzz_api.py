"""Schemathesis against the OpenAPI schema (`/api/schema/`) with valid credentials: every
operation gets generated valid and invalid inputs (its coverage phase's boundary values, and
MAX_EXAMPLES fuzzed ones per mode; deterministic) on real objects of the caller's workspace,
against both emulators; no response may be a 5xx. About 3,000 requests."""

from __future__ import annotations

import json
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
from tests.linking.plans.conftest import emulators, sandbox  # noqa: F401
from tests.linking.runs.conftest import queue  # noqa: F401
from tests.stores.helpers import session_token
from tests.uploads.conftest import uploads_queue  # noqa: F401
from uploads.models import UploadBatch

MAX_EXAMPLES = 8
STAFF = "fuzz-staff"


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
    key, _ = services.api_key_create(user=staff, store=store, label="fuzz")
    return {
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


def _send(case, token: str):
    """The generated request through Django's test client, as a Master Admin's session token."""
    request = case.as_transport_kwargs(base_url="http://testserver")
    headers = {k: v for k, v in (request.get("headers") or {}).items()
               if k.lower() not in _DROPPED_HEADERS}  # fmt: skip
    headers["Authorization"] = f"Bearer {token}"
    content_type = (request.get("headers") or {}).get("Content-Type", "application/octet-stream")
    if "json" in request:
        data, content_type = json.dumps(request["json"]), "application/json"
    else:
        data = request.get("data") or b""
    return Client().generic(
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
    response = _send(case, session_token(fuzz_ids["shop"], sub=STAFF))
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}\n{case.as_curl_command()}"
    )
