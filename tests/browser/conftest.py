"""Browser tests: headless Chromium (Debian's, via Playwright) against the live app and both
emulators in-process, seeded like `make demo` (reusing `assetlink_project.demo_seed`).

They skip, saying why, where `/usr/bin/chromium` or Playwright is missing; CI installs both.
Screenshots of each tab (1280×800) go to `test-artifacts/screenshots/`.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from tests.live_app import demo, emulators, redis_url, worker  # noqa: F401

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - dev extra missing
    sync_playwright = None
    PlaywrightTimeout = TimeoutError


def pytest_collection_modifyitems(config, items):
    here = str(Path(__file__).parent)
    reason = None
    if sync_playwright is None:
        reason = "Playwright is not installed (pip install -e '.[dev]')."
    elif not CHROMIUM.exists():
        reason = "No /usr/bin/chromium: install Debian's chromium (apt-get install chromium)."
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.slow)
            item.add_marker(
                pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
            )
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API keeps an event loop in this thread; Django's ORM (test set-up and
    # teardown) refuses to run beside one unless allowed: only while a module's browser lives.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    # The machine may be offline: Shopify's CDN and Cloudinary's widget answer nothing.
    context.route("https://**/*", lambda route: route.abort())
    # Every frame reports each Content-Security-Policy refusal on the console; the test fails on
    # any (the policy of stores/csp.py must let every page work). Playwright eval()s a
    # wait_for_function given a bare expression in the page, which script-src (no
    # 'unsafe-eval') refuses: always give it a function, "() => …".
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    violations: list[str] = []
    page.on("console", lambda msg: _csp_violation(msg, violations))
    page.csp_violations = violations
    yield page
    context.close()
    if violations:
        pytest.fail("Content-Security-Policy refused:\n" + "\n".join(violations), pytrace=False)


CSP_TAG = "CSP violation:"
CSP_LISTENER = f"""
document.addEventListener("securitypolicyviolation", (e) => console.error(
  "{CSP_TAG} " + e.effectiveDirective + " refused " + (e.blockedURI || "inline") +
  " on " + e.documentURI + (e.sample ? " (" + e.sample + ")" : "")));
"""


def _csp_violation(message, violations: list[str]) -> None:
    text = message.text
    if text.startswith(CSP_TAG) or "Content Security Policy" in text:
        violations.append(text)


def login(page, demo, username: str, password: str):  # noqa: F811 (the fixture's value)
    page.goto(demo["url"] + "/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-ready]")


def screenshot_path(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


def screenshot(page, name: str) -> Path:
    path = screenshot_path(name)
    # Thumbnails load lazily: wait for those on screen before taking the picture.
    with contextlib.suppress(PlaywrightTimeout):  # a slow thumbnail must not fail a journey
        page.wait_for_function(
            """() => [...document.images].filter((i) => {
                // On screen: inside the window and inside every scrolling ancestor (lazy
                // images clipped by a scroll box never load).
                let r = i.getBoundingClientRect();
                if (r.width === 0 || r.bottom <= 0 || r.top >= innerHeight) return false;
                for (let p = i.parentElement; p; p = p.parentElement) {
                    if (getComputedStyle(p).overflowY === "visible") continue;
                    const b = p.getBoundingClientRect();
                    if (r.bottom <= b.top || r.top >= b.bottom) return false;
                }
                return true;
            }).every((i) => i.complete)""",
            timeout=30_000,
        )
    page.screenshot(path=str(path))
    return path


def serious_violations(page, context=None) -> list[str]:
    """axe-core's serious and critical accessibility violations on the page (readable lines)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=context)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(", ".join(n["target"]) for n in v["nodes"][:5])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def tick_stores(page, *domains: str) -> None:
    """Tick stores on the Link tab (`page` or a frame): `domains`, or every installed one.
    The tab ticks none by default (then the user's last choice)."""
    page.locator("#store-list").wait_for()
    boxes = page.locator("#store-list input[name=stores]:not(:disabled)")
    for i in range(boxes.count()):
        box = boxes.nth(i)
        if not domains or box.get_attribute("value") in domains:
            box.check()
