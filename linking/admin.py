"""Read-only admin views of plans (with their per-store dry-run results and report CSV), link
records and store catalog indexes. Plans are made through the API, the page or the CLI."""

from __future__ import annotations

import io

from django.contrib import admin
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from linking import selectors
from linking.models import LinkRecord, Plan, PlanStore, StoreCatalog
from stores.admin import WorkspaceScopedAdmin
from stores.admin_site import admin_site


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
        out = io.StringIO()
        selectors.write_report_csv(plan, out)
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="plan-{plan.pk}-dry-run.csv"'
        return response


@admin.register(LinkRecord, site=admin_site)
class LinkRecordAdmin(ReadOnlyScopedAdmin):
    workspace_path = "store__workspace"
    list_display = ["media_id", "store", "product_id", "asset_id", "version", "transformation"]
    search_fields = ["media_id", "product_id", "asset_id"]


@admin.register(StoreCatalog, site=admin_site)
class StoreCatalogAdmin(ReadOnlyScopedAdmin):
    workspace_path = "store__workspace"
    list_display = ["store", "product_count", "variant_count", "built_at", "refreshed_at"]


from linking.sync import admin as sync_admin  # noqa: E402, F401 - registers the sync rule admin
