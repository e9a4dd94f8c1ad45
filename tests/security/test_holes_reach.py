"""Issue 25, hole 1: a caller narrowed to one store (session token, API key) manages a sync
rule only if every store of its plan is within its reach, and the rule's history names no
store outside it."""

from __future__ import annotations

import pytest

from linking.sync.models import SyncRule, SyncRun
from stores.models import Role

pytestmark = pytest.mark.django_db


def _create_shared_rule(world, principal: str):
    SyncRule.objects.filter(plan=world.shared_plan).delete()
    return world.principals()[principal].post(
        f"/api/workspaces/{world.a.workspace.pk}/sync-rules/",
        {"plan": world.shared_plan.pk},
        format="json",
    )


def test_a_narrowed_admin_cannot_create_a_rule_on_a_plan_with_a_sibling_store(world):
    response = _create_shared_rule(world, "session-token")
    assert response.status_code == 403, response.content
    assert "shop-a2" not in response.content.decode()
    assert not SyncRule.objects.filter(plan=world.shared_plan).exists()


@pytest.mark.parametrize("action", ["pause", "resume", "reconcile"])
def test_a_narrowed_admin_cannot_act_on_a_rule_spanning_a_sibling_store(world, action):
    rule = SyncRule.objects.create(
        workspace=world.a.workspace,
        plan=world.shared_plan,
        name="shared",
        paused=action != "resume",
    )
    response = world.principals()["session-token"].post(f"/api/sync-rules/{rule.pk}/{action}/")
    assert response.status_code == 403, response.content
    rule.refresh_from_db()
    assert rule.paused is (action != "resume")


def test_a_narrowed_admin_cannot_delete_a_rule_spanning_a_sibling_store(world):
    rule = SyncRule.objects.create(workspace=world.a.workspace, plan=world.shared_plan)
    response = world.principals()["session-token"].delete(f"/api/sync-rules/{rule.pk}/")
    assert response.status_code == 403, response.content
    assert SyncRule.objects.filter(pk=rule.pk).exists()


def test_a_workspace_login_still_manages_a_multi_store_rule(world):
    response = _create_shared_rule(world, f"login-{Role.TECHNICAL_ADMIN}")
    assert response.status_code == 201, response.content
    assert sorted(response.json()["stores"]) == ["shop-a1.myshopify.com", "shop-a2.myshopify.com"]


def test_a_rules_history_names_no_store_outside_the_callers_reach(world):
    rule = SyncRule.objects.create(workspace=world.a.workspace, plan=world.shared_plan)
    SyncRun.objects.create(
        rule=rule,
        status=SyncRun.Status.FAILED,
        message="The plan is already running on shop-a2.myshopify.com.",
    )
    narrowed = world.principals()["session-token"].get(f"/api/sync-rules/{rule.pk}/history/")
    assert narrowed.status_code == 200, narrowed.content
    assert "shop-a2" not in narrowed.content.decode()
    assert narrowed.json()[0]["message"] == "The plan is already running on another store."
    login = world.principals()[f"login-{Role.MASTER_ADMIN}"]
    full = login.get(f"/api/sync-rules/{rule.pk}/history/").json()
    assert full[0]["message"] == "The plan is already running on shop-a2.myshopify.com."
