"""Link runs and their reports: a Run per store, its products (the gallery before, for resume
and undo) and one report row per asset per product.

Run lives here rather than in ``linking/models.py`` only to keep migrations of two concurrent
pieces of work apart (issue #8 started while #7 owned ``linking/models.py``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Run(models.Model):
    """One store's execution of a plan (or the undo of an earlier run)."""

    class Kind(models.TextChoices):
        LINK = "link", "Link"
        UNDO = "undo", "Undo"
        UPLOAD = "upload", "Upload"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        COMPLETED_WITH_FAILURES = "completed_with_failures", "Completed with failures"
        FAILED = "failed", "Failed"
        ABORTED = "aborted", "Aborted"

    ACTIVE = (Status.QUEUED, Status.RUNNING)
    ENDED = (Status.SUCCEEDED, Status.COMPLETED_WITH_FAILURES)
    """Ended by doing its work (not failed, not aborted): what undo may revert."""

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="runs")
    plan = models.ForeignKey(
        "linking.Plan", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.LINK)
    undo_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="undos"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    api_key = models.ForeignKey(
        "stores.ApiKey",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        # No index: building one on the live runs table would lock it (test_migrations); a key
        # is deleted rarely, and its runs are then found by a scan.
        db_index=False,
        help_text="The API key that started it (automation), if not a user.",
    )
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.QUEUED)
    link_mode = models.CharField(max_length=10, blank=True)
    settings = models.JSONField(default=dict, blank=True, help_text="The core LinkSettings.")
    work = models.JSONField(
        default=dict,
        blank=True,
        help_text="Run-wide input: the URLs Shopify fetches (per asset identity) and the rows "
        "of no product (excluded, unmatched, unresolved). Each product's own work is its "
        "RunProduct's; runs started before RunProduct.work keep theirs here, under 'products'.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Times a worker started it.")
    worker = models.CharField(max_length=200, blank=True)
    abort_requested_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    # Progress (written by the worker at least every second).
    phase = models.CharField(max_length=40, blank=True)
    ops_done = models.PositiveIntegerField(default=0)
    ops_total = models.PositiveIntegerField(default=0)
    products_done = models.PositiveIntegerField(default=0)
    products_total = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    calls = models.PositiveIntegerField(default=0)
    points_requested = models.PositiveIntegerField(default=0)
    points_actual = models.PositiveIntegerField(default=0)
    throttled = models.PositiveIntegerField(default=0)
    eta_seconds = models.FloatField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True, help_text="Report rows per action.")
    timings = models.JSONField(
        null=True,
        blank=True,
        help_text="Where the run's time went: seconds per phase, Shopify HTTP, rate-limit waits "
        "and database (reports.timings).",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["store", "status"])]

    def __str__(self) -> str:
        return f"Run {self.pk} ({self.kind}, {self.status}) on {self.store.shop_domain}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def is_terminal(self) -> bool:
        return not self.is_active

    @classmethod
    def outcome(cls, *, done: int, bad: int, aborted: bool = False) -> str:
        """The status a run ends with: ``done`` items reached their planned state, ``bad`` ones
        were rolled back, skipped or failed (each with its reason in the report)."""
        if aborted:
            return cls.Status.ABORTED
        if not bad:
            return cls.Status.SUCCEEDED
        return cls.Status.FAILED if not done else cls.Status.COMPLETED_WITH_FAILURES


class RunProduct(models.Model):
    """One product of a run: its gallery before (resume reports against it, undo restores it)
    and what happened to it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        STARTED = "started", "Started"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        NOT_DONE = "not_done", "Not done (aborted)"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="products")
    product_id = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    work = models.JSONField(
        null=True,
        blank=True,
        help_text="What the run does to the product: the assets to link (S), variants, swatches, "
        "the gallery the dry run saw, its planned operations; for an undo the gallery to get "
        "back. Null in runs started before this column (their Run.work holds it).",
    )
    before = models.JSONField(null=True, blank=True, help_text="ProductState when first started.")
    after = models.JSONField(null=True, blank=True, help_text="ProductState when done.")
    journal = models.JSONField(
        null=True,
        blank=True,
        help_text="Non-idempotent calls in flight (creates): what to reconcile on resume.",
    )
    replanned = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "product_id"], name="one_row_per_run_product")
        ]

    def __str__(self) -> str:
        return f"{self.product_id} in run {self.run_id}"


class ReportRow(models.Model):
    """One row per asset (or unlinked media) per product per store, as docs/linking.md lists."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="rows")
    seq = models.PositiveIntegerField(default=0)
    product_id = models.CharField(max_length=100, blank=True)
    product_handle = models.CharField(max_length=255, blank=True)
    product_title = models.CharField(max_length=255, blank=True)
    group = models.CharField(max_length=500, blank=True)
    asset_id = models.CharField(max_length=64, blank=True)
    public_id = models.CharField(max_length=500, blank=True)
    action = models.CharField(max_length=20)
    position_before = models.PositiveIntegerField(null=True, blank=True)
    position_after = models.PositiveIntegerField(null=True, blank=True)
    media_id = models.CharField(max_length=100, blank=True)
    previous_media_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, blank=True, help_text="Shopify's media status.")
    error_code = models.CharField(max_length=100, blank=True)
    message = models.TextField(blank=True)
    filename = models.CharField(max_length=500, blank=True, help_text="Uploads: the file's name.")
    url = models.URLField(max_length=2000, blank=True, help_text="Uploads: the file's URL.")
    transformation = models.CharField(  # noqa: DJ001 - NULL: written before this column
        max_length=500,
        null=True,
        blank=True,
        help_text="The transformation of the asset's media (the CSV's column), written with "
        "the row. NULL on rows written before it: the CSV reads it from the run's work.",
    )

    class Meta:
        ordering = ["run", "seq", "id"]
        indexes = [models.Index(fields=["run", "action"])]

    def __str__(self) -> str:
        return f"{self.action} {self.asset_id or self.media_id} on {self.product_id}"
