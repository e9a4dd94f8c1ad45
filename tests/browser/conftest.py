"""Browser tests: headless Chromium (Debian's, via Playwright) against the live app and both
emulators in-process, seeded like `make demo` (reusing `assetlink_project.demo_seed`).

They skip, saying why, where `/usr/bin/chromium` or Playwright is missing; CI installs both.
Screenshots of each tab (1280×800) go to `test-artifacts/screenshots/`.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

import django_rq
import pytest

from assetlink_project import demo_seed, embedded_redis
from sandbox.cloudinary.server import make_app as make_cloudinary
from sandbox.common import serve_in_thread
from sandbox.shopify.server import make_app as make_shopify
from stores.cloudinary.client import clear_caches
from tests.linking.runs.conftest import ThreadWorker, _other_redis_db

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


@pytest.fixture(scope="session")
def emulators():
    cloudinary = make_cloudinary(rate_limit=1_000_000)
    shopify = make_shopify(media_delay=0.01, job_delay=0.01, bulk_delay=0.02)
    c_server, s_server = serve_in_thread(cloudinary), serve_in_thread(shopify)
    yield {
        "cloudinary": c_server.url,
        "shopify": s_server.url,
        "shopify_app": shopify,
        "cloudinary_app": cloudinary,
    }
    c_server.shutdown()
    s_server.shutdown()


@pytest.fixture
def demo(emulators, live_server, settings, transactional_db):
    """The `make demo` world: admin + merchandiser, the demo workspace, demo-1 and demo-2."""
    settings.SHOPIFY_ADMIN_BASE_URL = emulators["shopify"] + "/{shop}"
    settings.CLOUDINARY_API_BASE_URL = emulators["cloudinary"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    clear_caches()
    emulators["shopify_app"].state.reset()
    emulators["cloudinary_app"].reset()  # assets a test deleted come back
    info = demo_seed.seed(
        shopify_url=emulators["shopify"],
        cloudinary_url=emulators["cloudinary"],
        app_url=live_server.url,
    )
    return {**info, "url": live_server.url, **emulators}


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


# ThreadWorker is the run tests' thread-safe worker; importing their conftest also makes the
# SQLite test database a file, so the live server, the worker and the test share it.


REDIS_DB = 11  # with a shared Redis: not the demo's (0) nor the run tests' (13)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A Redis no other worker takes jobs from: with the embedded Redis (a developer's machine,
    where demos and other test runs share var/redis) a server of our own; else a database."""
    from django.conf import settings

    if not settings.EMBEDDED_REDIS:
        yield _other_redis_db(settings.REDIS_URL, REDIS_DB)
        return
    directory = tmp_path_factory.mktemp("redis")
    yield embedded_redis.ensure_running(directory)
    embedded_redis.stop(directory)


@pytest.fixture
def worker(demo, settings, redis_url):
    """Real RQ workers draining the dry-run, link and upload queues until the test ends."""
    url = redis_url
    settings.REDIS_URL = url
    settings.RQ_QUEUES = {name: {**cfg, "URL": url} for name, cfg in settings.RQ_QUEUES.items()}
    queues = [django_rq.get_queue(name) for name in ("dry_runs", "links", "uploads")]
    for queue in queues:
        queue.empty()
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            ThreadWorker(queues, connection=queues[0].connection).work(
                burst=True, with_scheduler=False
            )
            stop.wait(0.2)

    # Two workers: the stores' runs go in parallel, as with `manage.py worker` processes.
    threads = [threading.Thread(target=loop, name=f"rq-worker-{i}", daemon=True) for i in (1, 2)]
    for thread in threads:
        thread.start()
    yield
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    for queue in queues:
        queue.empty()


def login(page, demo, username: str, password: str):
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
