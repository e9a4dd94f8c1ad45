"""The dry-run CSV and the run CSV have one layout (issue 24, defect 8): before, the dry run
said ``handle``/``title`` where the run said ``product_handle``/``product_title`` and left out
five of the run's columns, so a promise and its result did not compare column by column."""

from __future__ import annotations

import csv
import io

import pytest
from rest_framework.test import APIClient

from reports.csv import COLUMNS
from tests.factories import MemberFactory
from tests.linking.runs.conftest import dry_run, work

pytestmark = pytest.mark.django_db(transaction=True)

# What a dry run promises of each row; the rest (the media id a run creates, Shopify's media
# status, an error) only the run can say.
PROMISED = [
    "store", "product_id", "product_handle", "product_title", "group", "asset_id", "public_id",
    "action", "position_before", "position_after", "transformation",
]  # fmt: skip


def _csv(client, url) -> tuple[list[str], list[dict]]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    reader = csv.reader(io.StringIO(b"".join(response).decode()))
    header, *rows = list(reader)
    return header, [dict(zip(header, row, strict=True)) for row in rows]


@pytest.mark.parametrize("mode", ["append", "reset"])
def test_a_dry_runs_csv_and_its_runs_csv_compare_column_by_column(sandbox, queue, mode):
    store = sandbox.shop(products=5, media_per_product=2)
    plan = dry_run(sandbox, store, link_mode=mode)
    client = APIClient()
    client.force_authenticate(MemberFactory(workspace=sandbox.workspace, role="user").user)
    planned_header, planned = _csv(client, f"/api/plans/{plan.pk}/report.csv")

    started = client.post(f"/api/plans/{plan.pk}/run/", {}, format="json")
    assert started.status_code == 202, started.content
    work(queue)
    [run] = started.json()
    run_header, done = _csv(client, f"/api/runs/{run['id']}/report.csv")

    assert planned_header == run_header == COLUMNS
    assert {r["action"] for r in planned} >= {"created", "unmatched"} | (
        {"unlinked"} if mode == "reset" else set()
    )
    assert all(r["product_handle"] and r["product_title"] for r in planned if r["product_id"])

    def key(row):
        return tuple(row[c] for c in PROMISED)

    assert sorted(map(key, planned)) == sorted(map(key, done))
    for row in planned:  # what only the run knows is left empty by the dry run
        assert not (row["status"] or row["error_code"] or row["filename"] or row["url"]), row
