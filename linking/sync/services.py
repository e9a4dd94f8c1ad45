"""Sync rules: create, pause, resume; take Media Library changes from notifications; apply
them as a delta (only the groups they touched); reconcile a rule with a full run.

Every change to Shopify is an ordinary link run (:mod:`linking.runs`) of a plan: a delta is a
copy of the rule's plan narrowed to the touched groups' assets (its ``retired_asset_ids`` the
assets deleted or moved away), so create-before-destroy, rollback, reports and undo hold, and
the store's lock serialises the runs with any other run of the store.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from assetlink_project.errors import ApplicationError
from common.fields import core_asset, normalise
from common.link_modes import LinkMode
from linking import runs, services
from linking.core import LinkSettings, prepare_groups
from linking.executor import ProductWork
from linking.models import LinkRecord, Plan
from linking.sync.models import SyncChange, SyncRule, SyncRun
from reports.models import Run
from stores import permissions, principals
from stores.cloudinary.notifications import Change
from stores.models import Workspace
from stores.services import SWATCH_FIELDS, settings_for, setup_for_run

logger = logging.getLogger(__name__)

QUEUE = "default"


class SyncRuleError(ApplicationError):
    pass


def _queue_name() -> str:
    return getattr(settings, "SYNC_QUEUE", QUEUE)


def _enqueue(func: str, *args) -> None:
    import django_rq

    django_rq.get_queue(_queue_name()).enqueue(
        func, *args, job_timeout=3600, description=f"{func.rsplit('.', 1)[-1]} {args}"
    )


def next_reconcile_at(hour: int, now: dt.datetime | None = None) -> dt.datetime:
    """The next time of day ``hour`` (UTC) strictly after ``now``."""
    now = now or timezone.now()
    at = now.astimezone(dt.UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return at if at > now else at + dt.timedelta(days=1)


# --- managing rules ---------------------------------------------------------------------------


def _require_admin(user, plan: Plan, scope=None) -> None:
    """Admins manage rules; ``user=None`` is the command line, whose operator holds the server.
    A caller narrowed to one store (``scope``) manages a rule only if its plan's stores are all
    within reach."""
    if user is not None:
        permissions.require_setup_change(user, plan.workspace, action="manage sync rules")
        permissions.require_within_reach(
            user, scope, plan.stores.all(), action="manage this sync rule"
        )


def rule_create(
    *, user, plan: Plan, name: str = "", reconcile_hour: int = 3, scope=None
) -> SyncRule:
    """Turn a saved plan into a rule (admins). The rule starts with a reconciliation: the whole
    plan is run once, and the groups of its selection are indexed for later deltas."""
    _require_admin(user, plan, scope)
    if not 0 <= int(reconcile_hour) <= 23:
        raise SyncRuleError("The reconciliation hour is 0 to 23 (UTC).")
    if SyncRule.objects.filter(plan=plan).exists():
        raise SyncRuleError(f"Plan {plan.pk} already has a sync rule.")
    with transaction.atomic():
        rule = SyncRule.objects.create(
            workspace=plan.workspace,
            plan=plan,
            name=(name or "").strip()[:200] or f"Plan {plan.pk}",
            created_by=principals.django_user(user),
            reconcile_hour=int(reconcile_hour),
            next_reconcile_at=next_reconcile_at(int(reconcile_hour)),
        )
        transaction.on_commit(lambda: _enqueue("linking.tasks.reconcile_sync_rule", rule.pk))
    return rule


def rule_set_paused(*, user, rule: SyncRule, paused: bool, scope=None) -> SyncRule:
    """Pause (notifications are ignored) or resume (a reconciliation catches up at once)."""
    _require_admin(user, rule.plan, scope)
    with transaction.atomic():
        changed = SyncRule.objects.filter(pk=rule.pk, paused=not paused).update(paused=paused)
        if paused:
            SyncChange.objects.filter(rule=rule, sync_run=None).delete()
        elif changed:
            transaction.on_commit(lambda: _enqueue("linking.tasks.reconcile_sync_rule", rule.pk))
    rule.refresh_from_db()
    return rule


def rule_delete(*, user, rule: SyncRule, scope=None) -> None:
    _require_admin(user, rule.plan, scope)
    rule.delete()


def rule_reconcile_now(*, user, rule: SyncRule, scope=None) -> SyncRule:
    _require_admin(user, rule.plan, scope)
    if rule.paused:
        raise SyncRuleError("The rule is paused; resume it to reconcile.")
    transaction.on_commit(lambda: _enqueue("linking.tasks.reconcile_sync_rule", rule.pk))
    return rule


# --- notifications ------------------------------------------------------------------------------


def record_changes(*, workspace: Workspace, changes: list[Change]) -> int:
    """Record the changes for every active rule of the workspace and make sure one debounce
    job per rule is queued. Returns how many rules took them."""
    if not changes:
        return 0
    rules = list(SyncRule.objects.filter(workspace=workspace, paused=False))
    now = timezone.now()
    with transaction.atomic():
        SyncChange.objects.bulk_create(
            SyncChange(
                rule=rule, asset_id=c.asset_id, public_id=c.public_id, deleted=c.deleted,
                notification_type=c.notification_type,
            )
            for rule in rules
            for c in changes
        )  # fmt: skip
        SyncRule.objects.filter(pk__in=[r.pk for r in rules]).update(last_change_at=now)
        for rule in rules:
            # One debounce job per burst: only the request that flips the flag queues it.
            if SyncRule.objects.filter(pk=rule.pk, flush_queued=False).update(
                flush_queued=True, flush_queued_at=now
            ):
                transaction.on_commit(
                    lambda pk=rule.pk: _enqueue("linking.tasks.flush_sync_rule", pk)
                )
    return len(rules)


HOLD_SECONDS = 0.5
"""The longest a debounce job keeps its worker: then it goes to the back of its queue, so that
the jobs queued behind it (a dry run a person waits for, on a worker of every queue) run."""


def flush(rule_id: int, *, clock=time.monotonic, sleep=time.sleep) -> SyncRun | None:
    """The debounce job: wait until no change has arrived for SYNC_DEBOUNCE_SECONDS (at most
    SYNC_MAX_WAIT_SECONDS after the oldest pending one), then apply them all as one delta.
    It waits in passes of at most HOLD_SECONDS, queued again after each (returning None)."""
    quiet = float(getattr(settings, "SYNC_DEBOUNCE_SECONDS", 2.0))
    max_wait = float(getattr(settings, "SYNC_MAX_WAIT_SECONDS", 20.0))
    until = clock() + HOLD_SECONDS
    while True:
        rule = SyncRule.objects.filter(pk=rule_id).first()
        if rule is None:
            return None
        oldest = (
            SyncChange.objects.filter(rule=rule, sync_run=None)
            .order_by("received_at")
            .values_list("received_at", flat=True)
            .first()
        )
        if oldest is None or rule.paused:
            SyncRule.objects.filter(pk=rule_id).update(flush_queued=False)
            return None
        now = timezone.now()
        since_last = (now - (rule.last_change_at or oldest)).total_seconds()
        since_first = (now - oldest).total_seconds()
        if since_last >= quiet or since_first >= max_wait:
            break
        left = until - clock()
        if left <= 0:  # not quiet yet: the next pass comes after the jobs queued meanwhile
            SyncRule.objects.filter(pk=rule_id).update(flush_queued_at=timezone.now())
            _enqueue("linking.tasks.flush_sync_rule", rule_id)
            return None
        sleep(max(0.05, min(quiet - since_last, max_wait - since_first, left)))
    with transaction.atomic():
        # The flag drops before the claim: a change arriving from here on queues a new job.
        SyncRule.objects.filter(pk=rule_id).update(flush_queued=False)
        sync_run = SyncRun.objects.create(rule=rule, trigger=SyncRun.Trigger.NOTIFICATION)
        claimed = SyncChange.objects.filter(rule=rule, sync_run=None).update(sync_run=sync_run)
        if not claimed:  # another debounce job (a re-queued one) took them
            sync_run.delete()
            return None
    sync_run.notifications = claimed
    sync_run.save(update_fields=["notifications"])
    try:
        apply_delta(sync_run)
    except ApplicationError as exc:
        _finish(sync_run, SyncRun.Status.FAILED, exc.message)
    except Exception as exc:
        logger.exception("Sync rule %s: applying changes failed", rule_id)
        _finish(sync_run, SyncRun.Status.FAILED, f"{type(exc).__name__}: {exc}")
    return sync_run


def _finish(sync_run: SyncRun, status: str, message: str = "") -> None:
    sync_run.status = status
    sync_run.message = message[:4000]
    sync_run.finished_at = timezone.now()
    sync_run.save()


# --- the delta ------------------------------------------------------------------------------------


def _cloudinary(workspace):
    from stores.cloudinary.client import CloudinaryClient

    return CloudinaryClient.for_workspace(workspace)


def _selection_of(plan: Plan, cloud, asset_ids: list[str]) -> list:
    """Which of ``asset_ids`` the plan's selection holds now, as Cloudinary has them."""
    from stores.cloudinary.assets import asset_id_expressions

    if not asset_ids:
        return []
    if plan.asset_ids:
        wanted = [a for a in asset_ids if a in set(plan.asset_ids)]
        return cloud.resolve_asset_ids(wanted).assets if wanted else []
    found = []
    for _ids, expression in asset_id_expressions(asset_ids, max_chars=3000):
        found += cloud.search(f"({plan.expression}) AND ({expression})").assets
    return found


def _asset_ids_of_public_ids(cloud, public_ids: list[str]) -> list[str]:
    out = []
    for i in range(0, len(public_ids), 50):
        chunk = public_ids[i : i + 50]
        quoted = " OR ".join('public_id="{}"'.format(p.replace('"', '\\"')) for p in chunk)
        out += [a.asset_id for a in cloud.search(quoted).assets]
    return out


def group_keys(plan: Plan, assets) -> dict[str, list[str]]:
    """Asset id → the keys of the (kept) groups it belongs to under the plan's grouping."""
    config = services.link_config(plan, settings_for(plan.workspace))
    prepared = prepare_groups([core_asset(a) for a in assets], config)
    keys: dict[str, list[str]] = {}
    for group in prepared.kept_groups:
        for asset in group.assets:
            keys.setdefault(asset.asset_id, []).append(group.key)
    return keys


def _copy_plan(rule: SyncRule, *, asset_ids: list[str], retired: list[str]) -> Plan:
    plan = rule.plan
    fields = {name: getattr(plan, name) for name in services.CONFIG_FIELDS if name != "stores"}
    fields.update(asset_ids=asset_ids, expression="", retired_asset_ids=retired, delta_of=rule)
    delta = Plan.objects.create(workspace=plan.workspace, **fields)
    delta.stores.set(plan.stores.all())
    return delta


def apply_delta(sync_run: SyncRun) -> None:
    rule = sync_run.rule
    plan = rule.plan
    cloud = _cloudinary(rule.workspace)
    changes = list(sync_run.changes.all())
    deleted = sorted({c.asset_id for c in changes if c.deleted and c.asset_id})
    changed = {c.asset_id for c in changes if not c.deleted and c.asset_id}
    by_public_id = sorted({c.public_id for c in changes if not c.deleted and not c.asset_id})
    if by_public_id:
        changed |= set(_asset_ids_of_public_ids(cloud, by_public_id))
    changed -= set(deleted)
    current = _selection_of(plan, cloud, sorted(changed))
    new_keys = group_keys(plan, current)
    index: dict[str, list[str]] = dict(rule.asset_groups or {})
    touched: set[str] = set()
    retired = set(deleted)
    for asset_id in [*changed, *deleted]:
        old = set(index.get(asset_id) or ())
        new = set(new_keys.get(asset_id) or ())
        touched |= old | new
        if old - new:
            retired.add(asset_id)
    members = {a for a, keys in index.items() if set(keys) & touched} - changed - set(deleted)
    members |= {a for a, keys in new_keys.items() if set(keys) & touched}
    for asset_id in [*changed, *deleted]:
        index.pop(asset_id, None)
    index.update(new_keys)
    SyncRule.objects.filter(pk=rule.pk).update(asset_groups=index)
    sync_run.changed_asset_ids = sorted(changed)
    sync_run.deleted_asset_ids = deleted
    sync_run.groups = sorted(touched)
    sync_run.save(update_fields=["changed_asset_ids", "deleted_asset_ids", "groups"])
    if not members and not retired:
        _finish(sync_run, SyncRun.Status.NOTHING, "The changes touched no group of the rule.")
        return
    delta = _copy_plan(rule, asset_ids=sorted(members), retired=sorted(retired))
    sync_run.plan = delta
    sync_run.save(update_fields=["plan"])
    if members:
        services.plan_dry_run(plan=delta, cloudinary=cloud)
    started, problems = _start_runs(sync_run, delta, cloud, retired=sorted(retired))
    status = SyncRun.Status.STARTED if started else SyncRun.Status.NOTHING
    if problems and not started:
        status = SyncRun.Status.FAILED
    _finish(sync_run, status, "; ".join(problems) or _summary(started))


def _summary(started: list[Run]) -> str:
    if not started:
        return "Every product of the touched groups was already as planned."
    return ", ".join(f"run {r.pk} on {r.store.shop_domain}" for r in started)


def _rule_plans(rule: SyncRule) -> Q:
    """Link records placed by the rule: its plan and its deltas."""
    return Q(plan=rule.plan) | Q(plan__delta_of=rule)


def _unlink_works(rule, store, retired: list[str], planned: set[str]) -> list[ProductWork]:
    """Products outside the delta's plan that hold media of retired assets the rule placed
    (e.g. a group whose every asset was deleted): those media are unlinked, nothing else."""
    if not retired:
        return []
    setup = setup_for_run(rule.workspace, SWATCH_FIELDS)
    link_settings = LinkSettings(
        mode=LinkMode.APPEND,
        assign_variant_images=False,
        swatch_namespace=setup.swatch_metafield_namespace,
        swatch_key=setup.swatch_metafield_key,
        retired_asset_ids=tuple(retired),
    )
    records = (
        LinkRecord.objects.filter(store=store, asset_id__in=retired)
        .filter(_rule_plans(rule))
        .exclude(product_id="")
        .exclude(product_id__in=planned)
    )
    counts: dict[str, int] = {}
    for product_id in records.values_list("product_id", flat=True):
        counts[product_id] = counts.get(product_id, 0) + 1
    return [
        ProductWork(product_id, [], link_settings, planned_ops=count + 1)
        for product_id, count in sorted(counts.items())
    ]


def _start_runs(sync_run: SyncRun, plan: Plan, cloud, *, retired: list[str]):
    """One link run per store of the plan, of the products that have something to do."""
    started, problems = [], []
    results = {r.store_id: r for r in plan.results.select_related("store")}
    for store in plan.stores.order_by("shop_domain"):
        result = results.get(store.pk)
        works, urls, rows = [], {}, []
        if result is not None and result.error:
            problems.append(f"{store.shop_domain}: {result.error}")
            continue
        if result is not None:
            works, urls, rows = runs.works_from_plan_store(result, cloudinary=cloud)
            works = [w for w in works if w.planned_ops]
        changing = {w.product_id for w in works}
        rows = [r for r in rows if not r.get("product_id") or r["product_id"] in changing]
        planned = {p["product_id"] for p in (result.products if result else ())}
        works += _unlink_works(sync_run.rule, store, retired, planned)
        if not works:
            continue
        if sync_run.trigger == SyncRun.Trigger.RECONCILE:
            _note_drift(sync_run, store, result, {w.product_id for w in works})
        run = runs.run_start(store=store, works=works, urls=urls, rows=rows, plan=plan)
        sync_run.runs.add(run)
        started.append(run)
    return started, problems


def _note_drift(sync_run: SyncRun, store, result, product_ids: set[str]) -> None:
    products = [
        {"product_id": p["product_id"], "handle": p.get("handle", ""),
         "operations": p.get("operation_count", 0)}
        for p in (result.products if result else ())
        if p["product_id"] in product_ids
    ]  # fmt: skip
    sync_run.drift = [*sync_run.drift, {"store": store.shop_domain, "products": products}]
    sync_run.save(update_fields=["drift"])


# --- reconciliation ---------------------------------------------------------------------------


def reconcile(rule_id: int) -> SyncRun | None:
    """Run the rule's whole plan: products that drifted (changed by hand in Shopify, or by
    changes whose notifications were lost) are repaired, and listed in the sync run's drift.
    Also rebuilds the index of groups the deltas work from."""
    rule = SyncRule.objects.filter(pk=rule_id).select_related("plan").first()
    if rule is None or rule.paused:
        return None
    sync_run = SyncRun.objects.create(rule=rule, trigger=SyncRun.Trigger.RECONCILE)
    try:
        cloud = _cloudinary(rule.workspace)
        plan = services.plan_dry_run(plan=rule.plan, cloudinary=cloud)
        index = _index_of(plan)
        SyncRule.objects.filter(pk=rule.pk).update(asset_groups=index, indexed_at=timezone.now())
        # Media the rule placed for assets no longer in its selection (deleted, moved out or
        # excluded while no notification came, e.g. while the rule was paused) leave too.
        recorded = LinkRecord.objects.filter(store__in=plan.stores.all()).filter(_rule_plans(rule))
        stale = sorted(set(recorded.exclude(product_id="").values_list("asset_id", flat=True))
                       - set(index))  # fmt: skip
        if stale != sorted(plan.retired_asset_ids or ()):
            plan.retired_asset_ids = stale
            plan.save(update_fields=["retired_asset_ids", "updated_at"])
            plan = services.plan_dry_run(plan=plan, cloudinary=cloud)
        active = Run.objects.filter(plan=plan, status__in=Run.ACTIVE).values_list(
            "store__shop_domain", flat=True
        )
        if active:
            raise SyncRuleError(f"The plan is already running on {', '.join(active)}.")
        started, problems = _start_runs(sync_run, plan, cloud, retired=stale)
    except ApplicationError as exc:
        _finish(sync_run, SyncRun.Status.FAILED, exc.message)
        return sync_run
    except Exception as exc:
        logger.exception("Sync rule %s: reconciliation failed", rule_id)
        _finish(sync_run, SyncRun.Status.FAILED, f"{type(exc).__name__}: {exc}")
        return sync_run
    drifted = sum(len(d["products"]) for d in sync_run.drift)
    message = "; ".join(problems) or (
        f"{drifted} product(s) drifted and were repaired: {_summary(started)}."
        if started
        else "No drift: every product is as the plan says."
    )
    status = SyncRun.Status.STARTED if started else SyncRun.Status.NOTHING
    _finish(sync_run, SyncRun.Status.FAILED if problems and not started else status, message)
    return sync_run


def _index_of(plan: Plan) -> dict[str, list[str]]:
    """Asset id → group keys, from the plan's dry run (every store's groups)."""
    index: dict[str, list[str]] = {}
    for result in plan.results.all():
        for group in result.groups or ():
            key = normalise(str(group["value"]), plan.case_sensitive)
            for asset_id in group.get("assets") or ():
                keys = index.setdefault(asset_id, [])
                if key not in keys:
                    keys.append(key)
    return index


def reconcile_due(now: dt.datetime | None = None) -> list[int]:
    """Queue the nightly reconciliation of every active rule whose time has come (called by
    the workers' sweeper; the conditional update makes one worker take each). Also queues the
    debounce job again for changes left waiting past the longest debounce (its worker died)."""
    now = now or timezone.now()
    late = now - dt.timedelta(seconds=float(getattr(settings, "SYNC_MAX_WAIT_SECONDS", 20.0)) + 60)
    waiting = SyncChange.objects.filter(sync_run=None, received_at__lt=late, rule__paused=False)
    for rule_id in waiting.values_list("rule_id", flat=True).distinct():
        if (
            SyncRule.objects.filter(pk=rule_id)
            .filter(Q(flush_queued_at__isnull=True) | Q(flush_queued_at__lt=late))
            .update(flush_queued=True, flush_queued_at=now)
        ):
            logger.warning("Sync rule %s: changes waited too long; its debounce job is queued "
                           "again", rule_id)  # fmt: skip
            _enqueue("linking.tasks.flush_sync_rule", rule_id)
    queued = []
    for rule in SyncRule.objects.filter(paused=False, next_reconcile_at__lte=now):
        nxt = next_reconcile_at(rule.reconcile_hour, now)
        if SyncRule.objects.filter(pk=rule.pk, next_reconcile_at=rule.next_reconcile_at).update(
            next_reconcile_at=nxt
        ):
            _enqueue("linking.tasks.reconcile_sync_rule", rule.pk)
            queued.append(rule.pk)
    return queued


__all__ = [
    "SyncRuleError",
    "apply_delta",
    "flush",
    "reconcile",
    "reconcile_due",
    "record_changes",
    "rule_create",
    "rule_delete",
    "rule_reconcile_now",
    "rule_set_paused",
]
