from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "uploads"
    verbose_name = "Upload to Store Files"
    default_auto_field = "django.db.models.BigAutoField"
