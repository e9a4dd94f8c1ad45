"""The live app for end-to-end tests: both emulators in-process, the app on pytest-django's
`live_server` seeded like `make demo` (reusing `assetlink_project.demo_seed`), and real RQ
workers. The browser tests (tests/browser) and the documentation's recipes (tests/docs) import
these fixtures into their conftest."""

from __future__ import annotations

import threading

import django_rq
import pytest

from assetlink_project import demo_seed, embedded_redis
from sandbox.cloudinary.server import make_app as make_cloudinary
from sandbox.common import serve_in_thread
from sandbox.shopify.server import make_app as make_shopify
from stores.cloudinary.client import clear_caches
from tests.linking.runs.conftest import ThreadWorker, _other_redis_db


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
