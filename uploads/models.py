"""Upload to Store Files: a batch (selection, stores, alt source, transformation), the files
AssetLink put in each store's Files library (the identity that makes uploads idempotent) and
the items of each store's run (its work, its resume state and its report rows); a batch's dry
runs as background jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from common.alt_text import ALT_SOURCE_CHOICES, AltSource
from linking.models import DryRunJob


class UploadBatch(models.Model):
    """What to upload where: a selection, the stores, the alt text source and the
    transformation (Setup's default unless an admin overrides it for this batch)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PLANNED = "planned", "Dry run done"
        STARTED = "started", "Started"
        FAILED = "failed", "Failed"

    workspace = models.ForeignKey(
        "stores.Workspace", on_delete=models.CASCADE, related_name="upload_batches"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    asset_ids = models.JSONField(default=list, blank=True)
    expression = models.TextField(blank=True)
    stores = models.ManyToManyField("stores.Store", related_name="upload_batches")
    alt_source = models.CharField(
        max_length=20, choices=ALT_SOURCE_CHOICES, default=AltSource.KEEP_SHOPIFY
    )
    alt_field = models.CharField(max_length=512, blank=True)
    alt_overrides = models.JSONField(default=dict, blank=True)
    transformation_override = models.CharField(
        max_length=500, blank=True, help_text="Admins only; empty = Setup's default."
    )
    transformation = models.CharField(
        max_length=500, blank=True, help_text="The transformation the batch uses."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    assets = models.JSONField(
        default=list,
        blank=True,
        help_text="The resolved selection: per asset its id, version, type, delivery URL, "
        "filename and alt (what the dry run saw and the run uploads).",
    )
    dry_run = models.JSONField(default=dict, blank=True, help_text="Per store: rows and counts.")
    dry_run_at = models.DateTimeField(null=True, blank=True)
    unresolved_asset_ids = models.JSONField(default=list, blank=True)
    runs = models.ManyToManyField("reports.Run", blank=True, related_name="upload_batches")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "upload batches"

    def __str__(self) -> str:
        return f"Upload batch {self.pk}"


class UploadDryRun(DryRunJob):
    """A dry run of an upload batch as a background job; its result is the batch's
    (``UploadBatch.dry_run``), written only when it completes."""

    batch = models.ForeignKey(UploadBatch, on_delete=models.CASCADE, related_name="dry_runs")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["batch", "status"])]

    def __str__(self) -> str:
        return f"Dry run {self.pk} of upload batch {self.batch_id} ({self.status})"


class UploadRecord(models.Model):
    """A file AssetLink uploaded to a store: an asset with a transformation is one file; a new
    version replaces its content (same id, same URL, references kept)."""

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="uploads")
    asset_id = models.CharField(max_length=64)
    public_id = models.CharField(max_length=500, blank=True)
    version = models.BigIntegerField()
    transformation = models.CharField(max_length=500, blank=True)
    media_type = models.CharField(max_length=10, default="IMAGE")
    file_id = models.CharField(max_length=100)
    url = models.URLField(max_length=2000, blank=True)
    filename = models.CharField(max_length=255, blank=True)
    alt = models.CharField(max_length=512, blank=True)
    run = models.ForeignKey(
        "reports.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "asset_id", "transformation"], name="one_upload_per_identity"
            )
        ]
        indexes = [models.Index(fields=["store", "file_id"])]

    def __str__(self) -> str:
        return f"{self.asset_id} v{self.version} → {self.file_id}"


class UploadItem(models.Model):
    """One asset of one store's upload run: its work, where it got to, and its report row."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "fileCreate sent, answer not confirmed"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        NOT_DONE = "not_done", "Not done (aborted)"

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        REUSED = "reused", "Reused"
        REPLACED = "replaced", "Replaced"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    run = models.ForeignKey("reports.Run", on_delete=models.CASCADE, related_name="upload_items")
    seq = models.PositiveIntegerField(default=0)
    asset_id = models.CharField(max_length=64)
    public_id = models.CharField(max_length=500, blank=True)
    version = models.BigIntegerField(default=0)
    media_type = models.CharField(max_length=10, default="IMAGE")
    transformation = models.CharField(max_length=500, blank=True)
    source_url = models.TextField(blank=True)
    filename = models.CharField(max_length=255, blank=True)
    alt = models.CharField(max_length=512, blank=True)
    keep_alt = models.BooleanField(
        default=False, help_text="No alt from the batch's source: leave the file's alt as is."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    sent_at = models.DateTimeField(null=True, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices, blank=True)
    file_id = models.CharField(max_length=100, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    file_status = models.CharField(max_length=20, blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    message = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["run", "seq", "id"]
        indexes = [models.Index(fields=["run", "status"])]

    def __str__(self) -> str:
        return f"{self.asset_id} in run {self.run_id}: {self.action or self.status}"
