"""Plans: create and edit a batch configuration (validated, Setup defaults filled in), and dry
run it against every selected store. Nothing here writes to Shopify."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connections, transaction
from django.utils import timezone

from assetlink_project.errors import ApplicationError, InputError
from common.alt_text import AltSource, AltTextError, alt_rule, default_alt_source
from common.fields import core_asset, normalise
from linking import selectors
from linking.catalog import catalog_for, forget_products
from linking.core import (
    AltTextRule,
    FieldError,
    FieldKind,
    FieldRef,
    LinkConfig,
    LinkSettings,
    ProductPlan,
    SwatchRule,
    TransformationError,
    match_groups,
    parse_field_ref,
    parse_shopify_field,
    plan_store,
    prepare_groups,
    validate_alt_override,
    validate_alt_rule,
    validate_field_exists,
    validate_mode,
    validate_order_field,
    validate_transformation,
)
from linking.core.grouping import Group
from linking.galleries import read_galleries
from linking.models import (
    Plan,
    PlanProduct,
    PlanStore,
)
from reports.progress import nap
from stores import permissions, principals
from stores.models import Store, Workspace, WorkspaceSettings
from stores.selectors import resolve_stores
from stores.services import asset_caption, settings_for, setup_check

logger = logging.getLogger(__name__)

THUMBNAIL_TRANSFORMATION = "c_fill,w_160,h_160"

# Every configurable field of a plan, as the API and the CLI name them.
CONFIG_FIELDS = (
    "asset_ids",
    "expression",
    "stores",
    "cloudinary_field",
    "separator",
    "case_sensitive",
    "shopify_field",
    "link_mode",
    "position",
    "order_field",
    "manual_orders",
    "excluded_asset_ids",
    "excluded_groups",
    "alt_source",
    "alt_field",
    "alt_overrides",
    "assign_variant_images",
    "image_transformation",
    "file_transformation",
)


class PlanConfigError(InputError):
    """A plan configuration the user can fix; `field` names the input, the message says how."""


def _defaults(setup: WorkspaceSettings) -> dict[str, Any]:
    alt_source, alt_field = default_alt_source(setup)
    return {
        "asset_ids": [],
        "expression": "",
        "cloudinary_field": setup.default_cloudinary_field,
        "separator": setup.value_separator,
        "case_sensitive": setup.case_sensitive,
        "shopify_field": setup.default_shopify_field,
        "link_mode": setup.default_link_mode,
        "position": setup.default_position,
        "order_field": setup.default_order_field,
        "manual_orders": {},
        "excluded_asset_ids": [],
        "excluded_groups": [],
        "alt_source": alt_source,
        "alt_field": alt_field,
        "alt_overrides": {},
        "assign_variant_images": setup.assign_variant_images,
        "image_transformation": "",
        "file_transformation": "",
    }


def order_field_ref(text: str) -> FieldRef | None:
    """Setup's order field spellings: `metadata:x`, `context:x`, or `public_id`/`filename`/
    `created_at` (natural order by public id is the default tie-break anyway)."""
    text = (text or "").strip()
    if text in ("", "public_id", "created_at"):
        return None
    if text == "filename":
        return FieldRef(FieldKind.FILENAME, "^(.*)$")
    return parse_field_ref(text)


def _validate(
    workspace: Workspace,
    config: dict[str, Any],
    *,
    user=None,
    metadata_types: Mapping[str, str] | None = None,
) -> None:
    """Raise PlanConfigError naming the first field that cannot work, and the fix; spell
    ``alt_source`` the one way."""
    setup = settings_for(workspace)

    def check(field: str, fn, *args):
        try:
            return fn(*args)
        except FieldError as exc:
            raise PlanConfigError(field, str(exc)) from None

    asset_ids, expression = config["asset_ids"], (config["expression"] or "").strip()
    if asset_ids and expression:
        raise PlanConfigError(
            "expression", "Give either asset ids or a search expression, not both."
        )
    if not asset_ids and not expression:
        raise PlanConfigError(
            "asset_ids",
            "The selection is empty: give asset ids (from the Media Library) or a search "
            'expression such as folder="products/shoes".',
        )
    if len(asset_ids) > setup.batch_size_limit:
        raise PlanConfigError(
            "asset_ids",
            f"{len(asset_ids):,} assets are over this workspace's batch size limit of "
            f"{setup.batch_size_limit:,}: split the selection into batches, or ask an admin to "
            "raise the limit in Setup.",
        )
    cloudinary_ref = check("cloudinary_field", parse_field_ref, config["cloudinary_field"])
    check("shopify_field", parse_shopify_field, config["shopify_field"])
    check("position", validate_mode, config["link_mode"], config["position"])
    order_ref = check("order_field", order_field_ref, config["order_field"])
    if metadata_types is not None:
        check("cloudinary_field", validate_field_exists, cloudinary_ref, metadata_types)
        if order_ref is not None:
            check("order_field", validate_order_field, order_ref, metadata_types)
    rule = alt_rule_from(config)
    check("alt_source", validate_alt_rule, rule)
    config["alt_source"] = rule.source.value  # an old spelling ("keep") is kept as the one
    for asset_id, text in (config["alt_overrides"] or {}).items():
        check(f"alt_overrides.{asset_id}", validate_alt_override, str(text))
    for name in ("image_transformation", "file_transformation"):
        try:
            validate_transformation(config[name])
        except TransformationError as exc:
            raise PlanConfigError(name, str(exc)) from None
    if not isinstance(config["manual_orders"], dict) or not all(
        isinstance(v, list) for v in config["manual_orders"].values()
    ):
        raise PlanConfigError("manual_orders", "Give an object of group value → list of asset ids.")


def alt_rule_from(config: Mapping[str, Any]) -> AltTextRule:
    try:
        return alt_rule(config["alt_source"], config.get("alt_field") or "")
    except AltTextError as exc:
        raise PlanConfigError("alt_source", exc.args[0]) from None


def _config_of(plan: Plan) -> dict[str, Any]:
    config = {name: getattr(plan, name) for name in CONFIG_FIELDS if name != "stores"}
    return config


def _check_transformation_override(user, workspace: Workspace, changes: dict) -> None:
    """Admins only; ``user=None`` is the command line, whose operator holds the server."""
    if user is None:
        return
    if any((changes.get(name) or "").strip() for name in ("image_transformation",
                                                          "file_transformation")):  # fmt: skip
        permissions.require_setup_change(
            user, workspace, action="override the transformation for one batch"
        )


def _metadata_types(workspace: Workspace) -> dict[str, str] | None:
    """The workspace's metadata field types, to check field names when a plan is saved; None
    when Cloudinary cannot say now (the dry run checks again)."""
    from stores.cloudinary.errors import CloudinaryError

    try:
        schema = _default_cloudinary(workspace).metadata_schema()
    except CloudinaryError as exc:
        logger.info("Metadata fields of %s not checked: %s", workspace, exc)
        return None
    return {key: f.type for key, f in schema.fields.items()}


@transaction.atomic
def plan_create(
    *, user, workspace: Workspace, data: dict[str, Any], metadata_types=None, store_scope=None
) -> Plan:
    """A new plan from `data` (missing fields take the workspace's Setup defaults)."""
    unknown = sorted(set(data) - set(CONFIG_FIELDS))
    if unknown:
        raise PlanConfigError(unknown[0], f"Unknown plan field; use {', '.join(CONFIG_FIELDS)}.")
    config = _defaults(settings_for(workspace))
    config.update({k: v for k, v in data.items() if k != "stores" and v is not None})
    _check_transformation_override(user, workspace, config)
    stores = resolve_stores(workspace, data.get("stores"), store_scope)
    if metadata_types is None:
        metadata_types = _metadata_types(workspace)
    _validate(workspace, config, user=user, metadata_types=metadata_types)
    plan = Plan.objects.create(
        workspace=workspace,
        created_by=principals.django_user(user),
        **config,
    )
    plan.stores.set(stores)
    return plan


@transaction.atomic
def plan_update(
    *, user, plan: Plan, data: dict[str, Any], metadata_types=None, store_scope=None
) -> Plan:
    """Edit a plan; any change discards its dry-run result (it no longer describes the plan)."""
    unknown = sorted(set(data) - set(CONFIG_FIELDS))
    if unknown:
        raise PlanConfigError(unknown[0], f"Unknown plan field; use {', '.join(CONFIG_FIELDS)}.")
    config = _config_of(plan)
    changes = {k: v for k, v in data.items() if k != "stores"}
    if "order_field" in changes and changes["order_field"] != plan.order_field:
        # docs/linking.md: changing the order field discards the manual order.
        config["manual_orders"] = {}
    config.update(changes)
    if changes.get("asset_ids"):
        config["expression"] = ""
    elif changes.get("expression"):
        config["asset_ids"] = []
    _check_transformation_override(user, plan.workspace, changes)
    stores = (
        resolve_stores(plan.workspace, data["stores"], store_scope) if "stores" in data else None
    )
    if metadata_types is None:
        metadata_types = _metadata_types(plan.workspace)
    _validate(plan.workspace, config, user=user, metadata_types=metadata_types)
    for name, value in config.items():
        setattr(plan, name, value)
    plan.status = Plan.Status.DRAFT
    plan.dry_run_at = None
    plan.save()
    if stores is not None:
        plan.stores.set(stores)
    plan.results.all().delete()
    from linking.dry_runs import cancel_active

    cancel_active(plan)
    return plan


# --- dry run ------------------------------------------------------------------------------


def link_config(plan: Plan, setup: WorkspaceSettings, captions=None) -> LinkConfig:
    setup_check(setup)  # a Setup saved before its rules: refused before anything is planned
    manual = {
        normalise(str(value), plan.case_sensitive): [str(a) for a in ids]
        for value, ids in (plan.manual_orders or {}).items()
    }
    config = LinkConfig(
        cloudinary_field=parse_field_ref(plan.cloudinary_field),
        shopify_field=parse_shopify_field(plan.shopify_field),
        settings=LinkSettings(
            mode=validate_mode(plan.link_mode, plan.position),
            position=plan.position,
            assign_variant_images=plan.assign_variant_images,
            swatch_namespace=setup.swatch_metafield_namespace,
            swatch_key=setup.swatch_metafield_key,
            retired_asset_ids=tuple(plan.retired_asset_ids or ()),
        ),
        separator=plan.separator or None,
        case_sensitive=plan.case_sensitive,
        order_field=order_field_ref(plan.order_field),
        manual_orders=manual,
        excluded_asset_ids=frozenset(plan.excluded_asset_ids or ()),
        excluded_group_keys=frozenset(
            normalise(str(v), plan.case_sensitive) for v in plan.excluded_groups or ()
        ),
        alt_rule=alt_rule_from(_config_of(plan)),
        alt_overrides=dict(plan.alt_overrides or {}),
        captions=captions or {},
        swatch_rule=SwatchRule(
            setup.swatch_metadata_field or None,
            setup.swatch_metadata_value or None,
            setup.swatch_tag or None,
        ),
        image_transformation=plan.image_transformation or setup.default_image_transformation,
        file_transformation=plan.file_transformation or setup.default_transformation,
        swatch_from_image=setup.swatch_from_image_transformation,
    )
    config.validate()
    return config


def _default_cloudinary(workspace):
    from stores.cloudinary.client import CloudinaryClient

    return CloudinaryClient.for_workspace(workspace)


def _default_shopify(store):
    from stores.clients import shopify_client

    return shopify_client(store)


class DryRunCancelled(ApplicationError):
    """The dry run was cancelled (or its plan edited) while it ran: nothing is saved."""


class DryRunWatch:
    """What a dry run tells the person waiting (phase per store) and asks them (cancel?).
    The synchronous default (the CLI, tests, benchmarks) tells nobody and is never cancelled;
    ``linking.dry_runs`` passes one that writes to the DryRun row."""

    def phase(self, text: str) -> None:
        pass

    def store_phase(self, domain: str, text: str, *, done: bool = False) -> None:
        pass

    def check(self) -> None:
        """Raise DryRunCancelled when the person cancelled."""

    def sleep(self, seconds: float) -> None:
        nap(seconds, should_abort=self.cancelled)
        self.check()

    def cancelled(self) -> bool:
        return False


STORE_THREADS = 4  # stores planned at once: each mostly waits for its own Shopify

_gc_lock = threading.Lock()
_gc_pauses = {"count": 0, "was_enabled": True}


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The dry run builds millions of small objects that live until it ends (the selection,
    the catalog index, the galleries, the plan's rows): Python's cyclic collector would walk
    them again and again as they pile up, about a quarter of a 10,000-asset dry run's time
    (bench/dry_run.py). They hold no cycle that must be freed before the end, so collection
    pauses while dry runs run (the job has its process to itself: RQ forks a work horse per
    job) and resumes when the last one ends."""
    with _gc_lock:
        if _gc_pauses["count"] == 0:
            _gc_pauses["was_enabled"] = gc.isenabled()
            gc.disable()
        _gc_pauses["count"] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses["count"] -= 1
            if _gc_pauses["count"] == 0 and _gc_pauses["was_enabled"]:
                gc.enable()


def plan_dry_run(
    *,
    plan: Plan,
    cloudinary=None,
    shopify_client_for: Callable[[Store], Any] | None = None,
    watch: DryRunWatch | None = None,
) -> Plan:
    """Read the selection from Cloudinary and, per store (stores in parallel), the matching
    products and their galleries from Shopify; store the complete plan, one row per planned
    product. Writes nothing to Shopify."""
    with _collector_paused():
        return _plan_dry_run(plan, cloudinary, shopify_client_for, watch)


def _plan_dry_run(plan: Plan, cloudinary, shopify_client_for, watch) -> Plan:
    setup = settings_for(plan.workspace)
    cloud = cloudinary or _default_cloudinary(plan.workspace)
    shopify_client_for = shopify_client_for or _default_shopify
    watch = watch or DryRunWatch()
    version = plan.updated_at
    started = time.monotonic()
    try:
        setup_check(setup)
        watch.phase("Reading the selection from Cloudinary")
        schema = cloud.metadata_schema()
        metadata_types = {key: f.type for key, f in schema.fields.items()}
        _validate(plan.workspace, _config_of(plan), metadata_types=metadata_types)
        if plan.asset_ids:
            resolution = cloud.resolve(asset_ids=plan.asset_ids, limit=setup.batch_size_limit)
        else:
            resolution = cloud.resolve(expression=plan.expression, limit=setup.batch_size_limit)
        watch.check()
    except DryRunCancelled:
        raise
    except ApplicationError as exc:
        _fail(plan, exc.message)
        raise
    by_id = {a.asset_id: a for a in resolution.assets}
    captions = {}
    if plan.alt_source == AltSource.AI_CAPTION:
        watch.phase("Reading AI captions from Cloudinary")
        captions = _captions(cloud, resolution.assets)
    config = link_config(plan, setup, captions)
    prepared = prepare_groups([core_asset(a) for a in resolution.assets], config)
    values = [g.value for g in prepared.kept_groups]
    stores = list(plan.stores.order_by("shop_domain"))
    thumbnails = _Thumbnails(cloud, by_id)
    watch.phase(f"Planning {len(stores)} store{'s' if len(stores) != 1 else ''}")

    def one(store) -> _StoreResult:
        return _plan_one_store(
            plan, store, shopify_client_for(store), config, prepared, values, thumbnails,
            resolution.missing_ids, watch,
        )  # fmt: skip

    if len(stores) == 1:
        results = [one(stores[0])]
    else:
        with ThreadPoolExecutor(max_workers=min(STORE_THREADS, len(stores))) as pool:
            results = list(pool.map(_own_connection(one), stores))
    watch.check()
    watch.phase("Saving the result")
    _save(plan, version, results, resolution)
    logger.info("Dry run of plan %s in %.2fs", plan.pk, time.monotonic() - started)
    return plan


def _own_connection(fn):
    """A pool thread's database connection is its own: close it when the thread's work ends."""

    def run(*args):
        try:
            return fn(*args)
        finally:
            connections.close_all()

    return run


@transaction.atomic
def _save(plan: Plan, version, results: list[_StoreResult], resolution) -> None:
    current = Plan.objects.select_for_update().filter(pk=plan.pk).values("updated_at").first()
    if current is None or current["updated_at"] != version:
        raise DryRunCancelled("The plan was edited during its dry run; run it again.")
    plan.results.all().delete()
    PlanStore.objects.bulk_create([r.result for r in results])
    for r in results:
        for product in r.products:
            product.result = r.result
    PlanProduct.objects.bulk_create(
        [p for r in results for p in r.products], batch_size=PRODUCTS_PER_INSERT
    )
    matched = [r for r in results if not r.result.error]
    plan.totals = {
        "assets": len(set().union(*(r.matched_assets for r in matched))),
        "groups": len(set().union(*(r.matched_groups for r in matched))),
        "stores": [r.result.store_id for r in results],  # the stores these totals count
    }
    plan.assets_resolved = len(resolution.assets)
    plan.unresolved_asset_ids = list(resolution.missing_ids)
    plan.dry_run_at = timezone.now()
    failed = [r.result for r in results if r.result.error]
    plan.status = (
        Plan.Status.FAILED if failed and len(failed) == len(results) else Plan.Status.PLANNED
    )
    plan.error = "; ".join(f"{r.store.shop_domain}: {r.error}" for r in failed)
    plan.save()


PRODUCTS_PER_INSERT = 500


MATCH_VALUES_LIMIT = 20_000


def match_counts(
    *,
    workspace: Workspace,
    stores,
    shopify_field: str,
    values: list[str],
    case_sensitive: bool = False,
    store_scope=None,
    shopify_client_for: Callable[[Store], Any] | None = None,
) -> list[dict]:
    """Per store, which group values match products by ``shopify_field``, through the store's
    catalog index (or a batched search when cheaper): no gallery is read, nothing written.

    Returns per store ``{store, statistics, groups: {value: products matched}, catalog_path,
    error}``; a store Shopify cannot answer for carries its ``error`` (the others still count).
    """
    try:
        field = parse_shopify_field(shopify_field)
    except FieldError as exc:
        raise PlanConfigError("shopify_field", str(exc)) from None
    if len(values) > MATCH_VALUES_LIMIT:
        raise PlanConfigError("values", f"Send at most {MATCH_VALUES_LIMIT:,} group values.")
    shopify_client_for = shopify_client_for or _default_shopify
    groups = {}
    for value in values:
        text = str(value).strip()
        key = normalise(text, case_sensitive)
        if key and key not in groups:
            groups[key] = Group(key, text)
    out = []
    for store in resolve_stores(workspace, stores, store_scope):
        entry = {
            "store": store.shop_domain, "statistics": {}, "groups": {}, "catalog_path": "",
            "error": "",
        }  # fmt: skip
        try:
            catalog = catalog_for(
                store, shopify_client_for(store), field, [g.value for g in groups.values()]
            )
        except ApplicationError as exc:
            entry["error"] = exc.message
            out.append(entry)
            continue
        match = match_groups(
            list(groups.values()), catalog.index, field, case_sensitive=case_sensitive
        )
        entry["catalog_path"] = catalog.choice.path
        entry["statistics"] = asdict(match.statistics)
        entry["groups"] = {m.group.value: len(m.hits) for m in match.group_matches}
        out.append(entry)
    return out


def _fail(plan: Plan, message: str) -> None:
    plan.status = Plan.Status.FAILED
    plan.error = message
    plan.save(update_fields=["status", "error", "updated_at"])


def _captions(cloud, assets) -> dict[str, str]:
    from stores.cloudinary.errors import CaptionUnavailable

    out = {}
    for asset in assets:
        if asset.resource_type != "image":
            continue
        try:
            out[asset.asset_id] = asset_caption(cloudinary=cloud, asset=asset)
        except CaptionUnavailable:
            continue  # no caption: Shopify's alt is kept for that asset
    return out


class _Phases:
    """Seconds per phase, for the log line of each store's dry run."""

    def __init__(self):
        self.last, self.laps = time.monotonic(), []

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.laps.append((name, now - self.last))
        self.last = now

    def __str__(self) -> str:
        return ", ".join(f"{name} {seconds:.2f} s" for name, seconds in self.laps)


@dataclass
class _StoreResult:
    result: PlanStore
    products: list[PlanProduct] = field(default_factory=list)
    matched_groups: set[str] = field(default_factory=set)
    matched_assets: set[str] = field(default_factory=set)


class _Thumbnails:
    """Thumbnail URLs of the selection's assets, built without the SDK's per-URL cost."""

    def __init__(self, cloud, by_id):
        self.cloud, self.by_id, self.builders = cloud, by_id, {}
        self.lock = threading.Lock()

    def __call__(self, asset_id: str) -> str:
        asset = self.by_id.get(asset_id)
        if asset is None:
            return ""
        key = (asset.resource_type, asset.type)
        with self.lock:
            build = self.builders.get(key)
            if build is None:
                build = self.builders[key] = self.cloud.delivery_urls(
                    resource_type=asset.resource_type, type=asset.type,
                    transformation=THUMBNAIL_TRANSFORMATION, format="jpg",
                )  # fmt: skip
        return build(asset.public_id, int(asset.version))


def _plan_one_store(
    plan, store, client, config, prepared, values, thumbnails, missing_asset_ids, watch
) -> _StoreResult:
    domain = store.shop_domain
    out = _StoreResult(PlanStore(plan=plan, store=store))
    result = out.result
    clock = _Phases()
    try:
        watch.store_phase(domain, "finding the matching products")
        catalog = catalog_for(store, client, config.shopify_field, values)
        clock.lap("catalog")
        watch.check()
        result.catalog_path = catalog.choice.path
        result.catalog_reason = catalog.choice.reason[:300]
        match = match_groups(
            prepared.kept_groups,
            catalog.index,
            config.shopify_field,
            case_sensitive=config.case_sensitive,
        )
        product_ids = list(match.groups_by_product)
        variant_ids = [v for m in match.group_matches for hit in m.hits for v in hit.variant_ids]
        watch.store_phase(domain, f"reading the galleries of {len(product_ids):,} products")
        galleries = read_galleries(
            client,
            store,
            product_ids,
            variant_ids=variant_ids,
            swatch_metafield=(config.settings.swatch_namespace, config.settings.swatch_key),
            sleep=watch.sleep,
            on_done=lambda done, total: watch.store_phase(
                domain, f"reading galleries: {done} of {total} exports done"
            ),
        )
        clock.lap("galleries")
        result.galleries_path = galleries.path
        if catalog.choice.path == "index" and galleries.missing:
            forget_products(store, galleries.missing)
        watch.store_phase(domain, f"planning {len(galleries.states):,} products")
        store_plan = plan_store(
            prepared,
            match,
            catalog.index,
            galleries.states,
            config,
            store_files=selectors.store_files(store),
        )
        clock.lap("planning")
    except ApplicationError as exc:
        if isinstance(exc, DryRunCancelled):
            raise
        result.error = exc.message
        _ledger(result, client)
        watch.store_phase(domain, "failed", done=True)
        return out
    result.statistics = asdict(store_plan.statistics)
    index = catalog.index
    result.groups = [
        {
            "value": m.group.value,
            "assets": [a.asset_id for a in m.group.assets],
            "matched": m.matched,
            "products": [
                {
                    "id": hit.product_id,
                    "handle": getattr(index.product(hit.product_id), "handle", ""),
                    "title": getattr(index.product(hit.product_id), "title", ""),
                    "variant_ids": list(hit.variant_ids),
                }
                for hit in m.hits
            ],
        }
        for m in match.group_matches
    ]
    for m in match.group_matches:
        if m.matched:
            out.matched_groups.add(m.group.value)
            out.matched_assets.update(a.asset_id for a in m.group.assets)
    result.assets_matched = len(out.matched_assets)
    rows_by_product: dict[str | None, list[dict]] = {}
    for row in store_plan.rows:
        product = index.product(row.product_id or "")
        rows_by_product.setdefault(row.product_id, []).append(
            {**vars(row), "handle": getattr(product, "handle", ""),
             "title": getattr(product, "title", ""), "transformation": ""}
        )  # fmt: skip
    for seq, product_plan in enumerate(store_plan.products):
        data = _product_json(
            product_plan, index.product(product_plan.product_id), galleries.thumbnails, thumbnails
        )
        rows = rows_by_product.pop(product_plan.product_id, [])
        transformations = {
            item["asset_id"]: item["transformation"] or ""
            for item in data["after"]
            if item["asset_id"]
        }
        for row in rows:
            row["transformation"] = transformations.get(row["asset_id"], "")
        out.products.append(
            PlanProduct(
                seq=seq,
                product_id=product_plan.product_id,
                operation_count=data["operation_count"],
                data=data,
                rows=rows,
            )
        )
    result.static_rows = [row for rows in rows_by_product.values() for row in rows] + [
        {"product_id": None, "action": "skipped", "asset_id": asset_id, "public_id": "",
         "group": "", "media_id": None, "previous_media_id": None, "position_before": None,
         "position_after": None, "handle": "", "title": "", "transformation": "",
         "message": "Cloudinary has no asset with this id (unknown, deleted or inaccessible)."}
        for asset_id in missing_asset_ids
    ]  # fmt: skip
    result.product_count = len(out.products)
    result.products_changed = sum(1 for p in out.products if p.operation_count)
    result.operations = sum(p.operation_count for p in out.products)
    if galleries.missing:
        result.statistics["products_not_readable"] = len(galleries.missing)
    _ledger(result, client)
    clock.lap("result")
    logger.info("Dry run of plan %s on %s: %s", plan.pk, domain, clock)
    watch.store_phase(domain, f"{len(out.products):,} products planned", done=True)
    return out


def _ledger(result: PlanStore, client) -> None:
    ledger = getattr(client, "ledger", None)
    if ledger is not None:
        result.shopify_points = ledger.actual_points
        result.shopify_calls = ledger.calls


def _item_json(item, thumbnails, thumbnail_of) -> dict:
    record = item.record
    thumbnail = thumbnails.get(item.media_id, "")
    if not thumbnail and record is not None:
        thumbnail = thumbnail_of(record.asset_id)
    return {
        "media_id": item.media_id,
        "asset_id": record.asset_id if record else None,
        "version": record.version if record else None,
        "transformation": record.transformation if record else None,
        "media_type": item.media_type,
        "status": item.status,
        "alt": item.alt,
        "thumbnail_url": thumbnail,
        "new": item.media_id.startswith("new:"),
    }


def _product_json(plan: ProductPlan, product, thumbnails, thumbnail_of) -> dict:
    ops = plan.operations
    warnings = []
    if plan.skipped_reason:
        warnings.append(plan.skipped_reason)
    failed = [i.media_id for i in plan.before.gallery if i.status == "FAILED"]
    if failed:
        warnings.append(f"{len(failed)} media failed processing in Shopify: {', '.join(failed)}.")
    # vars(): the operations are flat dataclasses; asdict's deep copy costs far more.
    operations = {name: [dict(vars(op)) for op in getattr(ops, name)]
                  for name in ("unlinks", "creates", "moves", "alt_updates", "variant_images",
                               "swatch_files", "swatch_metafields")}  # fmt: skip
    for spec in operations["swatch_files"]:  # what the swatch will look like, and its source
        asset = thumbnail_of.by_id.get(spec["asset_id"])
        spec["url"] = (
            thumbnail_of.cloud.delivery_url(
                asset, transformation=spec["transformation"], format="png"
            )
            if asset is not None
            else ""
        )
        spec["source_public_id"] = getattr(asset, "public_id", "")
    return {
        "product_id": plan.product_id,
        "handle": getattr(product, "handle", ""),
        "title": getattr(product, "title", ""),
        "before": [_item_json(i, thumbnails, thumbnail_of) for i in plan.before.gallery],
        "after": [_item_json(i, thumbnails, thumbnail_of) for i in plan.after.gallery],
        "operations": operations,
        "operation_count": len(ops),
        "warnings": warnings,
        "skipped": plan.skipped_reason is not None,
    }  # fmt: skip
