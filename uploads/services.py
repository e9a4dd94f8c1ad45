"""Upload batches: create (selection, stores, alt source, transformation), dry run (per store
what would be created, reused or replaced; nothing written to Shopify) and start (one run per
store, see :mod:`uploads.runs`)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from assetlink_project.errors import ApplicationError, InputError
from common.alt_text import (
    AltSource,
    alt_rule,
    alt_text_for,
    default_alt_source,
    validate_alt_override,
    validate_alt_rule,
)
from common.fields import FieldError, core_asset
from common.transformations import TransformationError, validate_transformation
from linking.services import (
    DryRunWatch,
)
from reports.models import Run
from stores import permissions, principals
from stores.models import Workspace
from stores.selectors import resolve_stores
from stores.services import asset_caption, settings_for, setup_check
from uploads import runs
from uploads.models import UploadBatch, UploadRecord

logger = logging.getLogger(__name__)

CONFIG_FIELDS = (
    "asset_ids",
    "expression",
    "stores",
    "alt_source",
    "alt_field",
    "alt_overrides",
    "transformation",
)


class UploadConfigError(InputError):
    """A batch configuration the user can fix; ``field`` names the input."""


def batch_create(
    *, user, workspace: Workspace, data: dict[str, Any], store_scope=None
) -> UploadBatch:
    """A batch from the request's fields; omitted ones take the workspace's Setup defaults.
    Overriding the transformation is for admins (403 naming the roles otherwise)."""
    setup = settings_for(workspace)
    unknown = sorted(set(data) - set(CONFIG_FIELDS))
    if unknown:
        raise UploadConfigError(unknown[0], f"Unknown field; use {', '.join(CONFIG_FIELDS)}.")
    asset_ids = [str(a).strip() for a in data.get("asset_ids") or () if str(a).strip()]
    expression = (data.get("expression") or "").strip()
    if bool(asset_ids) == bool(expression):
        raise UploadConfigError(
            "asset_ids", "Select assets: give asset ids or a search expression (one of them)."
        )
    if len(asset_ids) > setup.batch_size_limit:
        raise UploadConfigError(
            "asset_ids",
            f"The selection has {len(asset_ids)} assets; the batch limit is "
            f"{setup.batch_size_limit}.",
        )
    stores = resolve_stores(workspace, data.get("stores"), store_scope)
    default_source, default_field = default_alt_source(setup)
    alt_field = data.get("alt_field") if "alt_source" in data else default_field
    try:
        rule = alt_rule(data.get("alt_source") or default_source, alt_field)
        validate_alt_rule(rule)
    except FieldError as exc:
        raise UploadConfigError("alt_source", str(exc)) from None
    overrides = data.get("alt_overrides") or {}
    if not isinstance(overrides, dict):
        raise UploadConfigError("alt_overrides", "Give an object of asset id → alt text.")
    for asset_id, text in overrides.items():
        try:
            validate_alt_override(str(text))
        except FieldError as exc:
            raise UploadConfigError(f"alt_overrides.{asset_id}", str(exc)) from None
    override = (data.get("transformation") or "").strip()
    if override:
        permissions.require_setup_change(
            user, workspace, action="override the transformation for one batch"
        )
        try:
            override = validate_transformation(override)
        except TransformationError as exc:
            raise UploadConfigError("transformation", str(exc)) from None
    else:
        setup_check(setup, ("default_transformation",))
    with transaction.atomic():
        batch = UploadBatch.objects.create(
            workspace=workspace,
            created_by=principals.django_user(user),
            asset_ids=asset_ids,
            expression=expression,
            alt_source=rule.source.value,
            alt_field=rule.name,
            alt_overrides={str(k): str(v) for k, v in overrides.items()},
            transformation_override=override,
            transformation=override or setup.default_transformation,
        )
        batch.stores.set(stores)
    return batch


def _default_cloudinary(workspace):
    from stores.cloudinary.client import CloudinaryClient

    return CloudinaryClient.for_workspace(workspace)


def _asset_entry(batch: UploadBatch, cloud, asset, caption: str | None) -> dict:
    """What the run needs of one asset: identity, the URL Shopify (or we, for videos) fetch,
    the filename (last segment of the public id + the delivered format) and the alt."""
    video = asset.resource_type == "video"
    # The transformation applies to images; videos are delivered as they are (MP4).
    transformation = "" if video else batch.transformation
    url = cloud.delivery_url(asset, transformation=transformation)
    ext = url.split("?")[0].rsplit("/", 1)[-1].rpartition(".")[2].lower() or (
        "mp4" if video else "jpg"
    )
    stem = asset.public_id.rsplit("/", 1)[-1]
    override = (batch.alt_overrides or {}).get(asset.asset_id)
    alt = alt_text_for(
        core_asset(asset),
        alt_rule(batch.alt_source, batch.alt_field),
        caption=caption,
        override=override,
    )
    return {
        "asset_id": asset.asset_id,
        "public_id": asset.public_id,
        "version": int(asset.version),
        "media_type": "VIDEO" if video else "IMAGE",
        "transformation": transformation,
        "url": url,
        "filename": f"{stem}.{ext}",
        "alt": alt,
    }


def _classify(store, assets: list[dict], unresolved: list[str]) -> dict:
    """Per asset what a run would do on ``store`` now, from the upload records (no Shopify
    call: the run checks the files themselves before it reuses or replaces them)."""
    records = {
        (r.asset_id, r.transformation): r
        for r in UploadRecord.objects.filter(
            store=store, asset_id__in=[a["asset_id"] for a in assets]
        )
    }
    rows = []
    for a in assets:
        record = records.get((a["asset_id"], a["transformation"]))
        if record is None:
            action = "created"
        elif record.version == a["version"]:
            action = "reused"
        else:
            action = "replaced"
        rows.append(
            {
                "asset_id": a["asset_id"],
                "public_id": a["public_id"],
                "media_type": a["media_type"],
                "filename": a["filename"],
                "source_url": a["url"],
                "alt": a["alt"],
                "action": action,
                "file_id": record.file_id if record else "",
                "url": record.url if record else "",
                "version_before": record.version if record else None,
                "version": a["version"],
                "error_code": "",
            }
        )
    rows += [
        {"asset_id": asset_id, "action": "failed", "error_code": "UNRESOLVED"}
        for asset_id in unresolved
    ]
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["action"]] = counts.get(row["action"], 0) + 1
    return {"counts": counts, "rows": rows}


def batch_dry_run(*, batch: UploadBatch, cloudinary=None, watch=None) -> UploadBatch:
    """Read the selection from Cloudinary and say per store what would be created, reused or
    replaced. Writes nothing to Shopify. ``watch`` (a DryRunWatch; the background job's)
    is told the phase and stops it when cancelled: the batch keeps its previous result."""
    from stores.cloudinary.errors import CaptionUnavailable

    watch = watch or DryRunWatch()
    cloud = cloudinary or _default_cloudinary(batch.workspace)
    setup = settings_for(batch.workspace)
    watch.phase("Reading the selection from Cloudinary")
    try:
        if batch.asset_ids:
            resolution = cloud.resolve(asset_ids=batch.asset_ids, limit=setup.batch_size_limit)
        else:
            resolution = cloud.resolve(expression=batch.expression, limit=setup.batch_size_limit)
    except ApplicationError as exc:
        UploadBatch.objects.filter(pk=batch.pk).update(
            status=UploadBatch.Status.FAILED, error=exc.message
        )
        raise
    captions = batch.alt_source == AltSource.AI_CAPTION
    entries = []
    for n, asset in enumerate(resolution.assets):
        if n % 100 == 0:
            watch.phase(
                f"{'Reading AI captions' if captions else 'Preparing'}: {n:,} of "
                f"{len(resolution.assets):,} assets"
            )
        caption = None
        if captions and asset.resource_type == "image":
            try:
                caption = asset_caption(cloudinary=cloud, asset=asset)
            except CaptionUnavailable:
                caption = None  # no caption: the file keeps its alt
        entries.append(_asset_entry(batch, cloud, asset, caption))
    unresolved = list(resolution.missing_ids)
    dry_run = {}
    for store in batch.stores.order_by("shop_domain"):
        watch.store_phase(store.shop_domain, "comparing with the files uploaded before")
        dry_run[store.shop_domain] = _classify(store, entries, unresolved)
        counts = ", ".join(
            f"{n} {action}" for action, n in sorted(dry_run[store.shop_domain]["counts"].items())
        )
        watch.store_phase(store.shop_domain, counts or "nothing to do", done=True)
    watch.check()
    batch.assets = entries
    batch.unresolved_asset_ids = unresolved
    batch.dry_run = dry_run
    batch.dry_run_at = timezone.now()
    if batch.status in (UploadBatch.Status.DRAFT, UploadBatch.Status.FAILED):
        batch.status = UploadBatch.Status.PLANNED
    batch.error = ""
    batch.save()
    return batch


def batch_start(
    *,
    batch: UploadBatch,
    user=None,
    cloudinary=None,
    stores=None,
    enqueue: bool = True,
    scope=None,
) -> list[Run]:
    """One run per store (queued); without a dry run the selection is resolved first — by a
    caller narrowed to one store (``scope``, an API key) only if every store of the batch is
    within its reach, as that dry run reads and writes them all."""
    targets = list(batch.stores.order_by("shop_domain"))
    if stores is not None:
        wanted = {str(s).lower() for s in stores}
        targets = [s for s in targets if s.shop_domain in wanted or str(s.pk) in wanted]
    if not targets:
        raise UploadConfigError("stores", "None of the batch's stores was selected.")
    if not batch.dry_run_at:
        if user is not None:
            permissions.require_within_reach(
                user, scope, batch.stores.all(), action="dry run this upload batch"
            )
        batch = batch_dry_run(batch=batch, cloudinary=cloudinary)
    for store in targets:
        if batch.runs.filter(store=store, status__in=Run.ACTIVE).exists():
            raise runs.RunError(f"This batch is already uploading to {store.shop_domain}.")
    started = [
        runs.run_start(store=store, batch=batch, user=user, enqueue=enqueue) for store in targets
    ]
    UploadBatch.objects.filter(pk=batch.pk).update(status=UploadBatch.Status.STARTED)
    return started
