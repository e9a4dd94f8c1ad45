"""`python manage.py worker`: an RQ worker on every AssetLink queue (default, links, uploads)."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run an RQ worker on all AssetLink queues."

    def add_arguments(self, parser):
        parser.add_argument("--burst", action="store_true", help="Exit when the queues are empty.")

    def handle(self, *args, **options):
        call_command("rqworker", *settings.RQ_QUEUES, burst=options["burst"], with_scheduler=False)
