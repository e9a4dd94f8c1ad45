"""The app inside the Shopify admin: first load, token exchange, staff arrival, XHR auth."""

import time
from urllib.parse import parse_qs, urlparse

import pytest

from stores import services
from stores.csp import directive
from stores.models import Member, Role, ShopifyStaff, Store
from stores.shopify.endpoints import sandbox_admin_origin
from tests.stores.helpers import oauth_install, session_token


def frame_ancestors(response):
    return directive(response["Content-Security-Policy"], "frame-ancestors")


pytestmark = pytest.mark.django_db

SHOP = "demo-1.myshopify.com"
RETRY = "X-Shopify-Retry-Invalid-Session-Request"


def _load(client, shop=SHOP, token=None, **extra):
    params = {"embedded": "1", "shop": shop, "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZGVtby0x"}
    if token is not None:
        params["id_token"] = token
    return client.get("/", {**params, **extra})


def _xhr(client, token, path="/api/session/"):
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_first_embedded_load_exchanges_the_session_token_and_installs(client, shopify):
    response = _load(client, token=session_token(SHOP, sub="7"))

    assert response.status_code == 200
    store = Store.objects.get(shop_domain=SHOP)
    assert store.is_installed and store.access_token and store.refresh_token
    assert store.access_token_expires_at is not None
    assert shopify.state.token_shop(store.access_token.reveal()).shop == SHOP
    # The first staff member to open a newly installed store is its workspace's Master Admin.
    staff = ShopifyStaff.objects.get(store=store, shopify_user_id="7")
    assert Member.objects.get(user=staff.user).role == Role.MASTER_ADMIN
    assert b"Master Admin" in response.content
    # The shop's admin may frame it — and, with the sandbox, the emulator's admin frame.
    sandbox = sandbox_admin_origin()
    assert sandbox and frame_ancestors(response) == [
        f"https://{SHOP}",
        "https://admin.shopify.com",
        sandbox,
    ]
    assert "X-Frame-Options" not in response


def test_other_staff_arrive_as_users_and_the_admin_is_kept(client, shopify):
    _load(client, token=session_token(SHOP, sub="7"))
    response = _load(client, token=session_token(SHOP, sub="8"))
    assert response.status_code == 200
    roles = {
        s.shopify_user_id: Member.objects.get(user=s.user).role for s in ShopifyStaff.objects.all()
    }
    assert roles == {"7": Role.MASTER_ADMIN, "8": Role.USER}
    assert b"Setup is read-only for you" in response.content


def test_after_oauth_install_the_first_embedded_staff_is_master_admin(client, shopify):
    oauth_install(client, SHOP, shopify)
    token_before = Store.objects.get(shop_domain=SHOP).access_token
    assert _load(client, token=session_token(SHOP, sub="1")).status_code == 200
    store = Store.objects.get(shop_domain=SHOP)
    assert store.access_token == token_before  # a valid offline token: no exchange needed
    assert Member.objects.get(workspace=store.workspace).role == Role.MASTER_ADMIN


def test_document_load_without_token_goes_to_the_bounce_page(client, shopify):
    response = _load(client, extra="1")
    assert response.status_code == 302
    target = urlparse(response["Location"])
    assert target.path == "/shopify/bounce"
    query = parse_qs(target.query)
    assert query["shop"] == [SHOP]
    reload_to = query["shopify-reload"][0]
    assert reload_to.startswith("/?") and "id_token" not in reload_to and "extra=1" in reload_to

    bounce = client.get(response["Location"])
    assert bounce.status_code == 200
    assert b'<meta name="shopify-api-key" content="sandbox-api-key">' in bounce.content
    assert b"https://cdn.shopify.com/shopifycloud/app-bridge.js" in bounce.content
    # The emulator's stand-in only if Shopify's script does not load.
    assert (
        f'app-bridge-fallback.js" data-src="{sandbox_admin_origin()}/app-bridge.js"'.encode()
        in bounce.content
    )
    assert frame_ancestors(bounce) == [
        f"https://{SHOP}",
        "https://admin.shopify.com",
        sandbox_admin_origin(),
    ]


def test_in_production_only_shopify_frames_the_app_and_no_stand_in_loads(client, settings):
    settings.SHOPIFY_ADMIN_BASE_URL = ""
    bounce = client.get(f"/shopify/bounce?shop={SHOP}&host=x&embedded=1&shopify-reload=/")
    assert frame_ancestors(bounce) == [f"https://{SHOP}", "https://admin.shopify.com"]
    assert b"app-bridge.js" in bounce.content and b"app-bridge-fallback" not in bounce.content


@pytest.mark.parametrize(
    "claims",
    [
        lambda now: {"exp": now - 30},
        lambda now: {"nbf": now + 60},
        lambda now: {"aud": "another-app"},
    ],
    ids=["expired", "not-yet-valid", "wrong-aud"],
)
def test_document_load_with_a_stale_or_foreign_token_bounces(client, shopify, claims):
    response = _load(client, token=session_token(SHOP, **claims(int(time.time()))))
    assert response.status_code == 302
    assert response["Location"].startswith("/shopify/bounce?")
    assert not Store.objects.exists()


def test_document_load_with_another_shops_token_is_refused(client, shopify):
    response = _load(client, token=session_token("other.myshopify.com"))
    assert response.status_code == 401
    assert not Store.objects.exists()


def test_xhr_with_a_valid_session_token_is_scoped_to_its_store(client, shopify):
    _load(client, token=session_token(SHOP, sub="7"))
    response = _xhr(client, session_token(SHOP, sub="7"))
    assert response.status_code == 200
    assert response.json()["method"] == "session_token"
    assert response.json()["store"] == SHOP


@pytest.mark.parametrize(
    "token",
    [
        lambda now: None,
        lambda now: "not-a-jwt",
        lambda now: session_token(SHOP, exp=now - 30),
        lambda now: session_token(SHOP, nbf=now + 60),
        lambda now: session_token(SHOP, aud="another-app"),
        lambda now: session_token(SHOP, secret="forged"),
        lambda now: session_token(SHOP, iss="https://other.myshopify.com/admin"),
        lambda now: session_token("unknown-shop.myshopify.com"),
    ],
    ids=[
        "missing",
        "garbage",
        "expired",
        "not-yet-valid",
        "wrong-aud",
        "forged",
        "wrong-shop",
        "unknown-store",
    ],
)
def test_xhr_with_a_bad_session_token_gets_401_and_the_retry_header(client, shopify, token):
    _load(client, token=session_token(SHOP))
    token = token(int(time.time()))  # minted now, not at collection
    response = client.get("/api/session/") if token is None else _xhr(client, token)
    assert response.status_code == 401
    assert response[RETRY] == "1"


def test_store_uninstalled_mid_session_refuses_its_session_tokens(client, shopify):
    _load(client, token=session_token(SHOP, sub="7"))
    assert _xhr(client, session_token(SHOP, sub="7")).status_code == 200
    services.store_uninstall(shop_domain=SHOP)
    response = _xhr(client, session_token(SHOP, sub="7"))
    assert response.status_code == 401
    assert response[RETRY] == "1"
    store = Store.objects.get(shop_domain=SHOP)
    assert not store.access_token and not store.refresh_token


def test_expired_offline_token_is_replaced_on_the_next_document_load(client, shopify):
    _load(client, token=session_token(SHOP))
    store = Store.objects.get(shop_domain=SHOP)
    old = store.access_token
    Store.objects.filter(pk=store.pk).update(
        refresh_token="", access_token_expires_at="2000-01-01T00:00Z"
    )
    assert _load(client, token=session_token(SHOP)).status_code == 200
    store.refresh_from_db()
    assert store.access_token != old and store.refresh_token
