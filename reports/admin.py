"""Admin views of runs: progress (live while running), products, report rows and the CSV.
Runs are started from the page, the API or the CLI; here they are read (and may be aborted)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from reports import csv as report_csv
from reports import engine
from reports.models import ReportRow, Run, RunProduct
from reports.registry import abort_run
from stores.admin import WorkspaceScopedAdmin
from stores.admin_site import admin_site

PROGRESS_FIELDS = ["status", "phase", "ops_done", "ops_total", "products_done", "products_total",
                   "failures", "calls", "points_requested", "points_actual", "throttled",
                   "eta_seconds"]  # fmt: skip


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RunProductInline(ReadOnly, admin.TabularInline):
    model = RunProduct
    extra = 0
    fields = ["product_id", "status", "replanned", "error"]
    readonly_fields = fields
    show_change_link = False


@admin.register(Run, site=admin_site)
class RunAdmin(ReadOnly, WorkspaceScopedAdmin):
    workspace_path = "store__workspace"
    list_display = ["id", "store", "kind", "status", "progress", "failures", "created_at",
                    "finished_at", "report"]  # fmt: skip
    list_filter = ["status", "kind"]
    search_fields = ["store__shop_domain"]
    readonly_fields = ["store", "plan", "kind", "undo_of", "created_by", "api_key",
                       "link_mode",
                       "created_at", "started_at", "finished_at", "heartbeat_at", "attempts",
                       "worker", "abort_requested_at", "error", "summary", *PROGRESS_FIELDS,
                       "time_spent", "report"]  # fmt: skip
    exclude = ["work", "settings", "timings"]
    inlines = [RunProductInline]
    actions = ["abort_runs"]

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            engine.run_progress(obj)  # live progress of a running run
        return obj

    @admin.display(description="Progress")
    def progress(self, obj):
        live = engine.live_progress(obj)
        done = live.get("products_done", obj.products_done)
        total = live.get("products_total", obj.products_total)
        phase = live.get("phase", obj.phase)
        return f"{done}/{total} products — {phase}"

    @admin.display(description="Where the time went")
    def time_spent(self, obj):
        t = obj.timings
        if not t:
            return "— (not run by a worker yet)"
        lines = [*(t.get("phases") or {}).items()]
        lines += [
            ("Shopify HTTP (all phases)", t.get("shopify_http_seconds", 0)),
            ("Shopify rate-limit waits (all phases)", t.get("shopify_throttle_wait_seconds", 0)),
            (f"database, {t.get('database_queries', 0)} queries", t.get("database_seconds", 0)),
        ]
        return format_html(
            "{} s in {} attempt(s)<br>{}",
            f"{t.get('seconds', 0):.2f}",
            t.get("attempts", 1),
            format_html_join(
                mark_safe("<br>"), "{}: {} s", ((name, f"{s:.2f}") for name, s in lines)
            ),
        )

    @admin.display(description="Report")
    def report(self, obj):
        url = reverse("admin:reports_run_report", args=[obj.pk])
        return format_html('<a href="{}">CSV</a> ({} rows)', url, obj.rows.count())

    @admin.action(description="Abort the selected runs (at the next product boundary)")
    def abort_runs(self, request, queryset):
        for run in queryset.filter(status__in=Run.ACTIVE):
            abort_run(run=run)
        messages.info(request, "Abort requested.")

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view(self.report_view)
        return [path("<int:run_id>/report.csv", view, name="reports_run_report"),
                *super().get_urls()]  # fmt: skip

    def report_view(self, request, run_id: int):
        run = get_object_or_404(self.get_queryset(request), pk=run_id)
        response = StreamingHttpResponse(report_csv.report_lines(run), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{report_csv.filename(run)}"'
        return response


@admin.register(ReportRow, site=admin_site)
class ReportRowAdmin(ReadOnly, WorkspaceScopedAdmin):
    workspace_path = "run__store__workspace"
    list_display = ["run", "product_handle", "group", "public_id", "action", "position_before",
                    "position_after", "media_id", "status", "error_code"]  # fmt: skip
    list_filter = ["action"]
    search_fields = ["asset_id", "public_id", "product_id", "product_handle", "media_id"]
    list_select_related = ["run"]


# The RQ dashboard (queues, jobs, workers of every workspace) for superusers only.
from reports import rq_admin  # noqa: E402, F401
