from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "uploads"
    verbose_name = "Upload to Store Files"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from reports import csv
        from reports.models import Run
        from uploads import selectors

        csv.register_kind_report(Run.Kind.UPLOAD, selectors.report_lines, selectors.report_filename)
