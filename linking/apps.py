from django.apps import AppConfig


class LinkingConfig(AppConfig):
    name = "linking"
    verbose_name = "Linking"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from linking import runs
        from reports.registry import RunKind, register

        for name in ("link", "undo"):
            register(RunKind(name, enqueue=runs.enqueue_run, abort=runs.run_abort))
