"""Manage links through the API: list what AssetLink linked (per store, product, asset, in every
store), unlink one, a product's or all (files stay in Files), re-link to the newest version in
place — each a link run with a report and undo, against both emulators."""

from __future__ import annotations

import pytest
import requests
from rest_framework.test import APIClient

from linking.models import LinkRecord, PlanStore
from reports.models import Run
from tests.factories import MemberFactory
from tests.linking.runs.conftest import dry_run, gallery, start_and_work, variant_images, work

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def linked(sandbox, queue):
    """Two stores of the workspace, each with the selection appended by a link run."""
    stores = [sandbox.shop(products=len(sandbox.skus()) - 2, media_per_product=2) for _ in (1, 2)]
    for store in stores:
        run = start_and_work(queue, dry_run(sandbox, store, link_mode="append"), store)
        assert run.status == Run.Status.SUCCEEDED, run.error
    return stores


@pytest.fixture
def member(sandbox):
    """A User (not an admin): Users run, so Users manage links."""
    return MemberFactory(workspace=sandbox.workspace, role="user")


def _client(member) -> APIClient:
    client = APIClient()
    client.force_login(member.user)
    return client


def _files(sandbox, store) -> set[str]:
    return {f["id"] for f in sandbox.shop_state(store.shop_domain)["files"]}


def _media(sandbox, store, product_id) -> list[str]:
    return [m["id"] for m in gallery(sandbox, store)[product_id]]


def _act(client, sandbox, queue, action: str, body: dict, expect: int = 202):
    url = f"/api/workspaces/{sandbox.workspace.pk}/links/{action}/"
    response = client.post(url, body, format="json")
    assert response.status_code == expect, response.content
    if expect != 202:
        return response.json()
    work(queue)
    runs = [Run.objects.get(pk=r["id"]) for r in response.json()["runs"]]
    for run in runs:
        assert run.status == Run.Status.SUCCEEDED, (run.error, list(run.rows.values()))
        assert run.link_mode == action
    return runs


def test_links_are_listed_per_store_product_and_asset(sandbox, linked, member):
    client = _client(member)
    url = f"/api/workspaces/{sandbox.workspace.pk}/links/"
    every = client.get(url).json()
    records = LinkRecord.objects.exclude(product_id="")
    # Product media, and the swatch files AssetLink put in Files (kind "file").
    assert every["count"] == LinkRecord.objects.count() > records.count()
    kinds = {link["kind"] for link in every["links"]}
    assert kinds == {"product_media", "file"}
    assert set(every["stores"]) == {s.shop_domain for s in linked}

    record = records.filter(store=linked[0]).first()
    one_product = client.get(url, {"product_id": record.product_id}).json()
    assert {link["product_id"] for link in one_product["links"]} == {record.product_id}
    # The same product id is another product in the other shop: narrowed by store too.
    in_store = client.get(url, {"store": linked[0].shop_domain}).json()
    assert {link["store"] for link in in_store["links"]} == {linked[0].shop_domain}

    # "What links has this asset, in every store": one per store it is linked in.
    usage = client.get(url, {"asset_id": record.asset_id, "check_versions": "1"}).json()
    assert {link["store"] for link in usage["links"]} == {s.shop_domain for s in linked}
    link = usage["links"][0]
    assert link["asset_id"] == record.asset_id and link["status"] == "current"
    assert link["latest_version"] == link["version"] and link["run"] is not None
    assert {"media_id", "transformation", "alt", "product_handle"} <= set(link)


def test_unlink_one_media_keeps_its_file_and_undo_links_it_again(sandbox, linked, member, queue):
    store = linked[0]
    record = LinkRecord.objects.filter(store=store).exclude(product_id="").first()
    before = _media(sandbox, store, record.product_id)
    files_before = _files(sandbox, store)
    other = set(LinkRecord.objects.filter(store=linked[1]).values_list("media_id", flat=True))

    [run] = _act(_client(member), sandbox, queue, "unlink", {"media_ids": [record.media_id]})

    after = _media(sandbox, store, record.product_id)
    assert after == [m for m in before if m != record.media_id]
    assert _files(sandbox, store) == files_before  # the file stays in Files
    assert not LinkRecord.objects.filter(pk=record.pk).exists()
    assert list(run.rows.values_list("action", "media_id")) == [("unlinked", record.media_id)]
    # nothing happened in the other store
    assert other == set(
        LinkRecord.objects.filter(store=linked[1]).values_list("media_id", flat=True)
    )

    undo = _act_undo(_client(member), run, queue)
    assert undo.status == Run.Status.SUCCEEDED
    assert _media(sandbox, store, record.product_id) == before
    assert LinkRecord.objects.filter(store=store, media_id=record.media_id).exists()


def _act_undo(client, run, queue) -> Run:
    response = client.post(f"/api/runs/{run.pk}/undo/")
    assert response.status_code == 202, response.content
    work(queue)
    return Run.objects.get(pk=response.json()["id"])


def test_unlink_an_asset_everywhere_and_all_of_a_store(sandbox, linked, member, queue):
    record = LinkRecord.objects.exclude(product_id="").first()
    runs = _act(_client(member), sandbox, queue, "unlink", {"asset_ids": [record.asset_id]})
    assert {r.store for r in runs} == set(linked)  # one run per store
    assert not LinkRecord.objects.filter(asset_id=record.asset_id).exclude(product_id="").exists()

    store = linked[1]
    untouched = set(LinkRecord.objects.filter(store=linked[0]).values_list("media_id", flat=True))
    [run] = _act(
        _client(member), sandbox, queue, "unlink", {"stores": [store.shop_domain], "all": True}
    )
    assert not LinkRecord.objects.filter(store=store).exclude(product_id="").exists()
    in_galleries = {m["id"] for media in gallery(sandbox, store).values() for m in media}
    assert in_galleries and not in_galleries & set(run.rows.values_list("media_id", flat=True))
    assert untouched == set(
        LinkRecord.objects.filter(store=linked[0]).values_list("media_id", flat=True)
    )


def test_an_action_without_a_selection_or_matching_nothing_is_a_400(sandbox, linked, member):
    client = _client(member)
    url = f"/api/workspaces/{sandbox.workspace.pk}/links/unlink/"
    assert "all: true" in client.post(url, {}, format="json").json()["detail"]
    response = client.post(url, {"media_ids": ["gid://shopify/MediaImage/0"]}, format="json")
    assert response.status_code == 400 and "No link" in response.json()["detail"]
    assert client.post(url, {"media_ids": "x"}, format="json").status_code == 400
    assert not Run.objects.exclude(link_mode="append").exists()


def test_relink_puts_the_newest_version_in_place_with_its_alt(sandbox, linked, member, queue):
    store = linked[0]
    record = LinkRecord.objects.filter(store=store).exclude(product_id="").order_by("pk").first()
    before = gallery(sandbox, store)[record.product_id]
    position = [m["id"] for m in before].index(record.media_id)
    its_variants = [v for v, m in variant_images(sandbox, store).items() if record.media_id in m]
    assert its_variants  # the group's first image is its variants' image
    asset = requests.post(
        f"{sandbox.cloudinary_url}/_control/clouds/{sandbox.cloud}/assets/{record.asset_id}",
        json={},
        timeout=10,
    ).json()["asset"]
    assert asset["version"] > record.version

    client = _client(member)
    listing = client.get(
        f"/api/workspaces/{sandbox.workspace.pk}/links/",
        {"asset_id": record.asset_id, "check_versions": "true"},
    ).json()
    assert {link["status"] for link in listing["links"]} == {"outdated"}

    [run] = _act(client, sandbox, queue, "relink", {"stores": [store.shop_domain], "all": True})
    after = gallery(sandbox, store)[record.product_id]
    new = after[position]
    assert new["id"] != record.media_id and record.media_id not in [m["id"] for m in after]
    assert [m["id"] for m in after[:position]] == [m["id"] for m in before[:position]]
    assert new["alt"] == before[position]["alt"]
    images = variant_images(sandbox, store)
    assert all(images[v] == [new["id"]] for v in its_variants)  # variants follow their image
    assert LinkRecord.objects.get(store=store, media_id=new["id"]).version == asset["version"]
    replaced = run.rows.get(action="replaced")
    assert (replaced.media_id, replaced.previous_media_id) == (new["id"], record.media_id)
    assert run.rows.filter(action="unchanged").count() == 0  # only outdated links are in it

    again = client.post(
        f"/api/workspaces/{sandbox.workspace.pk}/links/relink/",
        {"stores": [store.shop_domain], "all": True},
        format="json",
    )
    assert again.status_code == 400 and "newest version" in again.json()["detail"]

    undo = _act_undo(client, run, queue)
    assert undo.status == Run.Status.SUCCEEDED
    assert [m["id"] for m in gallery(sandbox, store)[record.product_id]] == [
        m["id"] for m in before
    ]


def test_the_django_admin_unlinks_selected_links_of_its_workspaces_only(
    sandbox, linked, member, queue
):
    from django.test import Client

    from tests.factories import StoreFactory

    foreign = LinkRecord.objects.create(
        store=StoreFactory(shop_domain="someone-else.myshopify.com"),
        product_id="gid://shopify/Product/1", media_id="gid://shopify/MediaImage/someone-else",
        asset_id="a", version=1,
    )  # fmt: skip
    record = LinkRecord.objects.filter(store=linked[0]).exclude(product_id="").first()
    client = Client()
    client.force_login(member.user)
    listing = client.get("/admin/linking/linkrecord/")
    assert listing.status_code == 200 and foreign.media_id.encode() not in listing.content
    response = client.post(
        "/admin/linking/linkrecord/",
        {"action": "unlink_links", "_selected_action": [record.pk, foreign.pk]},
    )
    assert response.status_code == 302
    work(queue)
    run = Run.objects.get(link_mode="unlink")
    assert run.status == Run.Status.SUCCEEDED and run.store == linked[0]
    assert not LinkRecord.objects.filter(pk=record.pk).exists()
    assert LinkRecord.objects.filter(pk=foreign.pk).exists()
    assert record.media_id not in _media(sandbox, linked[0], record.product_id)


def test_hostile_link_requests_get_a_4xx(workspace, store):
    member = MemberFactory(workspace=workspace, role="user")
    client = _client(member)
    url = f"/api/workspaces/{workspace.pk}/links/"
    assert client.get(url, {"product_id": "a\x00b"}).status_code == 400
    assert client.get(url, {"asset_id": "x" * 300}).status_code == 400
    assert client.get(url, {"store": "²"}).status_code == 404  # no such store
    assert client.get(url, {"store": "9" * 30}).status_code == 404
    assert client.get(url, {"store": store.shop_domain}).json()["count"] == 0
    for body in ([], "all", 3, {"all": "maybe"}, {"media_ids": ["a\x00"]}, {"nope": 1}):
        response = client.post(url + "unlink/", body, format="json")
        assert response.status_code == 400, (body, response.content)


def test_unlink_a_group_takes_the_links_of_its_assets_only(sandbox, linked, member, queue):
    store = linked[0]
    result = PlanStore.objects.filter(store=store).latest("pk")
    group = next(g for g in result.groups if g["matched"] and g["assets"])
    members = set(group["assets"])
    mine = LinkRecord.objects.filter(store=store, asset_id__in=members).exclude(product_id="")
    media = set(mine.values_list("media_id", flat=True))
    assert media
    client = _client(member)

    # Listed by group value (case-insensitive), in every store the group was linked in.
    url = f"/api/workspaces/{sandbox.workspace.pk}/links/"
    listed = client.get(url, {"group": group["value"].lower(), "store": store.shop_domain}).json()
    assert {
        link["media_id"] for link in listed["links"] if link["kind"] == "product_media"
    } == media
    assert {link["asset_id"] for link in listed["links"]} <= members

    others = set(LinkRecord.objects.exclude(media_id__in=media).values_list("store_id", "media_id"))
    [run] = _act(
        client,
        sandbox,
        queue,
        "unlink",
        {"stores": [store.shop_domain], "groups": [group["value"]]},
    )
    assert set(run.rows.values_list("media_id", flat=True)) == media
    in_galleries = {m["id"] for ms in gallery(sandbox, store).values() for m in ms}
    assert not in_galleries & media
    assert set(LinkRecord.objects.values_list("store_id", "media_id")) == others

    # A group value nothing was linked under matches nothing: a 400, nothing unlinked.
    _act(client, sandbox, queue, "unlink", {"groups": ["NO-SUCH-SKU"]}, expect=400)


def test_relinked_links_stay_in_their_group_filter(sandbox, linked, member, queue):
    """Issue 24, defect 2: an asset of a group gets a new version, its "Newer version" rows
    (listed by group) are re-linked: listed by group again, the links are there, current — and
    after the re-link is undone, the media it gave back are there too."""
    store = linked[0]
    result = PlanStore.objects.filter(store=store).latest("pk")
    group = next(g for g in result.groups if g["matched"] and g["assets"])
    client = _client(member)
    url = f"/api/workspaces/{sandbox.workspace.pk}/links/"
    query = {"group": group["value"], "store": store.shop_domain, "check_versions": "1"}

    def by_group() -> list[dict]:
        listed = client.get(url, query).json()["links"]
        return sorted(
            (link for link in listed if link["kind"] == "product_media"),
            key=lambda link: (link["product_id"], link["asset_id"]),
        )

    before = by_group()
    assert before
    asset_id = before[0]["asset_id"]
    requests.post(
        f"{sandbox.cloudinary_url}/_control/clouds/{sandbox.cloud}/assets/{asset_id}",
        json={},
        timeout=10,
    ).raise_for_status()
    outdated = [link for link in by_group() if link["status"] == "outdated"]
    assert outdated and {link["asset_id"] for link in outdated} == {asset_id}

    [run] = _act(
        client,
        sandbox,
        queue,
        "relink",
        {"stores": [store.shop_domain], "media_ids": [link["media_id"] for link in outdated]},
    )

    after = by_group()
    assert [(link["product_id"], link["asset_id"]) for link in after] == [
        (link["product_id"], link["asset_id"]) for link in before
    ]
    assert {link["status"] for link in after} == {"current"}
    relinked = {link["media_id"] for link in after} - {link["media_id"] for link in before}
    assert relinked == set(run.rows.filter(action="replaced").values_list("media_id", flat=True))
    # The API's other filters agree with the group's.
    by_asset = client.get(url, {"asset_id": asset_id, "store": store.shop_domain}).json()
    assert {link["media_id"] for link in by_asset["links"]} <= {link["media_id"] for link in after}

    _act_undo(client, run, queue)
    assert {link["media_id"] for link in by_group()} == {link["media_id"] for link in before}
