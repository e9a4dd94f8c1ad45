"""Stores and workspaces as a merchant meets them, from `make demo`'s state: connect demo-3 from
Setup through the emulator's install page, link to it, then uninstall it (the emulator's webhook)
while a run is going; change the Cloudinary credentials and the members in Setup."""

from __future__ import annotations

import requests

from reports.models import Run, RunProduct
from stores import services
from stores.models import Invitation, Member, Store, Workspace
from tests.browser.conftest import login, screenshot, tick_stores
from tests.browser.test_link_journey import BUTTON, pick_folder
from tests.linking.runs.conftest import gallery

SHOP = "demo-3.myshopify.com"


class _Box:
    """What `tests.linking.runs.conftest.gallery` reads: the emulator's shop state."""

    def __init__(self, shopify_url: str):
        self.shopify_url = shopify_url

    def shop_state(self, domain: str) -> dict:
        return requests.get(f"{self.shopify_url}/_control/shops/{domain}", timeout=10).json()


def _media_delay(demo, seconds: float) -> None:
    requests.post(
        f"{demo['shopify']}/_control/config", json={"media_delay": seconds}, timeout=10
    ).raise_for_status()


def test_connect_demo_3_link_to_it_and_uninstall_it_mid_run(demo, page, worker, settings):
    settings.APP_URL = demo["url"]  # Shopify sends the merchant back here after Install
    workspace = Workspace.objects.get(name="Demo workspace")
    login(page, demo, "admin", "assetlink-demo")

    # Setup → Connect a store → the shop's install page → Install → back in Setup.
    page.fill("#connect-shop", "demo-3")
    page.click("#connect-store")
    page.wait_for_selector("#install")
    assert page.inner_text("#shop-domain") == SHOP
    assert "Install AssetLink" in page.inner_text("h1")
    assert "Manage products" in page.inner_text("#scopes")
    screenshot(page, "shopify-install-page")
    page.click("#install")
    page.wait_for_selector("body[data-ready]")
    page.wait_for_selector(f"text={SHOP} is connected to this workspace.")
    assert page.locator(".store-item", has_text=SHOP).count() == 1
    store = Store.objects.get(shop_domain=SHOP)
    assert store.workspace == workspace and store.is_installed
    assert Workspace.objects.count() == 1

    # The Link tab lists it; a dry run on demo-3 alone shows its matched products.
    page.click("#tab-link")
    assert page.locator("#store-list input:checked").count() == 0  # none ticked by default
    tick_stores(page, SHOP)
    pick_folder(page, "products/bags")
    page.click("#dry-run")
    page.wait_for_selector(f"#dry-run-result .store-result[data-store='{SHOP}']", timeout=60_000)
    matched = page.inner_text(f"[data-matched='{SHOP}']")
    assert matched.endswith("matched") and not matched.startswith("0 "), matched
    assert BUTTON.match(page.inner_text("#link-button"))
    screenshot(page, "link-demo-3")

    # Link, and uninstall from the shop's side while the run is going.
    admin = Member.objects.get(workspace=workspace, role="master_admin").user
    _, key = services.api_key_create(user=admin, store=store, label="PIM")
    before = gallery(_Box(demo["shopify"]), store)
    _media_delay(demo, 0.5)  # slow Shopify down so the run is still going
    try:
        page.click("#link-button")
        page.wait_for_selector("#run-progress .run-store[data-status=running]", timeout=60_000)
        run = Run.objects.get(store=store)
        uninstalled = requests.post(
            f"{demo['shopify']}/_control/webhooks",
            json={"shop": SHOP, "topic": "app/uninstalled",
                  "address": demo["url"] + "/shopify/webhooks"},
            timeout=30,
        ).json()  # fmt: skip
        assert uninstalled["status_code"] == 200, uninstalled
        page.wait_for_function(
            "() => [...document.querySelectorAll('#run-progress .run-store')].every("
            "(e) => !['queued', 'running'].includes(e.dataset.status))",
            timeout=60_000,
        )
    finally:
        _media_delay(demo, 0.01)
    run.refresh_from_db()
    assert run.status in (Run.Status.ABORTED, Run.Status.FAILED), run.status
    status = page.get_attribute("#run-progress .run-store", "data-status")
    assert status == run.status
    screenshot(page, "link-uninstalled-mid-run")
    # Products the run had not started are exactly as they were.
    after = gallery(_Box(demo["shopify"]), store)
    not_started = RunProduct.objects.filter(run=run, status__in=["pending", "not_done"])
    assert not_started.exists()
    for product in not_started:
        assert [m["id"] for m in after[product.product_id]] == [
            m["id"] for m in before[product.product_id]
        ]
    # The store's key is refused; the store is uninstalled, still in its workspace.
    refused = page.request.get(demo["url"] + "/api/session/", headers={"X-AssetLink-Key": key})
    assert refused.status == 401
    store.refresh_from_db()
    assert not store.is_installed and store.workspace == workspace
    assert not page.js_errors


def test_setup_changes_cloudinary_credentials_and_members(demo, page, browser, settings):
    settings.APP_URL = demo["url"]  # the invitation's link
    login(page, demo, "admin", "assetlink-demo")
    form = page.locator("#cloudinary-form")
    form.wait_for()
    assert page.input_value(".field[data-field=cloud_name] input") == "demo"
    assert page.input_value(".field[data-field=api_secret] input") == ""  # never shown

    # Wrong secret: the test connection says so, and Save refuses it.
    page.fill(".field[data-field=api_secret] input", "not-the-secret")
    page.click("#test-connection")
    page.wait_for_selector("#cloudinary-result .banner-critical")
    assert "rejected the API key or secret" in page.inner_text("#cloudinary-result")
    page.click("#save-connection")
    page.wait_for_selector("#cloudinary-result .banner-critical:has-text('was not saved')")
    workspace = Workspace.objects.get(name="Demo workspace")
    assert workspace.cloudinary_api_secret.reveal() == "sandbox-secret"

    # The right one: tested, then saved (and the field is empty again).
    page.fill(".field[data-field=api_secret] input", "sandbox-secret")
    page.click("#test-connection")
    page.wait_for_selector("#cloudinary-result .banner-success")
    page.click("#save-connection")
    page.wait_for_selector("#cloudinary-result .banner-success:has-text('Saved')")
    assert page.input_value(".field[data-field=api_secret] input") == ""
    screenshot(page, "setup-cloudinary")

    # Members: invite a new colleague by email: a pending invitation (nobody joins yet), its
    # link shown once; they open it, create their account and join; make them Technical Admin,
    # remove them. A second invitation is revoked.
    page.fill("#invite-user", "new.colleague@example.com")
    page.click("#invite-form button[type=submit]")
    page.wait_for_selector(".toast:has-text('Invitation sent')")
    page.locator("#invitations tr[data-invitation='new.colleague@example.com']").wait_for()
    link = page.inner_text("#members .secret")
    assert "/invitations/" in link and "new.colleague" not in page.inner_text("#members table")
    assert not Member.objects.filter(user__email="new.colleague@example.com").exists()
    screenshot(page, "setup-invitation")
    invitee = browser.new_context()
    invitee.route("https://**/*", lambda route: route.abort())
    theirs = invitee.new_page()
    theirs.goto(link)
    theirs.fill("#id_username", "colleague")
    theirs.fill("#id_password1", "a-long-pass-2026")
    theirs.fill("#id_password2", "a-long-pass-2026")
    theirs.click("#sign-up button[type=submit]")
    theirs.wait_for_selector("body[data-ready]")
    invitee.close()
    invited = Member.objects.get(user__email="new.colleague@example.com")
    assert invited.role == "user" and invited.workspace == workspace
    page.reload()
    page.wait_for_selector("body[data-ready]")
    row = page.locator("#members tr[data-member='colleague']")
    row.wait_for()
    assert page.locator("#invitations").count() == 0  # accepted: no longer pending
    row.locator("select").select_option("technical_admin")
    page.wait_for_selector("text=colleague is now Technical Admin")
    assert Member.objects.get(pk=invited.pk).role == "technical_admin"
    page.locator("#members").scroll_into_view_if_needed()
    screenshot(page, "setup-members")
    page.once("dialog", lambda d: d.accept())
    row.locator("text=Remove").click()
    row.wait_for(state="detached")
    assert not Member.objects.filter(pk=invited.pk).exists()
    page.fill("#invite-user", "someone")
    page.click("#invite-form button[type=submit]")
    pending = page.locator("#invitations tr[data-invitation='someone']")
    page.once("dialog", lambda d: d.accept())
    pending.locator("text=Revoke").click()
    page.wait_for_selector(".toast:has-text('Invitation revoked')")
    pending.wait_for(state="detached")
    assert not Invitation.objects.pending().exists()

    # The last Master Admin can be neither demoted nor removed.
    me = page.locator("#members tr[data-member='admin']")
    me.locator("select").select_option("user")
    page.wait_for_selector(".toast.error:has-text('needs at least one Master Admin')")
    page.once("dialog", lambda d: d.accept())
    me.locator("text=Remove").click()
    page.wait_for_selector(".toast.error:has-text('needs at least one Master Admin')")
    assert Member.objects.get(user__username="admin", workspace=workspace).role == "master_admin"
    assert not page.js_errors
