"""The Content-Security-Policy in Chromium: the `page` fixture fails a test on any refusal
(proved here by an inline script, which the policy refuses), and the operator pages — Django's
admin with django_rq's dashboard (its inline script allowed by its hash) — work under it."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from tests.browser.conftest import CSP_TAG, login


def test_the_fixture_catches_an_inline_script_the_policy_refuses(demo, page):
    login(page, demo, "merchandiser", "assetlink-user")
    with page.expect_console_message(lambda m: m.text.startswith(CSP_TAG)):
        page.evaluate(
            """() => {
                const s = document.createElement("script");
                s.textContent = "window.injected = true";
                document.head.append(s);
            }"""
        )
    assert page.evaluate("window.injected") is None  # refused, not run
    assert any("script-src" in v for v in page.csp_violations), page.csp_violations
    page.csp_violations.clear()  # caught as it should be: this test passes


def test_django_admin_and_the_rq_dashboard_work_under_the_policy(demo, page):
    get_user_model().objects.filter(username=demo["username"]).update(is_superuser=True)
    login(page, demo, demo["username"], demo["password"])
    for path, ready in [
        ("/admin/", "#content-main"),
        ("/admin/stores/store/", "#changelist"),
        ("/admin/django_rq/dashboard/", "#content-main"),
        ("/admin/django_rq/dashboard/queues/0/", "#content-main"),
    ]:
        page.goto(demo["url"] + path)
        page.wait_for_selector(ready)
    # django_rq's inline script ran (allowed by its hash; a refusal fails the fixture): it calls
    # `$(...).actions()`, which Django 5.2's admin no longer provides - django_rq's own error.
    assert page.js_errors == ["$(...).actions is not a function"], page.js_errors
