"""Setup's alt text source has the one spelling plans and upload batches use (`keep_shopify`);
the old one (`keep`) is still accepted on input and stored rows are migrated to the new one."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from rest_framework.test import APIClient

from stores.models import WorkspaceSettings
from stores.services import settings_for


def _client(member) -> APIClient:
    client = APIClient()
    client.force_authenticate(member.user)
    return client


@pytest.mark.django_db
def test_setup_speaks_keep_shopify_and_takes_the_old_keep(admin_member):
    url = f"/api/workspaces/{admin_member.workspace_id}/setup/"
    client = _client(admin_member)
    assert client.get(url).json()["alt_text_source"] == "keep_shopify"  # the default
    changed = client.patch(url, {"alt_text_source": "metadata", "alt_text_field": "alt"})
    assert changed.status_code == 200, changed.json()
    response = client.patch(url, {"alt_text_source": "keep"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["alt_text_source"] == "keep_shopify"
    assert settings_for(admin_member.workspace).alt_text_source == "keep_shopify"


@pytest.mark.django_db
def test_an_unknown_alt_text_source_is_a_400_naming_the_field(admin_member):
    url = f"/api/workspaces/{admin_member.workspace_id}/setup/"
    response = _client(admin_member).patch(url, {"alt_text_source": "kep"}, format="json")
    assert response.status_code == 400
    assert "alt_text_source" in response.json()


@pytest.mark.django_db(transaction=True)
def test_the_migration_respells_stored_keep_and_back():
    before = [("stores", "0007_shop_domain_one_dns_label")]
    after = [("stores", "0008_alt_text_source_one_spelling")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    workspace = old.get_model("stores", "Workspace").objects.create(name="W")
    old.get_model("stores", "WorkspaceSettings").objects.create(
        workspace=workspace, alt_text_source="keep"
    )
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    assert WorkspaceSettings.objects.get(workspace_id=workspace.pk).alt_text_source == (
        "keep_shopify"
    )
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    back = executor.loader.project_state(before).apps.get_model("stores", "WorkspaceSettings")
    assert back.objects.get(workspace_id=workspace.pk).alt_text_source == "keep"
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
