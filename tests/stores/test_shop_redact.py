"""`shop/redact` leaves nothing about the shop: after a link run, an upload run, a plan and an
upload batch naming it, API keys, staff, an admin edit and webhooks, every text and JSON column
of every table is scanned for the shop's domain, name and ids."""

from __future__ import annotations

import json
import re

import django_rq
import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.functions import Cast
from django.utils import timezone

from linking import dry_runs
from linking import runs as link_runs
from linking import services as link_services
from linking.models import DryRun
from reports.models import Run
from stores import services
from stores.models import Store, WebhookDelivery
from stores.secrets import EncryptedSecretField
from tests.factories import MemberFactory
from tests.stores.test_webhooks import _signed
from tests.uploads.conftest import emulators, sandbox, uploads_queue, work  # noqa: F401
from uploads import services as upload_services

pytestmark = pytest.mark.django_db(transaction=True)


def _text_columns(model) -> list[models.Field]:
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField | models.JSONField)
        and not isinstance(f, EncryptedSecretField)  # ciphertext: cannot contain a clear name
    ]


def rows_mentioning(needle: str) -> list[str]:
    """`table.column #pk` of every row, in every table, whose text or JSON holds `needle`
    (not followed by a digit: Product/1 is not Product/12)."""
    pattern = re.escape(needle) + "([^0-9]|$)"
    found = []
    for model in apps.get_models(include_auto_created=True):
        for field in _text_columns(model):
            query = model._default_manager.all()
            if isinstance(field, models.JSONField):
                query = query.annotate(_text=Cast(field.name, models.TextField()))
                query = query.filter(_text__regex=pattern)
            else:
                query = query.filter(**{f"{field.name}__regex": pattern})
            found += [f"{model._meta.db_table}.{field.column} #{pk}" for pk in query.values_list("pk", flat=True)]  # fmt: skip
    return found


def _redact(client, shop_domain: str, shop_id: int, webhook_id: str):
    body = json.dumps({"shop_id": shop_id, "shop_domain": shop_domain}).encode()
    return client.post(
        "/shopify/webhooks",
        body,
        content_type="application/json",
        HTTP_X_SHOPIFY_TOPIC="shop/redact",
        HTTP_X_SHOPIFY_SHOP_DOMAIN=shop_domain,
        HTTP_X_SHOPIFY_WEBHOOK_ID=webhook_id,
        HTTP_X_SHOPIFY_HMAC_SHA256=_signed(body),
    )


def test_after_shop_redact_no_table_mentions_the_shop(sandbox, uploads_queue, client):  # noqa: F811
    store = sandbox.shop(products=6, media_per_product=1)
    kept = sandbox.shop(products=6, media_per_product=1)  # another store of the workspace
    shop_state = sandbox.shop_state(store.shop_domain)
    shop_gid = f"gid://shopify/Shop/{shop_state['id']}"
    product_ids = [p["id"] for p in shop_state["products"]]
    admin = MemberFactory(workspace=sandbox.workspace, role="master_admin").user
    services.api_key_create(user=admin, store=store, label=f"sync of {store.shop_domain}")
    services.staff_arrive(store=store, shopify_user_id="42")
    LogEntry.objects.create(
        user=admin,
        content_type=ContentType.objects.get_for_model(Store),
        object_id=str(store.pk),
        object_repr=str(store),
        action_flag=CHANGE,
    )
    # A link run on the store alone, and a plan naming both stores.
    data = {
        "expression": "folder:products/*",
        "cloudinary_field": "metadata:sku",
        "shopify_field": "variant.sku",
        "link_mode": "append",
    }
    plan = link_services.plan_create(
        user=admin, workspace=sandbox.workspace, data={**data, "stores": [store.shop_domain]}
    )
    link_services.plan_dry_run(plan=plan)
    link_run = link_runs.run_start_from_plan(plan=plan, store=store)
    both = link_services.plan_create(
        user=admin,
        workspace=sandbox.workspace,
        data={**data, "stores": [store.shop_domain, kept.shop_domain]},
    )
    # Its dry run as the background job does it: the job's progress names both stores.
    shared_dry_run = DryRun.objects.create(plan=both, stores_total=2)
    assert dry_runs.execute(shared_dry_run.pk) == "succeeded"
    # An upload batch naming both stores, run.
    assets = [a["asset_id"] for a in sandbox.assets("resource_type=image")][:2]
    batch = upload_services.batch_create(
        user=admin,
        workspace=sandbox.workspace,
        data={"stores": [store.shop_domain, kept.shop_domain], "asset_ids": assets},
    )
    upload_services.batch_start(batch=batch)
    work(django_rq.get_queue(link_runs._queue_name()))
    work(uploads_queue)
    link_run.refresh_from_db()
    assert link_run.status == Run.Status.SUCCEEDED
    assert rows_mentioning(store.shop_domain) and rows_mentioning(product_ids[0])
    for webhook_id, shop in (("uninstall-1", store), ("uninstall-2", kept)):
        WebhookDelivery.objects.create(
            webhook_id=webhook_id, topic="app/uninstalled", shop_domain=shop.shop_domain
        )

    # Shopify sends shop/redact 48 hours after the app was uninstalled.
    Store.objects.filter(pk=store.pk).update(uninstalled_at=timezone.now())
    response = _redact(client, store.shop_domain, shop_state["id"], "redact-1")

    assert response.status_code == 200
    needles = [store.shop_domain, store.shop_domain.split(".")[0], shop_gid, *product_ids]
    assert {needle: rows_mentioning(needle) for needle in needles} == {n: [] for n in needles}
    # The other store keeps its catalog, records, plan and batch.
    assert WebhookDelivery.objects.get(webhook_id="uninstall-2").shop_domain == kept.shop_domain
    assert link_services.Plan.objects.filter(pk=both.pk).exists()
    # The redact's own delivery is kept without the shop, so Shopify's retry is recognised.
    assert WebhookDelivery.objects.get(webhook_id="redact-1").shop_domain == ""
    assert _redact(client, store.shop_domain, shop_state["id"], "redact-1").content == (
        b"Already processed."
    )
