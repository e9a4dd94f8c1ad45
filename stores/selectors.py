"""Reads of workspaces and stores, scoped to what a user may see."""

from __future__ import annotations

from django.db.models import QuerySet

from stores.models import Workspace


def workspaces_for(user) -> QuerySet[Workspace]:
    if getattr(user, "is_superuser", False):
        return Workspace.objects.all()
    if not getattr(user, "is_authenticated", False):
        return Workspace.objects.none()
    return Workspace.objects.filter(members__user=user).distinct()
