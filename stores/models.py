"""Workspaces, stores, members and roles, Setup settings, API keys."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from common.alt_text import ALT_SOURCE_CHOICES, AltSource
from common.link_modes import LINK_MODE_CHOICES, LinkMode
from common.transformations import TransformationError, validate_transformation
from stores.secrets import EncryptedSecretField

# The one shop-domain rule (install, callback, Connect a store, session tokens, webhooks, the
# model): a myshopify subdomain is one DNS label, at most 63 characters.
SHOP_DOMAIN_RE = r"^[a-z0-9][a-z0-9-]{0,62}\.myshopify\.com\Z"
MAX_SHOP_DOMAIN_LENGTH = 63 + len(".myshopify.com")


def normalize_shop(shop: str | None) -> str | None:
    """The lower-cased shop domain if it is a plain `name.myshopify.com`, else None."""
    shop = (shop or "").strip().lower()
    if len(shop) > MAX_SHOP_DOMAIN_LENGTH:  # before the regex: no work on long input
        return None
    return shop if re.match(SHOP_DOMAIN_RE, shop) else None


class Workspace(models.Model):
    """One Cloudinary product environment and its settings; connects to many stores."""

    name = models.CharField(max_length=200)
    cloudinary_cloud_name = models.CharField(
        max_length=100,
        blank=True,
        validators=[RegexValidator(r"^[a-zA-Z0-9_-]+$", "Letters, digits, - and _ only.")],
    )
    cloudinary_api_key = models.CharField(max_length=100, blank=True)
    cloudinary_api_secret = EncryptedSecretField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Store(models.Model):
    """One Shopify shop that installed the app; belongs to one workspace."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="stores")
    shop_domain = models.CharField(
        max_length=255,
        unique=True,
        validators=[RegexValidator(SHOP_DOMAIN_RE, "Use the shop's myshopify.com domain.")],
    )
    name = models.CharField(max_length=255, blank=True)
    access_token = EncryptedSecretField()
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_token = EncryptedSecretField()
    refresh_token_expires_at = models.DateTimeField(null=True, blank=True)
    scopes = models.CharField(max_length=500, blank=True)
    # blank: follow settings.SHOPIFY_API_VERSION (a version bump is that one setting)
    api_version = models.CharField(max_length=20, blank=True, default="")
    installed_at = models.DateTimeField(null=True, blank=True)
    uninstalled_at = models.DateTimeField(null=True, blank=True)
    awaiting_master_admin = models.BooleanField(
        default=False,
        help_text="Installed into a new workspace by an unknown staff member: the first staff "
        "member who opens the app (session token) becomes the workspace's Master Admin.",
    )

    class Meta:
        ordering = ["shop_domain"]

    def __str__(self) -> str:
        return self.shop_domain

    @property
    def is_installed(self) -> bool:
        return self.installed_at is not None and self.uninstalled_at is None


class Role(models.TextChoices):
    MEDIA_LIBRARY_ADMIN = "media_library_admin", "Media Library Admin"
    MASTER_ADMIN = "master_admin", "Master Admin"
    TECHNICAL_ADMIN = "technical_admin", "Technical Admin"
    USER = "user", "User"


ADMIN_ROLES = frozenset({Role.MEDIA_LIBRARY_ADMIN, Role.MASTER_ADMIN, Role.TECHNICAL_ADMIN})


class Member(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="members")
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.USER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "workspace"], name="one_membership_per_user")
        ]
        ordering = ["workspace", "user"]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.get_role_display()})"

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES


class InvitationQuerySet(models.QuerySet):
    def pending(self, now=None):
        from django.utils import timezone

        return self.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now or timezone.now()
        )


class Invitation(models.Model):
    """A Master Admin asked someone to join a workspace: nobody joins until the invitee, logged
    in as the account it names, accepts it with its link. Only a hash of the link's token is
    kept. `invitee` is the email address or username as the Master Admin typed it."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    invitee = models.CharField(max_length=254)
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.USER)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation of {self.invitee} to {self.workspace} ({self.get_role_display()})"


MAX_POSITION = 250  # Shopify holds at most 250 media per product; past the end appends


CLOUDINARY_FIELD_RE = (
    r"^(metadata:[A-Za-z0-9_\-]+|context:[^\s]+|tag:\S*|public_id:.+|filename:.+)$"
)
SHOPIFY_FIELD_RE = (
    r"^(variant\.sku|variant\.barcode|product\.handle|product\.title|product\.tag|product\.id|"
    r"(product|variant)\.metafield:[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)$"
)
# Shopify's rules for what Setup sends it (admin-2026-01 schema, MetafieldsSetInput): a value
# outside them saves here but fails every product of the next run, so Setup refuses it. The
# upper bounds are the fields' max_length (whose message is the same rule).
METAFIELD_NAMESPACE_RULE = (
    "Shopify's rule for a metafield namespace: 3 to 255 characters, letters, digits, - and _ only."
)
METAFIELD_KEY_RULE = (
    "Shopify's rule for a metafield key: 2 to 64 characters, letters, digits, - and _ only."
)
MAX_ALT_TEXT_LENGTH = 512
ALT_TEXT_RULE = f"Shopify's rule for alt text: at most {MAX_ALT_TEXT_LENGTH} characters."


def validate_transformation_syntax(value: str) -> None:
    """A Setup transformation Cloudinary can deliver (common.transformations' rules)."""
    try:
        validate_transformation(value)
    except TransformationError as exc:
        message = str(exc)
        if "Cloudinary syntax" not in message:
            message = f"{message} (Cloudinary syntax: key_value parameters.)"
        raise ValidationError(message, code="transformation") from None


class WorkspaceSettings(models.Model):
    """The Setup defaults of a workspace (docs/linking.md)."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="settings")
    default_cloudinary_field = models.CharField(
        max_length=200,
        default="metadata:sku",
        validators=[
            RegexValidator(
                CLOUDINARY_FIELD_RE,
                "Use metadata:<external_id>, context:<key>, tag:<prefix>, public_id:<regex> or "
                "filename:<regex>.",
            )
        ],
    )
    value_separator = models.CharField(
        max_length=5, blank=True, help_text="Splits one asset value into several, e.g. ','."
    )
    case_sensitive = models.BooleanField(default=False)
    default_shopify_field = models.CharField(
        max_length=200,
        default="variant.sku",
        validators=[
            RegexValidator(
                SHOPIFY_FIELD_RE,
                "Use variant.sku, variant.barcode, product.handle, product.title, product.tag, "
                "product.id, product.metafield:<ns>.<key> or variant.metafield:<ns>.<key>.",
            )
        ],
    )
    default_link_mode = models.CharField(
        max_length=20, choices=LINK_MODE_CHOICES, default=LinkMode.APPEND.value
    )
    default_position = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="1-based; required when the default link mode is a specific position.",
    )
    default_order_field = models.CharField(
        max_length=200,
        blank=True,
        default="metadata:sequence_number",
        validators=[
            RegexValidator(
                r"^(metadata:[A-Za-z0-9_\-]+|context:\S+|public_id|filename|created_at)$",
                "Use metadata:<external_id>, context:<key>, public_id, filename or created_at.",
            )
        ],
    )
    alt_text_source = models.CharField(
        max_length=20, choices=ALT_SOURCE_CHOICES, default=AltSource.KEEP_SHOPIFY.value
    )
    alt_text_field = models.CharField(
        max_length=200, blank=True, help_text="Metadata external id or context key."
    )
    alt_text_template = models.CharField(
        max_length=MAX_ALT_TEXT_LENGTH, blank=True, error_messages={"max_length": ALT_TEXT_RULE}
    )
    swatch_metadata_field = models.CharField(max_length=100, blank=True, default="asset_type")
    swatch_metadata_value = models.CharField(max_length=100, blank=True, default="swatch")
    swatch_tag = models.CharField(max_length=100, blank=True, default="swatch")
    swatch_metafield_namespace = models.CharField(
        max_length=255,
        default="cloudinary",
        validators=[RegexValidator(r"^[A-Za-z0-9_\-]{3,}\Z", METAFIELD_NAMESPACE_RULE)],
        error_messages={"max_length": METAFIELD_NAMESPACE_RULE},
    )
    swatch_metafield_key = models.CharField(
        max_length=64,
        default="swatch",
        validators=[RegexValidator(r"^[A-Za-z0-9_\-]{2,}\Z", METAFIELD_KEY_RULE)],
        error_messages={"max_length": METAFIELD_KEY_RULE},
    )
    default_image_transformation = models.CharField(
        max_length=500,
        default="c_limit,w_2048,h_2048,q_auto",
        validators=[validate_transformation_syntax],
    )
    default_transformation = models.CharField(
        max_length=500, default="q_auto", validators=[validate_transformation_syntax]
    )
    batch_size_limit = models.PositiveIntegerField(
        default=10_000, validators=[MinValueValidator(1), MaxValueValidator(100_000)]
    )
    require_dry_run_for_destructive = models.BooleanField(
        default=True, help_text="Overwrite and reset need a dry run first."
    )
    delete_unreferenced_created_files = models.BooleanField(
        default=False,
        help_text="Delete files AssetLink created once nothing references them.",
    )
    assign_variant_images = models.BooleanField(default=True)
    # db_default: the column's default stays in the database, so the previous release's
    # processes, which don't know these columns, still insert settings while a deploy rolls.
    swatches_from_product_images = models.BooleanField(
        default=False,
        db_default=False,
        help_text="A group with no swatch asset gets a swatch cropped from its first product "
        "image (uploaded to Files and set in the swatch metafield).",
    )
    swatch_crop_transformation = models.CharField(
        max_length=500,
        default="c_auto,g_auto",
        db_default="c_auto,g_auto",
        validators=[validate_transformation_syntax],
        help_text="How a swatch is cropped from the product image (the size is added).",
    )
    swatch_crop_size = models.PositiveIntegerField(
        default=128,
        db_default=128,
        validators=[MinValueValidator(16), MaxValueValidator(1024)],
        help_text="Width and height of a swatch made from a product image, in pixels.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "workspace settings"
        verbose_name_plural = "workspace settings"

    def __str__(self) -> str:
        return f"Setup of {self.workspace}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.default_link_mode == LinkMode.POSITION and not self.default_position:
            errors["default_position"] = (
                "Set a position (1 or more) for the 'specific position' mode."
            )
        if self.alt_text_source in (AltSource.METADATA, AltSource.CONTEXT) and not (
            self.alt_text_field
        ):
            errors["alt_text_field"] = (
                "Name the metadata field or context key the alt text comes from."
            )
        if self.alt_text_source == AltSource.TEMPLATE and "{" not in self.alt_text_template:
            errors["alt_text_template"] = (
                "Write a template with at least one placeholder, e.g. "
                "'{product.title} – {metadata.color}'."
            )
        if bool(self.swatch_metadata_field) != bool(self.swatch_metadata_value):
            errors["swatch_metadata_value"] = (
                "Give both the metadata field and the value that mark a swatch, or neither."
            )
        if re.search(r"(^|[,/])[wh]_", self.swatch_crop_transformation or ""):
            errors["swatch_crop_transformation"] = (
                "Leave out w_ and h_: the swatch size setting gives them."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def swatch_from_image_transformation(self) -> str | None:
        """The transformation that makes a swatch from a product image (None: feature off)."""
        if not self.swatches_from_product_images:
            return None
        size = self.swatch_crop_size
        return f"{self.swatch_crop_transformation},w_{size},h_{size}".lstrip(",")


class ApiKey(models.Model):
    """A key for automation, scoped to one store connection. Only a hash of the secret is kept."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="api_keys")
    label = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, help_text="Public part, shown in lists.")
    secret_hash = models.CharField(max_length=128)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.label} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ShopifyStaff(models.Model):
    """A Shopify staff account (session token `sub`) of one store, and the user it acts as."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="staff")
    shopify_user_id = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shopify_staff"
    )
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "shopify_user_id"], name="one_identity_per_staff_per_store"
            )
        ]
        verbose_name = "Shopify staff account"

    def __str__(self) -> str:
        return f"staff {self.shopify_user_id} of {self.store}"


class OAuthState(models.Model):
    """The single-use `state` of one authorization-code install; also bound to a browser cookie."""

    nonce = models.CharField(max_length=64, unique=True)
    shop_domain = models.CharField(max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        help_text="The logged-in user who started the install, if any (becomes Master Admin).",
    )
    workspace = models.ForeignKey(
        Workspace,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        help_text="Set when an admin connects the store from Setup: the store joins this "
        "workspace. Empty for installs started from Shopify (a new store gets a new workspace).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "OAuth state"

    def __str__(self) -> str:
        return f"install of {self.shop_domain} at {self.created_at:%Y-%m-%d %H:%M}"


class WebhookDelivery(models.Model):
    """One processed webhook, keyed by X-Shopify-Webhook-Id so retries are not processed twice."""

    webhook_id = models.CharField(max_length=100, unique=True)
    topic = models.CharField(max_length=100)
    shop_domain = models.CharField(max_length=255)
    api_version = models.CharField(max_length=20, blank=True)
    triggered_at = models.CharField(max_length=40, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.topic} for {self.shop_domain} ({self.webhook_id})"


class AssetCaption(models.Model):
    """Cloudinary's AI caption of one asset version (captioning costs; ask once per version)."""

    cloud_name = models.CharField(max_length=100)
    asset_id = models.CharField(max_length=64)
    version = models.BigIntegerField()
    caption = models.CharField(max_length=512)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cloud_name", "asset_id", "version"], name="one_asset_caption_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"caption of {self.asset_id}@{self.version}"
