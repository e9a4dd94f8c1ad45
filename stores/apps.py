from django.apps import AppConfig


class StoresConfig(AppConfig):
    name = "stores"
    verbose_name = "Workspaces and stores"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from stores import checks, schema  # noqa: F401 - OpenAPI auth extensions, checks
