"""Standalone login, and frame protection on every HTML response."""

import pytest

from stores.csp import directive
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NONE = ["'none'"]


def frame_ancestors(response):
    return directive(response["Content-Security-Policy"], "frame-ancestors")


def test_the_app_outside_shopify_asks_for_a_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_standalone_login_gives_the_same_pages_and_api(client, admin_member, store):
    user = admin_member.user
    response = client.post(
        "/login/", {"username": user.username, "password": "correct horse battery"}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert store.shop_domain.encode() in page.content
    assert b"Master Admin" in page.content
    assert b'aria-current="page">Setup' in page.content  # admins start on Setup
    session = client.get("/api/session/").json()
    assert session["method"] == "login" and session["store"] is None


def test_users_start_on_link_to_products(client, user_member):
    client.force_login(user_member.user)
    assert b'aria-current="page">Link to Products' in client.get("/").content


def test_wrong_password_stays_on_the_login_page(client):
    user = UserFactory()
    response = client.post("/login/", {"username": user.username, "password": "nope"})
    assert response.status_code == 200
    assert frame_ancestors(response) == NONE


@pytest.mark.parametrize("path", ["/login/", "/admin/login/", "/shopify/install?shop=bad"])
def test_html_outside_shopify_may_not_be_framed(client, path):
    response = client.get(path)
    assert response["Content-Type"].startswith("text/html")
    assert frame_ancestors(response) == NONE
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "query",
    [
        {"embedded": "1", "shop": "evil.example.com"},
        {"embedded": "1", "shop": "demo.myshopify.com https://evil.example.com"},
        {"embedded": "1"},
    ],
)
def test_embedded_requests_for_invalid_shops_may_not_be_framed(client, query):
    response = client.get("/shopify/bounce", query)
    assert frame_ancestors(response) == NONE
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_naming_a_shop_in_the_query_does_not_make_other_pages_frameable(client, path):
    response = client.get(path, {"embedded": "1", "shop": "attacker.myshopify.com", "host": "x"})
    assert frame_ancestors(response) == NONE
    assert response["X-Frame-Options"] == "DENY"


def test_embedded_html_may_be_framed_by_its_shop_and_the_admin_only(client):
    response = client.get("/shopify/bounce", {"embedded": "1", "shop": "Demo-1.myshopify.com"})
    assert frame_ancestors(response) == [
        "https://demo-1.myshopify.com",
        "https://admin.shopify.com",
    ]
    assert "X-Frame-Options" not in response


def test_json_api_responses_carry_no_frame_policy_but_401_carries_the_retry_header(client):
    response = client.get("/api/workspaces/")
    assert response.status_code == 401
    assert response["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert "Content-Security-Policy" not in response
