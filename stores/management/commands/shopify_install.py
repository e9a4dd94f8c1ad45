from django.core.management.base import BaseCommand, CommandError

from assetlink_project.errors import ApplicationError
from stores.dev_install import install_by_oauth
from stores.models import Workspace
from stores.selectors import workspace_by_ref


class Command(BaseCommand):
    help = (
        "Install the app on sandbox shops through the OAuth flow (development and demo), into "
        "a workspace (--workspace), or each unknown shop into a new one (--new-workspace)."
    )

    def add_arguments(self, parser):
        parser.add_argument("shops", nargs="+", help="e.g. demo-3.myshopify.com")
        target = parser.add_mutually_exclusive_group()
        target.add_argument(
            "--workspace", help="The workspace (id or exact name) the stores join, as Setup's "
            "'Connect a store' does.",
        )  # fmt: skip
        target.add_argument(
            "--new-workspace",
            action="store_true",
            help="Install as from Shopify: a shop AssetLink does not know gets a new workspace "
            "(no members until a staff member opens the app).",
        )

    def handle(self, *args, shops, workspace=None, new_workspace=False, **options):
        target = None
        if workspace is not None:
            target = workspace_by_ref(workspace)
            if target is None:
                raise CommandError(f"No workspace {workspace!r}. {_known_workspaces()}")
        elif not new_workspace:
            raise CommandError(
                "Name the workspace the stores join: --workspace <id or name> "
                f"(or --new-workspace to install as from Shopify). {_known_workspaces()}"
            )
        for shop in shops:
            try:
                store = install_by_oauth(shop, workspace=target)
            except ApplicationError as exc:
                raise CommandError(exc.message) from exc
            self.stdout.write(
                f"Installed {store.shop_domain} in workspace {store.workspace} "
                f"(id {store.workspace_id}; scopes {store.scopes})"
            )


def _known_workspaces() -> str:
    known = [f"{w.pk} ({w.name})" for w in Workspace.objects.order_by("pk")[:20]]
    return f"Workspaces: {', '.join(known)}." if known else "There is no workspace yet."
