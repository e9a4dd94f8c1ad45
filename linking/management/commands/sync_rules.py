"""`python manage.py sync_rules {list,create,pause,resume,reconcile,history}`: sync rules from
the command line (the operator holds the server: no role is checked)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from assetlink_project.errors import ApplicationError
from linking.models import Plan
from linking.sync import selectors, services
from linking.sync.models import SyncRule
from stores.selectors import workspace_by_ref


class Command(BaseCommand):
    help = "List, create, pause, resume and reconcile sync rules; print a rule's history."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="Every rule (of one workspace with --workspace).")
        listing.add_argument("--workspace", help="Workspace id or exact name.")
        create = sub.add_parser("create", help="Make a sync rule of a saved plan.")
        create.add_argument("--plan", type=int, required=True)
        create.add_argument("--name", default="")
        create.add_argument("--reconcile-hour", type=int, default=3, help="UTC hour, 0-23.")
        for name in ("pause", "resume", "reconcile", "history"):
            sub.add_parser(name).add_argument("rule", type=int)

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"do_{action}")(**options)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None

    def _rule(self, rule_id: int) -> SyncRule:
        rule = SyncRule.objects.filter(pk=rule_id).select_related("plan").first()
        if rule is None:
            raise CommandError(f"No sync rule {rule_id}.")
        return rule

    def _line(self, rule: SyncRule) -> str:
        state = "paused" if rule.paused else "active"
        return (
            f"{rule.pk}\t{rule.name}\tplan {rule.plan_id}\t{state}\tnext reconciliation "
            f"{rule.next_reconcile_at:%Y-%m-%d %H:%M} UTC\t"
            f"{selectors.notification_url(rule.workspace_id)}"
        )

    def do_list(self, workspace=None, **_):
        rules = SyncRule.objects.select_related("plan").order_by("pk")
        if workspace:
            found = workspace_by_ref(workspace)
            if found is None:
                raise CommandError(f"No workspace {workspace!r}.")
            rules = rules.filter(workspace=found)
        for rule in rules:
            self.stdout.write(self._line(rule))

    def do_create(self, plan, name, reconcile_hour, **_):
        found = Plan.objects.filter(pk=plan).first()
        if found is None:
            raise CommandError(f"No plan {plan}.")
        rule = services.rule_create(user=None, plan=found, name=name, reconcile_hour=reconcile_hour)
        self.stdout.write(self._line(rule))

    def do_pause(self, rule, **_):
        self.stdout.write(self._line(services.rule_set_paused(user=None, rule=self._rule(rule),
                                                              paused=True)))  # fmt: skip

    def do_resume(self, rule, **_):
        self.stdout.write(self._line(services.rule_set_paused(user=None, rule=self._rule(rule),
                                                              paused=False)))  # fmt: skip

    def do_reconcile(self, rule, **_):
        services.rule_reconcile_now(user=None, rule=self._rule(rule))
        self.stdout.write(f"Reconciliation of rule {rule} queued.")

    def do_history(self, rule, **_):
        for entry in selectors.history(self._rule(rule)):
            self.stdout.write(json.dumps(entry, default=str))
