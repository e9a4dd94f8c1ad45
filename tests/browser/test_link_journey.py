"""The merchandiser's day: pick assets → stores and fields → exclude and reorder → dry run →
link → watch progress → download the report."""

from __future__ import annotations

import re

from tests.browser.conftest import login, screenshot, tick_stores

BUTTON = re.compile(r"^Link [\d,]+ assets? in [\d,]+ groups? to [\d,]+ products?$")


def pick_folder(page, folder: str) -> int:
    page.fill("input[name=folder]", folder)
    page.click("#picker-search")
    page.wait_for_selector(".tile")
    page.click("#select-all")
    count = page.locator(".tile.selected").count()
    page.wait_for_selector("#asset-list .group")
    return count


def pick_tiles(page, folder: str, n: int) -> list[str]:
    """Tick the first ``n`` assets of a folder (a small selection: quick runs)."""
    page.fill("input[name=folder]", folder)
    page.click("#picker-search")
    page.wait_for_selector(".tile")
    for i in range(n):
        page.locator(".tile").nth(i).click()
    page.wait_for_function(f"() => document.querySelector('#selected-count').textContent === '{n}'")
    page.wait_for_selector("#asset-list .group")
    return page.eval_on_selector_all(".tile.selected", "els => els.map((e) => e.dataset.assetId)")


def group_order(page, group: str) -> list[str]:
    return page.eval_on_selector_all(
        f'#asset-list .group[data-group="{group}"] [data-asset-id]',
        "els => els.map((e) => e.dataset.assetId)",
    )


def test_users_start_on_link_to_products_and_pick_assets_into_groups(demo, page):
    login(page, demo, "merchandiser", "assetlink-user")
    assert page.get_attribute("#tab-link", "aria-selected") == "true"
    picked = pick_folder(page, "products/bags")
    assert picked > 10
    assert "selected" in page.inner_text("#selection-summary")
    info = page.inner_text("#asset-list") and page.inner_text(".card:has(#asset-list) .toolbar")
    assert re.search(r"\d+ assets in \d+ groups", info)
    # The store list says which stores take part: none is ticked until the user ticks one.
    assert page.locator("#store-list input:checked").count() == 0
    tick_stores(page)
    screenshot(page, "link-select")
    page.locator("#store-list").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -60)")
    screenshot(page, "link-stores-and-fields")
    page.evaluate(
        "window.scrollTo(0, document.querySelector('.card:has(#asset-list)').offsetTop - 60)"
    )
    screenshot(page, "link-compact")
    assert not page.js_errors


def test_exclude_reorder_and_dry_run_show_before_and_after(demo, page, worker):
    login(page, demo, "merchandiser", "assetlink-user")
    pick_folder(page, "products/bags")
    tick_stores(page)
    groups = page.eval_on_selector_all(
        "#asset-list .group",
        "els => els.map((e) => [e.dataset.group, e.querySelectorAll('[data-asset-id]').length])",
    )
    multi = [g for g, n in groups if n >= 3]
    assert len(multi) >= 2, groups
    first, second = multi[0], multi[1]

    # Exclude one asset by clicking its thumbnail, and a whole group with (−).
    before = group_order(page, first)
    page.click(f'#asset-list .group[data-group="{first}"] .thumb >> nth=0')
    assert "excluded" in page.get_attribute(
        f'#asset-list .group[data-group="{first}"] .thumb >> nth=0', "class"
    )
    page.click(
        f'#asset-list .group[data-group="{second}"] button[aria-label="Exclude group {second}"]'
    )
    assert "excluded" in page.get_attribute(f'#asset-list .group[data-group="{second}"]', "class")

    # Reorder in compact mode with the keyboard (Alt+→ moves the focused asset right).
    page.focus(f'#asset-list .group[data-group="{first}"] .thumb >> nth=1')
    page.keyboard.press("Alt+ArrowRight")
    after_key = group_order(page, first)
    assert after_key == [before[0], before[2], before[1], *before[3:]]

    # Regular mode: the table, arrow buttons, drag and drop, alt text.
    page.click("button[data-view=regular]")
    page.wait_for_selector("#asset-list table.data")
    page.click(f'button[aria-label="Move {_public_id(page, before[2])} up"]')
    assert group_order(page, first)[:3] == [before[2], before[0], before[1]]
    rows = f'#asset-list .group[data-group="{first}"] tbody tr'
    page.drag_and_drop(f"{rows} >> nth=2", f"{rows} >> nth=0")
    assert group_order(page, first)[0] == before[1]
    page.fill(f'input[aria-label="Alt text for {_public_id(page, before[1])}"]', "Tote bag, front")
    page.keyboard.press("Tab")
    screenshot(page, "link-regular")

    # Dry run: per store statistics and per product before/after thumbnails.
    page.click("#dry-run")
    page.wait_for_selector("#dry-run-result .store-result", timeout=60_000)
    assert page.locator("#dry-run-result .store-result").count() == 2
    assert page.locator("#dry-run-result .product").count() > 0
    assert page.locator("#dry-run-result .gallery-row img.mini.new").count() > 0
    label = page.inner_text("#link-button")
    assert BUTTON.match(label), label
    assert page.is_enabled("#link-button")
    assert "products matched" in page.inner_text("#store-list")
    page.locator("#dry-run-result").scroll_into_view_if_needed()
    screenshot(page, "link-dry-run")

    # The dry-run report downloads as CSV.
    with page.expect_download() as download:
        page.click("text=Download dry-run report")
    assert download.value.suggested_filename.endswith(".csv")
    assert not page.js_errors


def test_changing_the_order_field_warns_before_discarding_manual_order(demo, page):
    login(page, demo, "merchandiser", "assetlink-user")
    pick_folder(page, "products/bags")
    page.focus("#asset-list .group .thumb >> nth=0")
    page.keyboard.press("Alt+ArrowRight")
    assert page.locator("#asset-list .badge", has_text="manual order").count() == 1
    order_select = page.locator("select").filter(has=page.locator("option[value='public_id']"))
    messages = []
    page.once("dialog", lambda d: (messages.append(d.message), d.dismiss()))
    order_select.select_option("public_id")
    assert "discards your manual order" in messages[0]
    assert order_select.input_value() == "metadata:sequence_number"  # kept
    page.once("dialog", lambda d: d.accept())
    order_select.select_option("public_id")
    page.wait_for_function("() => !document.querySelector('#asset-list .badge-info')")


def test_a_thousand_assets_render_and_scroll_smoothly(demo, page):
    login(page, demo, "admin", "assetlink-demo")
    page.click("#tab-link")
    page.fill("input[name=expression]", "resource_type=image OR resource_type=video")
    page.click("#picker-search")
    page.wait_for_selector(".tile")
    assert "1,000 assets found" in page.inner_text(".card:has(#picker-search)")
    page.click("#use-search")  # every asset of the library: 1,000
    page.wait_for_selector("#asset-list .group", timeout=60_000)
    info = page.inner_text(".card:has(#asset-list) .toolbar")
    assert "980 assets in 289 groups" in info and "20 assets without a value" in info, info
    # Paginated: a page of groups at a time, so the DOM stays small and scrolling cheap.
    assert page.locator("#asset-list .thumb").count() < 300
    elapsed = page.evaluate(
        """async () => {
            const t = performance.now();
            for (let y = 0; y < document.body.scrollHeight; y += 400) {
                window.scrollTo(0, y);
                await new Promise(requestAnimationFrame);
            }
            return performance.now() - t;
        }"""
    )
    assert elapsed < 5000, elapsed
    page.click("text=Next ›")
    assert "Groups 31–60" in page.inner_text("#asset-list .pager")


def _public_id(page, asset_id: str) -> str:
    return page.eval_on_selector(
        f'#asset-list tr[data-asset-id="{asset_id}"] .mono', "e => e.textContent"
    )


def test_a_field_outside_the_lists_can_be_typed(demo, page):
    login(page, demo, "merchandiser", "assetlink-user")
    page.click("#tab-link")
    page.wait_for_selector("#store-list")
    shopify = page.locator(".field[data-field=shopify_field] select")
    page.once("dialog", lambda d: d.accept("product.metafield:custom.style"))
    shopify.select_option("__other")
    assert shopify.input_value() == "product.metafield:custom.style"
    page.once("dialog", lambda d: d.dismiss())
    shopify.select_option("__other")
    assert shopify.input_value() == "product.metafield:custom.style"  # cancelled: unchanged


def test_the_media_library_widget_selection_is_accepted_when_it_loads(demo, page):
    login(page, demo, "merchandiser", "assetlink-user")
    page.click("#tab-link")
    page.wait_for_selector("#store-list")
    # Offline (this machine): the widget cannot load, and the page says so.
    page.click("text=Open Cloudinary Media Library…")
    page.wait_for_selector(".toast.error")
    assert "could not load" in page.inner_text(".toast.error")
    # Where it loads, its insertHandler's assets become the selection (by public id here).
    page.route(
        "https://media-library.cloudinary.com/global/all.js",
        lambda route: route.fulfill(
            content_type="text/javascript",
            body="window.cloudinary = { openMediaLibrary: (config, { insertHandler }) =>"
            " insertHandler({ assets: [{ public_id: 'products/bags/sku-00001_1' },"
            " { public_id: 'products/bags/sku-00001_2' }] }) };",
        ),
    )
    page.click("text=Open Cloudinary Media Library…")
    page.wait_for_selector('#asset-list .group[data-group="SKU-00001"]')
    assert page.locator("#asset-list [data-asset-id]").count() == 2
    assert "public_id=" in page.inner_text("#selection-summary")


def test_alt_text_per_asset_can_use_the_ai_caption(demo, page):
    login(page, demo, "merchandiser", "assetlink-user")
    pick_folder(page, "products/bags")
    page.click("button[data-view=regular]")
    row = page.locator("#asset-list tbody tr").first
    row.locator("text=AI caption").click()
    alt = row.locator("input[aria-label^='Alt text for']")
    page.wait_for_function("(el) => el.value.length > 0", arg=alt.element_handle(), timeout=30_000)
    assert len(alt.input_value()) <= 512


def _badges(page) -> dict[str, str]:
    return dict(
        page.eval_on_selector_all(
            "#store-list [data-matched]",
            "els => els.map((e) => [e.dataset.matched, e.textContent])",
        )
    )


def test_match_counts_show_before_any_dry_run_and_follow_changes(demo, page):
    login(page, demo, "merchandiser", "assetlink-user")
    pick_folder(page, "products/bags")
    tick_stores(page)
    # Per store: products matched, groups unmatched; the button counts before any dry run.
    page.wait_for_function(
        "() => [...document.querySelectorAll('#store-list [data-matched]')].every("
        "(e) => /products? matched/.test(e.textContent))",
        timeout=5_000,
    )
    assert not page.locator("#dry-run-result .store-result").count()
    badges = _badges(page)
    assert set(badges) == set(demo["stores"]), badges
    assert all(
        re.search(r"\d+ products? matched · \d+ groups? unmatched", b) for b in badges.values()
    )
    label = page.inner_text("#link-button")
    assert BUTTON.match(label) and not label.startswith("Link 0"), label
    assert page.is_enabled("#link-button")
    # Per group: matched (and how many products) or unmatched.
    group_badges = page.eval_on_selector_all(
        "#asset-list .group .match", "els => els.map((e) => e.textContent)"
    )
    assert group_badges and all(
        re.match(r"^(matched \d+ products?( \(several\))?|unmatched)$", t) for t in group_badges
    ), group_badges
    page.locator("#store-list").scroll_into_view_if_needed()
    screenshot(page, "link-match-counts")

    # Unticking a store: its counts go, the totals follow within about 2 s.
    first, second = demo["stores"]
    page.uncheck(f"#store-list input[value='{second}']")
    page.wait_for_function(
        f"() => document.querySelector(\"#store-list [data-matched='{second}']\").textContent === 'Not selected'",
        timeout=2_000,
    )
    one_store = page.inner_text("#link-button")
    assert one_store != label and BUTTON.match(one_store), (label, one_store)
    # Excluding a group changes the counts too.
    group = page.locator("#asset-list .group").first
    matched = group.locator(".match").inner_text()
    group.locator(".group-head button").click()
    if matched.startswith("matched"):
        page.wait_for_function(
            f"() => document.querySelector('#link-button').textContent !== {one_store!r}",
            timeout=2_000,
        )
    # A Shopify field that matches nothing: every group unmatched, the button disabled.
    page.select_option("select[name=shopify_field]", "product.handle")
    page.wait_for_function(
        f"() => document.querySelector(\"#store-list [data-matched='{first}']\").textContent"
        ".startsWith('0 products matched')",
        timeout=2_000,
    )
    assert page.inner_text("#link-button").startswith("Link 0 assets in 0 groups to 0 products")
    assert page.is_disabled("#link-button")
    assert not page.js_errors


def test_link_without_a_dry_run_plans_then_links(demo, page, worker):
    login(page, demo, "merchandiser", "assetlink-user")
    pick_tiles(page, "products/bags", 4)
    tick_stores(page)
    page.wait_for_function("() => !document.querySelector('#link-button').disabled", timeout=5_000)
    page.click("#link-button")
    page.wait_for_selector("#dry-run-result .store-result", timeout=60_000)
    page.wait_for_selector("#run-progress .run-store", timeout=60_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('#run-progress .run-store')].every("
        "(e) => !['queued', 'running'].includes(e.dataset.status))",
        timeout=120_000,
    )
    assert page.eval_on_selector_all(
        "#run-progress .run-store", "els => els.map((e) => e.dataset.status)"
    ) == ["succeeded", "succeeded"]


def test_selection_ticks_apply_at_once_ranges_and_ctrl_a(demo, page):
    login(page, demo, "merchandiser", "assetlink-user")
    page.fill("input[name=expression]", "folder:products/*")
    page.click("#picker-search")
    page.wait_for_selector(".tile")
    tiles = page.locator(".tile")
    assert page.inner_text("#selected-count") == "0"
    assert page.inner_text("#selection-summary") == "Nothing selected yet"
    # One tick selects at once: the summary and the asset list follow without another click.
    tiles.nth(0).click()
    assert page.inner_text("#selected-count") == "1"
    assert page.inner_text("#selection-summary") == "1 asset selected"
    page.wait_for_selector("#asset-list .group")
    # Shift-click: a range from the last tick.
    tiles.nth(4).click(modifiers=["Shift"])
    assert page.locator(".tile.selected").count() == 5
    assert page.inner_text("#selection-summary") == "5 assets selected"
    # Shift-click on a ticked range end unticks the range.
    tiles.nth(1).click()
    assert page.locator(".tile.selected").count() == 4
    # Ctrl+A selects every visible asset (the pages loaded so far), not the page's text.
    tiles.nth(2).focus()
    page.keyboard.press("Control+a")
    visible = tiles.count()
    assert visible >= 30, visible
    assert page.locator(".tile.selected").count() == visible
    assert page.inner_text("#selected-count") == str(visible)
    assert page.evaluate("String(getSelection())") == ""
    assert page.inner_text("#selection-summary") == f"{visible} assets selected"
    page.wait_for_function(
        "() => document.querySelector('.card:has(#asset-list) .toolbar').textContent"
        f".includes('{visible} assets in')",
        timeout=10_000,
    )
    # In a text field Ctrl+A keeps selecting its text.
    page.click("#clear-selection")
    assert page.locator(".tile.selected").count() == 0
    page.focus("input[name=folder]")
    page.keyboard.press("Control+a")
    assert page.locator(".tile.selected").count() == 0
    tiles.nth(3).click()
    page.locator(".selection-summary").scroll_into_view_if_needed()
    screenshot(page, "link-selection")
    assert not page.js_errors


def test_a_dry_run_waits_in_the_queue_with_its_progress_and_can_be_cancelled(demo, page):
    # No worker: the dry run stays queued, so the page shows its progress and cancels it.
    login(page, demo, "merchandiser", "assetlink-user")
    pick_folder(page, "products/bags")
    tick_stores(page)
    page.click("#dry-run")
    page.wait_for_selector("#dry-run-progress [role=progressbar]")
    assert "Queued" in page.inner_text("#dry-run-progress")
    assert "0 of 2 stores done" in page.inner_text("#dry-run-progress")
    page.click("#cancel-dry-run")
    page.wait_for_selector("#dry-run-result .banner-info")
    assert "Dry run cancelled" in page.inner_text("#dry-run-result")
    assert page.is_enabled("#dry-run")
    assert not page.js_errors


def test_no_store_is_ticked_until_chosen_and_a_reset_confirms_naming_its_stores(demo, page, worker):
    first, second = demo["stores"]
    login(page, demo, "merchandiser", "assetlink-user")
    assert page.locator("#store-list input:checked").count() == 0
    with page.expect_response(lambda r: r.url.endswith("/link-stores/") and r.ok):
        page.check(f"#store-list input[value='{first}']")
    # The choice is remembered (server-side, for this user and workspace).
    page.reload()
    page.wait_for_selector("#store-list")
    assert page.is_checked(f"#store-list input[value='{first}']")
    assert not page.is_checked(f"#store-list input[value='{second}']")

    pick_tiles(page, "products/bags", 4)
    page.select_option("select[name=link_mode]", "reset")
    page.click("#dry-run")
    page.wait_for_selector("#dry-run-result .store-result", timeout=60_000)
    page.click("#link-button")
    dialog = page.locator("dialog[data-modal].critical")
    dialog.wait_for()
    named = dialog.locator("#destructive-stores li")
    assert named.evaluate_all("els => els.map((e) => e.dataset.store)") == [first]
    assert re.fullmatch(rf"demo-1 {re.escape(first)} — \d+ products?", named.inner_text())
    assert second not in dialog.inner_text()
    assert page.evaluate("document.activeElement.textContent") == "Cancel"  # the safe choice
    screenshot(page, "link-reset-confirmation")
    dialog.locator("button", has_text="Cancel").click()
    assert not dialog.count()
    assert not page.locator("#run-progress .run-store").count()  # nothing started

    page.click("#link-button")
    dialog.locator("button.btn-danger").click()
    page.wait_for_selector("#run-progress .run-store", timeout=60_000)
    stores = page.eval_on_selector_all("#run-progress .run-store", "els => els.length")
    assert stores == 1
    assert not page.js_errors
