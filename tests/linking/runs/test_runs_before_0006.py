"""Runs started before each product's work moved to its RunProduct (reports 0006) kept every
product's work in one document, ``Run.work["products"]``. A release upgrades under them: such a
run left behind by a killed worker is resumed, reports, and is undone like any other."""

from __future__ import annotations

import csv
import io

import pytest

from linking import manage, runs
from linking.models import LinkRecord
from reports.csv import report_csv
from reports.models import Run
from tests.doubles.killed import WorkerKilled, killed_after
from tests.linking.runs.conftest import (
    dry_run,
    gallery,
    media_ids,
    shop_control,
    sweep_after_death,
    undo_and_work,
    work,
)
from tests.linking.runs.test_failures import check_guarantee, seeded

pytestmark = pytest.mark.django_db(transaction=True)


def _as_started_before_0006(run: Run) -> None:
    """The run as the release before 0006 wrote it: no work on its products, all of it in
    ``Run.work["products"]`` (in the run's order)."""
    run.refresh_from_db()
    products = [p.work for p in run.products.order_by("id")]
    assert all(products)
    Run.objects.filter(pk=run.pk).update(work={**run.work, "products": products})
    run.products.update(work=None)


def test_a_run_started_before_0006_is_resumed_reported_and_undone(sandbox, queue):
    store = seeded(sandbox)
    before = gallery(sandbox, store)
    plan = dry_run(sandbox, store, link_mode="overwrite", image_transformation="c_limit,w_800")
    run = runs.run_start_from_plan(plan=plan, store=store)
    queue.empty()  # its first attempt, on the release before, dies mid-run
    _as_started_before_0006(run)
    with pytest.raises(WorkerKilled):
        runs.execute_run(run.pk, client_for=killed_after("productUpdate"))

    # upgraded: a worker's sweeper resumes it
    assert sweep_after_death(run) == [run.pk]
    work(queue)
    run.refresh_from_db()

    assert run.status == Run.Status.SUCCEEDED and run.attempts == 2, (run.status, run.error)
    assert set(check_guarantee(sandbox, store, plan, run, before).values()) == {"after"}
    # the report: each product's handle, and the transformation each asset was linked with
    report = list(csv.DictReader(io.StringIO(report_csv(run))))
    created = [r for r in report if r["action"] == "created"]
    assert created and all(r["product_handle"] for r in created)
    videos = {
        m["asset_id"]
        for p in plan.results.get(store=store).products
        for m in p["after"]
        if m["new"] and m.get("media_type") == "VIDEO"
    }
    assert {(r["asset_id"], r["transformation"]) for r in created} == {
        (r["asset_id"], "" if r["asset_id"] in videos else "c_limit,w_800") for r in created
    }
    # managing its links finds the products' handles in its work
    records = list(LinkRecord.objects.filter(store=store, run_id=run.pk).exclude(product_id=""))
    products = manage._products(records)
    assert {info.handle for info in products.values()} == {r["product_handle"] for r in created}

    undo = undo_and_work(queue, run)
    assert undo.status == Run.Status.SUCCEEDED, (undo.status, undo.error)
    assert media_ids(gallery(sandbox, store)) == media_ids(before)
    assert all(r.product_handle for r in undo.rows.exclude(product_id=""))


def test_failed_products_of_a_run_started_before_0006_are_retried_with_their_work(sandbox, queue):
    store = seeded(sandbox)
    plan = dry_run(sandbox, store, link_mode="overwrite")
    shop_control(
        sandbox,
        "faults",
        {"seed": 1, "user_errors": {"productReorderMedia": 1.0}, "shops": [store.shop_domain]},
    )
    run = runs.run_start_from_plan(plan=plan, store=store)
    _as_started_before_0006(run)
    work(queue)
    shop_control(sandbox, "faults", {})
    run.refresh_from_db()
    failed = set(run.products.filter(status="failed").values_list("product_id", flat=True))
    assert failed

    retry = runs.run_retry_failed(run=run)
    work(queue)
    retry.refresh_from_db()

    assert retry.status == Run.Status.SUCCEEDED, (retry.status, retry.error)
    assert set(retry.products.values_list("product_id", flat=True)) == failed
    planned = {
        p["product_id"]: [m["asset_id"] if m["new"] else m["media_id"] for m in p["after"]]
        for p in plan.results.get(store=store).products
    }
    records = {r.media_id: r.asset_id for r in LinkRecord.objects.filter(store=store)}
    now = gallery(sandbox, store)
    for product_id in failed:
        assert [records.get(m["id"], m["id"]) for m in now[product_id]] == planned[product_id]
