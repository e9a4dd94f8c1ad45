"""Issue 25, holes 4 and 6 (input): what a request may carry that the app cannot use is a 400
naming the field, never a 500 or a secret in an error."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assetlink_project.parsers import nul_location
from linking.models import Plan
from tests.factories import MemberFactory, StoreFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("test", [False, True], ids=["save", "test"])
@pytest.mark.parametrize(("field", "value"), [("api_key", "ключ"), ("api_secret", "s€cret-value")])
def test_a_non_latin_cloudinary_credential_is_a_400_naming_the_field(client, test, field, value):
    workspace = WorkspaceFactory()
    client.force_login(MemberFactory(workspace=workspace, role="technical_admin").user)
    body = {"cloud_name": "demo", "api_key": "123456", "api_secret": "abc-DEF_123", field: value}
    url = f"/api/workspaces/{workspace.pk}/cloudinary/" + ("test/" if test else "")
    response = (client.post if test else client.put)(url, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == [field]
    assert value not in response.content.decode()


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"manual_orders": {"sku\x00-1": ["asset-1"]}}, "a key at manual_orders"),
        ({"alt_overrides": {"asset\x00": "Front view"}}, "a key at alt_overrides"),
        ({"alt_overrides": {"asset-1": "Front\x00view"}}, "a value at alt_overrides.asset-1"),
        ({"excluded_groups": ["ok", "b\x00d"]}, "a value at excluded_groups[1]"),
    ],
    ids=["manual_orders key", "alt_overrides key", "alt_overrides value", "list value"],
)
def test_a_nul_character_in_a_plan_key_or_value_is_a_400_naming_where(client, change, where):
    # PostgreSQL stores neither text nor jsonb with U+0000: refused before any service sees it.
    workspace = WorkspaceFactory()
    store = StoreFactory(workspace=workspace)
    client.force_login(MemberFactory(workspace=workspace, role="technical_admin").user)
    body = {"asset_ids": ["asset-1"], "stores": [store.shop_domain], **change}
    response = client.post(
        f"/api/workspaces/{workspace.pk}/plans/", body, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert where in response.json()["detail"]
    assert not Plan.objects.exists()


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=6)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)


@given(_json)
def test_nul_location_finds_a_nul_exactly_when_the_json_holds_one(value):
    # Pure core of the parser's rule: any key or value, at any depth.
    escapes = json.dumps(value).replace("\\\\", "")  # an escaped backslash is not an escape
    assert (nul_location(value) is None) == ("\\u0000" not in escapes)
