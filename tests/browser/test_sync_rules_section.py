"""The Runs tab's sync rules section: an admin makes a rule of a saved plan, sees its first
reconciliation in the history, pauses and resumes it; a User sees the rule without buttons."""

from __future__ import annotations

from linking import services
from stores.models import Store
from tests.browser.conftest import login, screenshot, serious_violations


def _plan(demo):
    workspace = Store.objects.get(shop_domain="demo-1.myshopify.com").workspace
    return services.plan_create(
        user=None,
        workspace=workspace,
        data={"expression": "folder:products/bags", "stores": ["demo-1.myshopify.com"],
              "cloudinary_field": "metadata:sku", "shopify_field": "variant.sku"},
    )  # fmt: skip


def test_an_admin_makes_a_rule_pauses_it_and_reads_its_history(demo, page, worker, settings):
    settings.SYNC_QUEUE = "links"  # the test's workers drain links and uploads
    plan = _plan(demo)
    login(page, demo, "admin", "assetlink-demo")
    page.click("#tab-runs")
    page.wait_for_selector("#sync-rule-plan")
    page.select_option("#sync-rule-plan", str(plan.pk))
    page.fill("#sync-rule-name", "Bags follow Cloudinary")
    page.click("#sync-rules button[type=submit]")
    row = page.locator("#sync-rules tr[data-rule-id]")
    row.wait_for()
    assert "Bags follow Cloudinary" in row.inner_text()
    assert "/cloudinary/notifications/" in row.inner_text()

    # the first reconciliation ran the whole plan: its history says so, with its link run
    def history_has_run():
        row.locator("text=History").click()
        # The history opens as a table of sync runs, or as "No sync run yet." when the worker
        # has not started the first reconciliation yet (then the next look reads it again).
        page.wait_for_selector("#sync-rules .sync-history-row :is(table.sync-history, p)")
        text = page.inner_text("#sync-rules .sync-history-row")
        row.locator("text=History").click()
        return "Reconciliation" in text and "Succeeded" in text

    for _ in range(60):  # the worker threads run it meanwhile
        if history_has_run():
            break
        page.wait_for_timeout(500)
    else:
        raise AssertionError("the reconciliation did not finish")
    row.locator("text=History").click()
    screenshot(page, "sync-rules")
    assert serious_violations(page, context="#sync-rules") == []

    row.locator("text=Pause").click()
    page.wait_for_selector("#sync-rules tr[data-rule-id] >> text=Paused")
    page.locator("#sync-rules tr[data-rule-id]").locator("text=Resume").click()
    page.wait_for_selector("#sync-rules tr[data-rule-id] >> text=Active")
    assert page.js_errors == []


def test_a_user_sees_the_rules_without_their_buttons(demo, page):
    from linking.sync.models import SyncRule

    plan = _plan(demo)
    SyncRule.objects.create(workspace=plan.workspace, plan=plan, name="Bags rule")
    login(page, demo, "merchandiser", "assetlink-user")
    page.click("#tab-runs")
    row = page.locator("#sync-rules tr[data-rule-id]")
    row.wait_for()
    assert "Bags rule" in row.inner_text()
    assert row.locator("text=Pause").count() == 0
    assert page.locator("#sync-rule-plan").count() == 0
    assert page.js_errors == []
