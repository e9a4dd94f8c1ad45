import pytest
from django.core.management import CommandError, call_command

from assetlink_project.errors import ApplicationError
from stores.dev_install import install_by_oauth
from stores.models import Store, Workspace
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def test_demo_install_runs_the_oauth_flow_into_a_workspace(shopify, workspace, capsys):
    MemberFactory(workspace=workspace, role="master_admin")
    call_command(
        "shopify_install",
        "demo-1.myshopify.com",
        "demo-2.myshopify.com",
        workspace=str(workspace.pk),
    )
    call_command("shopify_install", "demo-3.myshopify.com", workspace=workspace.name)
    stores = Store.objects.filter(workspace=workspace)
    assert [s.shop_domain for s in stores] == [f"demo-{n}.myshopify.com" for n in (1, 2, 3)]
    assert all(s.is_installed and s.refresh_token and not s.awaiting_master_admin for s in stores)
    assert Workspace.objects.count() == 1  # bound by the install's state: no other workspace
    assert "Installed demo-1.myshopify.com" in capsys.readouterr().out
    for store in stores:
        assert shopify.state.token_shop(store.access_token.reveal()).shop == store.shop_domain


def test_demo_install_refuses_real_shopify(settings):
    settings.SHOPIFY_ADMIN_BASE_URL = ""
    with pytest.raises(ApplicationError, match="sandbox only"):
        install_by_oauth("demo-1.myshopify.com")


def test_shopify_install_needs_the_workspace_named(shopify, workspace):
    with pytest.raises(CommandError, match=r"--workspace <id or name>.*Workspaces: \d+ \("):
        call_command("shopify_install", "demo-3.myshopify.com")
    with pytest.raises(CommandError, match="No workspace 'nope'"):
        call_command("shopify_install", "demo-3.myshopify.com", workspace="nope")
    assert not Store.objects.exists()


def test_shopify_install_into_a_new_workspace_as_from_shopify(shopify, workspace):
    call_command("shopify_install", "demo-3.myshopify.com", new_workspace=True)
    store = Store.objects.get(shop_domain="demo-3.myshopify.com")
    assert store.workspace != workspace and store.workspace.name == "demo-3"
    assert store.awaiting_master_admin


def test_a_store_of_another_workspace_is_not_moved(shopify, workspace):
    call_command("shopify_install", "demo-3.myshopify.com", new_workspace=True)
    with pytest.raises(CommandError, match="already connected to another AssetLink workspace"):
        call_command("shopify_install", "demo-3.myshopify.com", workspace=str(workspace.pk))
    assert Store.objects.get(shop_domain="demo-3.myshopify.com").workspace != workspace
