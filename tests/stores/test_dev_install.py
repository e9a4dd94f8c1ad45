import pytest
from django.core.management import call_command

from assetlink_project.errors import ApplicationError
from stores.dev_install import install_by_oauth
from stores.models import Store, Workspace
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def test_demo_install_runs_the_oauth_flow_into_a_workspace(shopify, workspace, capsys):
    MemberFactory(workspace=workspace, role="master_admin")
    call_command(
        "shopify_install", "demo-1.myshopify.com", "demo-2.myshopify.com", workspace=workspace.pk
    )
    stores = Store.objects.filter(workspace=workspace)
    assert sorted(s.shop_domain for s in stores) == ["demo-1.myshopify.com", "demo-2.myshopify.com"]
    assert all(s.is_installed and s.refresh_token and not s.awaiting_master_admin for s in stores)
    assert Workspace.objects.count() == 1  # the per-install workspaces were folded in
    assert "Installed demo-1.myshopify.com" in capsys.readouterr().out
    for store in stores:
        assert shopify.state.token_shop(store.access_token.reveal()).shop == store.shop_domain


def test_demo_install_refuses_real_shopify(settings):
    settings.SHOPIFY_ADMIN_BASE_URL = ""
    with pytest.raises(ApplicationError, match="sandbox only"):
        install_by_oauth("demo-1.myshopify.com")
