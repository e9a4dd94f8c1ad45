"""Run lifecycle with a real worker: two stores in parallel, one run at a time per store,
abort at a product boundary, resume after a killed worker without duplicates, undo, CSV."""

from __future__ import annotations

import csv
import io
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from linking import runs
from linking.models import LinkRecord
from reports.csv import COLUMNS, report_csv
from reports.management.commands.worker import sweep_dead_runs
from reports.models import Run, RunProduct
from reports.registry import abort_run
from tests.doubles.killed import WorkerKilled, killed_after
from tests.linking.runs.conftest import dry_run, gallery, variant_images, work

pytestmark = pytest.mark.django_db(transaction=True)


def _store(sandbox, **kw):
    return sandbox.shop(products=len(sandbox.skus()) - 2, media_per_product=2, **kw)


def _set_media_delay(sandbox, seconds):
    r = requests.post(
        f"{sandbox.shopify_url}/_control/config", json={"media_delay": seconds}, timeout=10
    )
    r.raise_for_status()


def _no_duplicates(store, media_by_product):
    records = {r.media_id: r for r in LinkRecord.objects.filter(store=store)}
    for media in media_by_product.values():
        identities = [
            (records[m["id"]].asset_id, records[m["id"]].version)
            for m in media
            if m["id"] in records
        ]
        assert len(identities) == len(set(identities)), identities


def test_two_stores_run_in_parallel(sandbox, queue):
    a, b = _store(sandbox), _store(sandbox)
    _set_media_delay(sandbox, 0.2)
    try:
        run_a = runs.run_start_from_plan(plan=dry_run(sandbox, a, link_mode="append"), store=a)
        run_b = runs.run_start_from_plan(plan=dry_run(sandbox, b, link_mode="append"), store=b)
        work(queue, threads=2)
    finally:
        _set_media_delay(sandbox, 0.01)
    run_a.refresh_from_db()
    run_b.refresh_from_db()
    assert run_a.status == run_b.status == Run.Status.SUCCEEDED
    # they overlapped in time
    assert run_a.started_at < run_b.finished_at and run_b.started_at < run_a.finished_at
    _no_duplicates(a, gallery(sandbox, a))
    _no_duplicates(b, gallery(sandbox, b))


def test_a_second_run_of_a_store_waits_for_the_first(sandbox, queue):
    store = _store(sandbox)
    first = runs.run_start_from_plan(plan=dry_run(sandbox, store, link_mode="append"), store=store)
    second = runs.run_start_from_plan(
        plan=dry_run(sandbox, store, link_mode="prepend"), store=store
    )
    work(queue, threads=2)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == second.status == Run.Status.SUCCEEDED
    ordered = sorted([first, second], key=lambda r: r.started_at)
    # one at a time: the later one started after the earlier one finished
    assert ordered[1].started_at >= ordered[0].finished_at - timedelta(seconds=0.5)
    _no_duplicates(store, gallery(sandbox, store))


def test_abort_stops_at_a_product_boundary_within_seconds(sandbox, queue):
    """With the shipped defaults (one wave holds every product here), an abort while Shopify
    processes the new media ends the run within seconds: the products still waiting are
    rolled back, none is left between its gallery before and its plan."""
    store = _store(sandbox)
    before = gallery(sandbox, store)
    plan = dry_run(sandbox, store, link_mode="reset")
    _set_media_delay(sandbox, 20.0)  # Shopify is slow today
    try:
        run = runs.run_start_from_plan(plan=plan, store=store)
        worker = threading.Thread(
            target=work, args=(queue,), kwargs={"threads": 1, "off_main": True}
        )
        worker.start()
        deadline = time.monotonic() + 60
        live = {}
        while time.monotonic() < deadline:
            run.refresh_from_db()
            live = runs.run_progress(run)  # what the API, CLI and admin show while it runs
            if live["phase"].startswith("waiting"):
                break
            time.sleep(0.05)
        asked = time.monotonic()
        abort_run(run=run)
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.is_terminal:
                break
            time.sleep(0.05)
        took = time.monotonic() - asked
        worker.join(timeout=30)
    finally:
        _set_media_delay(sandbox, 0.01)
    assert run.status == Run.Status.ABORTED
    assert took < 5, took
    assert live["status"] == "running" and live["ops_total"] > 0
    assert "eta_seconds" in live and live["points_actual"] > 0
    assert run.ops_done < run.ops_total  # an aborted run does not claim it did everything
    products = {p.product_id: p.status for p in RunProduct.objects.filter(run=run)}
    assert set(products.values()) == {"not_done"}
    after = gallery(sandbox, store)
    for product_id in products:  # rolled back: exactly as before
        assert after[product_id] == before[product_id]
    assert not LinkRecord.objects.filter(store=store).exclude(product_id="").exists()
    not_done_rows = run.rows.filter(product_id__in=list(products))
    assert set(not_done_rows.values_list("action", flat=True)) == {"skipped"}


def test_resume_after_a_killed_worker_creates_no_duplicates(sandbox, queue):
    store = _store(sandbox)
    plan = dry_run(sandbox, store, link_mode="prepend")
    run = runs.run_start_from_plan(plan=plan, store=store)
    queue.empty()  # this attempt runs here, and dies after its first productUpdate
    with pytest.raises(WorkerKilled):
        runs.execute_run(run.pk, client_for=killed_after("productUpdate"))
    run.refresh_from_db()
    assert run.status == Run.Status.RUNNING
    # the wave's creates went out together, each journaled first; it died reading the answers
    crashed = RunProduct.objects.filter(run=run, journal__isnull=False).first()
    assert crashed is not None
    # time passes: the heartbeat expires
    runs.runs_redis().delete(runs._key(run.pk, "alive"))
    Run.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=1))

    # the sweeper of any running worker (manage.py worker) finds and queues it again
    assert sweep_dead_runs() == [run.pk]
    assert sweep_dead_runs() == []  # queued now, not running: swept once
    work(queue)

    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED and run.attempts == 2
    after = gallery(sandbox, store)
    _no_duplicates(store, after)
    rows = run.rows.filter(product_id=crashed.product_id)
    # the report still says what the run did to that product
    assert rows.filter(action="created").count() >= 1
    created = set(rows.filter(action="created").values_list("media_id", flat=True))
    assert created <= {m["id"] for m in after[crashed.product_id]}
    # and running the plan again changes nothing
    again = runs.run_start_from_plan(plan=dry_run(sandbox, store, link_mode="prepend"), store=store)
    work(queue)
    again.refresh_from_db()
    assert set(again.rows.exclude(product_id="").values_list("action", flat=True)) <= {"unchanged"}


def test_undo_gives_every_product_its_gallery_before_back(sandbox, queue):
    store = _store(sandbox)
    before = gallery(sandbox, store)
    variants_before = variant_images(sandbox, store)
    plan = dry_run(
        sandbox, store, link_mode="overwrite", alt_source="template", alt_field="x {product.title}"
    )
    run = runs.run_start_from_plan(plan=plan, store=store)
    work(queue)
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED
    assert gallery(sandbox, store) != before

    undo = runs.run_undo(run=run)
    work(queue)
    undo.refresh_from_db()

    assert undo.status == Run.Status.SUCCEEDED and undo.kind == "undo" and undo.undo_of == run
    after = gallery(sandbox, store)
    for product_id, media in before.items():
        assert [(m["id"], m["alt"]) for m in after[product_id]] == [
            (m["id"], m["alt"]) for m in media
        ]
    assert variant_images(sandbox, store) == variants_before
    counts = Counter(undo.rows.values_list("action", flat=True))
    assert counts["unlinked"] > 0 and counts["reused"] > 0 and counts["failed"] == 0


def test_report_csv_has_a_row_per_asset_with_the_columns(sandbox, queue):
    store = _store(sandbox)
    plan = dry_run(sandbox, store, link_mode="append")
    run = runs.run_start_from_plan(plan=plan, store=store)
    work(queue)
    run.refresh_from_db()
    rows = list(csv.DictReader(io.StringIO(report_csv(run))))
    assert list(rows[0]) == COLUMNS
    assert len(rows) == run.rows.count()
    created = [r for r in rows if r["action"] == "created"]
    assert created and all(
        r["store"] == store.shop_domain and r["media_id"].startswith("gid://shopify/")
        and r["position_after"] and r["status"] == "READY" and r["product_handle"]
        for r in created
    )  # fmt: skip
    assert {r["action"] for r in rows} >= {"created", "unmatched"}
    assert run.summary["created"] == len(created)
