from django.apps import AppConfig


class LinkingConfig(AppConfig):
    name = "linking"
    verbose_name = "Linking"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from linking import (
            receivers,  # noqa: F401  (connects the stores' signals)
            runs,
        )
        from linking.sync.services import reconcile_due
        from reports.registry import RunKind, register, register_periodic

        register(RunKind("link", runs.enqueue_run, runs.run_abort, undo=runs.run_undo))
        register(RunKind("undo", runs.enqueue_run, runs.run_abort, undo=runs.run_undo))
        register_periodic(reconcile_due)
