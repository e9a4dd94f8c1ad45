"""Setup refuses what Shopify or Cloudinary would (issue 24, defect 6): a swatch metafield
namespace of 2 characters saved, and the next run rolled back every product with Shopify's
TOO_SHORT. Each constrained value is checked when saved (API, service, Django admin — the model
fields' validators) with the rule in the message; the edges of Shopify's rules save."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict

from stores.models import WorkspaceSettings

pytestmark = pytest.mark.django_db

NAMESPACE_RULE = "Shopify's rule for a metafield namespace: 3 to 255 characters"
KEY_RULE = "Shopify's rule for a metafield key: 2 to 64 characters"
ALT_RULE = "Shopify's rule for alt text: at most 512 characters"

INVALID = [
    ("swatch_metafield_namespace", "ab", NAMESPACE_RULE),
    ("swatch_metafield_namespace", "a" * 256, NAMESPACE_RULE),
    ("swatch_metafield_namespace", "cloud.inary", NAMESPACE_RULE),
    ("swatch_metafield_key", "s", KEY_RULE),
    ("swatch_metafield_key", "s" * 65, KEY_RULE),
    ("swatch_metafield_key", "swatch image", KEY_RULE),
    ("alt_text_template", "{product.title} " + "x" * 500, ALT_RULE),
    ("default_image_transformation", "c_bogus,w_2048", "c_ takes a crop mode"),
    ("default_image_transformation", "c_limit,w_wide", "w_ takes a size in pixels"),
    ("default_transformation", "q_best", "q_ takes auto"),
    ("default_transformation", "f_exe", "f_ takes a format"),
    ("swatch_crop_transformation", "c_auto,g_auto/dpr_x", "dpr_ takes"),
]


def _patch(client, workspace, body):
    return client.patch(
        f"/api/workspaces/{workspace.pk}/setup/", body, content_type="application/json"
    )


@pytest.mark.parametrize("field,value,rule", INVALID)
def test_a_value_shopify_or_cloudinary_refuses_is_a_400_naming_the_field_and_rule(
    client, admin_user, workspace, field, value, rule
):
    client.force_login(admin_user)
    before = model_to_dict(WorkspaceSettings.objects.get(workspace=workspace))
    response = _patch(client, workspace, {field: value})
    assert response.status_code == 400, response.content
    assert set(response.json()) == {field}
    [message] = set(response.json()[field])
    assert rule in message
    if "transformation" in field:
        assert "Cloudinary syntax" in message
    assert model_to_dict(WorkspaceSettings.objects.get(workspace=workspace)) == before


@pytest.mark.parametrize(
    "field,value",
    [
        ("swatch_metafield_namespace", "abc"),
        ("swatch_metafield_namespace", "n" * 255),
        ("swatch_metafield_namespace", "my-app_swatches"),
        ("swatch_metafield_key", "sw"),
        ("swatch_metafield_key", "k" * 64),
        ("alt_text_template", "{product.title} " + "x" * (512 - 16)),
        ("default_image_transformation", "c_limit,w_2048,h_2048,q_auto:good,f_auto,dpr_2.0"),
        ("default_transformation", "c_fill,ar_16:9,w_iw_div_2,q_80"),
        ("swatch_crop_transformation", "c_auto,g_auto"),
    ],
)
def test_values_at_the_edges_of_the_rules_save(client, admin_user, workspace, field, value):
    client.force_login(admin_user)
    body = {field: value}
    if field == "alt_text_template":
        body["alt_text_source"] = "template"
    response = _patch(client, workspace, body)
    assert response.status_code == 200, response.content
    assert response.json()[field] == value
    assert getattr(WorkspaceSettings.objects.get(workspace=workspace), field) == value


def test_the_django_admin_refuses_them_too(client, admin_user, workspace):
    setup = WorkspaceSettings.objects.get(workspace=workspace)
    form = {
        k: ("" if v is None else v)
        for k, v in model_to_dict(setup, exclude=["id", "workspace"]).items()
        if v is not False
    }
    client.force_login(admin_user)
    url = f"/admin/stores/workspacesettings/{setup.pk}/change/"
    page = client.post(url, {**form, "swatch_metafield_namespace": "ab"})
    assert page.status_code == 200  # the form again, with the error
    assert NAMESPACE_RULE.replace("'", "&#x27;") in page.content.decode()
    setup.refresh_from_db()
    assert setup.swatch_metafield_namespace == "cloudinary"
    assert client.post(url, {**form, "swatch_metafield_namespace": "n" * 255}).status_code == 302
    setup.refresh_from_db()
    assert setup.swatch_metafield_namespace == "n" * 255
