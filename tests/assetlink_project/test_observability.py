"""Structured logs with request/run context, /metrics, the RQ dashboard for operators."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assetlink_project.logging import RedactSecretsFilter
from assetlink_project.logging_context import ContextFilter, JsonFormatter, log_context
from reports.models import Run
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def json_log():
    """The root logger's lines as the production handler writes them (redacted JSON)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecretsFilter())
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def test_log_lines_carry_the_context_and_are_redacted(json_log):
    logger = logging.getLogger("assetlink.test")
    with log_context(run_id=7, store="a.myshopify.com", workspace_id=3):
        with log_context(phase="link"):
            logger.info("token shpat_0123456789abcdef in flight")
        logger.warning("after the phase", extra={"products": 4})
    logger.info("outside")
    first, second, third = json_log()
    assert first["run_id"] == 7 and first["phase"] == "link" and first["workspace_id"] == 3
    assert "shpat_0123456789abcdef" not in first["message"]
    assert second["level"] == "WARNING" and second["products"] == 4 and "phase" not in second
    assert "run_id" not in third


def test_request_log_line_names_request_id_and_workspace(client, admin_member, json_log):
    client.force_login(admin_member.user)
    response = client.get(
        f"/api/workspaces/{admin_member.workspace_id}/plans/", HTTP_X_REQUEST_ID="req-123"
    )
    assert response.status_code == 200
    assert response["X-Request-ID"] == "req-123"
    line = next(r for r in json_log() if r["logger"] == "assetlink.request")
    assert line["request_id"] == "req-123"
    assert line["workspace_id"] == admin_member.workspace_id
    assert line["status"] == 200 and line["duration_ms"] >= 0


def test_a_bad_request_id_is_replaced(client, db):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="x" * 500)
    assert len(response["X-Request-ID"]) == 32


def test_metrics_need_the_token_or_a_superuser(client, admin_member, settings):
    settings.METRICS_TOKEN = "metrics-secret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    client.force_login(admin_member.user)  # a workspace's Master Admin is not an operator
    assert client.get("/metrics").status_code == 401
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert client.get("/metrics").status_code == 200


def test_metrics_show_runs_by_outcome_points_and_queues(client, store, settings):
    settings.METRICS_TOKEN = "metrics-secret"
    Run.objects.create(store=store, status=Run.Status.SUCCEEDED, products_done=5, ops_done=9,
                       points_actual=120, throttled=2)  # fmt: skip
    Run.objects.create(store=store, status=Run.Status.FAILED, products_done=1, points_actual=30)
    client.get("/healthz")
    body = client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-secret").content.decode()
    assert 'assetlink_runs{kind="link",status="succeeded"} 1.0' in body
    assert 'assetlink_runs{kind="link",status="failed"} 1.0' in body
    assert 'assetlink_run_products_done{kind="link"} 6.0' in body
    assert 'assetlink_run_operations_done{kind="link"} 9.0' in body
    assert 'assetlink_run_shopify_points{kind="link"} 150.0' in body
    assert 'assetlink_run_throttled{kind="link"} 2.0' in body
    assert 'assetlink_queue_depth{queue="links"}' in body
    assert "assetlink_workers " in body
    assert 'assetlink_http_request_duration_seconds_count{method="GET",route="healthz"' in body


def test_rq_dashboard_is_for_superusers_only(client, admin_member):
    client.force_login(admin_member.user)
    assert client.get("/admin/django_rq/dashboard/").status_code in (302, 403)
    assert b"django_rq" not in client.get("/admin/").content
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert b"/admin/django_rq/dashboard/" in client.get("/admin/").content
    response = client.get("/admin/django_rq/dashboard/")
    assert response.status_code == 200
    assert b"links" in response.content


@pytest.mark.slow
@pytest.mark.parametrize("dsn, active", [("", "False"), ("https://key@sentry.invalid/1", "True")])
def test_sentry_is_initialised_only_when_sentry_dsn_is_set(dsn, active):
    code = (
        "import django; django.setup(); import sentry_sdk; "
        "print(sentry_sdk.get_client().is_active())"
    )
    env = {k: v for k, v in os.environ.items() if k != "SENTRY_DSN"}
    env.update(DJANGO_SETTINGS_MODULE="assetlink_project.settings", SENTRY_DSN=dsn)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.stdout.strip() == active, result.stderr


def test_metrics_answer_503_naming_what_is_down_when_redis_is_down(client, db, settings):
    # A port nothing listens on: a real connection refusal, as /healthz's test does.
    settings.METRICS_TOKEN = "metrics-secret"
    down = "redis://127.0.0.1:1/0"
    settings.REDIS_URL = down
    settings.RQ_QUEUES = {
        name: {**queue, "URL": down} for name, queue in settings.RQ_QUEUES.items()
    }
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-secret")
    assert response.status_code == 503
    body = response.content.decode()
    assert "redis: error" in body
    assert "database: ok" in body
    assert client.get("/metrics").status_code == 401  # still protected when down
