"""Refreshing a store's expiring offline token against the emulator."""

from datetime import timedelta

import pytest
from django.utils import timezone

from assetlink_project.errors import ApplicationError
from stores import services
from stores.models import Store
from tests.stores.helpers import oauth_install

pytestmark = pytest.mark.django_db

SHOP = "demo-1.myshopify.com"


@pytest.fixture
def installed(client, shopify):
    oauth_install(client, SHOP, shopify)
    return Store.objects.get(shop_domain=SHOP)


def test_a_fresh_token_is_not_refreshed(installed):
    before = installed.access_token
    assert services.store_refresh_access_token(store_id=installed.pk).access_token == before


def test_an_expiring_token_is_refreshed_and_the_refresh_token_rotated(installed, shopify):
    Store.objects.filter(pk=installed.pk).update(
        access_token_expires_at=timezone.now() + timedelta(seconds=30)
    )
    store = services.store_refresh_access_token(store_id=installed.pk)
    assert store.access_token != installed.access_token
    assert store.refresh_token != installed.refresh_token
    assert store.access_token_expires_at > timezone.now() + timedelta(minutes=50)
    assert shopify.state.token_shop(store.access_token.reveal()).shop == SHOP
    # A second caller (another worker) finds it fresh and does not spend the new refresh token.
    again = services.store_refresh_access_token(store_id=installed.pk)
    assert again.refresh_token == store.refresh_token


def test_an_uninstalled_store_is_not_refreshed(installed):
    services.store_uninstall(shop_domain=SHOP)
    with pytest.raises(ApplicationError, match="reconnect"):
        services.store_refresh_access_token(store_id=installed.pk)


def test_a_refused_refresh_leaves_the_store_as_it_was(installed, shopify):
    Store.objects.filter(pk=installed.pk).update(
        access_token_expires_at=timezone.now() - timedelta(seconds=1)
    )
    shopify.state.refresh_tokens.clear()  # Shopify no longer knows the refresh token
    with pytest.raises(ApplicationError, match="refused to refresh"):
        services.store_refresh_access_token(store_id=installed.pk)
    assert Store.objects.get(pk=installed.pk).refresh_token == installed.refresh_token
