"""Every route of Django's resolver, API and non-API, has a row here: who may call it and what
each caller gets. The callers (principals) are anonymous, a login to the other workspace, a
login to the same workspace, a session token and an API key of the workspace's first store;
every route is aimed at each of the two workspaces in turn. What a caller outside the target
workspace (or narrowed to another store) gets never names the target's workspace, stores or
members. API routes have their rows in `test_tenancy_api` (every endpoint against the other
workspace and the other store); the admin's model routes theirs in `test_tenancy_admin` (every
model) and here (every principal). A new route fails `test_every_route_has_a_row`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from linking.models import Plan
from stores import services
from stores.admin_site import admin_site
from stores.models import Member, Role
from tests.security.conftest import STAFF_ID, admin_objects
from tests.security.test_tenancy_api import LISTINGS, NOT_ENDPOINTS, _all_requests
from tests.stores.helpers import install_query, session_token

pytestmark = pytest.mark.django_db

ANONYMOUS, OTHER, SAME, TOKEN, KEY = (
    "anonymous", "other-workspace", "same-workspace", "session-token", "api-key")  # fmt: skip
PRINCIPALS = [ANONYMOUS, OTHER, SAME, TOKEN, KEY]
OUTSIDERS = {ANONYMOUS, OTHER, TOKEN, KEY}  # none of them may see the workspace's other stores
LOGIN_PAGE, ADMIN_LOGIN = "/login/", "/admin/login/"


@dataclass
class Row:
    """One route: how to call it (aimed at the target tenant) and each principal's answer (a
    status, or a set of them; a str is a redirect whose Location starts with it)."""

    method: str
    path: str  # a format string over the ids of `_ids`
    answers: dict[str, object]
    embedded: bool = False  # a page of the app: the session token comes in the query
    data: dict = field(default_factory=dict)


def _everyone(answer) -> dict[str, object]:
    return dict.fromkeys(PRINCIPALS, answer)


def _logins(anonymous, member) -> dict[str, object]:
    """A login-only route: the token and the key are no login (no cookie)."""
    return {ANONYMOUS: anonymous, OTHER: member, SAME: member, TOKEN: anonymous, KEY: anonymous}


_ADMIN_ONLY = _logins(ADMIN_LOGIN, 200)
_RQ = _everyone({302, 403, 404})  # django_rq's dashboard: superusers only

ROWS: dict[str, Row] = {
    # Operations: no tenant data; /metrics needs METRICS_TOKEN or a superuser.
    "healthz": Row("get", "/healthz", _everyone(200)),
    "metrics": Row("get", "/metrics", _everyone(401)),
    "favicon.ico": Row("get", "/favicon.ico", _everyone(301)),
    # Cloudinary notifications: the signature with the workspace's secret is the principal.
    "cloudinary/notifications/<int:workspace_id>": Row(
        "post", "/cloudinary/notifications/{workspace}", _everyone(401), data={"x": 1}
    ),
    # The app's page: a login, or a session token of one store in the query (embedded).
    "": Row("get", "/", {**_logins(LOGIN_PAGE, 200), TOKEN: 200}, embedded=True),
    "login/": Row("get", LOGIN_PAGE, _logins(200, 302)),
    "logout/": Row("post", "/logout/", _everyone(302)),
    # An invitation link with a wrong token: the page says the link is invalid, to everyone.
    "invite/<uidb64>/<token>/": Row("get", "/invite/{member_uid}/wrong-token/", _everyone(200)),
    # An invitation's link with a wrong token: not found, to everyone (a right one is the
    # invitee's credential: test_invitations).
    "invitations/<str:token>/": Row("get", "/invitations/wrong-token/", _everyone(404)),
    # Install and callback: Shopify's signature is the principal; no login changes the answer
    # (none joins the store's workspace: test_oauth_install, hole 2).
    "shopify/install": Row("get", "/shopify/install?{signed_install}", _everyone(302)),
    "shopify/callback": Row("get", "/shopify/callback?{signed_install}", _everyone(400)),
    "shopify/webhooks": Row("post", "/shopify/webhooks", _everyone(401), data={"x": 1}),
    "shopify/bounce": Row("get", "/shopify/bounce?shop={shop}", _everyone(200)),
    # The Django admin beyond its models (whose routes are generated: _admin_model_rows).
    "admin/": Row("get", "/admin/", _ADMIN_ONLY),
    "admin/login/": Row("get", ADMIN_LOGIN, _logins(200, 302)),
    "admin/logout/": Row("post", "/admin/logout/", _everyone({200, 302})),
    "admin/password_change/": Row("get", "/admin/password_change/", _ADMIN_ONLY),
    "admin/password_change/done/": Row("get", "/admin/password_change/done/", _ADMIN_ONLY),
    "admin/autocomplete/": Row(
        "get",
        "/admin/autocomplete/?app_label=linking&model_name=plan&field_name=x",
        _logins(ADMIN_LOGIN, 403),
    ),  # fmt: skip
    "admin/jsi18n/": Row("get", "/admin/jsi18n/", _ADMIN_ONLY),
    "admin/r/<path:content_type_id>/<path:object_id>/": Row(
        "get", "/admin/r/{plan_type}/{plan}/", _logins(ADMIN_LOGIN, 404)
    ),
    "admin/auth/user/<id>/password/": Row(
        "get", "/admin/auth/user/{member_user}/password/", _logins(ADMIN_LOGIN, 403)
    ),
    "admin/linking/plan/<int:plan_id>/report.csv": Row(
        "get", "/admin/linking/plan/{plan}/report.csv", {**_logins(ADMIN_LOGIN, 200), OTHER: 404}
    ),
    "admin/uploads/uploadbatch/runs/<int:run_id>/report.csv": Row(
        "get",
        "/admin/uploads/uploadbatch/runs/{upload_run}/report.csv",
        {**_logins(ADMIN_LOGIN, 200), OTHER: 404},
    ),  # fmt: skip
    "admin/reports/run/<int:run_id>/report.csv": Row(
        "get", "/admin/reports/run/{run}/report.csv", {**_logins(ADMIN_LOGIN, 200), OTHER: 404}
    ),
    r"admin/^(?P<app_label>stores|auth|linking|uploads|reports|django_rq)/$": Row(
        "get", "/admin/linking/", _ADMIN_ONLY
    ),
    "admin/(?P<url>.*)$": Row("get", "/admin/no-such-page/", _logins(ADMIN_LOGIN, 404)),
}
# The RQ dashboard (django_rq's own views): one row for all its routes, superusers only.
RQ_PREFIX = "admin/django_rq/"
RQ_PATHS = {"<int:queue_index>": "0", "<str:job_id>": "job", "<str:result_id>": "result",
            "<str:key>": "worker", "<int:scheduler_index>": "0", "<int:connection_index>": "0",
            "<str:scheduler_name>": "s", "<path:cron_job_name>": "c",
            "^stats.json/(?P<token>[\\w]+)?/?$": "stats.json/token/",
            "^stats.json/?$": "stats.json/", "^metrics/?$": "metrics/"}  # fmt: skip
# Shadowed: pages.urls' "" (the app) comes first, so stores.urls' "" (name "home") is never
# resolved; the row asserts that (test_the_shadowed_home_route_is_never_reached).
SHADOWED = {("", "home")}

_ADMIN_MODEL_ROUTE = re.compile(
    r"^admin/(?P<app>[a-z_]+)/(?P<model>[a-z]+)/"
    r"(?P<suffix>|add/|<path:object_id>/(?:change/|delete/|history/)?)$"
)


def _routes(resolver=None, prefix="") -> list[tuple[str, str | None]]:
    """(route, name) of every URL pattern of the resolver, in resolving order."""
    out = []
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            out += _routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            out.append((route, pattern.name))
    return out


def _admin_models() -> dict[tuple[str, str], type]:
    return {(m._meta.app_label, m._meta.model_name): m for m in admin_site._registry}


def _admin_model_rows() -> dict[str, Row]:
    """The routes Django's admin makes for each registered model: changelist and add answer a
    login (its own rows only), an object of the target another workspace "does not exist"
    (redirect), 403 or 404; users, groups and the RQ dashboard are for superusers."""
    rows = {}
    for route, _ in _routes():
        match = _ADMIN_MODEL_ROUTE.match(route)
        if not match or (match["app"], match["model"]) not in _admin_models():
            continue
        key = "{" + f"{match['app']}__{match['model']}" + "}"
        path = "/" + route.replace("<path:object_id>", key)
        member = {200, 302, 403} if match["suffix"] in ("", "add/") else {200, 301, 302, 403}
        outsider = {200, 302, 403} if match["suffix"] in ("", "add/") else {301, 302, 403, 404}
        rows[route] = Row("get", path, {**_logins(ADMIN_LOGIN, member), OTHER: outsider})
    return rows


def _api_routes() -> set[str]:
    return {route for route, _ in _routes() if route.startswith("api/")}


def test_every_route_has_a_row(world):
    api_names = {name for route, name in _routes() if route.startswith("api/")}
    api_covered = set(_all_requests(world, world.b)) | set(LISTINGS) | NOT_ENDPOINTS
    assert api_names - api_covered == set(), "API routes without a row in test_tenancy_api"
    every = {route for route, name in _routes() if (route, name) not in SHADOWED}
    rowed = set(ROWS) | set(_admin_model_rows()) | _api_routes()
    rowed |= {r for r in every if r.startswith(RQ_PREFIX)}
    assert every - rowed == set(), "routes without a row"
    assert set(ROWS) - every == set(), "rows of routes that are gone"
    # Every admin model has its row of objects in test_tenancy_admin (users, groups and the
    # RQ dashboard are for superusers only: test_users_and_groups_are_for_superusers_only).
    from django.contrib.auth.models import Group, User
    from django_rq.models import Dashboard

    assert set(_admin_models().values()) - set(admin_objects(world.b)) == {User, Group, Dashboard}


def test_the_shadowed_home_route_is_never_reached():
    from django.urls import resolve

    assert resolve("/").url_name == "app"


def _ids(world, tenant) -> dict[str, object]:
    first = next(iter(tenant.stores.values()))
    ids = {
        "workspace": tenant.workspace.pk,
        "shop": first.store.shop_domain,
        "plan": first.plan.pk,
        "run": first.run.pk,
        "upload_run": first.upload_run.pk,
        "plan_type": ContentType.objects.get_for_model(Plan).pk,
        "member_user": tenant.members[Role.USER].user_id,
        "member_uid": "MQ",
        "signed_install": urlencode(install_query(first.store.shop_domain)),
    }
    for model, obj in admin_objects(tenant).items():
        ids[f"{model._meta.app_label}__{model._meta.model_name}"] = obj.pk
    ids["auth__user"] = tenant.members[Role.USER].user_id
    ids["auth__group"] = 1
    ids["django_rq__dashboard"] = 1
    return ids


def _principals(world, tenant, other) -> dict[str, Client]:
    first = next(iter(tenant.stores.values()))
    services.staff_arrive(store=first.store, shopify_user_id=STAFF_ID)
    token = session_token(first.store.shop_domain, sub=STAFF_ID)
    clients = {
        ANONYMOUS: Client(),
        OTHER: Client(),
        SAME: Client(),
        TOKEN: Client(headers={"Authorization": f"Bearer {token}"}),
        KEY: Client(headers={"Authorization": f"Bearer {first.token}"}),
    }
    clients[OTHER].force_login(other.members[Role.MASTER_ADMIN].user)
    clients[SAME].force_login(tenant.members[Role.MASTER_ADMIN].user)
    clients[TOKEN].embedded_query = {"embedded": "1", "shop": first.store.shop_domain,
                                     "id_token": token}  # fmt: skip
    return clients


def _secrets(tenant, other, principal) -> list[bytes]:
    """What `principal` must not read of the target `tenant` (less what its own workspace holds:
    the staff user of the session token is also a member of the other workspace, and a staff
    username names its shop)."""
    if principal == SAME:
        return []
    stores = list(tenant.stores.values())
    hidden = stores if principal in (ANONYMOUS, OTHER) else stores[1:]
    out = [s.store.shop_domain.split(".")[0].encode() for s in hidden]
    if principal in (ANONYMOUS, OTHER):
        out += [tenant.workspace.name.encode()]
        out += [m.user.username.encode() for m in tenant.members.values()]
    own = Member.objects.filter(workspace=other.workspace).values_list("user__username", flat=True)
    return [s for s in out if principal != OTHER or not any(s in u.encode() for u in own)]


def _answers(row: Row, principal: str, response) -> bool:
    expected = row.answers[principal]
    if isinstance(expected, str):
        return response.status_code == 302 and response["Location"].startswith(expected)
    if isinstance(expected, set):
        return response.status_code in expected
    return response.status_code == expected


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _every_row() -> dict[str, Row]:
    rows = {**ROWS, **_admin_model_rows()}
    for route, _ in _routes():
        if route.startswith(RQ_PREFIX):
            path = route
            for pattern, value in RQ_PATHS.items():
                path = path.replace(pattern, value)
            rows[route] = Row("get", "/" + path, _RQ)
    # Logging out last: the logins stay logged in for every other row.
    return dict(sorted(rows.items(), key=lambda item: item[0].endswith("logout/")))


@pytest.mark.parametrize("target", ["a", "b"])
@pytest.mark.parametrize("principal", PRINCIPALS)
def test_every_route_answers_each_principal_as_its_row_says(world, target, principal):
    tenant, other = (world.a, world.b) if target == "a" else (world.b, world.a)
    client = _principals(world, tenant, other)[principal]
    ids = _ids(world, tenant)
    secrets = _secrets(tenant, other, principal)
    wrong = []
    for route, row in _every_row().items():
        path = row.path.format(**ids)
        if row.embedded and principal == TOKEN:
            path += "?" + urlencode(client.embedded_query)
        response = getattr(client, row.method)(path, row.data)
        if not _answers(row, principal, response):
            wrong.append((route, path, response.status_code, response.get("Location")))
            continue
        body = _body(response)
        wrong += [(route, path, "says", s) for s in secrets if s in body]
    assert wrong == [], "\n".join(map(repr, wrong))
