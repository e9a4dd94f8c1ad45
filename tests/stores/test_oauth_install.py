import logging
import time

import pytest
import requests
from django.db import connection

from stores import oauth, services
from stores.models import Member, OAuthState, Role, Store
from tests.stores.helpers import (
    install_query,
    oauth_install,
    query_of,
    session_token,
    sign_query,
)

pytestmark = pytest.mark.django_db

SHOP = "demo-1.myshopify.com"


def test_full_install_stores_an_expiring_offline_token(client, shopify):
    response = oauth_install(client, SHOP, shopify)

    assert response.status_code == 302
    # Back to the app inside the admin, from the signed `host` parameter.
    assert response["Location"] == "https://admin.shopify.com/store/demo-1/apps/sandbox-api-key"
    store = Store.objects.get(shop_domain=SHOP)
    assert store.is_installed
    assert store.access_token.reveal().startswith("shpat_")
    assert store.refresh_token.reveal().startswith("shprt_")
    assert store.access_token_expires_at is not None
    assert store.refresh_token_expires_at > store.access_token_expires_at
    assert store.scopes == "read_products,write_products,read_files,write_files"
    assert store.awaiting_master_admin  # the installer is known on first embedded load
    # The token works against the emulator's Admin API, and is encrypted at rest.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token, refresh_token FROM stores_store WHERE id = %s", [store.pk]
        )
        raw_access, raw_refresh = cursor.fetchone()
    assert raw_access and store.access_token.reveal() not in raw_access
    assert raw_refresh and store.refresh_token.reveal() not in raw_refresh
    assert shopify.state.token_shop(store.access_token.reveal()).shop == SHOP


def test_install_redirect_carries_scopes_callback_and_single_use_state(client, shopify, settings):
    response = client.get("/shopify/install", install_query(SHOP))
    params = query_of(response["Location"])
    assert params["client_id"] == settings.SHOPIFY_API_KEY
    assert params["scope"] == settings.SHOPIFY_SCOPES
    assert params["redirect_uri"] == settings.APP_URL + "/shopify/callback"
    assert OAuthState.objects.get(nonce=params["state"]).shop_domain == SHOP
    assert response.cookies["assetlink_oauth_state"]["httponly"]


def test_install_lower_cases_the_shop(client, shopify):
    response = client.get("/shopify/install", install_query("Demo-1.MyShopify.com"))
    assert response.status_code == 302
    assert f"/{SHOP}/admin/oauth/authorize" in response["Location"]


@pytest.mark.parametrize(
    "shop",
    [
        "demo.example.com",
        "-demo.myshopify.com",
        "demo.myshopify.com.evil.io",
        "",
        "de mo.myshopify.com",
        "demo.myshopify.com/admin",
    ],
)
def test_install_refuses_shops_that_are_not_myshopify_domains(client, shop):
    response = client.get("/shopify/install", install_query(shop))
    assert response.status_code == 400
    assert b"myshopify.com" in response.content
    assert not OAuthState.objects.exists()


def test_install_with_forged_hmac_is_refused(client):
    params = install_query(SHOP)
    params["hmac"] = sign_query({"shop": SHOP, "timestamp": params["timestamp"]}, "wrong")["hmac"]
    assert client.get("/shopify/install", params).status_code == 400
    unsigned = {"shop": SHOP, "timestamp": params["timestamp"]}
    assert client.get("/shopify/install", unsigned).status_code == 400
    tampered = {**install_query(SHOP), "shop": "other.myshopify.com"}
    assert client.get("/shopify/install", tampered).status_code == 400
    assert not OAuthState.objects.exists()


@pytest.mark.parametrize("offset", [-91, 100, -3600])  # +100: still outside a second later
def test_install_outside_the_timestamp_window_is_refused(client, offset):
    params = sign_query({"shop": SHOP, "timestamp": str(int(time.time()) + offset)})
    response = client.get("/shopify/install", params)
    assert response.status_code == 400
    assert b"expired" in response.content


def test_query_hmac_covers_repeated_keys_like_shopify():
    params = {"ids[]": ["1", "2"], "shop": [SHOP]}
    message = 'ids[]=["1", "2"]&shop=' + SHOP
    import hashlib
    import hmac

    expected = hmac.new(b"sandbox-api-secret", message.encode(), hashlib.sha256).hexdigest()
    assert oauth.query_hmac(params) == expected


def _approved_callback(client, shopify, shop=SHOP):
    start = client.get("/shopify/install", install_query(shop))
    approved = requests.post(start["Location"], allow_redirects=False, timeout=10)
    return query_of(approved.headers["Location"])


def test_replayed_callback_is_refused(client, shopify):
    params = _approved_callback(client, shopify)
    assert client.get("/shopify/callback", params).status_code == 302
    replay = client.get("/shopify/callback", params)
    assert replay.status_code == 400
    assert b"already used" in replay.content


def test_callback_from_another_browser_is_refused(client, shopify, django_user_model):
    from django.test import Client

    params = _approved_callback(client, shopify)
    assert Client().get("/shopify/callback", params).status_code == 400
    assert not Store.objects.exists()


def test_callback_with_forged_hmac_or_swapped_shop_is_refused(client, shopify):
    params = _approved_callback(client, shopify)
    forged = {**params, "code": "attacker-code"}
    assert client.get("/shopify/callback", forged).status_code == 400
    other = {k: v for k, v in params.items() if k != "hmac"}
    other["shop"] = "other.myshopify.com"
    assert client.get("/shopify/callback", sign_query(other)).status_code == 400
    assert not Store.objects.exists()


def test_callback_with_a_refused_code_shows_a_clear_error(client, shopify):
    params = _approved_callback(client, shopify)
    params = sign_query({**{k: v for k, v in params.items() if k != "hmac"}, "code": "nope"})
    response = client.get("/shopify/callback", params)
    assert response.status_code == 502
    assert b"refused the install" in response.content
    assert not Store.objects.exists()


def test_reinstall_reactivates_the_store_in_its_workspace(client, shopify):
    oauth_install(client, SHOP, shopify)
    store = Store.objects.get(shop_domain=SHOP)
    services.store_uninstall(shop_domain=SHOP)
    oauth_install(client, SHOP, shopify)
    again = Store.objects.get(shop_domain=SHOP)
    assert again.pk == store.pk and again.workspace_id == store.workspace_id
    assert again.is_installed and again.access_token


def test_logged_in_installer_becomes_master_admin(client, shopify, django_user_model):
    user = django_user_model.objects.create_user("merchant", password="pw-12345678")
    client.force_login(user)
    oauth_install(client, SHOP, shopify)
    store = Store.objects.get(shop_domain=SHOP)
    assert Member.objects.get(user=user, workspace=store.workspace).role == Role.MASTER_ADMIN
    assert not store.awaiting_master_admin


def test_refresh_rotates_tokens_through_the_emulator(client, shopify):
    oauth_install(client, SHOP, shopify)
    store = Store.objects.get(shop_domain=SHOP)
    old_access, old_refresh = store.access_token.reveal(), store.refresh_token.reveal()

    grant = oauth.refresh_offline_token(SHOP, old_refresh)
    services.store_save_grant(store=store, grant=grant)

    store.refresh_from_db()
    assert store.access_token.reveal() not in ("", old_access)
    assert store.refresh_token.reveal() not in ("", old_refresh)
    assert store.access_token_expires_at is not None
    with pytest.raises(oauth.OAuthError, match="refused to refresh") as exc:
        oauth.refresh_offline_token(SHOP, old_refresh)  # rotated: the old one is spent
    assert old_refresh not in str(exc.value)


def test_nothing_in_the_logs_or_pages_of_an_install_shows_a_token_or_secret(
    client, shopify, caplog, settings
):
    caplog.set_level(logging.DEBUG)
    secrets = [settings.SHOPIFY_API_SECRET]

    # OAuth install, then a refresh (rotation)
    pages = [oauth_install(client, SHOP, shopify)]
    store = Store.objects.get(shop_domain=SHOP)
    secrets += [store.access_token.reveal(), store.refresh_token.reveal()]
    grant = oauth.refresh_offline_token(SHOP, store.refresh_token.reveal())
    services.store_save_grant(store=store, grant=grant)
    secrets += [grant.access_token, grant.refresh_token]
    assert grant.access_token not in repr(grant) and grant.refresh_token not in repr(grant)

    # Shopify-managed install of another shop: embedded load with token exchange, then XHRs
    other = "demo-2.myshopify.com"
    token = session_token(other, sub="5")
    secrets.append(token)
    pages.append(client.get("/", {"embedded": "1", "shop": other, "id_token": token}))
    pages.append(client.get("/api/session/", HTTP_AUTHORIZATION=f"Bearer {token}"))
    stale = session_token(other, exp=int(time.time()) - 60)
    secrets.append(stale)
    pages.append(client.get("/", {"embedded": "1", "shop": other, "id_token": stale}))
    pages.append(client.get("/api/session/", HTTP_AUTHORIZATION=f"Bearer {stale}"))
    exchanged = Store.objects.get(shop_domain=other)
    secrets += [exchanged.access_token.reveal(), exchanged.refresh_token.reveal()]

    # Error pages: a refused callback, a refused refresh
    pages.append(client.get("/shopify/callback", {"shop": SHOP, "code": "x"}))
    with pytest.raises(oauth.OAuthError) as refused:
        oauth.refresh_offline_token(SHOP, secrets[2])  # already rotated
    secrets += [*shopify.state.tokens, *shopify.state.refresh_tokens]

    logged = "\n".join(
        f"{r.getMessage()} {r.args!r} {r.__dict__.get('exc_text') or ''}" for r in caplog.records
    )
    assert "installed" in logged and "Token refresh for" in logged  # it was logged at all
    assert len(secrets) > 10
    for secret in secrets:
        assert secret not in logged
        assert secret not in str(refused.value)
        for page in pages:
            assert secret.encode() not in page.content
            assert all(secret not in value for _, value in page.items())


def test_installing_a_known_store_while_logged_in_joins_no_workspace(
    client, shopify, django_user_model
):
    """Issue 25, hole 2: a user logged in to workspace 1 who completes a Shopify-signed
    install of a store of workspace 2 does not become a member of workspace 2."""
    oauth_install(client, SHOP, shopify)
    store = Store.objects.get(shop_domain=SHOP)
    other = services.workspace_create(name="Workspace 1", owner=None)
    user = django_user_model.objects.create_user("tenant-1-user", password="pw-12345678")
    Member.objects.create(user=user, workspace=other, role=Role.USER)
    client.force_login(user)
    response = oauth_install(client, SHOP, shopify)
    assert response.status_code == 302
    assert not Member.objects.filter(user=user, workspace=store.workspace).exists()
    assert list(Member.objects.filter(user=user).values_list("workspace", flat=True)) == [other.pk]
    assert client.get(f"/api/workspaces/{store.workspace_id}/").status_code == 404
