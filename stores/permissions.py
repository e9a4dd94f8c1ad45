"""Who may do what: the one place role rules live (used by admin, API and pages)."""

from __future__ import annotations

from assetlink_project.errors import NotFoundError, PermissionDeniedError
from stores.models import ADMIN_ROLES, Member, Role, Workspace

ADMIN_ROLE_NAMES = ", ".join(Role(role).label for role in sorted(ADMIN_ROLES))


def membership(user, workspace: Workspace) -> Member | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Member.objects.filter(user=user, workspace=workspace).first()


def can_view_workspace(user, workspace: Workspace) -> bool:
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


def require_setup_change(user, workspace: Workspace, action: str = "change Setup") -> None:
    require_view(user, workspace)
    if not can_change_setup(user, workspace):
        member = membership(user, workspace)
        current = member.get_role_display() if member else "no role"
        raise PermissionDeniedError(
            f"To {action} you need one of the roles {ADMIN_ROLE_NAMES}; your role in "
            f"{workspace.name} is {current}. Ask a Master Admin to change your role.",
            extra={"required_roles": sorted(ADMIN_ROLES)},
        )
