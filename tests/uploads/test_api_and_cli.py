"""Uploads through the HTTP API and the `upload_files` command, against both emulators."""

from __future__ import annotations

import csv
import io
import threading
import time

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from tests.linking.plans.conftest import admin, member  # noqa: F401
from tests.uploads.conftest import files, shop, work
from uploads.models import UploadRecord

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _ids(box, n=2) -> list[str]:
    return [a["asset_id"] for a in box.assets("resource_type=image")][:n]


def api_dry_run(api, batch_id: int, queue) -> dict:
    """Start the batch's dry run through the API, let a real RQ worker do it, and answer the
    batch with its result (the dry run must have succeeded)."""
    started = api.post(f"/api/uploads/{batch_id}/dry-run/")
    assert started.status_code == 202, started.json()
    assert started.json()["status"] == "queued" and started.json()["batch"] == batch_id
    work(queue)
    state = api.get(f"/api/uploads/{batch_id}/dry-run/").json()
    assert state["status"] == "succeeded", state
    return api.get(f"/api/uploads/{batch_id}/").json()


def test_create_dry_run_start_progress_and_report_over_the_api(sandbox, member, uploads_queue):  # noqa: F811
    store = shop(sandbox)
    api = client_for(member.user)
    ids = _ids(sandbox)
    created = api.post(
        f"/api/workspaces/{sandbox.workspace.pk}/uploads/",
        {"asset_ids": ids, "stores": [store.shop_domain], "alt_source": "template",
         "alt_field": "Banner {public_id}"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    batch_id = created.json()["id"]
    dry = api_dry_run(api, batch_id, uploads_queue)
    assert dry["dry_run"][store.shop_domain]["counts"] == {"created": 2}
    assert len(files(sandbox, store)) == 0  # a dry run writes nothing
    started = api.post(f"/api/uploads/{batch_id}/start/", {}, format="json")
    assert started.status_code == 202, started.json()
    run_id = started.json()[0]["id"]
    work(uploads_queue)
    progress = api.get(f"/api/upload-runs/{run_id}/").json()
    assert progress["status"] == "succeeded" and progress["summary"] == {"created": 2}
    assert progress["ops_done"] == progress["ops_total"] == 2
    report = api.get(f"/api/upload-runs/{run_id}/report.csv")
    assert report.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(report.streaming_content).decode())))
    assert [r["action"] for r in rows] == ["created", "created"]
    assert all(r["url"] and r["filename"].endswith(".jpg") for r in rows)
    assert api.get(f"/api/uploads/{batch_id}/").json()["runs"][0]["id"] == run_id
    # the same batch cannot run twice at once, and an aborted finished run stays finished
    assert api.post(f"/api/upload-runs/{run_id}/abort/").json()["status"] == "succeeded"


def test_only_admins_override_the_transformation(sandbox, member, admin, uploads_queue):  # noqa: F811
    store = shop(sandbox)
    body = {"asset_ids": _ids(sandbox, 1), "stores": [store.shop_domain],
            "transformation": "c_fill,w_64,h_64"}  # fmt: skip
    url = f"/api/workspaces/{sandbox.workspace.pk}/uploads/"
    refused = client_for(member.user).post(url, body, format="json")
    assert refused.status_code == 403 and "Master Admin" in refused.json()["detail"]
    allowed = client_for(admin.user).post(url, body, format="json")
    assert allowed.status_code == 201
    assert allowed.json()["transformation"] == "c_fill,w_64,h_64"
    dry = api_dry_run(client_for(admin.user), allowed.json()["id"], uploads_queue)
    assert "c_fill,w_64,h_64" in dry["dry_run"][store.shop_domain]["rows"][0]["source_url"]


def test_the_batch_list_gives_dry_run_counts_and_the_detail_its_rows(
    sandbox,
    member,  # noqa: F811
    uploads_queue,
):
    store = shop(sandbox)
    api = client_for(member.user)
    url = f"/api/workspaces/{sandbox.workspace.pk}/uploads/"
    created = api.post(url, {"asset_ids": _ids(sandbox, 2), "stores": [store.shop_domain]},
                       format="json").json()  # fmt: skip
    detail = api_dry_run(api, created["id"], uploads_queue)
    assert len(detail["dry_run"][store.shop_domain]["rows"]) == 2
    [listed] = api.get(url).json()
    assert listed["dry_run"] == {
        store.shop_domain: {"counts": detail["dry_run"][store.shop_domain]["counts"]}
    }
    again = api.get(f"/api/uploads/{created['id']}/").json()
    assert again["dry_run"] == detail["dry_run"]


def test_the_dry_run_is_a_background_job_with_progress(sandbox, member, uploads_queue):  # noqa: F811
    store = shop(sandbox)
    api = client_for(member.user)
    created = api.post(f"/api/workspaces/{sandbox.workspace.pk}/uploads/",
                       {"asset_ids": _ids(sandbox, 2), "stores": [store.shop_domain]},
                       format="json").json()  # fmt: skip
    url = f"/api/uploads/{created['id']}/dry-run/"
    assert api.get(url).status_code == 404  # none yet
    first = api.post(url)
    assert first.status_code == 202 and first.json()["status"] == "queued"
    assert api.post(url).json()["id"] == first.json()["id"]  # one at a time
    # the request did not do it: the batch has no result until a worker has
    assert api.get(f"/api/uploads/{created['id']}/").json()["dry_run_at"] is None
    work(uploads_queue)
    done = api.get(url).json()
    assert done["status"] == "succeeded" and done["phase"] == "Done"
    assert done["stores_done"] == done["stores_total"] == 1
    assert done["stores"] == {store.shop_domain: "2 created"}
    assert done["started_at"] and done["finished_at"]
    batch = api.get(f"/api/uploads/{created['id']}/").json()
    assert batch["status"] == "planned" and batch["dry_run"][store.shop_domain]["counts"] == {
        "created": 2
    }
    assert not files(sandbox, store)  # nothing written to Shopify


def test_a_cancelled_dry_run_leaves_the_batch_as_it_was(sandbox, member, uploads_queue):  # noqa: F811
    store = shop(sandbox)
    api = client_for(member.user)
    created = api.post(f"/api/workspaces/{sandbox.workspace.pk}/uploads/",
                       {"asset_ids": _ids(sandbox, 1), "stores": [store.shop_domain]},
                       format="json").json()  # fmt: skip
    url = f"/api/uploads/{created['id']}/dry-run/"
    assert api.post(f"{url}cancel/").status_code == 404  # nothing to cancel
    api.post(url)
    cancelled = api.post(f"{url}cancel/").json()
    assert cancelled["status"] == "cancelled" and cancelled["cancel_requested"]
    work(uploads_queue)  # the job finds it cancelled and does nothing
    assert api.get(url).json()["status"] == "cancelled"
    batch = api.get(f"/api/uploads/{created['id']}/").json()
    assert batch["status"] == "draft" and batch["dry_run"] == {} and batch["dry_run_at"] is None
    # a new one can start after it
    assert api_dry_run(api, created["id"], uploads_queue)["status"] == "planned"


def test_bad_batches_name_the_field(sandbox, member):  # noqa: F811
    store = shop(sandbox)
    url = f"/api/workspaces/{sandbox.workspace.pk}/uploads/"
    api = client_for(member.user)
    both = api.post(url, {"asset_ids": ["x"], "expression": "tags=a",
                          "stores": [store.shop_domain]}, format="json")  # fmt: skip
    assert both.status_code == 400 and "asset_ids" in both.json()
    nowhere = api.post(url, {"asset_ids": ["x"], "stores": ["nope.myshopify.com"]}, format="json")
    assert nowhere.status_code == 404


def test_cli_dry_run_then_upload_with_wait_and_report(sandbox, uploads_queue, tmp_path):
    store = shop(sandbox)
    ids = _ids(sandbox, 2)
    out = io.StringIO()
    args = ["--workspace", str(sandbox.workspace.pk), "--stores", store.shop_domain,
            "--assets", ",".join(ids)]  # fmt: skip
    call_command("upload_files", *args, "--dry-run", stdout=out)
    assert "created 2" in out.getvalue() and not files(sandbox, store)

    def worker():
        deadline = time.monotonic() + 20
        while not uploads_queue.count and time.monotonic() < deadline:
            time.sleep(0.05)
        work(uploads_queue, off_main=True, threads=1)

    thread = threading.Thread(target=worker)
    thread.start()
    report = tmp_path / "upload.csv"
    out = io.StringIO()
    call_command("upload_files", *args, "--wait", "--report", str(report), stdout=out)
    thread.join(timeout=30)
    rows = list(csv.DictReader(report.open()))
    assert [r["action"] for r in rows] == ["created", "created"]
    assert f"({store.shop_domain}): succeeded: 2 created" in out.getvalue()  # not a dict
    assert UploadRecord.objects.filter(store=store).count() == 2
    # an asset that does not exist fails the command (non-zero exit)
    with pytest.raises(CommandError):
        call_command("upload_files", "--workspace", str(sandbox.workspace.pk), "--stores",
                     store.shop_domain, "--assets", "f" * 32, "--dry-run", stdout=io.StringIO())  # fmt: skip


def test_the_admin_lists_batches_and_downloads_a_run_report(sandbox, member, uploads_queue, client):  # noqa: F811
    store = shop(sandbox)
    api = client_for(member.user)
    created = api.post(
        f"/api/workspaces/{sandbox.workspace.pk}/uploads/",
        {"asset_ids": _ids(sandbox, 1), "stores": [store.shop_domain]},
        format="json",
    ).json()
    run_id = api.post(f"/api/uploads/{created['id']}/start/", {}, format="json").json()[0]["id"]
    work(uploads_queue)
    client.force_login(member.user)
    assert client.get("/admin/uploads/uploadbatch/").status_code == 200
    assert client.get(f"/admin/uploads/uploadbatch/{created['id']}/change/").status_code == 200
    assert client.get("/admin/uploads/uploadrecord/").status_code == 200
    response = client.get(f"/admin/uploads/uploadbatch/runs/{run_id}/report.csv")
    assert response.status_code == 200
    assert b"created" in b"".join(response.streaming_content)


def test_batches_are_listed_and_a_dead_run_resumes_over_the_api(sandbox, member, uploads_queue):  # noqa: F811
    from datetime import timedelta

    from django.utils import timezone

    from linking import runs as link_runs
    from reports.models import Run
    from tests.doubles.killed import WorkerKilled, killed_after
    from uploads import runs

    store = shop(sandbox)
    api = client_for(member.user)
    url = f"/api/workspaces/{sandbox.workspace.pk}/uploads/"
    created = api.post(url, {"asset_ids": _ids(sandbox, 2), "stores": [store.shop_domain]},
                       format="json").json()  # fmt: skip
    assert [b["id"] for b in api.get(url).json()] == [created["id"]]
    run_id = api.post(f"/api/uploads/{created['id']}/start/", {}, format="json").json()[0]["id"]
    uploads_queue.empty()
    with pytest.raises(WorkerKilled):
        runs.execute_upload_run(run_id, client_for=killed_after("fileCreate"))
    alive = api.post(f"/api/upload-runs/{run_id}/resume/")
    assert alive.status_code == 400  # its worker looks alive: nothing to resume yet
    link_runs.runs_redis().delete(link_runs._key(run_id, "alive"))
    Run.objects.filter(pk=run_id).update(heartbeat_at=timezone.now() - timedelta(minutes=1))
    assert api.post(f"/api/upload-runs/{run_id}/resume/").status_code == 202
    work(uploads_queue)
    progress = api.get(f"/api/upload-runs/{run_id}/").json()
    assert progress["status"] == "succeeded" and progress["summary"] == {"created": 2}
    assert len(files(sandbox, store)) == 2
