"""Who a request acts as, besides a Django user: an API key, and the store scope of a request."""

from __future__ import annotations

from dataclasses import dataclass

from stores.models import ApiKey, Store


@dataclass(frozen=True)
class StoreScope:
    """`request.auth` for session-token and API-key requests: the one store they may reach."""

    store: Store
    method: str  # "session_token" or "api_key"

    @property
    def workspace_id(self) -> int:
        return self.store.workspace_id


class ApiKeyPrincipal:
    """`request.user` for API-key requests: no Django user, only its store and workspace.

    It acts with the rights of a User (runs, reports), never an admin's (Setup, API keys, roles).
    """

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_superuser = False
    is_staff = False
    pk = None
    id = None

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        self.store = api_key.store
        self.workspace_id = api_key.store.workspace_id

    @property
    def username(self) -> str:
        return f"api-key:{self.api_key.prefix}"

    def __str__(self) -> str:
        return f"API key {self.api_key.label} ({self.api_key.prefix}…) of {self.store}"

    def get_username(self) -> str:
        return self.username

    def has_perm(self, perm, obj=None) -> bool:
        return False

    def has_module_perms(self, app_label) -> bool:
        return False


def django_user(principal):
    """The Django user ``principal`` is, or None: an API key, an anonymous user or None (the
    command line) is no user. What a ``created_by`` foreign key may hold."""
    from django.contrib.auth import get_user_model

    if isinstance(principal, get_user_model()) and principal.is_authenticated:
        return principal
    return None


def api_key_of(principal) -> ApiKey | None:
    """The API key ``principal`` acts as, or None (a user, the command line)."""
    return principal.api_key if isinstance(principal, ApiKeyPrincipal) else None


def started_by(principal) -> dict:
    """A run's ``created_by`` and ``api_key`` for whoever starts it."""
    return {"created_by": django_user(principal), "api_key": api_key_of(principal)}


def started_by_name(username: str | None, key_label: str | None, key_prefix: str | None):
    """Who started a run, as the Runs list shows it: the user's name, or the API key's label and
    prefix (``API key CI (1a2b3c…)``); None for the command line and sync rules."""
    if username:
        return username
    if key_prefix:
        return f"API key {key_label} ({key_prefix}…)"
    return None
