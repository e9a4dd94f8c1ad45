"""Runs through the CLI (`link` without --dry-run, `runs …`), the HTTP API and the Django admin."""

from __future__ import annotations

import csv
import io
import threading

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from linking import runs
from reports.models import Run
from tests.factories import MemberFactory
from tests.linking.runs.conftest import ThreadWorker, dry_run, work

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def store(sandbox):
    return sandbox.shop(products=len(sandbox.skus()) - 2, media_per_product=2)


def _background_worker(queue):
    """A worker draining the queue until stopped (the CLI's --wait blocks on the run)."""
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            ThreadWorker([queue], connection=queue.connection).work(
                burst=True, with_scheduler=False
            )
            stop.wait(0.05)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return stop, thread


def cli(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_link_without_dry_run_runs_and_waits_with_a_progress_bar(sandbox, store, queue):
    stop, thread = _background_worker(queue)
    try:
        out = cli(
            "link", "--workspace", sandbox.workspace.name, "--stores", store.shop_domain,
            "--expression", "folder:products/*", "--cloudinary-field", "metadata:sku",
            "--shopify-field", "variant.sku", "--mode", "append", "--wait",
        )  # fmt: skip
    finally:
        stop.set()
        thread.join(timeout=10)
    run = Run.objects.get()
    assert run.status == Run.Status.SUCCEEDED
    assert f"Run {run.pk} queued for {store.shop_domain}" in out
    assert "[####" in out and "100%" in out and '"created"' in out


def test_link_exits_non_zero_when_a_row_failed(sandbox, store, queue, monkeypatch):
    real = runs.works_from_plan_store

    def broken(plan_store, **kw):
        works, urls, rows = real(plan_store, **kw)
        key = next(iter(urls))
        urls[key] = urls[key].replace("/image/upload/", "/image/upload/v1/missing/")
        return works, urls, rows

    monkeypatch.setattr(runs, "works_from_plan_store", broken)
    stop, thread = _background_worker(queue)
    try:
        with pytest.raises(CommandError, match="failed"):
            cli(
                "link", "--workspace", sandbox.workspace.name, "--stores", store.shop_domain,
                "--expression", "folder:products/*", "--cloudinary-field", "metadata:sku",
                "--shopify-field", "variant.sku", "--mode", "append", "--wait",
            )  # fmt: skip
    finally:
        stop.set()
        thread.join(timeout=10)
    assert Run.objects.get().rows.filter(action="failed").count() == 1


def test_runs_commands_list_show_report_undo(sandbox, store, queue, tmp_path):
    run = runs.run_start_from_plan(plan=dry_run(sandbox, store, link_mode="prepend"), store=store)
    work(queue)

    assert f"{run.pk:>6} link  succeeded" in cli("runs", "list")
    shown = cli("runs", "show", str(run.pk), "--json")
    assert '"status": "succeeded"' in shown
    report = tmp_path / "r.csv"
    cli("runs", "report", str(run.pk), "-o", str(report))
    rows = list(csv.DictReader(report.open()))
    assert len(rows) == run.rows.count()

    out = cli("runs", "undo", str(run.pk))
    undo = Run.objects.get(undo_of=run)
    assert f"run {undo.pk}: undo of run {run.pk} queued" in out
    work(queue)
    undo.refresh_from_db()
    assert undo.status == Run.Status.SUCCEEDED
    with pytest.raises(CommandError, match="undo cannot be undone"):
        cli("runs", "undo", str(undo.pk))
    assert "resumed: none" in cli("runs", "resume", "--dead")


def test_api_start_follow_and_download_the_report(sandbox, store, queue):
    member = MemberFactory(workspace=sandbox.workspace, role="user")
    client = APIClient()
    client.force_authenticate(member.user)
    plan = dry_run(sandbox, store, link_mode="append")

    started = client.post(f"/api/plans/{plan.pk}/run/", {}, format="json")
    assert started.status_code == 202, started.content
    run_id = started.json()[0]["id"]
    assert started.json()[0]["status"] == "queued"
    work(queue)

    detail = client.get(f"/api/runs/{run_id}/").json()
    assert detail["status"] == "succeeded" and detail["products_done"] == detail["products_total"]
    assert detail["ops_done"] == detail["ops_total"] and detail["summary"]["created"] > 0
    assert [r["id"] for r in client.get("/api/runs/").json()] == [run_id]
    response = client.get(f"/api/runs/{run_id}/report.csv")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    body = b"".join(response.streaming_content).decode()
    assert body.startswith("store,product_id,product_handle")
    assert client.post(f"/api/runs/{run_id}/abort/").status_code == 202
    undo = client.post(f"/api/runs/{run_id}/undo/")
    assert undo.status_code == 202 and undo.json()["kind"] == "undo"
    # another workspace's member sees nothing
    other = APIClient()
    other.force_authenticate(MemberFactory().user)
    assert other.get(f"/api/runs/{run_id}/").status_code == 404


def test_admin_lists_runs_with_progress_and_serves_the_csv(sandbox, store, queue, client):
    admin = MemberFactory(workspace=sandbox.workspace, role="master_admin").user
    client.force_login(admin)
    admin_client = client
    run = runs.run_start_from_plan(plan=dry_run(sandbox, store, link_mode="append"), store=store)
    work(queue)
    page = admin_client.get("/admin/reports/run/")
    assert page.status_code == 200
    assert f"{run.products_total}/{run.products_total} products" in page.content.decode()
    detail = admin_client.get(f"/admin/reports/run/{run.pk}/change/")
    assert detail.status_code == 200
    csv_response = admin_client.get(f"/admin/reports/run/{run.pk}/report.csv")
    assert csv_response.status_code == 200
    assert b"".join(csv_response.streaming_content).decode().count("\n") == run.rows.count() + 1
    assert admin_client.get("/admin/reports/reportrow/?action=created").status_code == 200
