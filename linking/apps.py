from django.apps import AppConfig


class LinkingConfig(AppConfig):
    name = "linking"
    verbose_name = "Linking"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from linking import receivers  # noqa: F401  (connects the stores' signals)
