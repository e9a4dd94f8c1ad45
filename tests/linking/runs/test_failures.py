"""The run engine's guarantee under Shopify's failures, read back from the emulator: every
product a run touches ends exactly at its planned gallery or exactly at its gallery before —
never in between — no media it had before is lost, nothing is duplicated, every asset of the
selection is in the report and the run's outcome agrees with its rows."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from linking import runs
from linking.models import LinkRecord
from reports.models import Run, RunProduct
from tests.doubles.flaky_db import fail_a_write, fault_schedule, faults_body
from tests.doubles.killed import WorkerKilled, killed_after
from tests.linking.runs.conftest import (
    dry_run,
    gallery,
    media_ids,
    shop_control,
    start_and_work,
    sweep_after_death,
    undo_and_work,
    work,
)

MUTATIONS = ["productUpdate", "fileUpdate", "productReorderMedia", "fileDelete", "metafieldsSet"]
# The run's database writes (its hooks); the schedule may fail the n-th call of one of them.
WRITES = ["started_many", "journal", "records_saved", "record_saved", "records_removed",
          "finished_many", "finished"]  # fmt: skip
# Where a worker dies: right after Shopify answered the n-th call of one mutation, or the n-th
# call of any kind (reads included; a run here makes some 20 to 60 calls).
KILL_SPARED: tuple[str, ...] = ()
KILL = st.one_of(
    st.none(),
    st.tuples(st.sampled_from([m for m in MUTATIONS if m not in KILL_SPARED]), st.integers(1, 12)),
    st.tuples(st.none(), st.integers(1, 60)),
)
MODES = [("overwrite", None), ("reset", None), ("append", None), ("prepend", None),
         ("position", 2)]  # fmt: skip


def _planned(plan, store) -> dict[str, list[str]]:
    """Per product the dry run's gallery after, as media id (kept) or asset id (new)."""
    result = plan.results.get(store=store)
    return {
        p["product_id"]: [m["asset_id"] if m["new"] else m["media_id"] for m in p["after"]]
        for p in result.products
    }


def _as_assets(store, media: list[dict], run) -> list[str]:
    """The gallery as the plan names it: the media ``run`` created by their asset id, the
    others (the store's own, an earlier run's) by their media id."""
    records = {
        r.media_id: r.asset_id for r in LinkRecord.objects.filter(store=store, run_id=run.pk)
    }
    return [records.get(m["id"], m["id"]) for m in media]


def check_guarantee(sandbox, store, plan, run, before: dict[str, list[dict]]) -> dict:
    """Assert the run's guarantee; returns per product 'after' | 'before'."""
    planned = _planned(plan, store)
    now = gallery(sandbox, store)
    ended = {}
    for product_id, target in planned.items():
        media = now[product_id]
        ids = [m["id"] for m in media]
        assert len(ids) == len(set(ids)), f"{product_id}: duplicate media"
        if [(m["id"], m["alt"]) for m in media] == [
            (m["id"], m["alt"]) for m in before[product_id]
        ]:
            ended[product_id] = "before"
        else:
            assert _as_assets(store, media, run) == target, (
                f"{product_id} is between before and after"
            )
            assert all(m["status"] == "READY" for m in media)
            ended[product_id] = "after"
    # nothing lost: every media the shop had before still exists in Files
    files = {f["id"] for f in sandbox.shop_state(store.shop_domain)["files"]}
    assert {m["id"] for ms in before.values() for m in ms} <= files, "a file was lost"
    # every asset of the selection in the report
    selection = {a["asset_id"] for a in sandbox.assets("folder:products/*")}
    assert selection <= set(run.rows.values_list("asset_id", flat=True))
    # the outcome matches the rows and the products
    statuses = Counter(RunProduct.objects.filter(run=run).values_list("status", flat=True))
    rows = Counter(run.rows.values_list("action", flat=True))
    for product_id, where in ended.items():
        status = RunProduct.objects.get(run=run, product_id=product_id).status
        if where == "before" and status == "done":
            # a product already at its planned state (nothing to change) ends "before" too
            assert planned[product_id] == _as_assets(store, before[product_id], run)
        if status == "failed":
            assert where == "before", f"{product_id} failed but was not rolled back"
    if statuses["failed"] or statuses["skipped"]:
        assert rows["failed"] > 0 or rows["skipped"] > 0
        assert run.status in (Run.Status.COMPLETED_WITH_FAILURES, Run.Status.FAILED)
    else:
        assert run.status == Run.Status.SUCCEEDED, (run.status, run.error)
        assert rows["failed"] == 0
    assert run.ops_done <= run.ops_total
    return ended


def seeded(sandbox, **gallery):
    """A new shop whose products match the cloud's SKUs but two; by default 2 media each
    (``gallery``: the seed's ``media_per_product`` and ``seed``, e.g. a range per product)."""
    return sandbox.shop(products=len(sandbox.skus()) - 2, **{"media_per_product": 2, **gallery})


@pytest.mark.django_db(transaction=True)
def test_reset_with_retryable_product_update_errors_never_empties_a_product(
    sandbox, queue, settings
):
    """The issue's report: Reset with productUpdate failing half the time left products with
    zero media and a green run. Now every product ends at its plan or at its gallery before."""
    # One call at a time: the seeded fault schedule (drawn per call as calls arrive) replays
    # only when the calls arrive in one order. With bounded retries at a 50% fault rate some
    # schedules give a product up (rolled back: checked by the guarantee above); this seed's
    # schedule lets every retry get there (seeds 3, then 1, did with the calls in earlier orders;
    # the 2026-10 cost rules resized the waves, and with them the order of the calls).
    settings.SHOPIFY_RUN_CONCURRENCY = 1
    store = seeded(sandbox)
    plan = dry_run(sandbox, store, link_mode="reset")
    before = gallery(sandbox, store)
    shop_control(
        sandbox,
        "faults",
        {"seed": 2, "user_errors": {"productUpdate": 0.5}, "shops": [store.shop_domain]},
    )
    run = start_and_work(queue, plan, store)
    shop_control(sandbox, "faults", {})

    ended = check_guarantee(sandbox, store, plan, run, before)
    assert all(len(m) > 0 for m in gallery(sandbox, store).values())
    # Shopify said "please retry": the run retried, and got there
    assert set(ended.values()) == {"after"}, ended
    assert run.status == Run.Status.SUCCEEDED


@pytest.mark.django_db(transaction=True)
def test_permanent_errors_roll_products_back_and_the_outcome_says_so(sandbox, queue):
    store = seeded(sandbox)
    plan = dry_run(sandbox, store, link_mode="overwrite")
    before = gallery(sandbox, store)
    # every productReorderMedia refused for good: products needing a reorder roll back
    shop_control(
        sandbox,
        "faults",
        {"seed": 1, "user_errors": {"productReorderMedia": 1.0}, "shops": [store.shop_domain]},
    )
    run = start_and_work(queue, plan, store)
    shop_control(sandbox, "faults", {})

    ended = check_guarantee(sandbox, store, plan, run, before)
    rolled = RunProduct.objects.filter(run=run, status="failed")
    assert rolled.exists()
    assert all(ended[p.product_id] == "before" for p in rolled)
    assert run.status in (Run.Status.COMPLETED_WITH_FAILURES, Run.Status.FAILED)
    failed_rows = run.rows.filter(action="failed")
    assert failed_rows.exists() and all(r.message for r in failed_rows)


@pytest.mark.django_db(transaction=True)
@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    mode=st.sampled_from(MODES),
    kill=KILL,
    gallery_seed=st.one_of(st.none(), st.integers(0, 1000)),
    earlier=st.booleans(),
    **fault_schedule(MUTATIONS, WRITES, max_nth=3),
)
@example(  # a database error right after Shopify unlinked media (the product is half-way)
    mode=("overwrite", None), seed=1, rates=dict.fromkeys(MUTATIONS, 0.0),
    lost=dict.fromkeys(MUTATIONS, 0.0), lost_mode="http_500", http_500=0.0, throttled=0.0,
    db_error=("records_removed", 1), kill=None, gallery_seed=None, earlier=False,
)  # fmt: skip
@example(  # the worker dies right after Shopify unlinked media (the product is half-way)
    mode=("overwrite", None), seed=1, rates=dict.fromkeys(MUTATIONS, 0.0),
    lost=dict.fromkeys(MUTATIONS, 0.0), lost_mode="http_500", http_500=0.0, throttled=0.0,
    db_error=None, kill=("fileUpdate", 1), gallery_seed=None, earlier=False,
)  # fmt: skip
def test_any_fault_schedule_leaves_every_product_at_after_or_before(
    sandbox, queue, mode, seed, rates, lost, lost_mode, http_500, throttled, db_error, kill,
    gallery_seed, earlier,
):  # fmt: skip
    """Retryable userErrors (every mutation), answers lost after the mutation ran (HTTP 500 or
    a dropped connection), 5xx before it ran and THROTTLED, a database error at a random
    write of the run (it is resumed and ends as the guarantee says), and the worker killed at
    a random Shopify call (a worker's sweeper resumes the run), on a random schedule."""
    # a new shop per example: 2 media per product, or 0 to 4 (a random gallery state); and in
    # part of them the media of an earlier run (records: overwrite and reset replace those)
    store = (
        seeded(sandbox)
        if gallery_seed is None
        else seeded(sandbox, media_per_product=[0, 4], seed=gallery_seed)
    )
    if earlier:
        start_and_work(queue, dry_run(sandbox, store, link_mode="append"), store)
    link_mode, position = mode
    plan = dry_run(
        sandbox, store, link_mode=link_mode, **({"position": position} if position else {})
    )
    before = gallery(sandbox, store)
    faults = faults_body(store, seed, rates, lost, lost_mode, http_500, throttled)
    shop_control(sandbox, "faults", faults)
    with pytest.MonkeyPatch.context() as patch:
        failed = fail_a_write(patch, runs._Hooks, *db_error) if db_error else None
        run = runs.run_start_from_plan(plan=plan, store=store)
        killed = _killed_attempt(queue, run, *kill) if kill else False
        work(queue)
    shop_control(sandbox, "faults", {})
    run.refresh_from_db()

    event(f"database error raised: {bool(failed and failed['raised'])}")
    event(f"worker killed: {killed}")
    if (failed and failed["raised"]) or killed:  # that attempt stopped; another finished it
        assert run.attempts >= 2, (db_error, kill, run.status, run.error)
        assert run.is_terminal, run.status
    check_guarantee(sandbox, store, plan, run, before)

    # and an undo of whatever it did gets every product back to its gallery before
    if run.products.filter(status="done").exists():
        undo_and_work(queue, run)
        now = gallery(sandbox, store)
        for product_id in _planned(plan, store):
            assert [m["id"] for m in now[product_id]] == [m["id"] for m in before[product_id]]


def _killed_attempt(queue, run, mutation: str | None, nth: int, spare=KILL_SPARED) -> bool:
    """The run's first attempt, on a worker that dies right after Shopify answered the
    ``nth`` call of ``mutation`` (of any operation when None). Then time passes as in
    production: its heartbeat goes stale, and a worker's sweeper queues the run again. False
    when the run made fewer such calls (the attempt ended, or was queued again, alive)."""
    queue.empty()  # the attempt runs here, on the killable client
    try:
        runs.execute_run(run.pk, client_for=killed_after(mutation, nth, spare))
    except WorkerKilled:
        pass
    else:
        return False
    run.refresh_from_db()
    assert run.status == Run.Status.RUNNING, run.status  # dead workers write nothing more
    assert sweep_after_death(run) == [run.pk]
    return True


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_right_after_a_reorder_ends_the_product_at_its_plan(sandbox, queue):
    """Found by the fault-schedule property (seed 4, shrunk to this): a worker killed right
    after Shopify reordered a product's media (overwrite) left the new media in front of those
    the plan unlinks; the resume planned overwrite's ``S + E[k:]`` from that order and kept
    them. It fails unless a resume plans from the order the run first saw."""
    store = seeded(sandbox)
    plan = dry_run(sandbox, store, link_mode="overwrite")
    before = gallery(sandbox, store)
    run = runs.run_start_from_plan(plan=plan, store=store)
    killed = _killed_attempt(queue, run, "productReorderMedia", 1, spare=())
    work(queue)
    run.refresh_from_db()

    assert killed and run.is_terminal, run.status
    check_guarantee(sandbox, store, plan, run, before)


@pytest.mark.django_db(transaction=True)
def test_a_database_error_mid_run_is_resumed_without_duplicates(sandbox, queue, monkeypatch):
    """The issue's SQLite report: a write failed ("database is locked") right after Shopify had
    created media; the run called them "skipped", kept no record, and the next run duplicated
    them. Now the run is queued to go on, adopts what Shopify made, and ends as planned."""
    from django.db import OperationalError

    from linking import runs

    store = seeded(sandbox)
    plan = dry_run(sandbox, store, link_mode="append")
    before = gallery(sandbox, store)
    original = runs._Hooks.records_saved_many
    calls = {"n": 0}

    def flaky(self, saved):
        calls["n"] += 1
        if calls["n"] == 1:  # the first wave's new media: Shopify has them, we fail to note it
            raise OperationalError("database is locked")
        return original(self, saved)

    monkeypatch.setattr(runs._Hooks, "records_saved_many", flaky)
    run = start_and_work(queue, plan, store)

    assert calls["n"] > 1
    assert run.status == Run.Status.SUCCEEDED, (run.status, run.error)
    assert run.attempts == 2
    ended = check_guarantee(sandbox, store, plan, run, before)
    assert set(ended.values()) == {"after"}
    # every media of ours has its link record, none twice
    ours = [m["id"] for ms in gallery(sandbox, store).values() for m in ms if m["id"] not in
            {b["id"] for bs in before.values() for b in bs}]  # fmt: skip
    records = LinkRecord.objects.filter(store=store).exclude(product_id="")  # not swatch files
    assert set(ours) == set(records.values_list("media_id", flat=True))
    second = start_and_work(queue, dry_run(sandbox, store, link_mode="append"), store)
    assert set(second.rows.exclude(product_id="").values_list("action", flat=True)) <= {
        "unchanged",
        "swatch",
    }


@pytest.mark.django_db(transaction=True)
def test_a_run_that_loses_its_store_lock_stops_at_a_safe_point_and_goes_on(
    sandbox, queue, monkeypatch
):
    """After a Redis stall the store's lock expired and another worker may hold it: the run
    must not go on beside it. It stops between products and is queued to go on."""
    from redis.exceptions import LockNotOwnedError

    from linking import runs

    store = seeded(sandbox)
    plan = dry_run(sandbox, store, link_mode="append")
    before = gallery(sandbox, store)
    lost = {"done": False}
    original_started = runs._Hooks.started_many

    def started(self, started_products):
        original_started(self, started_products)
        if not lost["done"]:  # the lock expires during a stall, while the wave starts
            lost["done"] = True
            lock = self.heartbeat.lock
            lock.release()

            def extend(*args, **kwargs):
                raise LockNotOwnedError("Cannot extend a lock that's no longer owned")

            lock.extend = extend
            self.heartbeat.beat()  # what the heartbeat thread finds on its next beat

    finished = []
    original_finished = runs._Hooks.finished

    def record(self, outcome):
        finished.append(outcome.status)
        return original_finished(self, outcome)

    original_many = runs._Hooks.finished_many

    def record_many(self, outcomes):
        finished.extend(o.status for o in outcomes)
        return original_many(self, outcomes)

    monkeypatch.setattr(runs._Hooks, "started_many", started)
    monkeypatch.setattr(runs._Hooks, "finished", record)
    monkeypatch.setattr(runs._Hooks, "finished_many", record_many)
    run = start_and_work(queue, plan, store)

    assert lost["done"]
    assert run.attempts == 2, "the run went on holding no lock"
    # after the lock was lost no other product was started: they waited for the next attempt
    assert "not_done" in finished
    assert run.status == Run.Status.SUCCEEDED, (run.status, run.error)
    check_guarantee(sandbox, store, plan, run, before)


@pytest.mark.django_db(transaction=True)
def test_undo_leaves_nothing_of_the_run_behind(sandbox, queue):
    """Undo gives every product its gallery before back and deletes the files its run
    created (nothing else references them), instead of leaving them in Files."""

    store = seeded(sandbox)
    files_before = {f["id"] for f in sandbox.shop_state(store.shop_domain)["files"]}
    before = gallery(sandbox, store)
    run = start_and_work(queue, dry_run(sandbox, store, link_mode="prepend"), store)
    created = set(run.rows.filter(action="created").values_list("media_id", flat=True))
    assert run.status == Run.Status.SUCCEEDED and created

    undo = undo_and_work(queue, run)

    assert undo.status == Run.Status.SUCCEEDED, (undo.status, undo.error)
    assert media_ids(gallery(sandbox, store)) == media_ids(before)
    files_after = {f["id"] for f in sandbox.shop_state(store.shop_domain)["files"]}
    assert files_after == files_before  # the swatch files it created too
    swatches = undo.rows.filter(product_id="", status="DELETED").count()
    assert undo.rows.filter(status="DELETED").count() == len(created) + swatches
