from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "uploads"
    verbose_name = "Upload to Store Files"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from uploads import receivers  # noqa: F401  (connects the stores' signals)
