"""The Django admin for AssetLink: open to workspace members, with role rules from permissions."""

from __future__ import annotations

from django.contrib import admin

from stores.models import Member


class AssetLinkAdminSite(admin.AdminSite):
    site_header = "AssetLink"
    site_title = "AssetLink admin"
    index_title = "Workspaces, stores and runs"

    def has_permission(self, request) -> bool:
        user = request.user
        if not (user.is_active and user.is_authenticated):
            return False
        return user.is_superuser or Member.objects.filter(user=user).exists()


admin_site = AssetLinkAdminSite(name="admin")
