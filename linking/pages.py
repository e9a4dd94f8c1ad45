"""The app's page: one shell with the tabs Link to Products, Upload to Store Files, Setup and
Runs, embedded in the Shopify admin (App Bridge, session tokens) or standalone after login.

Authentication of the document load is `stores.views.app_page`'s; this module only renders. Everything the tabs show comes from the HTTP API, so the page and
automation see the same rules.
"""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_GET

from linking.core.catalog import SHOPIFY_FIELD_CHOICES
from linking.models import AltSource
from stores.models import AltTextSource, LinkMode
from stores.views import app_page, home_context

TABS = [
    ("link", "Link to Products"),
    ("upload", "Upload to Store Files"),
    ("setup", "Setup"),
    ("runs", "Runs"),
]


def _choices(pairs) -> list[dict]:
    return [{"value": str(v), "label": str(label)} for v, label in pairs]


def _bootstrap(context: dict) -> dict:
    """What the page's JavaScript starts from (the rest it reads from the API)."""
    store = context["embedded_store"]
    return {
        "embedded": store is not None,
        "shop": store.shop_domain if store else None,
        "apiKey": settings.SHOPIFY_API_KEY,
        "user": context["user"].get_username(),
        "firstTab": "setup" if context["first_tab"] == "Setup" else "link",
        "linkModes": _choices(LinkMode.choices),
        # Enum choices come from here only (the page has no copies).
        "altSources": _choices(AltSource.choices),
        "setupAltSources": _choices(AltTextSource.choices),
        "shopifyFields": _choices(SHOPIFY_FIELD_CHOICES),
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
    context = home_context(request, user, store)
    first = "setup" if context["first_tab"] == "Setup" else "link"
    context.update(
        tabs=[{"slug": slug, "label": label, "first": slug == first} for slug, label in TABS],
        bootstrap=_bootstrap(context),
        can_change_setup=any(row["is_admin"] for row in context["rows"]),
    )
    return render(request, "assetlink/app.html", context)


@require_GET
@app_page
def app(request):
    """The app home: embedded (session token in `id_token`) or after a standalone login."""
    scope = request.store_scope
    return _render(request, request.user, scope.store if scope else None)
