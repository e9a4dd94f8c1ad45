from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "uploads"
    verbose_name = "Upload to Store Files"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from reports.registry import RunKind, register
        from uploads import (
            receivers,  # noqa: F401  (connects the stores' signals)
            runs,
        )

        register(RunKind("upload", enqueue=runs.enqueue_run, abort=runs.run_abort))
