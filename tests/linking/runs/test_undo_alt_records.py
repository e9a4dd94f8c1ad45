"""Undo gives the link records back too: a run that only changed the alt text of media it had
placed before (`alt_updated`) is undone to the old alt on Shopify *and* in the link records
(found by the whole-product state machine, tests/whole: the gallery came back, the records
kept the undone run's alt)."""

from __future__ import annotations

import pytest

from linking import runs
from linking.models import LinkRecord
from reports.models import Run
from tests.linking.runs.conftest import dry_run, gallery, undo_and_work, work

pytestmark = pytest.mark.django_db(transaction=True)


def _run(sandbox, queue, store, **config) -> Run:
    run = runs.run_start_from_plan(plan=dry_run(sandbox, store, **config), store=store)
    work(queue)
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED, run.error
    return run


def _records(store) -> dict[str, str]:
    return dict(
        LinkRecord.objects.filter(store=store).exclude(product_id="").values_list("media_id", "alt")
    )


def test_undoing_an_alt_change_gives_the_link_records_their_alt_back(sandbox, queue):
    store = sandbox.shop(products=4, media_per_product=1)
    _run(sandbox, queue, store, link_mode="append", alt_source="keep_shopify")
    records_before, gallery_before = _records(store), gallery(sandbox, store)
    assert records_before

    second = _run(sandbox, queue, store, link_mode="append", alt_source="template",
                  alt_field="New alt {product.title}")  # fmt: skip
    assert set(second.rows.values_list("action", flat=True)) & {"alt_updated"}
    assert _records(store) != records_before

    undo = undo_and_work(queue, second)

    assert undo.status == Run.Status.SUCCEEDED, (undo.status, undo.error)
    alts = lambda g: {p: [m["alt"] for m in ms] for p, ms in g.items()}  # noqa: E731
    assert alts(gallery(sandbox, store)) == alts(gallery_before)
    assert _records(store) == records_before
