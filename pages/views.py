"""The app's page: one shell with the tabs Link to Products, Upload to Store Files, Setup and
Runs, embedded in the Shopify admin (App Bridge, session tokens) or standalone after login.

Authentication of the document load is `stores.views.app_page`'s; this module only renders.
Everything the tabs show comes from the HTTP API, so the page and automation see the same rules;
the choices of the page's selects come from the Python enums through the bootstrap JSON.
"""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_GET

from common.alt_text import ALT_SOURCE_CHOICES, ALT_SOURCES_WITH_FIELD, AltSource
from common.link_modes import DESTRUCTIVE_LINK_MODES, LINK_MODE_CHOICES, LINK_MODES_WITH_POSITION
from linking.core.catalog import SHOPIFY_FIELD_CHOICES, SHOPIFY_FIELD_FORMS
from stores.shopify.endpoints import app_bridge_fallback_url
from stores.views import app_page, home_context

TABS = [
    ("link", "Link to Products"),
    ("upload", "Upload to Store Files"),
    ("setup", "Setup"),
    ("runs", "Runs"),
]


def _choices(pairs, **flags) -> list[dict]:
    """``[{value, label, <flag>: bool…}]``: a flag is true for the values in its collection."""
    return [
        {"value": str(v), "label": str(label), **{k: v in within for k, within in flags.items()}}
        for v, label in pairs
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
        # Enum choices and what the page must know of them come from here only (the page's
        # JavaScript has no copies).
        "linkModes": _choices(
            LINK_MODE_CHOICES,
            destructive=DESTRUCTIVE_LINK_MODES,
            needsPosition=LINK_MODES_WITH_POSITION,
        ),
        "altSources": _choices(ALT_SOURCE_CHOICES, needsField=ALT_SOURCES_WITH_FIELD),
        "templateAltSource": str(AltSource.TEMPLATE),
        "shopifyFields": _choices(SHOPIFY_FIELD_CHOICES),
        "shopifyFieldForms": list(SHOPIFY_FIELD_FORMS),
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
        app_bridge_fallback=app_bridge_fallback_url() if store is not None else None,
        can_change_setup=any(row["is_admin"] for row in context["rows"]),
    )
    return render(request, "assetlink/app.html", context)


@require_GET
@app_page
def app(request):
    """The app home: embedded (session token in `id_token`) or after a standalone login."""
    scope = request.store_scope
    return _render(request, request.user, scope.store if scope else None)
