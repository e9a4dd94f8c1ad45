from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from assetlink_project import metrics
        from reports import receivers  # noqa: F401  (connects the stores' signals)
        from reports.metrics import run_figures

        metrics.register(run_figures)
