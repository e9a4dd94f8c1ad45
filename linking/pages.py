"""The app's page: one shell with the tabs Link to Products, Upload to Store Files, Setup and
Runs, embedded in the Shopify admin (App Bridge, session tokens) or standalone after login.

Authentication of the document load is the install/auth code's (`stores.views`): this view only
swaps the page it renders. Everything the tabs show comes from the HTTP API, so the page and
automation see the same rules.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET

from assetlink_project.errors import ApplicationError
from stores import oauth, services, session_tokens
from stores import views as store_views
from stores.models import LinkMode

TABS = [
    ("link", "Link to Products"),
    ("upload", "Upload to Store Files"),
    ("setup", "Setup"),
    ("runs", "Runs"),
]


def _bootstrap(context: dict) -> dict:
    """What the page's JavaScript starts from (the rest it reads from the API)."""
    store = context["embedded_store"]
    return {
        "embedded": store is not None,
        "shop": store.shop_domain if store else None,
        "apiKey": settings.SHOPIFY_API_KEY,
        "user": context["user"].get_username(),
        "firstTab": "setup" if context["first_tab"] == "Setup" else "link",
        "linkModes": [{"value": v, "label": label} for v, label in LinkMode.choices],
        "workspaces": [
            {
                "id": row["workspace"].pk,
                "name": row["workspace"].name,
                "cloudName": row["workspace"].cloudinary_cloud_name,
                "role": row["role"],
                "isAdmin": row["is_admin"],
                "stores": [
                    {
                        "id": s.pk,
                        "domain": s.shop_domain,
                        "name": s.name or s.shop_domain.split(".")[0],
                        "installed": s.is_installed,
                    }
                    for s in row["stores"]
                ],
            }
            for row in context["rows"]
        ],
    }


def _render(request, user, store=None):
    context = store_views._home_context(request, user, store)
    first = "setup" if context["first_tab"] == "Setup" else "link"
    context.update(
        tabs=[{"slug": slug, "label": label, "first": slug == first} for slug, label in TABS],
        bootstrap=_bootstrap(context),
        can_change_setup=any(row["is_admin"] for row in context["rows"]),
    )
    return render(request, "assetlink/app.html", context)


@sensitive_variables("raw_token", "token")
@require_GET
def app(request):
    """The app home: embedded (session token in `id_token`) or after a standalone login."""
    if not store_views._is_embedded_request(request):
        if not request.user.is_authenticated:
            return auth_views.redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return _render(request, request.user)

    shop = oauth.normalize_shop(request.GET.get("shop"))
    if shop is None:
        return store_views._error_page(request, "Open AssetLink from your store's Shopify admin.")
    request.embedded_shop = shop  # frameable by this shop's admin (stores.middleware)
    raw_token = request.GET.get("id_token")
    if not raw_token:
        return store_views._bounce(request, shop)
    try:
        token = session_tokens.decode(raw_token)
    except session_tokens.InvalidSessionToken:
        return store_views._bounce(request, shop)
    if token.shop != shop:
        return store_views._error_page(request, "This link belongs to another store.", status=401)
    try:
        store, user = services.session_token_arrive(token, allow_exchange=True)
    except ApplicationError as exc:
        return store_views._error_page(
            request,
            f"AssetLink could not connect to {shop}: {exc.message} "
            "Open the app again from your Shopify admin.",
            status=401,
        )
    return _render(request, user, store)
