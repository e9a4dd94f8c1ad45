"""Two tenants with every kind of object and every kind of caller, for the security suite.

Workspace A has stores a1 and a2 (installed) and a3 (uninstalled); workspace B has store b1.
Every store has a plan, a dry-run result, a link run with report rows, an upload batch with an
upload run, link and upload records and a catalog, so every endpoint and admin view has an
object of the other tenant (and of the other store) to aim at.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from linking.models import DryRun, LinkRecord, Plan, PlanProduct, PlanStore, StoreCatalog
from linking.sync.models import SyncRule
from reports.models import ReportRow, Run
from stores import services
from stores.models import ApiKey, Invitation, Member, Role, Store, Workspace, WorkspaceSettings
from tests.factories import MemberFactory, StoreFactory, WorkspaceFactory
from tests.stores.helpers import session_token
from uploads.models import UploadBatch, UploadDryRun, UploadItem, UploadRecord

ROLES = [Role.MASTER_ADMIN, Role.TECHNICAL_ADMIN, Role.MEDIA_LIBRARY_ADMIN, Role.USER]
STAFF_ID = "100"


@dataclass
class StoreObjects:
    store: Store
    plan: Plan  # a plan of this store only
    run: Run
    batch: UploadBatch
    upload_run: Run
    key: ApiKey
    token: str


@dataclass
class Tenant:
    workspace: Workspace
    members: dict[str, Member]
    stores: dict[str, StoreObjects] = field(default_factory=dict)
    invitation: Invitation | None = None  # pending


@dataclass
class World:
    a: Tenant
    b: Tenant
    shared_plan: Plan  # stores a1 and a2
    revoked_token: str
    uninstalled_token: str

    def principals(self) -> dict[str, APIClient]:
        """Every way of acting for tenant A (store a1 for the narrowed ones)."""
        out = {}
        for role, member in self.a.members.items():
            out[f"login-{role}"] = _login(member.user)
        shop = self.a.stores["a1"].store.shop_domain
        out["session-token"] = APIClient(
            HTTP_AUTHORIZATION=f"Bearer {session_token(shop, sub=STAFF_ID)}"
        )
        out["api-key"] = APIClient(HTTP_AUTHORIZATION=f"Bearer {self.a.stores['a1'].token}")
        out["api-key-header"] = APIClient(HTTP_X_ASSETLINK_KEY=self.a.stores["a1"].token)
        return out

    def narrowed(self) -> dict[str, APIClient]:
        """The callers of store a1 only: they must not reach a2 of the same workspace."""
        every = self.principals()
        return {name: every[name] for name in ("session-token", "api-key", "api-key-header")}


def _login(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _store_objects(workspace, domain: str, owner) -> StoreObjects:
    store = StoreFactory(workspace=workspace, shop_domain=domain)
    plan = Plan.objects.create(
        workspace=workspace,
        expression=f'folder="{domain}"',
        cloudinary_field="metadata:sku",
        shopify_field="variant.sku",
        link_mode="append",
        alt_source="keep_shopify",
        status=Plan.Status.PLANNED,
        dry_run_at=timezone.now(),
    )
    plan.stores.set([store])
    _result(plan, store)
    DryRun.objects.create(
        plan=plan, created_by=owner, status=DryRun.Status.SUCCEEDED, phase="Done",
        stores={domain: "1 products planned"}, stores_total=1, stores_done=1,
    )  # fmt: skip
    # its sync rule (paused: a resume by an intruder would show in the snapshot)
    SyncRule.objects.create(workspace=workspace, plan=plan, name=f"{domain} rule", paused=True)
    run = Run.objects.create(store=store, plan=plan, status=Run.Status.RUNNING, link_mode="append")
    ReportRow.objects.create(
        run=run, product_id=f"gid://shopify/Product/{store.pk}", product_title=f"{domain} title",
        group=f"{domain}-SKU", asset_id="a1", public_id=f"{domain}/img", action="created",
    )  # fmt: skip
    batch = UploadBatch.objects.create(workspace=workspace, expression='folder="x"')
    batch.stores.set([store])
    UploadDryRun.objects.create(
        batch=batch, created_by=owner, status=UploadDryRun.Status.SUCCEEDED, phase="Done",
        stores={domain: "1 created"}, stores_total=1, stores_done=1,
    )  # fmt: skip
    upload_run = Run.objects.create(store=store, kind=Run.Kind.UPLOAD, status=Run.Status.RUNNING)
    batch.runs.add(upload_run)
    UploadItem.objects.create(
        run=upload_run, asset_id="u1", public_id=f"{domain}/upload", filename="f.jpg",
        action="created", file_id=f"gid://shopify/MediaImage/{store.pk}",
    )  # fmt: skip
    LinkRecord.objects.create(
        store=store, product_id="gid://shopify/Product/1", media_id=f"m-{domain}", asset_id="a1",
        version=1,
    )  # fmt: skip
    UploadRecord.objects.create(
        store=store, asset_id="u1", version=1, file_id=f"gid://shopify/MediaImage/{domain}"
    )
    StoreCatalog.objects.create(store=store)
    key, token = services.api_key_create(user=owner, store=store, label=f"key of {domain}")
    return StoreObjects(store, plan, run, batch, upload_run, key, token)


def _result(plan, store) -> PlanStore:
    result = PlanStore.objects.create(
        plan=plan,
        store=store,
        statistics={"products_matched": 1},
        product_count=1,
        assets_matched=1,
        groups=[{"value": f"{store.shop_domain}-SKU", "matched": True, "assets": ["a1"]}],
    )
    PlanProduct.objects.create(
        result=result, seq=0, product_id=f"gid://shopify/Product/{store.pk}", operation_count=1,
        data={"product_id": f"gid://shopify/Product/{store.pk}",
              "title": f"{store.shop_domain} title", "operation_count": 1},
        rows=[{"product_id": f"gid://shopify/Product/{store.pk}",
               "title": f"{store.shop_domain} title", "action": "created"}],
    )  # fmt: skip
    return result


def _tenant(name: str, domains: list[str]) -> Tenant:
    workspace = WorkspaceFactory(name=f"Workspace {name.upper()}")
    members = {
        role.value: MemberFactory(workspace=workspace, role=role, user__username=f"{name}-{role}")
        for role in ROLES
    }
    tenant = Tenant(workspace, members)
    owner = members[Role.MASTER_ADMIN].user
    tenant.invitation, _, _ = services.member_invite(
        user=owner, workspace=workspace, identifier=f"invitee-{name}@example.com"
    )
    for domain in domains:
        tenant.stores[domain.split(".")[0].removeprefix("shop-")] = _store_objects(
            workspace, domain, owner
        )
    return tenant


def admin_objects(tenant: Tenant) -> dict:
    """One object of the tenant (of its first store) for every model of the Django admin."""
    objects = next(iter(tenant.stores.values()))
    return {
        Workspace: tenant.workspace,
        Store: objects.store,
        Member: tenant.members[Role.USER],
        WorkspaceSettings: WorkspaceSettings.objects.get(workspace=tenant.workspace),
        ApiKey: objects.key,
        Plan: objects.plan,
        DryRun: DryRun.objects.get(plan=objects.plan),
        LinkRecord: LinkRecord.objects.get(store=objects.store),
        StoreCatalog: StoreCatalog.objects.get(store=objects.store),
        UploadBatch: objects.batch,
        UploadDryRun: UploadDryRun.objects.get(batch=objects.batch),
        UploadRecord: UploadRecord.objects.get(store=objects.store),
        Run: objects.run,
        ReportRow: objects.run.rows.get(),
        SyncRule: SyncRule.objects.get(plan=objects.plan),
    }


@pytest.fixture
def world(db) -> World:
    a = _tenant("a", ["shop-a1.myshopify.com", "shop-a2.myshopify.com", "shop-a3.myshopify.com"])
    b = _tenant("b", ["shop-b1.myshopify.com"])
    a1, a2, a3 = (a.stores[k] for k in ("a1", "a2", "a3"))
    shared = Plan.objects.create(
        workspace=a.workspace, expression='folder="shared"', cloudinary_field="metadata:sku",
        shopify_field="variant.sku", link_mode="append", alt_source="keep_shopify",
        status=Plan.Status.PLANNED, dry_run_at=timezone.now(),
    )  # fmt: skip
    shared.stores.set([a1.store, a2.store])
    _result(shared, a1.store)
    _result(shared, a2.store)
    owner = a.members[Role.MASTER_ADMIN].user
    revoked, revoked_token = services.api_key_create(user=owner, store=a1.store, label="old")
    services.api_key_revoke(user=owner, key=revoked)
    Store.objects.filter(pk=a3.store.pk).update(uninstalled_at=timezone.now())
    # Staff of shop-a1 (session token): a Master Admin of A — and, by a login-side grant, of B
    # too: the session token must still reach a1 only.
    staff = services.staff_arrive(store=a1.store, shopify_user_id=STAFF_ID)
    Member.objects.filter(user=staff).update(role=Role.MASTER_ADMIN)
    Member.objects.create(user=staff, workspace=b.workspace, role=Role.MASTER_ADMIN)
    return World(a, b, shared, revoked_token, a3.token)
