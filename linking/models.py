"""Plans (a batch configuration and its per-store dry-run result), link records, and the
per-store catalog index that large selections match against."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from common.alt_text import ALT_SOURCE_CHOICES
from common.link_modes import LINK_MODE_CHOICES
from stores.models import Store, Workspace

"""Setup's alt text source → the plan's (Setup spells keep_shopify ``keep``)."""


class Plan(models.Model):
    """A batch configuration: what to link where, and how. Its dry-run result lives per store
    in :class:`PlanStore`."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PLANNED = "planned", "Dry run done"
        FAILED = "failed", "Dry run failed"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="plans")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)

    # Selection: asset ids, or a Cloudinary search expression.
    asset_ids = models.JSONField(default=list, blank=True)
    expression = models.TextField(blank=True)
    stores = models.ManyToManyField(Store, related_name="plans")

    cloudinary_field = models.CharField(max_length=300)
    separator = models.CharField(max_length=5, blank=True)
    case_sensitive = models.BooleanField(default=False)
    shopify_field = models.CharField(max_length=200)
    link_mode = models.CharField(max_length=10, choices=LINK_MODE_CHOICES)
    position = models.PositiveIntegerField(null=True, blank=True)
    order_field = models.CharField(max_length=300, blank=True)
    manual_orders = models.JSONField(
        default=dict, blank=True, help_text="Group value → asset ids in the user's order."
    )
    excluded_asset_ids = models.JSONField(default=list, blank=True)
    excluded_groups = models.JSONField(default=list, blank=True, help_text="Group values.")
    alt_source = models.CharField(max_length=20, choices=ALT_SOURCE_CHOICES)
    alt_field = models.CharField(
        max_length=512, blank=True, help_text="Metadata id, context key or template."
    )
    alt_overrides = models.JSONField(default=dict, blank=True, help_text="Asset id → alt text.")
    assign_variant_images = models.BooleanField(default=True)
    image_transformation = models.CharField(
        max_length=500, blank=True, help_text="Admin override; empty uses Setup's default."
    )
    file_transformation = models.CharField(
        max_length=500, blank=True, help_text="Admin override; empty uses Setup's default."
    )

    delta_of = models.ForeignKey(
        "linking.SyncRule",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="delta_plans",
        db_index=False,  # no index built on a live table; plans are read by workspace first
        help_text="Set on the plans a sync rule makes for its deltas (not listed with plans).",
    )
    retired_asset_ids = models.JSONField(
        default=list,
        blank=True,
        help_text="Sync rules: assets deleted or moved to another group; their media leave.",
    )

    # Dry-run summary (details per store in PlanStore).
    dry_run_at = models.DateTimeField(null=True, blank=True)
    assets_resolved = models.PositiveIntegerField(default=0)
    unresolved_asset_ids = models.JSONField(default=list, blank=True)
    totals = models.JSONField(
        default=dict, blank=True, help_text="Assets and groups matched over every store."
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Plan {self.pk} ({self.link_mode} by {self.shopify_field})"


class PlanStore(models.Model):
    """One store's dry-run result of a plan: how it was matched, the statistics and counts the
    summary shows, every group's match and the report rows of no planned product. Each planned
    product (gallery before/after, operations, its report rows) is a :class:`PlanProduct`, so
    statistics, a page of the result and the CSV read only what they show."""

    class CatalogPath(models.TextChoices):
        SEARCH = "search", "Batched search queries"
        INDEX = "index", "Catalog index (bulk export)"

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="results")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    planned_at = models.DateTimeField(auto_now=True)
    catalog_path = models.CharField(max_length=10, choices=CatalogPath.choices, blank=True)
    catalog_reason = models.CharField(max_length=300, blank=True)
    galleries_path = models.CharField(max_length=10, blank=True)
    statistics = models.JSONField(default=dict)
    product_count = models.PositiveIntegerField(default=0)
    products_changed = models.PositiveIntegerField(default=0)
    operations = models.PositiveIntegerField(default=0)
    assets_matched = models.PositiveIntegerField(
        default=0, help_text="Assets of the groups that matched a product here."
    )
    groups = models.JSONField(default=list, help_text="Per group: value, assets, matched products.")
    static_rows = models.JSONField(
        default=list, help_text="Report rows of no planned product (unmatched, excluded, …)."
    )
    shopify_points = models.FloatField(default=0)
    shopify_calls = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # Expand, then contract: before migration 0006 the whole result sat in these two columns.
    # They stay (unused, empty for new results) for one release, so the previous release's
    # processes still read their columns while a deploy rolls; a later migration drops them.
    legacy_products = models.JSONField(default=list, db_column="products", editable=False)
    legacy_rows = models.JSONField(default=list, db_column="rows", editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "store"], name="one_result_per_plan_store")
        ]
        ordering = ["plan", "store__shop_domain"]

    def __str__(self) -> str:
        return f"{self.plan} in {self.store}"

    @property
    def products(self) -> list[dict]:
        """Every planned product as the API shows it (reads them all: for runs and tests)."""
        return [p.data for p in self.planned_products.order_by("seq").only("data")]

    @property
    def rows(self) -> list[dict]:
        """Every report row: the planned products' in product order, then the others."""
        rows = self.planned_products.order_by("seq").values_list("rows", flat=True)
        return [row for product_rows in rows for row in product_rows] + list(self.static_rows)


class PlanProduct(models.Model):
    """One planned product of a store's dry run: its gallery before and after, operations and
    warnings (``data``, as the API shows it) and its report rows."""

    result = models.ForeignKey(PlanStore, on_delete=models.CASCADE, related_name="planned_products")
    seq = models.PositiveIntegerField()
    product_id = models.CharField(max_length=100)
    operation_count = models.PositiveIntegerField(default=0)
    data = models.JSONField(default=dict)
    rows = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["result", "seq"], name="one_planned_product_per_seq")
        ]
        ordering = ["result", "seq"]

    def __str__(self) -> str:
        return f"{self.product_id} in {self.result_id}"


class DryRunJob(models.Model):
    """A dry run as a background job (RQ): queued, running with progress, then done, failed or
    cancelled (:mod:`linking.dry_runs` runs it). Plans' dry runs and upload batches' share it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    phase = models.CharField(max_length=200, blank=True)
    stores = models.JSONField(default=dict, help_text="Shop domain → its phase.")
    stores_total = models.PositiveIntegerField(default=0)
    stores_done = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        abstract = True

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE


class DryRun(DryRunJob):
    """A dry run of a plan. The result it computes is the plan's (``Plan.results``)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="dry_runs")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["plan", "status"])]

    def __str__(self) -> str:
        return f"Dry run {self.pk} of plan {self.plan_id} ({self.status})"


class LinkRecord(models.Model):
    """What AssetLink remembers of each media item it placed (written by runs, issue #8); the
    planner reads them to recognise S-media and reuse."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="link_records")
    product_id = models.CharField(max_length=100)
    media_id = models.CharField(max_length=100)
    asset_id = models.CharField(max_length=64)
    version = models.PositiveBigIntegerField()
    transformation = models.CharField(max_length=500, blank=True)
    alt = models.TextField(null=True, blank=True)  # noqa: DJ001 - None: Shopify's alt kept
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.SET_NULL)
    run_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "media_id"], name="one_record_per_media")
        ]
        indexes = [models.Index(fields=["store", "product_id"])]

    def __str__(self) -> str:
        return f"{self.asset_id}@{self.version} as {self.media_id}"


class StoreCatalog(models.Model):
    """The catalog index of one store, built from a bulk export and refreshed incrementally
    (products updated since ``source_updated_at``)."""

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="catalog")
    built_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    source_updated_at = models.CharField(
        max_length=40, blank=True, help_text="Highest product updatedAt seen (Shopify's text)."
    )
    product_count = models.PositiveIntegerField(default=0)
    variant_count = models.PositiveIntegerField(default=0)
    metafields = models.JSONField(
        default=list, blank=True, help_text="The ns.key metafields the index holds."
    )

    def __str__(self) -> str:
        return f"Catalog of {self.store}"


class CatalogProduct(models.Model):
    """One product of a store's catalog index, with what matching needs."""

    catalog = models.ForeignKey(StoreCatalog, on_delete=models.CASCADE, related_name="products")
    product_id = models.CharField(max_length=100)
    handle = models.CharField(max_length=255, blank=True)
    title = models.CharField(max_length=255, blank=True)
    tags = models.JSONField(default=list)
    metafields = models.JSONField(default=dict)
    variants = models.JSONField(default=list, help_text="[{id, sku, barcode, metafields}]")
    updated_at = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["catalog", "product_id"], name="one_row_per_catalog_product"
            )
        ]

    def __str__(self) -> str:
        return self.handle or self.product_id


class LinkStoreChoice(models.Model):
    """The stores a user last ticked on the Link tab of one workspace (none until they tick
    one: no store is ticked by default)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="link_store_choices"
    )
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="link_store_choices"
    )
    stores = models.ManyToManyField(Store, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "workspace"], name="one_link_store_choice_per_user_workspace"
            )
        ]

    def __str__(self) -> str:
        return f"Link stores of {self.user} in {self.workspace}"


from linking.sync.models import SyncChange, SyncRule, SyncRun  # noqa: E402, F401 - app's models
