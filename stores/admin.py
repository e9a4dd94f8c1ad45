"""Admin views for workspaces, stores, members, Setup and API keys.

Access follows stores.permissions: members see their own workspaces; only admin roles change
anything; secrets are write-only (masked, never rendered in clear).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect

from assetlink_project.errors import ApplicationError
from stores import permissions, services
from stores.admin_site import admin_site
from stores.models import ADMIN_ROLES, ApiKey, Member, Role, Store, Workspace, WorkspaceSettings
from stores.secrets import MASK, Secret
from stores.selectors import workspaces_administered_by, workspaces_for


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
    """Members see rows of their workspaces; admin roles change them — in those workspaces only.

    Tenancy holds below the views: querysets, the choices of every workspace/store/user field,
    add/change/delete permissions, bulk deletes and saves are all scoped to the workspaces the
    user administers (`admin_roles` there).
    """

    workspace_path = "workspace"
    admin_roles = ADMIN_ROLES  # who changes rows
    add_delete_roles: frozenset | None = None  # who adds and deletes them (admin_roles if None)

    def _workspace_of(self, obj):
        for part in self.workspace_path.split("__"):
            obj = getattr(obj, part)
        return obj

    def _in(self, workspaces) -> dict:
        key = "pk__in" if self.workspace_path == "self" else f"{self.workspace_path}__in"
        return {key: workspaces}

    def _roles(self, adding_or_deleting: bool):
        return (adding_or_deleting and self.add_delete_roles) or self.admin_roles

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**self._in(workspaces_for(request.user)))

    def has_module_permission(self, request):
        return admin_site.has_permission(request)

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return admin_site.has_permission(request)
        return permissions.can_view_workspace(request.user, self._workspace(obj))

    def _workspace(self, obj):
        return obj if self.workspace_path == "self" else self._workspace_of(obj)

    def _may(self, request, obj, roles) -> bool:
        if request.user.is_superuser:
            return True
        administered = workspaces_administered_by(request.user, roles)
        if obj is None:
            return administered.exists()
        return administered.filter(pk=self._workspace(obj).pk).exists()

    def has_change_permission(self, request, obj=None):
        return self._may(request, obj, self._roles(False))

    def has_add_permission(self, request):
        return self._may(request, None, self._roles(True))

    def has_delete_permission(self, request, obj=None):
        return self._may(request, obj, self._roles(True))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        """Choice lists (add forms) offer only the workspaces and stores the user administers
        and the people of their workspaces: no other tenant's names."""
        if not request.user.is_superuser:
            administered = workspaces_administered_by(request.user, self._roles(True))
            model = db_field.related_model
            if model is Workspace:
                kwargs["queryset"] = administered
            elif model is Store:
                kwargs["queryset"] = Store.objects.filter(workspace__in=administered)
            elif model is get_user_model():
                # People the user already sees as members of their workspaces.
                kwargs["queryset"] = (
                    get_user_model()
                    .objects.filter(memberships__workspace__in=workspaces_for(request.user))
                    .distinct()
                )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _require(self, request, objects, *, adding_or_deleting: bool) -> None:
        if not all(self._may(request, obj, self._roles(adding_or_deleting)) for obj in objects):
            raise PermissionDenied

    def save_model(self, request, obj, form, change):
        self._require(request, [obj], adding_or_deleting=not change)
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        self._require(request, [obj], adding_or_deleting=True)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # "Delete selected" checks only the model-wide permission: check every row.
        self._require(request, queryset, adding_or_deleting=True)
        super().delete_queryset(request, queryset)


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

    add_delete_roles = frozenset({Role.MASTER_ADMIN})

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
    list_filter = [
        ("workspace", admin.RelatedOnlyFieldListFilter),
        "api_version",
        ("uninstalled_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["shop_domain", "name"]
    # A store row comes from an install only, and stays in the workspace it was installed into.
    readonly_fields = ["workspace", "shop_domain", "installed_at", "uninstalled_at"]

    @admin.display(boolean=True)
    def installed(self, obj):
        return obj.is_installed

    def has_add_permission(self, request):
        return False  # stores are created by installing the app (OAuth or token exchange)


class MemberForm(forms.ModelForm):
    """Role changes follow the same rules as the API (stores.services.member_role_change)."""

    request_user = None

    class Meta:
        model = Member
        fields = ["user", "workspace", "role"]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:  # a change: the role only (user and workspace are read-only)
            original = Member.objects.select_related("workspace").get(pk=self.instance.pk)
            if "role" not in self.changed_data:
                return cleaned
        elif cleaned.get("workspace"):
            original = Member(workspace=cleaned["workspace"], role=Role.USER)  # an addition
        else:
            return cleaned
        try:
            services.member_role_change_check(
                user=self.request_user, member=original, role=cleaned.get("role")
            )
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from exc
        return cleaned


@admin.register(Member, site=admin_site)
class MemberAdmin(WorkspaceScopedAdmin):
    """Members are added and removed by a Master Admin of their workspace; roles change under
    the API's rules (MemberForm); nobody moves a membership to another user or workspace."""

    form = MemberForm
    add_delete_roles = frozenset({Role.MASTER_ADMIN})

    def get_readonly_fields(self, request, obj=None):
        return ["user", "workspace"] if obj is not None else []

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
        allowed = member is not None and self.has_delete_permission(request, member)
        if allowed and request.method == "POST":
            try:
                services.member_remove_check(user=request.user, member=member)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return HttpResponseRedirect(request.path)
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        services.member_remove(user=request.user, member=obj)

    list_display = ["user", "workspace", "role", "created_at"]
    list_filter = ["role", ("workspace", admin.RelatedOnlyFieldListFilter)]
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
    readonly_fields = ["workspace"]

    def has_add_permission(self, request):
        return False  # created with the workspace


@admin.register(ApiKey, site=admin_site)
class ApiKeyAdmin(WorkspaceScopedAdmin):
    workspace_path = "store__workspace"
    list_display = ["label", "prefix", "store", "created_by", "last_used_at", "revoked_at"]
    list_filter = [
        ("revoked_at", admin.EmptyFieldListFilter),
        ("store", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["label", "prefix", "store__shop_domain"]
    # A key belongs to the store it was created for; revoking is final (the action below).
    readonly_fields = ["store", "prefix", "secret_hash", "created_by", "last_used_at",
                       "revoked_at"]  # fmt: skip
    fields = ["store", "label", "prefix", "created_by", "last_used_at", "revoked_at"]
    actions = ["revoke_keys"]

    def has_add_permission(self, request):
        return False  # keys are created through the API/Setup page, which shows the token once

    @admin.action(description="Revoke the selected API keys", permissions=["change"])
    def revoke_keys(self, request, queryset):
        try:
            for key in queryset.filter(revoked_at__isnull=True).select_related("store"):
                services.api_key_revoke(user=request.user, key=key)
        except ApplicationError as exc:
            raise PermissionDenied(exc.message) from exc


admin_site.register(User, UserAdmin)
admin_site.register(Group, GroupAdmin)
