from django.core.management.base import BaseCommand, CommandError

from assetlink_project.errors import ApplicationError
from stores.dev_install import install_by_oauth
from stores.models import Workspace


class Command(BaseCommand):
    help = "Install the app on sandbox shops through the OAuth flow (development and demo)."

    def add_arguments(self, parser):
        parser.add_argument("shops", nargs="+", help="e.g. demo-1.myshopify.com")
        parser.add_argument("--workspace", type=int, help="Put the stores into this workspace.")

    def handle(self, *args, shops, workspace=None, **options):
        target = None
        if workspace is not None:
            target = Workspace.objects.filter(pk=workspace).first()
            if target is None:
                raise CommandError(f"No workspace {workspace}.")
        for shop in shops:
            try:
                store = install_by_oauth(shop, workspace=target)
            except ApplicationError as exc:
                raise CommandError(exc.message) from exc
            self.stdout.write(
                f"Installed {store.shop_domain} in workspace {store.workspace} "
                f"(scopes {store.scopes})"
            )
