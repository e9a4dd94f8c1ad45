"""The upload guarantee under any fault schedule, with a real RQ worker and both emulators.

Per file: an asset's file is created/replaced and READY with its alt text, or it is not
there (a file the run created and could not finish is removed) and the report says why;
never two files for one asset, never a marker left as a file's alt text; every asset of the
batch in the report; the run's outcome matches its rows. The schedule (hypothesis): what the
store already has of each asset (nothing, the same version, an older version), retryable
userErrors on fileCreate/fileUpdate, answers lost after the mutation ran, 5xx before it ran,
THROTTLED, a database error at a random write (the run goes on in a later attempt) and the
worker killed at a random Shopify call (a worker's sweeper resumes the run)."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from reports.models import Run
from tests.doubles.flaky_db import fail_a_write, fault_schedule, faults_body
from tests.doubles.killed import WorkerKilled, killed_after
from tests.linking.runs.conftest import shop_control, sweep_after_death
from tests.uploads.conftest import files, new_version, shop, work
from uploads import runs, services
from uploads.models import UploadItem, UploadRecord

pytestmark = pytest.mark.django_db(transaction=True)

ASSETS = 5
MUTATIONS = ["fileCreate", "fileUpdate"]
# The run's database writes (its hooks); the schedule may fail the n-th call of one of them.
WRITES = ["journal", "records_saved", "record_removed", "finished"]
KILL = st.one_of(
    st.none(),
    st.tuples(st.sampled_from(MUTATIONS), st.integers(1, 3)),
    st.tuples(st.none(), st.integers(1, 12)),  # any call, reads included
)


def _upload(box, store, asset_ids: list[str]) -> Run:
    batch = services.batch_create(
        user=None, workspace=box.workspace,
        data={"stores": [store.shop_domain], "asset_ids": asset_ids},
    )  # fmt: skip
    (run,) = services.batch_start(batch=batch)
    return run


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    before=st.lists(st.sampled_from(["none", "same", "older"]), min_size=ASSETS, max_size=ASSETS),
    kill=KILL,
    **fault_schedule(MUTATIONS, WRITES, max_nth=2),
)
@example(  # found by it: killed right after the alt texts went out, one of them refused (a
    # retryable userError): the resume took the file with its marker for done (no alt given)
    before=["none", "none", "none", "none", "same"], seed=1,
    rates={"fileCreate": 0.0, "fileUpdate": 0.1}, lost={"fileCreate": 0.0, "fileUpdate": 0.0},
    lost_mode="http_500", http_500=0.0, throttled=0.0, db_error=None, kill=("fileUpdate", 1),
)  # fmt: skip
def test_any_fault_schedule_leaves_every_file_ready_and_right_or_not_there(
    sandbox, uploads_queue, before, seed, rates, lost, lost_mode, http_500, throttled,
    db_error, kill,
):  # fmt: skip
    store = shop(sandbox)  # a new shop per example
    images = [a for a in sandbox.assets("resource_type=image") if a["resource_type"] == "image"][
        :ASSETS
    ]
    ids = [a["asset_id"] for a in images]
    # what the store already has: an earlier upload (no faults) of the "same"/"older" assets,
    # then a new version in Cloudinary of the "older" ones
    earlier = [i for i, state in zip(ids, before, strict=True) if state != "none"]
    if earlier:
        _upload(sandbox, store, earlier)
        work(uploads_queue)
    for asset_id, state in zip(ids, before, strict=True):
        if state == "older":
            new_version(sandbox, asset_id)
    files_before = {f["id"] for f in files(sandbox, store)}

    faults = faults_body(store, seed, rates, lost, lost_mode, http_500, throttled)
    shop_control(sandbox, "faults", faults)
    with pytest.MonkeyPatch.context() as patch:
        failed = fail_a_write(patch, runs._Hooks, *db_error) if db_error else None
        run = _upload(sandbox, store, ids)
        killed = False
        if kill:
            uploads_queue.empty()  # the first attempt runs here, on a client that dies
            try:
                runs.execute_upload_run(run.pk, client_for=killed_after(*kill))
            except WorkerKilled:
                killed = True
                run.refresh_from_db()
                assert run.status == Run.Status.RUNNING  # a dead worker writes nothing more
                assert sweep_after_death(run) == [run.pk]
        work(uploads_queue)
    shop_control(sandbox, "faults", {})
    run.refresh_from_db()
    event(f"database error raised: {bool(failed and failed['raised'])}")
    event(f"worker killed: {killed}")

    assert run.is_terminal, (run.status, run.error)
    if (failed and failed["raised"]) or killed:  # that attempt stopped; another finished it
        assert run.attempts >= 2, (db_error, kill, run.status, run.error)
    store_files = {f["id"]: f for f in files(sandbox, store)}
    items = {i.asset_id: i for i in run.upload_items.all()}
    records = {r.asset_id: r for r in UploadRecord.objects.filter(store=store)}
    assert set(items) == set(ids)
    for asset_id in ids:
        item = items[asset_id]
        record = records.get(asset_id)
        if item.action in ("created", "replaced", "reused"):
            file = store_files.get(item.file_id)
            assert file is not None, f"{asset_id}: {item.action} but its file is gone"
            assert file["status"] == "READY" and file["alt"] == item.alt, (asset_id, file)
            assert record is not None and record.file_id == item.file_id
            assert record.version == item.version and record.url, (asset_id, record.url)
        else:  # failed, with Shopify's reason; what it had before is still there
            assert item.action == "failed" and item.error_code and item.message, asset_id
            if record is not None:
                assert record.file_id in store_files and record.file_id in files_before
    # never two files for one asset, nothing half-done left: every file in the store is the
    # record of one asset, and no file still carries a marker
    assert sorted(store_files) == sorted(r.file_id for r in records.values())
    assert not any(f["alt"].startswith("assetlink-upload-") for f in store_files.values())
    assert files_before <= set(store_files), "a file the store had before was lost"
    # every asset in the report, once; the outcome matches the rows
    rows = list(run.rows.values_list("asset_id", "action"))
    assert sorted(a for a, _ in rows) == sorted(ids)
    actions = Counter(action for _, action in rows)
    assert run.summary == dict(sorted(actions.items()))
    statuses = Counter(run.upload_items.values_list("status", flat=True))
    assert run.status == Run.outcome(
        done=statuses[UploadItem.Status.DONE], bad=statuses[UploadItem.Status.FAILED]
    )
    if actions["failed"]:
        assert run.status in (Run.Status.COMPLETED_WITH_FAILURES, Run.Status.FAILED)
    else:
        assert run.status == Run.Status.SUCCEEDED, (run.status, run.error)
