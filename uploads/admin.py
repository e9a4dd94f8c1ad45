"""Read-only admin views of upload batches (with their runs' report CSV), their dry runs (the
background jobs) and upload records.
Batches are made through the API or the `upload_files` command."""

from __future__ import annotations

from django.contrib import admin
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from linking.admin import DryRunJobAdmin, ReadOnlyScopedAdmin
from reports.models import Run
from stores.admin_site import admin_site
from uploads import selectors
from uploads.models import UploadBatch, UploadDryRun, UploadRecord


@admin.register(UploadBatch, site=admin_site)
class UploadBatchAdmin(ReadOnlyScopedAdmin):
    list_display = ["id", "workspace", "status", "transformation", "alt_source", "dry_run_at",
                    "reports"]  # fmt: skip
    list_filter = ["status"]
    exclude = ["assets", "dry_run"]

    @admin.display(description="Reports")
    def reports(self, obj):
        runs = obj.runs.select_related("store").order_by("id")
        if not runs:
            return "—"
        return format_html_join(
            " ",
            '<a href="{}">{} ({})</a>',
            (
                (reverse("admin:uploads_run_report", args=[r.pk]), r.store.shop_domain, r.status)
                for r in runs
            ),
        )

    def get_urls(self):
        view = self.admin_site.admin_view(self.report_view)
        return [path("runs/<int:run_id>/report.csv", view, name="uploads_run_report"),
                *super().get_urls()]  # fmt: skip

    def report_view(self, request, run_id: int):
        batches = self.get_queryset(request)
        runs = Run.objects.select_related("store").filter(
            kind=Run.Kind.UPLOAD, upload_batches__in=batches
        )
        run = get_object_or_404(runs.distinct(), pk=run_id)
        response = StreamingHttpResponse(selectors.report_lines(run), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{selectors.report_filename(run)}"'
        return response


@admin.register(UploadDryRun, site=admin_site)
class UploadDryRunAdmin(DryRunJobAdmin):
    workspace_path = "batch__workspace"
    list_display = [*DryRunJobAdmin.list_display[:1], "batch", *DryRunJobAdmin.list_display[1:]]
    list_select_related = ["batch", "created_by"]
    readonly_fields = ["batch", *DryRunJobAdmin.readonly_fields]


@admin.register(UploadRecord, site=admin_site)
class UploadRecordAdmin(ReadOnlyScopedAdmin):
    workspace_path = "store__workspace"
    list_display = ["file_id", "store", "asset_id", "version", "transformation", "filename",
                    "link"]  # fmt: skip
    search_fields = ["file_id", "asset_id", "public_id", "filename"]

    @admin.display(description="URL")
    def link(self, obj):
        return format_html('<a href="{}">open</a>', obj.url) if obj.url else "—"
