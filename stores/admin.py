"""Admin views for workspaces, stores, members, Setup and API keys.

Access follows stores.permissions: members see their own workspaces; only admin roles change
anything; secrets are write-only (masked, never rendered in clear).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.http import HttpResponseRedirect

from assetlink_project.errors import ApplicationError
from stores import permissions, services
from stores.admin_site import admin_site
from stores.models import ApiKey, Member, Role, Store, Workspace, WorkspaceSettings
from stores.secrets import MASK, Secret
from stores.selectors import workspaces_for


class SecretInput(forms.PasswordInput):
    """Shows whether a secret is set, never its value; blank input keeps the stored one."""

    def __init__(self, attrs=None):
        super().__init__(
            attrs={"autocomplete": "new-password", **(attrs or {})}, render_value=False
        )

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        is_set = bool(value) if isinstance(value, Secret) else bool(value)
        context["widget"]["attrs"]["placeholder"] = f"{MASK} (set)" if is_set else "not set"
        return context


class SecretFormField(forms.CharField):
    widget = SecretInput

    def __init__(self, *args, **kwargs):
        kwargs.pop("max_length", None)
        super().__init__(*args, required=False, strip=True, **kwargs)

    def has_changed(self, initial, data):
        return bool(data)


class KeepSecretFormMixin(forms.ModelForm):
    """Blank secret fields keep the stored value."""

    secret_fields: tuple[str, ...] = ()

    def clean(self):
        cleaned = super().clean()
        for name in self.secret_fields:
            if not cleaned.get(name) and self.instance.pk:
                cleaned[name] = getattr(self.instance, name)
        return cleaned


class WorkspaceScopedAdmin(admin.ModelAdmin):
    """Members see rows of their workspaces; admin roles change them."""

    workspace_path = "workspace"

    def _workspace_of(self, obj):
        for part in self.workspace_path.split("__"):
            obj = getattr(obj, part)
        return obj

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        key = "pk__in" if self.workspace_path == "self" else f"{self.workspace_path}__in"
        return qs.filter(**{key: workspaces_for(request.user)})

    def has_module_permission(self, request):
        return admin_site.has_permission(request)

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return admin_site.has_permission(request)
        return permissions.can_view_workspace(request.user, self._workspace(obj))

    def _workspace(self, obj):
        return obj if self.workspace_path == "self" else self._workspace_of(obj)

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return request.user.is_superuser or any(
                permissions.can_change_setup(request.user, ws)
                for ws in workspaces_for(request.user)
            )
        return permissions.can_change_setup(request.user, self._workspace(obj))

    def has_add_permission(self, request):
        return self.has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)


class WorkspaceForm(KeepSecretFormMixin):
    secret_fields = ("cloudinary_api_secret",)
    cloudinary_api_secret = SecretFormField(label="Cloudinary API secret")

    class Meta:
        model = Workspace
        fields = ["name", "cloudinary_cloud_name", "cloudinary_api_key", "cloudinary_api_secret"]


@admin.register(Workspace, site=admin_site)
class WorkspaceAdmin(WorkspaceScopedAdmin):
    workspace_path = "self"
    form = WorkspaceForm
    list_display = ["name", "cloudinary_cloud_name", "store_count", "created_at"]
    search_fields = ["name", "cloudinary_cloud_name"]

    @admin.display(description="stores")
    def store_count(self, obj):
        return obj.stores.count()

    def has_add_permission(self, request):
        return request.user.is_superuser


class StoreForm(KeepSecretFormMixin):
    secret_fields = ("access_token", "refresh_token")
    access_token = SecretFormField()
    refresh_token = SecretFormField()

    class Meta:
        model = Store
        fields = [
            "workspace",
            "shop_domain",
            "name",
            "access_token",
            "access_token_expires_at",
            "refresh_token",
            "refresh_token_expires_at",
            "scopes",
            "api_version",
        ]


@admin.register(Store, site=admin_site)
class StoreAdmin(WorkspaceScopedAdmin):
    form = StoreForm
    list_display = ["shop_domain", "name", "workspace", "installed", "api_version", "installed_at"]
    list_filter = ["workspace", "api_version", ("uninstalled_at", admin.EmptyFieldListFilter)]
    search_fields = ["shop_domain", "name"]
    readonly_fields = ["installed_at", "uninstalled_at"]

    @admin.display(boolean=True)
    def installed(self, obj):
        return obj.is_installed


class MemberForm(forms.ModelForm):
    """Role changes follow the same rules as the API (stores.services.member_role_change)."""

    request_user = None

    class Meta:
        model = Member
        fields = ["user", "workspace", "role"]

    def clean(self):
        cleaned = super().clean()
        if "role" in self.changed_data and cleaned.get("workspace"):
            original = (
                Member.objects.select_related("workspace").get(pk=self.instance.pk)
                if self.instance.pk
                else Member(workspace=cleaned["workspace"], role=Role.USER)  # an addition
            )
            try:
                services.member_role_change_check(
                    user=self.request_user, member=original, role=cleaned.get("role")
                )
            except ApplicationError as exc:
                raise forms.ValidationError(exc.message) from exc
        return cleaned


@admin.register(Member, site=admin_site)
class MemberAdmin(WorkspaceScopedAdmin):
    form = MemberForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request_user = request.user
        return form

    def get_actions(self, request):
        # One member at a time, through delete_view's check (the last Master Admin stays).
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        member = self.get_object(request, object_id)
        if member is not None and request.method == "POST":
            try:
                services.member_remove_check(user=request.user, member=member)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return HttpResponseRedirect(request.path)
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        services.member_remove(user=request.user, member=obj)

    list_display = ["user", "workspace", "role", "created_at"]
    list_filter = ["role", "workspace"]
    search_fields = ["user__username", "user__email", "workspace__name"]
    autocomplete_fields = []


@admin.register(WorkspaceSettings, site=admin_site)
class WorkspaceSettingsAdmin(WorkspaceScopedAdmin):
    list_display = [
        "workspace",
        "default_cloudinary_field",
        "default_shopify_field",
        "default_link_mode",
        "alt_text_source",
        "batch_size_limit",
        "updated_at",
    ]
    list_filter = ["default_link_mode", "alt_text_source"]
    search_fields = ["workspace__name"]

    def has_add_permission(self, request):
        return False  # created with the workspace


@admin.register(ApiKey, site=admin_site)
class ApiKeyAdmin(WorkspaceScopedAdmin):
    workspace_path = "store__workspace"
    list_display = ["label", "prefix", "store", "created_by", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "store"]
    search_fields = ["label", "prefix", "store__shop_domain"]
    readonly_fields = ["prefix", "secret_hash", "created_by", "last_used_at"]
    fields = ["store", "label", "prefix", "created_by", "last_used_at", "revoked_at"]

    def has_add_permission(self, request):
        return False  # keys are created through the API/Setup page, which shows the token once


admin_site.register(User, UserAdmin)
admin_site.register(Group, GroupAdmin)
