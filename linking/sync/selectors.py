"""Reads of sync rules and their history, scoped to what a request may see."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse

from linking.sync.models import SyncRule, SyncRun
from stores import permissions
from stores.selectors import is_narrowed, stores_for_request, workspaces_for, workspaces_for_request


def rules_for_request(request) -> QuerySet[SyncRule]:
    """Rules of the workspaces the request may see; a session token or API key sees the rules
    whose plan links to its store."""
    rules = SyncRule.objects.filter(workspace__in=workspaces_for_request(request))
    if is_narrowed(request):
        rules = rules.filter(plan__stores__in=stores_for_request(request)).distinct()
    return rules.select_related("plan")


def rules_for(user) -> QuerySet[SyncRule]:
    return SyncRule.objects.filter(workspace__in=workspaces_for(user))


def notification_url(workspace_id: int) -> str:
    """Where Cloudinary sends this workspace's notifications."""
    path = reverse("cloudinary-notifications", kwargs={"workspace_id": workspace_id})
    return settings.APP_URL.rstrip("/") + path


def history(rule: SyncRule, scope=None, limit: int = 50) -> list[dict]:
    """The rule's sync runs, newest first, each with its link runs (those within ``scope``)."""
    out = []
    outside = [] if scope is None else [s for s in rule.workspace.stores.all() if s not in scope]
    sync_runs = SyncRun.objects.filter(rule=rule).prefetch_related("runs__store")[:limit]
    for s in sync_runs:
        link_runs = [r for r in s.runs.all() if scope is None or r.store in scope]
        out.append(
            {
                "id": s.pk,
                "trigger": s.trigger,
                "status": s.status,
                "created_at": s.created_at,
                "finished_at": s.finished_at,
                "notifications": s.notifications,
                "changed_asset_ids": s.changed_asset_ids,
                "deleted_asset_ids": s.deleted_asset_ids,
                "groups": s.groups,
                "plan": s.plan_id,
                "drift": [d for d in s.drift
                          if scope is None or d["store"] in {x.shop_domain for x in scope}],
                "message": permissions.without_stores(s.message, outside),
                "runs": [
                    {"id": r.pk, "store": r.store.shop_domain, "status": r.status,
                     "products_total": r.products_total, "failures": r.failures}
                    for r in sorted(link_runs, key=lambda r: r.pk)
                ],
            }
        )  # fmt: skip
    return out
