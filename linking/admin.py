"""Read-only admin views of plans (with their per-store dry-run results and report CSV), their
dry runs (the background jobs), link records and store catalog indexes. Plans are made through
the API, the page or the CLI."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from assetlink_project.errors import ApplicationError
from linking import manage, selectors
from linking.models import DryRun, LinkRecord, Plan, PlanStore, StoreCatalog
from stores.admin import WorkspaceScopedAdmin
from stores.admin_site import admin_site
from stores.selectors import stores_for


class ReadOnlyScopedAdmin(WorkspaceScopedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PlanStoreInline(admin.TabularInline):
    model = PlanStore
    extra = 0
    can_delete = False
    fields = ["store", "catalog_path", "galleries_path", "statistics", "shopify_points",
              "shopify_calls", "error"]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Plan, site=admin_site)
class PlanAdmin(ReadOnlyScopedAdmin):
    list_display = ["id", "workspace", "link_mode", "cloudinary_field", "shopify_field",
                    "status", "dry_run_at", "report"]  # fmt: skip
    list_filter = ["status", "link_mode"]
    inlines = [PlanStoreInline]

    @admin.display(description="Report")
    def report(self, obj):
        if not obj.dry_run_at:
            return "—"
        url = reverse("admin:linking_plan_report", args=[obj.pk])
        return format_html('<a href="{}">CSV</a>', url)

    def get_urls(self):
        view = self.admin_site.admin_view(self.report_view)
        return [path("<int:plan_id>/report.csv", view, name="linking_plan_report"),
                *super().get_urls()]  # fmt: skip

    def report_view(self, request, plan_id: int):
        plan = get_object_or_404(self.get_queryset(request), pk=plan_id)
        response = StreamingHttpResponse(
            selectors.report_lines(plan), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="plan-{plan.pk}-dry-run.csv"'
        return response


class DryRunJobAdmin(ReadOnlyScopedAdmin):
    """Dry runs as jobs: status, phase per store, timing, error. Read-only: they are started
    and cancelled through the API or the page (deleting one would orphan its job)."""

    list_display = ["id", "status", "phase", "stores_done", "stores_total", "created_by",
                    "created_at", "started_at", "finished_at"]  # fmt: skip
    list_filter = ["status"]
    readonly_fields = ["created_by", "status", "phase", "stores", "stores_total", "stores_done",
                       "created_at", "started_at", "finished_at", "heartbeat_at",
                       "cancel_requested_at", "error"]  # fmt: skip

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DryRun, site=admin_site)
class DryRunAdmin(DryRunJobAdmin):
    workspace_path = "plan__workspace"
    list_display = [*DryRunJobAdmin.list_display[:1], "plan", *DryRunJobAdmin.list_display[1:]]
    list_select_related = ["plan", "created_by"]
    readonly_fields = ["plan", *DryRunJobAdmin.readonly_fields]


@admin.register(LinkRecord, site=admin_site)
class LinkRecordAdmin(ReadOnlyScopedAdmin):
    """Manage links: what AssetLink linked; unlink or re-link the selected links (a link run
    per store, like the API's — members run, as on the page)."""

    workspace_path = "store__workspace"
    list_display = ["media_id", "store", "product_id", "asset_id", "version", "transformation",
                    "alt", "run_id"]  # fmt: skip
    search_fields = ["media_id", "product_id", "asset_id"]
    actions = ["unlink_links", "relink_links"]

    @admin.action(description="Unlink the selected links (files stay in Files)")
    def unlink_links(self, request, queryset):
        self._act(request, queryset, manage.unlink_start)

    @admin.action(description="Re-link the selected links to their asset's newest version")
    def relink_links(self, request, queryset):
        self._act(request, queryset, manage.relink_start)

    def _act(self, request, queryset, start):
        by_workspace: dict = {}
        for record in queryset.select_related("store__workspace"):
            by_workspace.setdefault(record.store.workspace, []).append(record.pk)
        for workspace, ids in by_workspace.items():
            try:
                started = start(
                    workspace=workspace,
                    stores=stores_for(request.user),
                    selection=manage.LinkSelection(record_ids=ids),
                    user=request.user,
                )
            except ApplicationError as exc:
                messages.error(request, f"{workspace}: {exc.message}")
                continue
            runs = ", ".join(f"run {r.pk} on {r.store.shop_domain}" for r in started.runs)
            messages.success(request, f"{workspace}: started {runs}. {' '.join(started.notes)}")


@admin.register(StoreCatalog, site=admin_site)
class StoreCatalogAdmin(ReadOnlyScopedAdmin):
    workspace_path = "store__workspace"
    list_display = ["store", "product_count", "variant_count", "built_at", "refreshed_at"]


from linking.sync import admin as sync_admin  # noqa: E402, F401 - registers the sync rule admin
