"""Who may do what: the one place role rules live (used by admin, API and pages)."""

from __future__ import annotations

from assetlink_project.errors import NotFoundError, PermissionDeniedError
from stores.models import ADMIN_ROLES, Member, Role, Workspace
from stores.principals import ApiKeyPrincipal

ADMIN_ROLE_NAMES = ", ".join(Role(role).label for role in sorted(ADMIN_ROLES))


def membership(user, workspace: Workspace) -> Member | None:
    if not getattr(user, "is_authenticated", False) or isinstance(user, ApiKeyPrincipal):
        return None
    return Member.objects.filter(user=user, workspace=workspace).first()


def can_view_workspace(user, workspace: Workspace) -> bool:
    # An API key sees its own store's workspace and nothing else.
    if isinstance(user, ApiKeyPrincipal):
        return user.workspace_id == workspace.pk
    return bool(getattr(user, "is_superuser", False)) or membership(user, workspace) is not None


def can_change_setup(user, workspace: Workspace) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    member = membership(user, workspace)
    return member is not None and member.is_admin


def require_view(user, workspace: Workspace) -> None:
    """Non-members must not learn the workspace exists: 404, not 403."""
    if not can_view_workspace(user, workspace):
        raise NotFoundError("Workspace not found.")


def require_setup_change(user, workspace: Workspace, action: str = "change Setup") -> Member | None:
    """View and change rights in one membership read (every admin-only endpoint asks this)."""
    if getattr(user, "is_superuser", False):
        return None
    if isinstance(user, ApiKeyPrincipal):
        require_view(user, workspace)
        current = "an API key (acts as User)"
    else:
        member = membership(user, workspace)
        if member is None:
            raise NotFoundError("Workspace not found.")
        if member.is_admin:
            return member
        current = member.get_role_display()
    raise PermissionDeniedError(
        f"To {action} you need one of the roles {ADMIN_ROLE_NAMES}; your role in "
        f"{workspace.name} is {current}. Ask a Master Admin to change your role.",
        extra={"required_roles": sorted(ADMIN_ROLES)},
    )


def require_master_admin(user, workspace: Workspace, action: str) -> None:
    """Members are invited and removed by a Master Admin (or a superuser)."""
    actor = require_setup_change(user, workspace, action=action)
    if getattr(user, "is_superuser", False):
        return
    if actor is None or actor.role != Role.MASTER_ADMIN:
        raise PermissionDeniedError(
            f"To {action} you need the role {Role.MASTER_ADMIN.label}; your role in "
            f"{workspace.name} is {actor.get_role_display() if actor else 'no role'}.",
            extra={"required_roles": [Role.MASTER_ADMIN.value]},
        )


def require_role_change(user, member: Member, new_role: str) -> None:
    """Admins change roles; only a Master Admin grants or takes away Master Admin."""
    workspace = member.workspace
    require_setup_change(user, workspace, action="change roles")
    if Role.MASTER_ADMIN in (member.role, new_role):
        require_master_admin(
            user, workspace, action=f"grant or remove the role {Role.MASTER_ADMIN.label}"
        )


def require_within_reach(user, scope, stores, action: str) -> None:
    """The one rule for objects spanning several stores (plan, sync rule, upload batch, link
    set): a caller narrowed to one store (`scope`, a session token or API key) acts on one
    only if every store it touches is within its reach. The refusal names no store."""
    from stores.selectors import stores_for

    if scope is None and not isinstance(user, ApiKeyPrincipal):
        return
    if stores.exclude(pk__in=stores_for(user, scope)).exists():
        raise PermissionDeniedError(
            f"To {action}, every store it links to must be within what this session or API "
            "key reaches; it also links to other stores. Use a workspace login."
        )


def without_stores(text: str, stores) -> str:
    """`text` with the domains of `stores` (those outside a caller's reach) left out."""
    for store in stores:
        text = text.replace(store.shop_domain, "another store")
    return text
