"""Secrets are encrypted at rest and never shown in clear."""

import logging

import pytest
from django.db import connection

from assetlink_project.logging import redact
from stores.models import Store, Workspace
from stores.secrets import MASK, Secret
from tests.factories import StoreFactory


@pytest.mark.django_db
def test_token_round_trips_and_the_column_is_not_plaintext():
    store = StoreFactory(access_token="shpat_supersecret123456", refresh_token="shprt_refresh98765")
    fresh = Store.objects.get(pk=store.pk)
    assert fresh.access_token.reveal() == "shpat_supersecret123456"
    assert fresh.refresh_token.reveal() == "shprt_refresh98765"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token, refresh_token FROM stores_store WHERE id = %s", [store.pk]
        )
        raw_access, raw_refresh = cursor.fetchone()
    assert "supersecret" not in raw_access and raw_access.startswith("gAAAA")
    assert "refresh98765" not in raw_refresh


@pytest.mark.django_db
def test_workspace_api_secret_is_encrypted(workspace):
    workspace.cloudinary_api_secret = "cloud-secret-xyz"
    workspace.save()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT cloudinary_api_secret FROM stores_workspace WHERE id = %s", [workspace.pk]
        )
        (raw,) = cursor.fetchone()
    assert "cloud-secret-xyz" not in raw
    assert (
        Workspace.objects.get(pk=workspace.pk).cloudinary_api_secret.reveal() == "cloud-secret-xyz"
    )


def test_secret_never_prints_its_value():
    secret = Secret("shpat_abc")
    assert str(secret) == MASK
    assert "abc" not in repr(secret)
    assert "abc" not in f"{secret}"
    assert secret.reveal() == "shpat_abc"


@pytest.mark.django_db
def test_assigned_plain_string_is_wrapped(store):
    store.access_token = "shpat_plain"
    assert isinstance(store.access_token, Secret)
    assert str(store.access_token) == MASK


def test_log_filter_masks_tokens(caplog):
    logger = logging.getLogger("assetlink.test")
    from assetlink_project.logging import RedactSecretsFilter

    logger.addFilter(RedactSecretsFilter())
    with caplog.at_level(logging.INFO, logger="assetlink.test"):
        logger.info("exchanged token %s with access_token=%s", "shpat_0123456789abcdef", "zzz")
    assert "0123456789abcdef" not in caplog.text
    assert "zzz" not in caplog.text
    assert redact('{"refresh_token": "shprt_x1y2z3w4v5u6"}').count("x1y2") == 0


@pytest.mark.django_db
def test_store_admin_page_does_not_render_tokens(client, store, workspace):
    from tests.factories import MemberFactory

    store.access_token = "shpat_visible_if_broken_42"
    store.save()
    member = MemberFactory(workspace=workspace, role="master_admin")
    client.force_login(member.user)
    response = client.get(f"/admin/stores/store/{store.pk}/change/")
    assert response.status_code == 200
    assert b"shpat_visible_if_broken_42" not in response.content
    assert b"(set)" in response.content
