"""Setup's alt text source takes the one spelling of the product's AltSource: "keep" (Shopify's
alt text) becomes "keep_shopify", as plans and upload batches already spell it. The column is
unchanged (choices and a Python-side default only); existing rows are rewritten, and back."""

from django.db import migrations, models

RENAMED = {"keep": "keep_shopify"}


def _rename(apps, mapping):
    settings = apps.get_model("stores", "WorkspaceSettings")
    for old, new in mapping.items():
        settings.objects.filter(alt_text_source=old).update(alt_text_source=new)


def forwards(apps, schema_editor):
    _rename(apps, RENAMED)


def backwards(apps, schema_editor):
    _rename(apps, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("stores", "0007_shop_domain_one_dns_label"),
    ]

    operations = [
        migrations.AlterField(
            model_name="workspacesettings",
            name="alt_text_source",
            field=models.CharField(
                choices=[
                    ("keep_shopify", "Keep Shopify's alt text"),
                    ("metadata", "A metadata field"),
                    ("context", "A context key"),
                    ("template", "A template"),
                    ("ai_caption", "AI caption"),
                ],
                default="keep_shopify",
                max_length=20,
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
