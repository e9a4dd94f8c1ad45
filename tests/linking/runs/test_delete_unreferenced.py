"""Setup's "delete unreferenced created files": a link run that unlinks media AssetLink created
deletes those files once nothing references them; media it did not create stay in Files; an undo
says which products it cannot give their gallery back."""

from __future__ import annotations

import pytest

from linking import runs
from linking.executor import FILE_DELETED, FILE_DELETED_STATUS, FILE_GONE_CODE
from linking.models import LinkRecord
from reports.models import Run, RunProduct
from stores.services import settings_for
from tests.linking.runs.conftest import dry_run, gallery, work

pytestmark = pytest.mark.django_db(transaction=True)


def _setting(sandbox, on: bool) -> None:
    setup = settings_for(sandbox.workspace)
    setup.delete_unreferenced_created_files = on
    setup.save()


def _files(sandbox, store) -> set[str]:
    return {f["id"] for f in sandbox.shop_state(store.shop_domain)["files"]}


def _run(sandbox, queue, store, *, image_transformation: str, **config) -> Run:
    setup = settings_for(sandbox.workspace)  # a new default: the plan's media are new media
    setup.default_image_transformation = image_transformation
    setup.save()
    run = runs.run_start_from_plan(plan=dry_run(sandbox, store, **config), store=store)
    work(queue)
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED, run.error
    return run


def _created(store) -> set[str]:
    return set(
        LinkRecord.objects.filter(store=store)
        .exclude(product_id="")
        .values_list("media_id", flat=True)
    )


def _replace_created_media(sandbox, queue, mode="reset"):
    """Append AssetLink media, then a run of ``mode`` with another transformation replaces them."""
    store = sandbox.shop(products=len(sandbox.skus()) - 2, media_per_product=2)
    seeded = {m["id"] for media in gallery(sandbox, store).values() for m in media}
    _run(sandbox, queue, store, link_mode="append", image_transformation="c_limit,w_1000")
    created = _created(store)
    assert created and not created & seeded
    files_before = _files(sandbox, store)
    assert created | seeded <= files_before
    run = _run(sandbox, queue, store, link_mode=mode, image_transformation="c_limit,w_800")
    return store, seeded, created, files_before, run


@pytest.mark.parametrize("mode", ["reset", "overwrite"])
def test_replaced_created_media_are_deleted_when_the_setting_is_on(sandbox, queue, mode):
    _setting(sandbox, True)
    store, seeded, created, files_before, run = _replace_created_media(sandbox, queue, mode)

    new = _created(store)
    replaced = created - new  # videos take no transformation: they are kept, not replaced
    files_after = _files(sandbox, store)
    assert replaced and new - created
    # AssetLink's own replaced media are gone from Files; the count drops by them
    assert not replaced & files_after
    assert len(files_after) == len(files_before) - len(replaced) + len(new - created)
    in_galleries = {m["id"] for media in gallery(sandbox, store).values() for m in media}
    assert not replaced & in_galleries
    if mode == "reset":  # seeded media AssetLink did not create: unlinked only, still in Files
        assert not seeded & in_galleries
    assert seeded <= files_after

    rows = list(run.rows.exclude(product_id=""))
    deleted_rows = [r for r in rows if FILE_DELETED in r.message]
    assert {r.action for r in deleted_rows} <= {"replaced", "unlinked"}
    assert {r.status for r in deleted_rows} == {FILE_DELETED_STATUS}
    assert {r.previous_media_id or r.media_id for r in deleted_rows} == replaced
    assert not [r for r in rows if r.action == "failed"]
    assert not [r for r in rows if r.media_id in seeded and FILE_DELETED in r.message]
    assert set(RunProduct.objects.filter(run=run).values_list("status", flat=True)) == {"done"}


def test_nothing_is_deleted_when_the_setting_is_off(sandbox, queue):
    _setting(sandbox, False)
    store, seeded, created, files_before, run = _replace_created_media(sandbox, queue)

    files_after = _files(sandbox, store)
    assert created | seeded <= files_after
    assert len(files_after) == len(files_before) + len(_created(store) - created)
    assert not run.rows.filter(message__contains=FILE_DELETED).exists()
    assert not run.rows.filter(message__contains="stays in Files").exists()


def test_a_file_another_link_record_points_to_is_kept(sandbox, queue):
    _setting(sandbox, True)
    store = sandbox.shop(products=len(sandbox.skus()) - 2, media_per_product=2)
    _run(sandbox, queue, store, link_mode="append", image_transformation="c_limit,w_1000")
    videos = {
        m["id"] for media in gallery(sandbox, store).values() for m in media if "Video" in m["id"]
    }
    created = sorted(_created(store) - videos)
    # one of them is also a store file AssetLink keeps a record of (e.g. a swatch)
    kept = created[0]
    record = LinkRecord.objects.get(store=store, media_id=kept)
    setup = settings_for(sandbox.workspace)
    setup.default_image_transformation = "c_limit,w_800"
    setup.save()
    run = runs.run_start_from_plan(plan=dry_run(sandbox, store, link_mode="reset"), store=store)
    # the executor drops the product's record when it unlinks; another record stays
    original = runs._Hooks.records_removed

    def records_removed(self, product_id, media_ids):
        original(self, product_id, media_ids)
        if kept in media_ids:
            LinkRecord.objects.create(
                store=store, product_id="", media_id=kept, asset_id=record.asset_id,
                version=record.version, transformation=record.transformation,
            )  # fmt: skip

    runs._Hooks.records_removed = records_removed
    try:
        work(queue)
    finally:
        runs._Hooks.records_removed = original
    run.refresh_from_db()
    files_after = _files(sandbox, store)
    assert kept in files_after
    assert not (set(created) - {kept}) & files_after
    row = run.rows.get(previous_media_id=kept)
    assert row.action == "replaced" and "another link record" in row.message


def test_undo_after_deletion_reports_the_products_it_cannot_restore(sandbox, queue):
    _setting(sandbox, True)
    store, seeded, created, _, run = _replace_created_media(sandbox, queue)
    created -= _created(store)  # the replaced ones: deleted
    before = {p.product_id: p.before for p in RunProduct.objects.filter(run=run)}

    undo = runs.run_undo(run=run)
    work(queue)
    undo.refresh_from_db()

    lost = undo.rows.filter(action="failed", error_code=FILE_GONE_CODE)
    assert set(lost.values_list("media_id", flat=True)) == created
    assert all("cannot be restored" in r.message.lower() for r in lost)
    touched = {pid for pid, b in before.items() if {i["media_id"] for i in b["gallery"]} & created}
    assert set(lost.values_list("product_id", flat=True)) == touched
    statuses = dict(RunProduct.objects.filter(run=undo).values_list("product_id", "status"))
    assert all(statuses[pid] == "failed" for pid in touched)
    # the outcome says so: not a green "succeeded"
    assert undo.status == (
        Run.Status.FAILED if touched == set(before) else Run.Status.COMPLETED_WITH_FAILURES
    )
    # what could be restored was: the seeded media are back, in their order
    after = gallery(sandbox, store)
    for pid, b in before.items():
        expected = [i["media_id"] for i in b["gallery"] if i["media_id"] not in created]
        assert [m["id"] for m in after[pid]] == expected
