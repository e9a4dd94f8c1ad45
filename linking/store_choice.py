"""The stores each user last ticked on the Link tab, per workspace (the page ticks none until
the user has chosen; then it ticks their last choice)."""

from __future__ import annotations

from django.db import transaction

from assetlink_project.errors import PermissionDeniedError
from linking.models import LinkStoreChoice
from linking.services import PlanConfigError
from stores.models import Store, Workspace
from stores.principals import ApiKeyPrincipal
from stores.selectors import resolve_stores


def _installed(stores):
    return stores.filter(installed_at__isnull=False, uninstalled_at__isnull=True)


def link_store_choice(*, user, workspace: Workspace, reach) -> list[Store]:
    """The user's last choice of `workspace`, within `reach` (the stores the request reaches)
    and still installed; none before a first choice, and none for an API key."""
    if isinstance(user, ApiKeyPrincipal) or not getattr(user, "is_authenticated", False):
        return []
    choice = LinkStoreChoice.objects.filter(user=user, workspace=workspace).first()
    if choice is None:
        return []
    return list(_installed(choice.stores.filter(pk__in=reach)).order_by("shop_domain"))


def link_store_choice_set(*, user, workspace: Workspace, stores: list, reach) -> list[Store]:
    """Remember `stores` (domains or ids; empty: none ticked) as the user's choice. A store
    outside `reach` is a 404 (as unknown); stores of the earlier choice that this request does
    not reach (a session token reaches one store) stay remembered."""
    chosen = resolve_stores(workspace, stores, reach) if stores else []
    if isinstance(user, ApiKeyPrincipal):
        raise PermissionDeniedError(
            "An API key has no user to remember a store choice for; send the stores with the plan."
        )
    uninstalled = [s.shop_domain for s in chosen if not s.is_installed]
    if uninstalled:
        raise PlanConfigError(
            "stores", f"{', '.join(uninstalled)} is uninstalled; it cannot be ticked."
        )
    with transaction.atomic():
        choice, _ = LinkStoreChoice.objects.select_for_update().get_or_create(
            user=user, workspace=workspace
        )
        kept = list(choice.stores.exclude(pk__in=reach))
        choice.stores.set([*kept, *chosen])
        choice.save(update_fields=["updated_at"])
    return sorted(chosen, key=lambda s: s.shop_domain)
