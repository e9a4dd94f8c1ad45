"""The page's picker API: assets with thumbnails by expression/folder/tags (paginated), the
groups of a selection in order, metadata fields, test connection, AI caption; members only."""

from __future__ import annotations

import pytest

from linking.picker_api import picker_expression
from tests.factories import MemberFactory
from tests.linking.plans.conftest import Sandbox, emulators, member, sandbox  # noqa: F401


def test_the_three_inputs_make_one_expression():
    assert picker_expression() == ""
    assert picker_expression(expression="tags=ss26", folder="/products/shoes/", tags="a, b") == (
        '(tags=ss26) AND (asset_folder="products/shoes" OR folder="products/shoes") '
        'AND tags="a" AND tags="b"'
    )
    assert picker_expression(folder='we"ird') == r'(asset_folder="we\"ird" OR folder="we\"ird")'


@pytest.fixture
def api(client, member):  # noqa: F811
    client.force_login(member.user)
    return client


def test_assets_come_with_thumbnails_and_a_cursor(api, sandbox):  # noqa: F811
    url = f"/api/workspaces/{sandbox.workspace.pk}/assets/"
    page = api.get(url).json()
    assert page["total_count"] == 40 and len(page["assets"]) == 40
    first = page["assets"][0]
    assert {"asset_id", "public_id", "metadata", "tags", "thumbnail_url"} <= set(first)
    assert "c_fill,w_160,h_160" in first["thumbnail_url"]
    folder = first["folder"]
    narrowed = api.get(url, {"folder": folder}).json()
    assert 0 < narrowed["total_count"] <= 40
    assert all(a["folder"] == folder for a in narrowed["assets"])


def test_groups_of_a_selection_follow_the_order_field(api, sandbox):  # noqa: F811
    ids = [a["asset_id"] for a in sandbox.assets()]
    response = api.post(
        f"/api/workspaces/{sandbox.workspace.pk}/selection/groups/",
        {
            "asset_ids": [*ids, "0" * 32],
            "cloudinary_field": "metadata:sku",
            "order_field": "metadata:sequence_number",
        },
        content_type="application/json",
    )
    data = response.json()
    assert response.status_code == 200, data
    assert data["missing_ids"] == ["0" * 32]
    assert data["groups"]
    for group in data["groups"]:
        numbers = [a["metadata"].get("sequence_number") for a in group["assets"]]
        present = [n for n in numbers if n is not None]
        assert present == sorted(present)
        assert all(a["metadata"].get("sku") == group["value"] for a in group["assets"])
    assert sum(len(g["assets"]) for g in data["groups"]) + len(data["ungrouped"]) >= len(ids) - 5


def test_metadata_fields_and_test_connection(api, sandbox):  # noqa: F811
    ws = sandbox.workspace.pk
    fields = {f["external_id"] for f in api.get(f"/api/workspaces/{ws}/metadata-fields/").json()}
    assert {"sku", "sequence_number"} <= fields
    check = api.post(f"/api/workspaces/{ws}/test-connection/").json()
    assert check["ok"] is True and sandbox.cloud in check["message"]


def test_a_bad_cloudinary_field_is_named(api, sandbox):  # noqa: F811
    response = api.post(
        f"/api/workspaces/{sandbox.workspace.pk}/selection/groups/",
        {"expression": "tags=x", "cloudinary_field": "nonsense"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "cloudinary_field" in response.json()


@pytest.mark.parametrize(
    "path",
    ["assets/", "metadata-fields/", "test-connection/", "selection/groups/"],
)
def test_other_workspaces_do_not_exist_for_you(client, sandbox, path):  # noqa: F811
    outsider = MemberFactory(role="master_admin")  # admin of another workspace
    client.force_login(outsider.user)
    url = f"/api/workspaces/{sandbox.workspace.pk}/{path}"
    response = client.get(url) if path in ("assets/", "metadata-fields/") else client.post(url)
    assert response.status_code == 404


def test_anonymous_requests_are_refused(client, sandbox):  # noqa: F811
    assert client.get(f"/api/workspaces/{sandbox.workspace.pk}/assets/").status_code == 401
