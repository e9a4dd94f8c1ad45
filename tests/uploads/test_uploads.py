"""Upload to Store Files against the sandbox: images by URL and videos by staged upload, reuse
on a second upload, replacement on a new version, processing failures, two stores, fileCreate
batches of at most 250, abort, resume after a killed worker, the report CSV."""

from __future__ import annotations

import csv
import io
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from linking import runs as link_runs
from reports import csv as reports_csv
from reports.models import Run
from reports.registry import abort_run
from stores.models import WorkspaceSettings
from tests.doubles.killed import WorkerKilled, killed_after
from tests.uploads.conftest import (
    add_video,
    calls,
    delete_asset,
    files,
    new_version,
    shop,
    shopify_config,
    work,
)
from uploads import runs, selectors, services
from uploads.models import UploadItem, UploadRecord

pytestmark = pytest.mark.django_db(transaction=True)


def _images(box, n=3) -> list[dict]:
    return [a for a in box.assets("resource_type=image") if a["resource_type"] == "image"][:n]


def _upload(box, stores, queue, *, threads=1, **data) -> list[Run]:
    batch = services.batch_create(
        user=None, workspace=box.workspace, data={"stores": [s.shop_domain for s in stores], **data}
    )
    started = services.batch_start(batch=batch)
    work(queue, threads=threads)
    for run in started:
        run.refresh_from_db()
    return started


def _items(run) -> dict[str, UploadItem]:
    return {i.asset_id: i for i in run.upload_items.all()}


def test_images_by_url_and_videos_by_staged_upload(sandbox, uploads_queue):
    store = shop(sandbox)
    images = _images(sandbox)
    video = add_video(sandbox)
    ids = [a["asset_id"] for a in images] + [video["asset_id"]]
    (run,) = _upload(sandbox, [store], uploads_queue, asset_ids=ids, alt_source="template",
                     alt_field="Logo {public_id}")  # fmt: skip
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.summary == {"created": 4}
    items = _items(run)
    by_id = {f["id"]: f for f in files(sandbox, store)}
    assert len(by_id) == 4
    for asset in images:
        item = items[asset["asset_id"]]
        assert item.filename == asset["public_id"].rsplit("/", 1)[-1] + ".jpg"
        assert item.url and item.file_status == "READY"
        assert by_id[item.file_id]["status"] == "READY"
        assert by_id[item.file_id]["alt"] == f"Logo {asset['public_id']}"
        assert "q_auto" in item.source_url  # Setup's default transformation
    clip = items[video["asset_id"]]
    assert clip.filename == "intro.mp4" and clip.action == "created"
    assert by_id[clip.file_id]["status"] == "READY"
    assert len(calls(sandbox, store, "StagedUploadsCreate")) == 1
    assert UploadRecord.objects.filter(store=store).count() == 4


def test_second_upload_reuses_files_and_creates_none(sandbox, uploads_queue):
    store = shop(sandbox)
    ids = [a["asset_id"] for a in _images(sandbox)] + [add_video(sandbox)["asset_id"]]
    (first,) = _upload(sandbox, [store], uploads_queue, asset_ids=ids)
    creates = len(calls(sandbox, store, "FileCreate"))
    (second,) = _upload(sandbox, [store], uploads_queue, asset_ids=ids)
    assert second.status == Run.Status.SUCCEEDED
    assert second.summary == {"reused": 4}
    assert len(files(sandbox, store)) == 4
    assert len(calls(sandbox, store, "FileCreate")) == creates
    assert {i.file_id for i in second.upload_items.all()} == {
        i.file_id for i in first.upload_items.all()
    }


def test_new_version_replaces_the_file_content_in_place(sandbox, uploads_queue):
    store = shop(sandbox)
    asset, other = _images(sandbox, 2)
    (first,) = _upload(
        sandbox, [store], uploads_queue, asset_ids=[asset["asset_id"], other["asset_id"]]
    )
    before = _items(first)[asset["asset_id"]]
    newer = new_version(sandbox, asset["asset_id"])
    assert newer["version"] != asset["version"]
    batch = services.batch_create(
        user=None, workspace=sandbox.workspace,
        data={"stores": [store.shop_domain], "asset_ids": [asset["asset_id"], other["asset_id"]]},
    )  # fmt: skip
    services.batch_dry_run(batch=batch)
    counts = batch.dry_run[store.shop_domain]["counts"]
    assert counts == {"replaced": 1, "reused": 1}
    updates_before = len(calls(sandbox, store, "FileUpdate"))  # the first run set alt texts
    (second,) = services.batch_start(batch=batch)
    work(uploads_queue)
    second.refresh_from_db()
    after = _items(second)
    assert after[asset["asset_id"]].action == "replaced"
    assert after[asset["asset_id"]].file_id == before.file_id  # same file, references kept
    assert after[other["asset_id"]].action == "reused"
    assert len(files(sandbox, store)) == 2
    record = UploadRecord.objects.get(store=store, asset_id=asset["asset_id"])
    assert record.version == newer["version"]
    assert len(calls(sandbox, store, "FileUpdate")) - updates_before == 1
    state = {f["id"]: f for f in files(sandbox, store)}
    assert f"v{newer['version']}" in state[before.file_id]["original_source"]


def test_files_shopify_cannot_process_are_failures(sandbox, uploads_queue):
    store = shop(sandbox)
    good, gone = _images(sandbox, 2)
    batch = services.batch_create(
        user=None, workspace=sandbox.workspace,
        data={"stores": [store.shop_domain],
              "asset_ids": [good["asset_id"], gone["asset_id"], "0" * 32]},
    )  # fmt: skip
    (run,) = services.batch_start(batch=batch)
    delete_asset(sandbox, gone["asset_id"])  # its delivery URL now answers 404
    work(uploads_queue)
    run.refresh_from_db()
    assert run.status == Run.Status.COMPLETED_WITH_FAILURES
    items = _items(run)
    assert items[good["asset_id"]].action == "created"
    failed = items[gone["asset_id"]]
    assert failed.action == "failed" and failed.error_code == "IMAGE_DOWNLOAD_FAILURE"
    assert items["0" * 32].error_code == "UNRESOLVED"
    assert run.summary == {"created": 1, "failed": 2} and run.failures == 2
    # the broken file is not left in the Files library, and no record claims it
    assert [f["id"] for f in files(sandbox, store)] == [items[good["asset_id"]].file_id]
    assert not UploadRecord.objects.filter(store=store, asset_id=gone["asset_id"]).exists()
    # the API's failures table: what happened and what to do, for its workspace's members only
    from rest_framework.test import APIClient

    from tests.factories import MemberFactory

    client = APIClient()
    client.force_authenticate(MemberFactory(workspace=sandbox.workspace, role="user").user)
    rows = client.get(f"/api/upload-runs/{run.pk}/rows/?action=failed").json()
    assert rows["count"] == 2
    by_code = {r["error_code"]: r for r in rows["rows"]}
    assert by_code["IMAGE_DOWNLOAD_FAILURE"]["human"] == "Shopify could not download the image."
    assert "deleted" in by_code["UNRESOLVED"]["what_to_do"]
    assert client.get(f"/api/upload-runs/{run.pk}/rows/").json()["count"] == 3
    other = APIClient()
    other.force_authenticate(MemberFactory().user)
    assert other.get(f"/api/upload-runs/{run.pk}/rows/").status_code == 404


def test_two_stores_each_get_their_files(sandbox, uploads_queue):
    a, b = shop(sandbox), shop(sandbox)
    ids = [x["asset_id"] for x in _images(sandbox, 3)]
    started = _upload(sandbox, [a, b], uploads_queue, threads=2, asset_ids=ids)
    assert [r.status for r in started] == [Run.Status.SUCCEEDED] * 2
    assert {r.store_id for r in started} == {a.pk, b.pk}
    assert len(files(sandbox, a)) == len(files(sandbox, b)) == 3
    assert UploadRecord.objects.filter(store=a).count() == 3
    assert UploadRecord.objects.filter(store=b).count() == 3


def _found_dead_and_resumed(run, queue) -> None:
    """Time passes: the heartbeat expires, the run is found dead, queued again and worked."""
    link_runs.runs_redis().delete(link_runs._key(run.pk, "alive"))
    Run.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=1))
    assert runs.resume_dead_uploads() == [run.pk]
    work(queue)
    run.refresh_from_db()


def _seed_300(box) -> None:
    """300 assets in the cloud (more than one 250-file chunk of images), rendered small."""
    import requests

    r = requests.post(
        f"{box.cloudinary_url}/_control/clouds/{box.cloud}/seed",
        json={"n_assets": 300, "seed": 5, "replace": True}, timeout=30,
    )  # fmt: skip
    r.raise_for_status()
    WorkspaceSettings.objects.update_or_create(
        workspace=box.workspace, defaults={"default_transformation": "c_scale,w_16"}
    )


def test_file_create_carries_at_most_250_files_per_call(sandbox, uploads_queue, settings):
    _seed_300(sandbox)
    store = shop(sandbox)
    (run,) = _upload(sandbox, [store], uploads_queue, expression="resource_type=image")
    images = run.upload_items.count()
    assert 250 < images <= 300
    assert run.status == Run.Status.SUCCEEDED and run.summary == {"created": images}
    creates = calls(sandbox, store, "FileCreate")
    assert len(creates) == 2 and all(c["outcome"] == "ok" for c in creates)
    assert len(files(sandbox, store)) == images
    # Waiting for READY costs about a point per file: one-point looks at the newest file, then
    # status and alt text (no URL, no errors: the URL comes with the alt text's fileUpdate).
    polls = calls(sandbox, store, "UploadFilesReady")
    assert sum(c["requested_cost"] for c in polls if c["requested_cost"] > 1) <= 2 * images
    assert not calls(sandbox, store, "UploadFilesStatus")  # nothing failed, nothing reused
    records = UploadRecord.objects.filter(store=store)
    assert records.count() == images
    assert all(r.url.startswith(("http://", "https://")) for r in records)


def test_abort_while_shopify_processes_removes_what_is_not_ready(sandbox, uploads_queue):
    """Shipped defaults (one chunk of 250): an abort while Shopify processes the files ends
    the run within seconds; each file is either created and READY or not there."""
    store = shop(sandbox)
    ids = [x["asset_id"] for x in _images(sandbox, 10)]
    shopify_config(sandbox, media_delay=20.0)
    try:
        batch = services.batch_create(
            user=None, workspace=sandbox.workspace,
            data={"stores": [store.shop_domain], "asset_ids": ids},
        )  # fmt: skip
        (run,) = services.batch_start(batch=batch)
        worker = threading.Thread(
            target=work, args=(uploads_queue,), kwargs={"threads": 1, "off_main": True}
        )
        worker.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if link_runs.run_progress(run)["phase"].startswith("waiting"):
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
        shopify_config(sandbox, media_delay=0.01)
    assert run.status == Run.Status.ABORTED and took < 5, (run.status, took)
    items = list(run.upload_items.all())
    done = [i for i in items if i.action == "created"]
    skipped = [i for i in items if i.action == "skipped"]
    assert skipped and len(done) + len(skipped) == len(ids)
    assert {f["id"] for f in files(sandbox, store)} == {i.file_id for i in done}
    assert run.rows.filter(action="skipped").count() == len(skipped)
    assert (
        not UploadRecord.objects.filter(store=store)
        .exclude(file_id__in=[i.file_id for i in done])
        .exists()
    )


def test_resume_after_a_killed_worker_creates_no_duplicates(sandbox, uploads_queue):
    store = shop(sandbox)
    ids = [x["asset_id"] for x in _images(sandbox, 3)]
    batch = services.batch_create(
        user=None, workspace=sandbox.workspace,
        data={"stores": [store.shop_domain], "asset_ids": ids},
    )  # fmt: skip
    (run,) = services.batch_start(batch=batch)
    uploads_queue.empty()  # this attempt runs here and dies right after its fileCreate
    with pytest.raises(WorkerKilled):
        runs.execute_upload_run(run.pk, client_for=killed_after("fileCreate"))
    run.refresh_from_db()
    assert run.status == Run.Status.RUNNING
    assert run.upload_items.filter(status="sent").count() == 3  # the answer was never recorded
    assert len(files(sandbox, store)) == 3
    _found_dead_and_resumed(run, uploads_queue)
    assert run.status == Run.Status.SUCCEEDED and run.attempts == 2
    assert run.summary == {"created": 3}
    assert len(files(sandbox, store)) == 3  # adopted, not created again
    assert len(calls(sandbox, store, "FileCreate")) == 1
    assert UploadRecord.objects.filter(store=store).count() == 3


def test_a_worker_killed_with_two_chunks_sent_and_none_recorded_resumes_with_one_listing(
    sandbox, uploads_queue
):
    """The shipped chunk of 250: the two creates go out back to back and their files are
    recorded after both; the worker dies in between (right after the second answer). On
    resume every file is found by its marker in one listing of the files created since
    (two 250-file pages, never a page per file) and adopted: none created again."""
    _seed_300(sandbox)
    store = shop(sandbox)
    batch = services.batch_create(
        user=None, workspace=sandbox.workspace,
        data={"stores": [store.shop_domain], "expression": "resource_type=image"},
    )  # fmt: skip
    (run,) = services.batch_start(batch=batch)
    images = run.upload_items.count()
    assert 250 < images <= 300
    uploads_queue.empty()
    with pytest.raises(WorkerKilled):
        runs.execute_upload_run(run.pk, client_for=killed_after("fileCreate", times=2))
    assert run.upload_items.filter(status="sent").count() == images  # none recorded
    assert not UploadRecord.objects.filter(store=store).exists()
    created = {f["id"] for f in files(sandbox, store)}
    assert len(created) == images
    _found_dead_and_resumed(run, uploads_queue)

    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.summary == {"created": images}
    assert {f["id"] for f in files(sandbox, store)} == created  # adopted, none created again
    assert len(calls(sandbox, store, "FileCreate")) == 2
    assert len(calls(sandbox, store, "FilesSearch")) <= 2 * 2  # a listing per chunk resumed
    records = dict(UploadRecord.objects.filter(store=store).values_list("asset_id", "file_id"))
    assert len(records) == images and set(records.values()) == created
    assert not any(f["alt"].startswith("assetlink-upload-") for f in files(sandbox, store))


def test_dry_run_says_what_would_happen_and_writes_nothing(sandbox, uploads_queue):
    store = shop(sandbox)
    ids = [x["asset_id"] for x in _images(sandbox, 2)]
    _upload(sandbox, [store], uploads_queue, asset_ids=ids[:1])
    before = len(sandbox.calls(store.shop_domain))
    batch = services.batch_create(
        user=None, workspace=sandbox.workspace,
        data={"stores": [store.shop_domain], "asset_ids": ids},
    )  # fmt: skip
    services.batch_dry_run(batch=batch)
    result = batch.dry_run[store.shop_domain]
    assert result["counts"] == {"created": 1, "reused": 1}
    assert {r["action"] for r in result["rows"]} == {"created", "reused"}
    assert all(r["filename"].endswith(".jpg") for r in result["rows"])
    assert len(sandbox.calls(store.shop_domain)) == before
    assert not batch.runs.exists()


def test_upload_reports_have_the_one_report_layout(sandbox, uploads_queue):
    store = shop(sandbox)
    ids = [x["asset_id"] for x in _images(sandbox, 2)]
    (run,) = _upload(sandbox, [store], uploads_queue, asset_ids=ids)
    rows = list(csv.DictReader(io.StringIO(selectors.report_csv(run))))
    assert list(rows[0]) == selectors.COLUMNS == reports_csv.COLUMNS  # link runs' layout too
    assert len(rows) == 2
    for row in rows:
        assert row["store"] == store.shop_domain and row["action"] == "created"
        assert row["media_id"].startswith("gid://shopify/") and row["url"].startswith("http")
        assert row["filename"].endswith(".jpg")


def test_server_errors_are_retried_and_reconciled_without_duplicates(sandbox, uploads_queue):
    import requests

    from stores.clients import shopify_client

    store = shop(sandbox)
    ids = [x["asset_id"] for x in _images(sandbox, 6)]
    batch = services.batch_create(
        user=None, workspace=sandbox.workspace,
        data={"stores": [store.shop_domain], "asset_ids": ids},
    )  # fmt: skip
    (run,) = services.batch_start(batch=batch, enqueue=False)
    faults = f"{sandbox.shopify_url}/_control/faults"
    requests.post(faults, json={"seed": 1, "http_500": 0.35, "http_503": 0.1,
                                "shops": [store.shop_domain]}, timeout=10).raise_for_status()  # fmt: skip
    try:
        status = runs.execute_upload_run(
            run.pk, client_for=lambda s: shopify_client(s, backoff_base=0.01)
        )
    finally:
        requests.delete(faults, timeout=10).raise_for_status()
    assert status == Run.Status.SUCCEEDED
    outcomes = [c["outcome"] for c in calls(sandbox, store, "FileCreate")]
    assert outcomes[0] == "fault" and len(outcomes) > 1  # (seed 1) reconciled, then resent
    items = list(run.upload_items.all())
    created = {i.file_id for i in items if i.action == "created"}
    assert all(i.action == "created" or i.error_code for i in items)
    # every file in Shopify is one the report names: nothing created twice, nothing orphaned
    assert {f["id"] for f in files(sandbox, store)} == created
    assert (
        set(UploadRecord.objects.filter(store=store).values_list("file_id", flat=True)) == created
    )
    # a second upload without faults completes the set, reusing what is there
    (again,) = _upload(sandbox, [store], uploads_queue, asset_ids=ids)
    assert {i.action for i in again.upload_items.all()} <= {"created", "reused"}
    assert len(files(sandbox, store)) == len(ids)


def test_a_new_alt_on_a_reused_file_is_updated_in_place(sandbox, uploads_queue):
    store = shop(sandbox)
    (asset,) = _images(sandbox, 1)
    (first,) = _upload(sandbox, [store], uploads_queue, asset_ids=[asset["asset_id"]],
                       alt_source="template", alt_field="Old")  # fmt: skip
    (second,) = _upload(sandbox, [store], uploads_queue, asset_ids=[asset["asset_id"]],
                        alt_source="template", alt_field="New")  # fmt: skip
    item = second.upload_items.get()
    assert item.action == "reused" and item.file_id == first.upload_items.get().file_id
    assert files(sandbox, store)[0]["alt"] == "New"
    assert UploadRecord.objects.get(store=store).alt == "New"


def test_resume_never_gives_an_asset_another_assets_file(sandbox, uploads_queue):
    """The issue's probe: ``aaa/red`` and ``bbb/red`` (one filename), ``sku_1`` and ``sku_10``
    (one a prefix of the other); a worker dies between fileCreate and recording its answer.
    On resume each asset adopts its own file: four files for four assets, each the right one."""
    store = shop(sandbox)
    assets = [
        sandbox.add_asset({"public_id": public_id, "resource_type": "image"})["asset"]
        for public_id in ("aaa/red", "bbb/red", "shoes/sku_1", "shoes/sku_10")
    ]
    batch = services.batch_create(
        user=None, workspace=sandbox.workspace,
        data={"stores": [store.shop_domain], "asset_ids": [a["asset_id"] for a in assets]},
    )  # fmt: skip
    (run,) = services.batch_start(batch=batch)
    uploads_queue.empty()
    with pytest.raises(WorkerKilled):
        runs.execute_upload_run(run.pk, client_for=killed_after("fileCreate"))
    created = {f["id"]: f for f in files(sandbox, store)}
    assert len(created) == 4
    _found_dead_and_resumed(run, uploads_queue)

    assert run.status == Run.Status.SUCCEEDED, run.error
    after = {f["id"]: f for f in files(sandbox, store)}
    assert set(after) == set(created)  # adopted, none created again
    records = {r.asset_id: r.file_id for r in UploadRecord.objects.filter(store=store)}
    assert len(set(records.values())) == 4
    for asset in assets:
        # the file each asset adopted is the one its own create made (its source URL)
        source = after[records[asset["asset_id"]]]["original_source"]
        assert asset["public_id"] in source, (asset["public_id"], source)
    # and every file has its real alt text again, not the run's marker
    assert not [f for f in after.values() if (f.get("alt") or "").startswith("assetlink-upload-")]
