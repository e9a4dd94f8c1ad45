"""The tenancy matrix over the Django admin: for every registered model, every role of
workspace A — changelist, add (form and POST), change (form and POST), delete (form and POST),
history, the bulk delete action and the report downloads — never shows or touches workspace
B's rows; and inside its own workspace the admin follows the role rules (finding 1)."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict
from django.test import Client

from linking.models import DryRun, Plan
from stores import services
from stores.admin_site import admin_site
from stores.models import ApiKey, Member, Role, Store, Workspace
from tests.security.conftest import admin_objects
from uploads.models import UploadDryRun

pytestmark = pytest.mark.django_db

ROLES = [Role.MASTER_ADMIN, Role.TECHNICAL_ADMIN, Role.MEDIA_LIBRARY_ADMIN, Role.USER]
SECRETS = [b"Workspace B", b"shop-b1", b"b-master_admin", b"b-user"]


def _b_objects(world) -> dict:
    return admin_objects(world.b)


def _url(model, suffix="") -> str:
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/{suffix}"


def _state(model, obj):
    row = model.objects.filter(pk=obj.pk).first()
    return None if row is None else model_to_dict(row)


def _hostile_form(world) -> dict:
    """Every field an attacker would set, pointing at tenant B."""
    b, b1 = world.b, world.b.stores["b1"]
    return {
        "workspace": b.workspace.pk, "store": b1.store.pk, "user": b.members[Role.USER].user_id,
        "role": "master_admin", "shop_domain": "victim-shop.myshopify.com", "name": "pwned",
        "label": "pwned", "revoked_at": "", "default_cloudinary_field": "metadata:pwned",
        "action": "delete_selected", "_selected_action": [], "post": "yes",
    }  # fmt: skip


def _client(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def test_the_matrix_covers_every_admin_model(world):
    from django.contrib.auth.models import Group, User
    from django_rq.models import Dashboard  # the RQ dashboard: superusers only (test_observability)

    assert set(admin_site._registry) - set(_b_objects(world)) == {User, Group, Dashboard}


@pytest.mark.parametrize("role", [r.value for r in ROLES])
def test_no_admin_view_shows_or_changes_another_workspace(world, role):
    client = _client(world.a.members[role])
    form = _hostile_form(world)
    for model, obj in _b_objects(world).items():
        before, count = _state(model, obj), model.objects.count()
        form["_selected_action"] = [obj.pk]
        pages = [
            ("get", _url(model), None),
            ("get", _url(model, "add/"), None),
            ("post", _url(model, "add/"), form),
            ("get", _url(model, f"{obj.pk}/change/"), None),
            ("post", _url(model, f"{obj.pk}/change/"), form),
            ("get", _url(model, f"{obj.pk}/delete/"), None),
            ("post", _url(model, f"{obj.pk}/delete/"), {"post": "yes"}),
            ("get", _url(model, f"{obj.pk}/history/"), None),
            ("post", _url(model), form),  # the bulk "delete selected" action
        ]
        for method, url, data in pages:
            response = getattr(client, method)(url, data)
            body = response.content
            for secret in SECRETS:
                assert secret not in body, (role, method, url, secret)
            if "/add/" not in url and url != _url(model):
                # Another workspace's row "does not exist" (redirect) or is refused.
                assert response.status_code in (302, 403, 404), (role, method, url)
        assert _state(model, obj) == before, (role, model)
        assert model.objects.count() == count, (role, model, "a row was added or deleted")


@pytest.mark.parametrize("role", [r.value for r in ROLES])
def test_admin_report_downloads_of_another_workspace_are_404(world, role):
    client = _client(world.a.members[role])
    b1 = world.b.stores["b1"]
    for url in (
        f"/admin/linking/plan/{b1.plan.pk}/report.csv",
        f"/admin/reports/run/{b1.run.pk}/report.csv",
        f"/admin/uploads/uploadbatch/runs/{b1.upload_run.pk}/report.csv",
    ):
        assert client.get(url).status_code == 404, url
    own = world.a.stores["a1"]
    assert client.get(f"/admin/reports/run/{own.run.pk}/report.csv").status_code == 200


@pytest.mark.parametrize("role", [r.value for r in ROLES])
def test_users_and_groups_are_for_superusers_only(world, role):
    client = _client(world.a.members[role])
    assert client.get("/admin/auth/user/").status_code == 403
    assert client.get("/admin/auth/group/").status_code == 403


# --- inside the own workspace: finding 1 step by step ---------------------------------------


def test_an_admin_cannot_add_himself_to_another_workspace(world):
    attacker = world.a.members[Role.MASTER_ADMIN]
    client = _client(attacker)
    page = client.get(_url(Member, "add/"))
    assert page.status_code == 200 and b"Workspace B" not in page.content
    client.post(_url(Member, "add/"), {"user": attacker.user_id,
                                       "workspace": world.b.workspace.pk, "role": "user"})  # fmt: skip
    assert not Member.objects.filter(user=attacker.user, workspace=world.b.workspace).exists()


def test_an_admin_cannot_move_his_membership_to_another_workspace(world):
    attacker = world.a.members[Role.TECHNICAL_ADMIN]
    client = _client(attacker)
    client.post(_url(Member, f"{attacker.pk}/change/"),
                {"user": attacker.user_id, "workspace": world.b.workspace.pk,
                 "role": "technical_admin"})  # fmt: skip
    attacker.refresh_from_db()
    assert attacker.workspace == world.a.workspace


def test_members_are_added_and_removed_by_a_master_admin_only(world):
    a = world.a
    newcomer = a.members[Role.USER].user
    other = Workspace.objects.create(name="Workspace C")
    Member.objects.create(user=a.members[Role.TECHNICAL_ADMIN].user, workspace=other,
                          role=Role.MASTER_ADMIN)  # fmt: skip
    Member.objects.create(user=a.members[Role.MASTER_ADMIN].user, workspace=other,
                          role=Role.MASTER_ADMIN)  # fmt: skip
    form = {"user": newcomer.pk, "workspace": other.pk, "role": "user"}
    # A Technical Admin of A (Master Admin of C) adds to C, not to A.
    technical = _client(a.members[Role.TECHNICAL_ADMIN])
    technical.post(_url(Member, "add/"), {**form, "workspace": a.workspace.pk})
    user_member = a.members[Role.USER]
    assert (
        technical.post(_url(Member, f"{user_member.pk}/delete/"), {"post": "yes"}).status_code
        == 403
    )
    assert Member.objects.filter(pk=user_member.pk).exists()
    response = technical.post(_url(Member, "add/"), form)
    assert response.status_code == 302, response.content
    assert Member.objects.filter(user=newcomer, workspace=other).exists()


def test_an_api_key_stays_with_its_store(world):
    a1, b1 = world.a.stores["a1"], world.b.stores["b1"]
    client = _client(world.a.members[Role.MASTER_ADMIN])
    page = client.get(_url(ApiKey, f"{a1.key.pk}/change/"))
    assert page.status_code == 200 and b"shop-b1" not in page.content
    client.post(_url(ApiKey, f"{a1.key.pk}/change/"), {"store": b1.store.pk, "label": "moved"})
    assert ApiKey.objects.get(pk=a1.key.pk).store_id == a1.store.pk


def test_stores_are_never_added_and_keep_their_workspace_and_domain(world):
    a1 = world.a.stores["a1"]
    client = _client(world.a.members[Role.MASTER_ADMIN])
    assert client.get(_url(Store, "add/")).status_code == 403
    add = client.post(_url(Store, "add/"), {"workspace": world.a.workspace.pk,
                                            "shop_domain": "victim-shop.myshopify.com"})  # fmt: skip
    assert add.status_code == 403
    client.post(_url(Store, f"{a1.store.pk}/change/"),
                {"workspace": world.b.workspace.pk, "shop_domain": "victim-shop.myshopify.com",
                 "name": "renamed", "api_version": "2026-01"})  # fmt: skip
    store = Store.objects.get(pk=a1.store.pk)
    assert (store.workspace_id, store.shop_domain, store.name) == (
        world.a.workspace.pk,
        "shop-a1.myshopify.com",
        "renamed",
    )


def test_a_user_role_cannot_delete_with_the_bulk_action_in_a_workspace_it_only_uses(world):
    # A Master Admin of A who is a plain User in B selects B's plan on the changelist.
    b1 = world.b.stores["b1"]
    user = world.a.members[Role.MASTER_ADMIN].user
    Member.objects.create(user=user, workspace=world.b.workspace, role=Role.USER)
    client = Client()
    client.force_login(user)
    client.post(_url(Plan), {"action": "delete_selected", "_selected_action": [b1.plan.pk],
                             "post": "yes"})  # fmt: skip
    assert Plan.objects.filter(pk=b1.plan.pk).exists()


def test_an_install_does_not_adopt_a_store_row_no_install_made(world):
    """A row for a shop that never installed (pre-claimed before the admin was fixed) does not
    bring the shop's tokens into the workspace that holds it."""
    claimed = Store.objects.create(workspace=world.a.workspace,
                                   shop_domain="victim-shop.myshopify.com")  # fmt: skip
    services.api_key_create(user=world.a.members[Role.MASTER_ADMIN].user, store=claimed,
                            label="attacker's key")  # fmt: skip

    class Grant:
        access_token = "shpat_victim0000000000"
        expires_at = refresh_token = refresh_token_expires_at = None
        scope = "read_products"

    store = services.store_install(shop_domain="victim-shop.myshopify.com", grant=Grant())
    assert store.pk == claimed.pk and store.workspace_id != world.a.workspace.pk
    assert not ApiKey.objects.filter(store=store).exists()
    assert store.awaiting_master_admin


@pytest.mark.parametrize(("role", "revoked"), [(Role.MASTER_ADMIN, True), (Role.USER, False)])
def test_api_keys_are_revoked_with_the_admin_action_by_admins_only(world, role, revoked):
    key = world.a.stores["a1"].key
    client = _client(world.a.members[role])
    client.post(_url(ApiKey), {"action": "revoke_keys", "_selected_action": [key.pk]})
    assert (ApiKey.objects.get(pk=key.pk).revoked_at is not None) is revoked


@pytest.mark.parametrize("role", [r.value for r in ROLES])
@pytest.mark.parametrize("model", [DryRun, UploadDryRun])
def test_dry_runs_are_listed_for_their_workspace_read_only(world, role, model):
    client = _client(world.a.members[role])
    subject = "plan" if model is DryRun else "batch"
    own = model.objects.get(**{subject: getattr(world.a.stores["a1"], subject)})
    theirs = model.objects.get(**{subject: getattr(world.b.stores["b1"], subject)})
    listing = client.get(_url(model))
    assert listing.status_code == 200
    assert _url(model, f"{own.pk}/change/").encode() in listing.content
    assert _url(model, f"{theirs.pk}/change/").encode() not in listing.content
    assert client.get(_url(model, f"{own.pk}/change/")).status_code == 200
    client.post(_url(model, f"{own.pk}/delete/"), {"post": "yes"})
    client.post(_url(model, f"{own.pk}/change/"), {"status": "failed", "error": "pwned"})
    own.refresh_from_db()
    assert own.status == model.Status.SUCCEEDED and own.error == ""
