"""`python manage.py prune_runs --older-than DAYS [--archive DIR] [--dry-run]`: delete finished
runs (with their report rows) older than DAYS days, archiving each report as CSV first."""

from datetime import timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reports.retention import prune_runs


class Command(BaseCommand):
    help = "Delete finished runs and their report rows older than --older-than days."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS")
        parser.add_argument(
            "--archive", type=Path, metavar="DIR", help="Write each run's report CSV here first."
        )
        parser.add_argument("--dry-run", action="store_true", help="Count (and archive) only.")

    def handle(self, *args, **options):
        days = options["older_than"]
        if days < 1:
            raise CommandError("--older-than must be at least 1 day.")
        archive = options["archive"]
        if archive is not None:
            try:
                archive.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CommandError(f"Cannot write the archive to {archive}: {exc}") from None
        result = prune_runs(
            older_than=timedelta(days=days), archive_dir=archive, dry_run=options["dry_run"]
        )
        verb = "would be deleted" if options["dry_run"] else "deleted"
        self.stdout.write(
            f"{result.runs} runs ({result.report_rows} report rows) older than {days} days {verb}"
            + (f"; {len(result.archived)} reports archived in {archive}" if archive else "")
        )
