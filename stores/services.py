"""Writes for workspaces, Setup and API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from assetlink_project.errors import ApplicationError
from stores import permissions
from stores.models import ApiKey, Member, Role, Store, Workspace, WorkspaceSettings

API_KEY_PREFIX = "al_"


@transaction.atomic
def workspace_create(*, name: str, owner=None, **cloudinary) -> Workspace:
    """A workspace with default Setup; `owner` becomes its Master Admin."""
    workspace = Workspace(name=name, **cloudinary)
    workspace.full_clean()
    workspace.save()
    WorkspaceSettings.objects.create(workspace=workspace)
    if owner is not None:
        Member.objects.create(user=owner, workspace=workspace, role=Role.MASTER_ADMIN)
    return workspace


def settings_for(workspace: Workspace) -> WorkspaceSettings:
    return WorkspaceSettings.objects.get_or_create(workspace=workspace)[0]


@transaction.atomic
def setup_update(*, user, workspace: Workspace, changes: dict) -> WorkspaceSettings:
    """Change Setup defaults: admins only; every value validated, nothing saved on error."""
    permissions.require_setup_change(user, workspace)
    setup = WorkspaceSettings.objects.select_for_update().get(pk=settings_for(workspace).pk)
    editable = {f.name for f in WorkspaceSettings._meta.concrete_fields} - {
        "id",
        "workspace",
        "updated_at",
    }
    unknown = sorted(set(changes) - editable)
    if unknown:
        raise ApplicationError(
            f"Unknown Setup field(s): {', '.join(unknown)}.", extra={"fields": unknown}
        )
    for name, value in changes.items():
        setattr(setup, name, value)
    try:
        setup.full_clean()
    except ValidationError as exc:
        raise ApplicationError(
            "Setup was not saved: "
            + "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items()),
            extra={"errors": exc.message_dict},
        ) from exc
    setup.save()
    return setup


def _hash_api_secret(secret: str) -> str:
    # Keys are 256-bit random, so a keyed fast hash is enough (no password stretching needed).
    return hmac.new(settings.SECRET_KEY.encode(), secret.encode(), hashlib.sha256).hexdigest()


@transaction.atomic
def api_key_create(*, user, store: Store, label: str) -> tuple[ApiKey, str]:
    """Create a key; the returned token is shown once and never stored."""
    permissions.require_setup_change(user, store.workspace, action="create API keys")
    label = (label or "").strip()
    if not label or len(label) > 100:
        raise ApplicationError("Give the API key a label of 1 to 100 characters.")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        store=store,
        label=label,
        prefix=prefix,
        secret_hash=_hash_api_secret(secret),
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    return key, f"{API_KEY_PREFIX}{prefix}_{secret}"


def api_key_revoke(*, user, key: ApiKey) -> ApiKey:
    permissions.require_setup_change(user, key.store.workspace, action="revoke API keys")
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def api_key_authenticate(token: str) -> ApiKey | None:
    """The active key a presented token belongs to (and mark it used), or None."""
    if not token.startswith(API_KEY_PREFIX) or token.count("_") < 2:
        return None
    prefix, _, secret = token[len(API_KEY_PREFIX) :].partition("_")
    key = ApiKey.objects.select_related("store__workspace").filter(prefix=prefix).first()
    if key is None or not key.is_active:
        return None
    if not hmac.compare_digest(key.secret_hash, _hash_api_secret(secret)):
        return None
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    return key
