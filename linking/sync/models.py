"""Sync rules, the Media Library changes they have pending, and their history (sync runs)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from stores.models import Workspace


class SyncRule(models.Model):
    """A saved plan that re-runs by itself on Media Library changes and every night."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="sync_rules")
    plan = models.OneToOneField("linking.Plan", on_delete=models.CASCADE, related_name="sync_rule")
    name = models.CharField(max_length=200)
    paused = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    reconcile_hour = models.PositiveSmallIntegerField(
        default=3, help_text="Hour of the day (UTC) of the nightly reconciliation."
    )
    next_reconcile_at = models.DateTimeField(null=True, blank=True)
    asset_groups = models.JSONField(
        default=dict,
        blank=True,
        help_text="Asset id → the group keys it belonged to at the last sync (to find the "
        "groups a change or a delete leaves).",
    )
    indexed_at = models.DateTimeField(null=True, blank=True)
    flush_queued = models.BooleanField(
        default=False, help_text="A debounce job is waiting to apply the pending changes."
    )
    flush_queued_at = models.DateTimeField(null=True, blank=True)
    last_change_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class SyncRun(models.Model):
    """One application of a rule: a delta (notifications) or a reconciliation. Its link runs
    (one per store) are ordinary runs with their reports, rollback and undo."""

    class Trigger(models.TextChoices):
        NOTIFICATION = "notification", "Media Library change"
        RECONCILE = "reconcile", "Reconciliation"

    class Status(models.TextChoices):
        PLANNING = "planning", "Planning"
        STARTED = "started", "Runs started"
        NOTHING = "nothing", "Nothing to do"
        FAILED = "failed", "Failed"

    rule = models.ForeignKey(SyncRule, on_delete=models.CASCADE, related_name="sync_runs")
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNING)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    notifications = models.PositiveIntegerField(default=0)
    changed_asset_ids = models.JSONField(default=list, blank=True)
    deleted_asset_ids = models.JSONField(default=list, blank=True)
    groups = models.JSONField(default=list, blank=True, help_text="The group keys re-planned.")
    plan = models.ForeignKey(
        "linking.Plan", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    runs = models.ManyToManyField("reports.Run", blank=True, related_name="sync_runs")
    drift = models.JSONField(
        default=list, blank=True, help_text="Reconciliation: per store, the products repaired."
    )
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.rule} {self.trigger} {self.created_at:%Y-%m-%d %H:%M}"


class SyncChange(models.Model):
    """A Media Library change a rule has yet to apply (from a verified notification)."""

    rule = models.ForeignKey(SyncRule, on_delete=models.CASCADE, related_name="changes")
    asset_id = models.CharField(max_length=64, blank=True)
    public_id = models.CharField(max_length=1000, blank=True)
    deleted = models.BooleanField(default=False)
    notification_type = models.CharField(max_length=50)
    received_at = models.DateTimeField(auto_now_add=True)
    sync_run = models.ForeignKey(
        SyncRun, null=True, blank=True, on_delete=models.CASCADE, related_name="changes"
    )

    class Meta:
        indexes = [models.Index(fields=["rule", "sync_run"])]

    def __str__(self) -> str:
        return f"{self.notification_type} {self.asset_id or self.public_id}"
