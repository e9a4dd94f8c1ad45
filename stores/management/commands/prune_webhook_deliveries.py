from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from stores.services import webhook_deliveries_prune


class Command(BaseCommand):
    help = (
        "Delete processed webhook deliveries older than WEBHOOK_RETENTION_DAYS (the worker's "
        "sweeper does this every hour; this command is for cron or a one-off)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            help=f"Keep this many days instead (default {settings.WEBHOOK_RETENTION_DAYS}).",
        )

    def handle(self, *args, days=None, **options):
        if days is not None and days < 2:
            raise CommandError("Keep at least 2 days (--days 2): Shopify retries for 48 hours.")
        deleted = webhook_deliveries_prune(older_than_days=days)
        self.stdout.write(f"Deleted {deleted} webhook deliveries.")
