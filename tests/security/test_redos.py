"""User regexes run in linear time (finding 5): `public_id:^(.+.+)+!` against a 40-character
public id took minutes of CPU per asset with Python's backtracking engine; on RE2 the dry run
takes as long as any other. Patterns RE2 cannot run are a 400 naming the field."""

from __future__ import annotations

import time

import pytest
from rest_framework.test import APIClient

from tests.linking.plans.conftest import (  # noqa: F401
    api_dry_run,
    emulators,
    member,
    queue,
    sandbox,
)

EVIL = "public_id:^(.+.+)+!"


@pytest.fixture
def client(member):  # noqa: F811
    client = APIClient()
    client.force_authenticate(member.user)
    return client


def _create(client, sandbox, store, **config):  # noqa: F811
    return client.post(
        f"/api/workspaces/{sandbox.workspace.pk}/plans/",
        {"stores": [store.shop_domain], "shopify_field": "variant.sku", **config},
        format="json",
    )


@pytest.mark.django_db(transaction=True)  # the dry run is queued when the request commits
def test_a_catastrophic_pattern_runs_in_linear_time(client, sandbox, queue):  # noqa: F811
    store = sandbox.shop(products=1)
    asset = sandbox.add_asset({"public_id": "a" * 40})["asset"]
    response = _create(client, sandbox, store, asset_ids=[asset["asset_id"]], cloudinary_field=EVIL)
    assert response.status_code == 201, response.json()
    started = time.monotonic()
    summary = api_dry_run(client, response.json()["id"], queue)
    elapsed = time.monotonic() - started
    assert summary.status_code == 200, summary.json()
    assert summary.json()["groups"] == 0  # the pattern matches nothing
    assert elapsed < 5, f"dry run took {elapsed:.1f} s"


@pytest.mark.parametrize(
    "field",
    ["public_id:^(a+)\\1$", "filename:(?=x)(.+)", "public_id:(\\pL{1000})"],
)
def test_patterns_re2_cannot_run_are_400_naming_the_field(client, sandbox, field):  # noqa: F811
    store = sandbox.shop(products=0)
    response = _create(client, sandbox, store, expression="folder:x", cloudinary_field=field)
    assert response.status_code == 400, response.json()
    assert "RE2" in str(response.json()["cloudinary_field"])
