from django.db import migrations, models


def finished_to_outcome(apps, schema_editor):
    Run = apps.get_model("reports", "Run")
    Run.objects.filter(status="finished", failures=0).update(status="succeeded")
    Run.objects.filter(status="finished").update(status="completed_with_failures")


def outcome_to_finished(apps, schema_editor):
    Run = apps.get_model("reports", "Run")
    Run.objects.filter(status__in=["succeeded", "completed_with_failures"]).update(
        status="finished"
    )


class Migration(migrations.Migration):
    dependencies = [("reports", "0002_run_kind_upload")]

    operations = [
        migrations.AlterField(
            model_name="run",
            name="status",
            field=models.CharField(
                choices=[
                    ("queued", "Queued"),
                    ("running", "Running"),
                    ("succeeded", "Succeeded"),
                    ("completed_with_failures", "Completed with failures"),
                    ("failed", "Failed"),
                    ("aborted", "Aborted"),
                ],
                default="queued",
                max_length=30,
            ),
        ),
        migrations.RunPython(finished_to_outcome, outcome_to_finished),
    ]
