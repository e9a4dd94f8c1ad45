"""Reads of workspaces, stores, members and API keys, scoped to what a request may see."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from assetlink_project.errors import InputError, NotFoundError
from stores.models import ADMIN_ROLES, ApiKey, Member, Store, Workspace
from stores.principals import ApiKeyPrincipal, StoreScope


def workspaces_for(user, scope: StoreScope | None = None) -> QuerySet[Workspace]:
    """What `user` may see; a session token or API key (`scope`) narrows it to one workspace."""
    if isinstance(user, ApiKeyPrincipal):
        return Workspace.objects.filter(pk=user.workspace_id)
    if getattr(user, "is_superuser", False):
        workspaces = Workspace.objects.all()
    elif not getattr(user, "is_authenticated", False):
        return Workspace.objects.none()
    else:
        workspaces = Workspace.objects.filter(members__user=user).distinct()
    if scope is not None:
        workspaces = workspaces.filter(pk=scope.workspace_id)
    return workspaces


def workspaces_administered_by(user, roles=ADMIN_ROLES) -> QuerySet[Workspace]:
    """Workspaces where `user` holds one of `roles` (a superuser: all) — what they may change."""
    if getattr(user, "is_superuser", False):
        return Workspace.objects.all()
    if not getattr(user, "is_authenticated", False) or isinstance(user, ApiKeyPrincipal):
        return Workspace.objects.none()
    return Workspace.objects.filter(members__user=user, members__role__in=list(roles)).distinct()


def request_scope(request) -> StoreScope | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, StoreScope) else None


def workspaces_for_request(request) -> QuerySet[Workspace]:
    return workspaces_for(request.user, request_scope(request))


def of_reachable_workspace(request, workspace_id: int, rows: list) -> list:
    """`rows` of the workspace `workspace_id`, read through querysets already scoped to the
    request's workspaces: rows prove the workspace within reach; none is an empty list of a
    workspace the request reaches, or a 404 for one it does not (only then is the workspace
    read: a list that has rows costs no query for it)."""
    if not rows and not workspaces_for_request(request).filter(pk=workspace_id).exists():
        raise Http404("No Workspace matches the given query.")
    return rows


def stores_for(user, scope: StoreScope | None = None) -> QuerySet[Store]:
    """The one store-scope rule, for every kind of caller.

    A workspace login reaches the stores of its workspaces; a Shopify session token only the
    store it was issued for; an API key only its own store, and only while that store is
    installed (an uninstalled store's key reaches nothing).
    """
    if isinstance(user, ApiKeyPrincipal):
        return Store.objects.filter(
            pk=user.store.pk, installed_at__isnull=False, uninstalled_at__isnull=True
        )
    stores = Store.objects.filter(workspace__in=workspaces_for(user, scope))
    if scope is not None:
        stores = stores.filter(pk=scope.store.pk)
    return stores


def stores_for_request(request) -> QuerySet[Store]:
    return stores_for(request.user, request_scope(request))


def is_narrowed(request) -> bool:
    """Whether the request reaches one store only (session token, API key), not a workspace."""
    return request_scope(request) is not None


def members_of(workspace: Workspace) -> QuerySet[Member]:
    return Member.objects.filter(workspace=workspace).select_related("user")


def rows_of(queryset: QuerySet, fields: dict[str, str]) -> list[dict]:
    """`queryset` read as rows (no model instance per object): per object a dict of `fields`'
    keys, each the value of its lookup (e.g. ``{"username": "user__username"}``)."""
    lookups = list(dict.fromkeys(fields.values()))
    return [
        {key: row[lookup] for key, lookup in fields.items()} for row in queryset.values(*lookups)
    ]


def api_keys_of(store: Store) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(store=store).select_related("store", "created_by")


def workspace_by_ref(ref: str) -> Workspace | None:
    """A workspace named on the command line: by id or by exact name."""
    query = Workspace.objects.all()
    return query.filter(pk=int(ref)).first() if ref.isdigit() else query.filter(name=ref).first()


def resolve_stores(workspace: Workspace, stores, scope=None) -> list[Store]:
    """The plan's stores by id or shop domain; `scope` (e.g. an API key's store) narrows them."""
    if not isinstance(stores, list | tuple) or not stores:
        raise InputError("stores", "Pick at least one store of the workspace.")
    found = []
    for ref in stores:
        text = str(ref).strip().lower()
        query = Store.objects.filter(workspace=workspace)
        if scope is not None:
            query = query.filter(pk__in=scope)
        store = (
            query.filter(pk=int(text)).first()
            if text.isdigit()
            else query.filter(shop_domain=text).first()
        )
        if store is None:
            # Stores of other workspaces must not be revealed: the same 404 as an unknown one.
            raise NotFoundError(f"Store {ref} not found in workspace {workspace.name}.")
        if store not in found:
            found.append(store)
    return found
