"""Pages: OAuth install and callback, the webhook endpoint, the app home (embedded or logged
in), the session-token bounce page, standalone login."""

from __future__ import annotations

import base64
import binascii
import logging
import re
from datetime import timedelta
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_POST

from assetlink_project.errors import ApplicationError
from stores import oauth, permissions, selectors, services, session_tokens, webhooks
from stores.models import OAuthState
from stores.principals import StoreScope
from stores.shopify import endpoints
from stores.shopify.endpoints import app_bridge_fallback_url

logger = logging.getLogger(__name__)

STATE_COOKIE = "assetlink_oauth_state"
STATE_COOKIE_SALT = "stores.oauth.state"
STATE_MAX_AGE_SECONDS = services.OAUTH_STATE_MAX_AGE_SECONDS
_HOST_RE = re.compile(r"^admin\.shopify\.com/store/[a-z0-9][a-z0-9-]*$")


def _error_page(request, message: str, status: int = 400) -> HttpResponse:
    return render(request, "stores/error.html", {"message": message}, status=status)


def _callback_url() -> str:
    return settings.APP_URL.rstrip("/") + "/shopify/callback"


def _query(request) -> dict[str, list[str]]:
    return {key: request.GET.getlist(key) for key in request.GET}


def _check_signed_query(request) -> tuple[str | None, str | None]:
    """(shop, None) for a Shopify-signed, fresh request, else (None, reason)."""
    shop = oauth.normalize_shop(request.GET.get("shop"))
    if shop is None:
        return None, "The shop must be a myshopify.com domain, e.g. my-shop.myshopify.com."
    if not oauth.query_hmac_is_valid(_query(request)):
        logger.warning("Rejected %s for %s: bad query HMAC", request.path, shop)
        return None, "This link is not signed by Shopify. Start the install from Shopify."
    if not oauth.timestamp_is_fresh(request.GET.get("timestamp")):
        logger.warning("Rejected %s for %s: stale timestamp", request.path, shop)
        return None, "This link has expired. Start the install again from Shopify."
    return shop, None


@require_GET
def install(request):
    """Start the authorization-code grant (non-embedded installs, e.g. from a Shopify link)."""
    shop, problem = _check_signed_query(request)
    if problem:
        return _error_page(request, problem)
    state = services.oauth_state_create(shop_domain=shop, user=request.user)
    response = HttpResponseRedirect(authorize_url(state))
    set_state_cookie(response, request, state)
    logger.info("Install of %s started", shop)
    return response


def authorize_url(state: OAuthState) -> str:
    """Where the shop's admin asks the merchant to approve the install."""
    query = urlencode(
        {
            "client_id": settings.SHOPIFY_API_KEY,
            "scope": settings.SHOPIFY_SCOPES,
            "redirect_uri": _callback_url(),
            "state": state.nonce,
        }
    )
    return f"{endpoints.oauth_authorize_url(state.shop_domain)}?{query}"


def set_state_cookie(response, request, state: OAuthState) -> None:
    """The state is also bound to this browser: a callback from another browser is refused."""
    response.set_signed_cookie(
        STATE_COOKIE,
        state.nonce,
        salt=STATE_COOKIE_SALT,
        max_age=STATE_MAX_AGE_SECONDS,
        httponly=True,
        secure=request.is_secure(),
        samesite="Lax",
    )


def _admin_app_url(shop: str, host: str | None) -> str:
    """Where Shopify shows the embedded app: from the signed `host` param, else the shop."""
    if host:
        try:
            decoded = base64.b64decode(host + "=" * (-len(host) % 4), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        if _HOST_RE.match(decoded) or decoded == f"{shop}/admin":
            return f"https://{decoded}/apps/{settings.SHOPIFY_API_KEY}"
    return f"https://{shop}/admin/apps/{settings.SHOPIFY_API_KEY}"


@sensitive_variables("grant")
@require_GET
def callback(request):
    shop, problem = _check_signed_query(request)
    if problem:
        return _error_page(request, problem)
    nonce = request.GET.get("state", "")
    cookie = request.get_signed_cookie(
        STATE_COOKIE, default=None, salt=STATE_COOKIE_SALT, max_age=STATE_MAX_AGE_SECONDS
    )
    fresh_after = timezone.now() - timedelta(seconds=STATE_MAX_AGE_SECONDS)
    used = (
        OAuthState.objects.filter(
            nonce=nonce, shop_domain=shop, used_at__isnull=True, created_at__gte=fresh_after
        ).update(used_at=timezone.now())
        if nonce and cookie == nonce
        else 0
    )
    if used != 1:
        logger.warning("Rejected callback for %s: unknown, used or foreign state", shop)
        return _error_page(
            request,
            "This install link was already used or was not started in this browser. "
            "Start the install again from Shopify.",
        )
    state = OAuthState.objects.select_related("user", "workspace").get(nonce=nonce)
    try:
        if state.workspace is not None:  # connected from Setup: checked before any token
            services.store_connect_finish_check(
                user=state.user, workspace=state.workspace, shop_domain=shop
            )
        grant = oauth.exchange_code(shop, request.GET.get("code", ""))
        store = services.store_install(
            shop_domain=shop, grant=grant, installer=state.user, workspace=state.workspace
        )
    except oauth.OAuthError as exc:
        return _error_page(request, exc.message, status=502)
    except ApplicationError as exc:
        return _error_page(request, exc.message, status=exc.status_code)
    logger.info("Store %s installed by OAuth (scopes %s)", store.shop_domain, store.scopes)
    if state.workspace is not None:  # back to Setup, where the admin started
        response = HttpResponseRedirect(f"/?{urlencode({'connected': shop})}#setup")
    else:
        response = HttpResponseRedirect(_admin_app_url(shop, request.GET.get("host")))
    response.delete_cookie(STATE_COOKIE)
    return response


@csrf_exempt
@require_POST
def webhook(request):
    result = webhooks.handle(body=request.body, headers=request.headers)
    return HttpResponse(result.message, status=result.status, content_type="text/plain")


def _bounce(request, shop: str) -> HttpResponse:
    """Send a document load without a valid session token to the bounce page, which lets
    App Bridge fetch a fresh token and reload `shopify-reload` with it."""
    query = request.GET.copy()
    query.pop("id_token", None)
    reload_path = request.path + (f"?{query.urlencode()}" if query else "")
    bounce_query = urlencode(
        {
            "shop": shop,
            "host": request.GET.get("host", ""),
            "embedded": "1",
            "shopify-reload": reload_path,
        }
    )
    return HttpResponseRedirect(f"/shopify/bounce?{bounce_query}")


@require_GET
def bounce(request):
    request.embedded_shop = oauth.normalize_shop(request.GET.get("shop"))
    return render(
        request,
        "stores/bounce.html",
        {"api_key": settings.SHOPIFY_API_KEY, "app_bridge_fallback": app_bridge_fallback_url()},
    )


def _is_embedded_request(request) -> bool:
    query = request.GET
    return query.get("embedded") == "1" or "id_token" in query or "host" in query


def home_context(request, user, scope_store=None) -> dict:
    scope = None if scope_store is None else StoreScope(store=scope_store, method="session_token")
    workspaces = selectors.workspaces_for(user, scope)
    rows = []
    for workspace in workspaces.prefetch_related("stores"):
        member = permissions.membership(user, workspace)
        rows.append(
            {
                "workspace": workspace,
                "stores": [
                    s
                    for s in workspace.stores.all()
                    if scope_store is None or s.pk == scope_store.pk
                ],
                "role": member.get_role_display() if member else "Superuser",
                "is_admin": permissions.can_change_setup(user, workspace),
            }
        )
    is_admin = any(row["is_admin"] for row in rows)
    return {
        "rows": rows,
        "user": user,
        "first_tab": "Setup" if is_admin else "Link to Products",
        "tabs": ["Link to Products", "Upload to Store Files", "Setup", "Runs"],
        "embedded_store": scope_store,
        "api_key": settings.SHOPIFY_API_KEY,
    }


def app_page(view):
    """Decorator for every page of the app, embedded in the Shopify admin or standalone.

    Embedded (`embedded=1`/`host`/`id_token` in the query): the session token in `id_token` is
    validated (bounce page when missing or stale; 401 page when it is another shop's), the
    store is connected by token exchange when needed, and the view runs with `request.user` =
    the staff member's user and `request.store_scope` = that store; the response may be framed
    by that shop's admin. Standalone: a Django login is required; `request.store_scope` is None.
    """

    @wraps(view)
    @sensitive_variables("raw_token", "token")
    def wrapper(request, *args, **kwargs):
        if not _is_embedded_request(request):
            if not request.user.is_authenticated:
                return auth_views.redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            request.store_scope = None
            return view(request, *args, **kwargs)

        shop = oauth.normalize_shop(request.GET.get("shop"))
        if shop is None:
            return _error_page(request, "Open AssetLink from your store's Shopify admin.")
        # Frameable by this shop's admin; its data is shown only after its token is valid.
        request.embedded_shop = shop
        raw_token = request.GET.get("id_token")
        if not raw_token:
            return _bounce(request, shop)
        try:
            token = session_tokens.decode(raw_token)
        except session_tokens.InvalidSessionToken as exc:
            logger.info("Session token on document load rejected: %s", exc)
            return _bounce(request, shop)
        if token.shop != shop:
            logger.warning("Session token of %s presented for %s", token.shop, shop)
            return _error_page(request, "This link belongs to another store.", status=401)
        try:
            store, user = services.session_token_arrive(token, allow_exchange=True)
        except ApplicationError as exc:
            return _error_page(
                request,
                f"AssetLink could not connect to {shop}: {exc.message} "
                "Open the app again from your Shopify admin.",
                status=401,
            )
        request.user = user
        request.store_scope = StoreScope(store=store, method="session_token")
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
@app_page
def home(request):
    """The app's start page: its workspaces, stores and the tabs."""
    scope = request.store_scope
    return render(
        request,
        "stores/home.html",
        home_context(request, request.user, scope.store if scope else None),
    )


login = auth_views.LoginView.as_view(
    template_name="stores/login.html", redirect_authenticated_user=True
)
logout = auth_views.LogoutView.as_view(next_page="/login/")
# Links to choose a password, made by invitations before they had to be accepted (an account
# was created at once); they expire after PASSWORD_RESET_TIMEOUT. New invitations: `invitation`.
invite_accept = auth_views.PasswordResetConfirmView.as_view(
    template_name="stores/invite.html", success_url="/login/", post_reset_login=False
)


@sensitive_variables("token")
def invitation(request, token: str):
    """An invitation's link: the invitee, logged in as the account it names, accepts it and
    joins the workspace; someone without an account creates one here (email invitations)."""
    from django.contrib.auth import login as log_in
    from django.contrib.auth.forms import UserCreationForm

    try:
        invited = services.invitation_for_token(token)
    except ApplicationError as exc:
        return _error_page(request, exc.message, status=exc.status_code)
    user = request.user
    logged_in = user.is_authenticated
    context = {"invitation": invited, "logged_in": logged_in, "path": request.path}
    if logged_in and not services.invitation_is_for(invited, user):
        context["wrong_account"] = True
        return render(request, "stores/invitation.html", context, status=403)
    form = UserCreationForm(request.POST if request.method == "POST" and not logged_in else None)
    if request.method == "POST":
        try:
            if logged_in:
                services.invitation_accept(user=user, token=token)
                return HttpResponseRedirect("/")
            if form.is_valid():
                new, _ = services.invitation_sign_up(
                    token=token,
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password1"],
                )
                log_in(request, new, backend="django.contrib.auth.backends.ModelBackend")
                return HttpResponseRedirect("/")
        except ApplicationError as exc:
            return _error_page(request, exc.message, status=exc.status_code)
    context["sign_up"] = form if not logged_in and "@" in invited.invitee else None
    return render(request, "stores/invitation.html", context, status=400 if form.errors else 200)
