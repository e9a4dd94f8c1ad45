"""Django admin of sync rules: members see them with their history; admins of the workspace
rename them, set the reconciliation hour, pause, resume, reconcile now or delete them. Rules
are created from a saved plan (API or the page), not here."""

from __future__ import annotations

from django.contrib import admin, messages

from assetlink_project.errors import ApplicationError
from linking.sync import services
from linking.sync.models import SyncRule, SyncRun
from stores.admin import WorkspaceScopedAdmin
from stores.admin_site import admin_site


class SyncRunInline(admin.TabularInline):
    model = SyncRun
    extra = 0
    can_delete = False
    fields = ["created_at", "trigger", "status", "notifications", "groups", "link_runs",
              "message"]  # fmt: skip
    readonly_fields = fields
    ordering = ["-created_at"]

    @admin.display(description="Link runs")
    def link_runs(self, obj):
        return ", ".join(f"{r.pk} ({r.store.shop_domain}: {r.status})" for r in obj.runs.all())

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("runs__store")


@admin.register(SyncRule, site=admin_site)
class SyncRuleAdmin(WorkspaceScopedAdmin):
    list_display = ["name", "workspace", "plan", "paused", "reconcile_hour", "next_reconcile_at",
                    "last_change_at"]  # fmt: skip
    list_filter = ["paused"]
    fields = ["name", "workspace", "plan", "paused", "reconcile_hour", "next_reconcile_at",
              "indexed_at", "last_change_at", "created_by", "created_at"]  # fmt: skip
    readonly_fields = ["workspace", "plan", "paused", "next_reconcile_at", "indexed_at",
                       "last_change_at", "created_by", "created_at"]  # fmt: skip
    inlines = [SyncRunInline]
    actions = ["pause", "resume", "reconcile_now"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        if "reconcile_hour" in form.changed_data:
            obj.next_reconcile_at = services.next_reconcile_at(obj.reconcile_hour)
        super().save_model(request, obj, form, change)

    def _each(self, request, queryset, done: str, service, **kwargs) -> None:
        """``service(user=…, rule=…, **kwargs)`` on every selected rule (their workspace's
        admins only: the service checks), stopping at the first refusal."""
        for rule in queryset:
            try:
                service(user=request.user, rule=rule, **kwargs)
            except ApplicationError as exc:
                self.message_user(request, f"{rule}: {exc.message}", messages.ERROR)
                return
        self.message_user(request, f"{queryset.count()} rule(s) {done}.")

    @admin.action(description="Pause the selected rules")
    def pause(self, request, queryset):
        self._each(request, queryset, "paused", services.rule_set_paused, paused=True)

    @admin.action(description="Resume the selected rules (a reconciliation catches up)")
    def resume(self, request, queryset):
        self._each(request, queryset, "resumed", services.rule_set_paused, paused=False)

    @admin.action(description="Reconcile the selected rules now")
    def reconcile_now(self, request, queryset):
        self._each(request, queryset, "queued for reconciliation", services.rule_reconcile_now)
