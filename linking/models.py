"""Plans (a batch configuration and its per-store dry-run result), link records, and the
per-store catalog index that large selections match against."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from stores.models import LinkMode, Store, Workspace


class AltSource(models.TextChoices):
    # The core's names (linking.core.AltSource); "keep" is the Setup spelling of keep_shopify.
    KEEP_SHOPIFY = "keep_shopify", "Keep Shopify's alt text"
    METADATA = "metadata", "A metadata field"
    CONTEXT = "context", "A context key"
    TEMPLATE = "template", "A template"
    AI_CAPTION = "ai_caption", "AI caption"


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
    link_mode = models.CharField(max_length=10, choices=LinkMode.choices)
    position = models.PositiveIntegerField(null=True, blank=True)
    order_field = models.CharField(max_length=300, blank=True)
    manual_orders = models.JSONField(
        default=dict, blank=True, help_text="Group value → asset ids in the user's order."
    )
    excluded_asset_ids = models.JSONField(default=list, blank=True)
    excluded_groups = models.JSONField(default=list, blank=True, help_text="Group values.")
    alt_source = models.CharField(max_length=20, choices=AltSource.choices)
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
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Plan {self.pk} ({self.link_mode} by {self.shopify_field})"


class PlanStore(models.Model):
    """One store's dry-run result of a plan: how it was matched, the statistics, every product's
    gallery before/after and operations, every group's match and every asset's fate."""

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
    groups = models.JSONField(default=list, help_text="Per group: value, assets, matched products.")
    products = models.JSONField(
        default=list, help_text="Per product: before/after gallery, operations, warnings."
    )
    rows = models.JSONField(default=list, help_text="Report rows: every asset's fate.")
    shopify_points = models.FloatField(default=0)
    shopify_calls = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "store"], name="one_result_per_plan_store")
        ]
        ordering = ["plan", "store__shop_domain"]

    def __str__(self) -> str:
        return f"{self.plan} in {self.store}"


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


from linking.sync.models import SyncChange, SyncRule, SyncRun  # noqa: E402, F401 - app's models
