"""What the run benchmarks share: their own database and Redis, both emulators with a bench
library and shops, a workspace, an RQ worker, and where a run's time went.

The emulators run in processes of their own by default (`--emulators process`), as Shopify and
Cloudinary run on machines of their own: in this process their work (GraphQL validation and
execution, rendering and downloading every image, a thread per media) holds the interpreter
lock the run needs, and the figures then measure that contention, not the run.
`--emulators thread` serves them from threads of this process (the earlier set-up).

`Timings` measures, while installed, the time spent
- waiting for Shopify's bucket: the client's pacing waits plus its waits after THROTTLED answers
  (`CostLedger.record_pacing` / `record_throttled`, summed over all clients and threads);
- in HTTP to Shopify's Admin API (GraphQL and staged uploads) and to Cloudinary's API, timed
  around `requests.adapters.HTTPAdapter.send` (the emulators answer in this process, so their
  work is part of it);
- in the database: every query of every connection (`connection.execute_wrapper`) and every
  commit (`BaseDatabaseWrapper._commit`).
The rest of a run's wall time is our own code and waiting for Shopify's media processing / jobs;
the CPU time of the measuring thread (the in-process worker's) and of the whole process (the
emulators' included: they share the interpreter) tell the two apart.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

PLANS = ("standard", "advanced", "plus")


def prepare_environment(name: str) -> str:
    """A database of the benchmark's own, set before Django starts: a temporary SQLite file, or
    DATABASE_URL when that is PostgreSQL (a database for benchmarks: they add their rows)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return url
    path = os.path.join(tempfile.mkdtemp(prefix=f"assetlink-{name}-"), "bench.sqlite3")
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    return path


def isolate_redis(db: int = 14) -> str:
    """Jobs and locks in a Redis database of their own (a demo worker must not take them): db
    `db` of the embedded Redis, or REDIS_URL's database as it is."""
    from django.conf import settings

    base = settings.REDIS_URL
    # a shared Redis: REDIS_URL's own database (the caller chose it for this)
    url = base.split("?")[0] + f"?db={db}" if base.startswith("unix://") else base
    settings.REDIS_URL = url
    settings.RQ_QUEUES = {n: {**cfg, "URL": url} for n, cfg in settings.RQ_QUEUES.items()}
    import django_rq

    for name in settings.RQ_QUEUES:
        django_rq.get_queue(name).empty()
    return url


def start_django(name: str) -> None:
    """Django on the bench's own database (migrated) and Redis database, quiet loggers."""
    prepare_environment(name)
    from bench._django import setup

    setup()
    import logging

    logging.getLogger("rq").setLevel(logging.WARNING)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    isolate_redis()


def member_client(name: str):
    """A workspace, a master admin of it and Django's test client logged in as them (for the
    benchmarks of the API's endpoints, quiet request log)."""
    import logging

    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client

    from stores.models import Member, Workspace

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    logging.getLogger("assetlink.request").setLevel(logging.WARNING)
    workspace = Workspace.objects.create(name=f"bench {name}")
    user = User.objects.create_user(f"bench-{name}")
    Member.objects.create(workspace=workspace, user=user, role="master_admin")
    client = Client()
    client.force_login(user)
    return workspace, user, client


def work_queue(name: str) -> None:
    """Run the queue's jobs in this process (an in-process RQ worker, burst mode)."""
    import django_rq
    from rq import SimpleWorker

    queue = django_rq.get_queue(name)
    SimpleWorker([queue], connection=queue.connection).work(
        burst=True, with_scheduler=False, logging_level="WARNING"
    )


EMULATORS = ("process", "thread")
# Pixels a side of the bench's images. Only the emulators touch the bytes (Cloudinary renders
# and encodes each image, Shopify downloads and verifies it); at 600 px that took ~3 ms of CPU
# per image in the Cloudinary emulator, on the same two cores as the run being measured.
IMAGE_SIZE = 200


def add_emulator_argument(parser) -> None:
    parser.add_argument(
        "--emulators",
        choices=EMULATORS,
        default="process",
        help="serve the emulators from processes of their own (default) or threads of this one",
    )


class _Served:
    """An emulator served by a child process (`python -m bench.harness --serve KIND`)."""

    def __init__(self, kind: str):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.harness", "--serve", kind],
            stdout=subprocess.PIPE,
            text=True,
        )
        atexit.register(self.shutdown)
        self.url = (self.process.stdout.readline() if self.process.stdout else "").strip()
        if not self.url.startswith("http"):
            self.shutdown()
            raise RuntimeError(f"the {kind} emulator did not start")

    def cpu_seconds(self) -> float | None:
        """CPU time the emulator's process has used (Linux /proc), None when unknown."""
        try:
            with open(f"/proc/{self.process.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def shutdown(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def _serve(kind: str) -> None:
    """The child process of `_Served`: one emulator on a free port until terminated."""
    import signal

    from sandbox.common import serve_in_thread

    if kind == "shopify":
        from sandbox.shopify.server import make_app
    else:
        from sandbox.cloudinary.server import make_app
    running = serve_in_thread(make_app(**({} if kind == "shopify" else {"n_assets": 10})))
    print(running.url, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    running.shutdown()


class Sandbox:
    """Both emulators, a cloud of `groups` × `per_group` assets and shops."""

    def __init__(
        self,
        *,
        media_delay: float,
        groups: int,
        per_group: int,
        existing: int,
        emulators: str = "process",
    ):
        import requests
        from django.conf import settings

        self.requests = requests
        self.groups, self.per_group, self.existing = groups, per_group, existing
        self.emulators = emulators
        if emulators == "process":
            self.cloudinary, self.shopify = _Served("cloudinary"), _Served("shopify")
            config = {"media_delay": media_delay, "job_delay": 0.2}
            requests.post(
                f"{self.shopify.url}/_control/config", json=config, timeout=30
            ).raise_for_status()
        else:
            from sandbox.cloudinary.server import make_app as make_cloudinary
            from sandbox.common import serve_in_thread
            from sandbox.shopify.server import make_app as make_shopify

            self.cloudinary = serve_in_thread(make_cloudinary(n_assets=10))
            self.shopify = serve_in_thread(make_shopify(media_delay=media_delay, job_delay=0.2))
        settings.SHOPIFY_ADMIN_BASE_URL = self.shopify.url + "/{shop}"
        settings.CLOUDINARY_API_BASE_URL = self.cloudinary.url
        self.cloud = "bench"
        self.post(
            self.cloudinary.url,
            "clouds",
            {"cloud_name": self.cloud, "api_key": "bench-key", "api_secret": "bench-secret",
             "rate_limit": 100000, "seed": {"n_assets": 10, "sku_pattern": "SEED-{n:03d}"}},
        )  # fmt: skip

        def add(n: int) -> None:
            group, index = divmod(n, per_group)
            self.post(
                self.cloudinary.url,
                f"clouds/{self.cloud}/assets",
                {"public_id": f"bench/bench-{group + 1:05d}_{index + 1}",
                 "metadata": {"sku": self.sku(group + 1), "sequence_number": index + 1},
                 "tags": ["bench"], "width": IMAGE_SIZE, "height": IMAGE_SIZE},
            )  # fmt: skip

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(add, range(groups * per_group)))

    @property
    def assets(self) -> int:
        return self.groups * self.per_group

    @staticmethod
    def sku(n: int) -> str:
        return f"BENCH-{n:05d}"

    def post(self, base: str, path: str, body: dict) -> dict:
        r = self.requests.post(f"{base}/_control/{path}", json=body, timeout=60)
        r.raise_for_status()
        return r.json()

    def get(self, path: str) -> dict:
        r = self.requests.get(f"{self.shopify.url}/_control/{path}", timeout=60)
        r.raise_for_status()
        return r.json()

    def shop(self, domain: str, plan: str = "standard", products: int | None = None) -> str:
        """A shop on `plan` with `products` (default: one per group) of `existing` media."""
        token = self.post(
            self.shopify.url, "shops", {"domain": domain, "plan": plan, "token": True}
        )["token"]["access_token"]
        self.post(
            self.shopify.url,
            f"shops/{domain}/seed",
            {"products": self.groups if products is None else products,
             "sku_pattern": "BENCH-{n:05d}", "seed": 1,
             "media_per_product": self.existing, "variants_per_product": 1},
        )  # fmt: skip
        return token

    def galleries(self, domain: str) -> dict[str, list[str]]:
        state = self.get(f"shops/{domain}")
        return {p["id"]: list(p["media"]) for p in state["products"]}

    def bucket(self, domain: str) -> dict:
        return self.get(f"shops/{domain}/bucket")

    def emulator_cpu(self) -> dict[str, float]:
        """CPU seconds used so far by each emulator's process (empty with threads)."""
        if self.emulators != "process":
            return {}
        out = {}
        for name, served in (("Shopify", self.shopify), ("Cloudinary", self.cloudinary)):
            seconds = served.cpu_seconds()
            if seconds is not None:
                out[name] = seconds
        return out

    def emulator_cpu_text(self, before: dict[str, float], wall: float) -> str:
        """What the emulators' processes used since `before`: when near the CPU a core gives
        in `wall`, or the machine is shared, they (not the run) set the pace."""
        after = self.emulator_cpu()
        if not after:
            return "n/a (emulators in this process)"
        return (
            ", ".join(
                f"{name} {after[name] - before.get(name, 0.0):.1f}s CPU"
                f" ({(after[name] - before.get(name, 0.0)) / wall:.0%} of a core)"
                for name in after
            )
            + f"; machine load {os.getloadavg()[0]:.1f}"
        )

    def calls(self, domain: str, since: float) -> list[dict]:
        """The Shopify emulator's log of the shop's calls made since `since` (a time.time())."""
        return [c for c in self.get(f"shops/{domain}/calls")["calls"] if c["at"] >= since]

    def handling(self, domain: str, since: float) -> str:
        """How long the Shopify emulator took to answer the calls made since `since` (a
        time.time()), per operation, from its own call log: the rest of "Shopify HTTP" is
        waiting for its threads and the network."""
        calls = self.calls(domain, since)
        by_name: dict[str, list[float]] = {}
        for call in calls:
            by_name.setdefault(call["name"] or "?", []).append(call["duration"])
        return ", ".join(
            f"{name} {len(d)} x {1000 * sum(d) / len(d):.0f} ms"
            for name, d in sorted(by_name.items(), key=lambda item: -sum(item[1]))
        )

    def processing(self, domain: str, since: float) -> str:
        """How long the emulator took from creating a file (since `since`, a time.time()) to
        READY/FAILED: it processes media with the CPU it has, so it can be the bound. (From its
        `processed` time: `updated` also moves when a fileUpdate sets the alt text later.)"""
        spans = [
            f["processed"] - f["created"]
            for f in self.get(f"shops/{domain}")["files"]
            if f["created"] >= since and f["status"] in ("READY", "FAILED") and f["processed"]
        ]
        if not spans:
            return "no new files"
        return (
            f"{len(spans)} new files READY/FAILED {min(spans):.1f}-{max(spans):.1f}s after "
            f"their create (mean {sum(spans) / len(spans):.1f}s)"
        )


def make_workspace(sandbox: Sandbox, domain: str, token: str):
    from django.utils import timezone

    from stores.models import Store, Workspace
    from stores.services import settings_for

    workspace = Workspace.objects.create(
        name=f"bench {domain}",
        cloudinary_cloud_name=sandbox.cloud,
        cloudinary_api_key="bench-key",
        cloudinary_api_secret="bench-secret",
    )
    setup = settings_for(workspace)
    setup.batch_size_limit = max(setup.batch_size_limit, 100_000)
    setup.save()
    store = Store.objects.create(
        workspace=workspace, shop_domain=domain, access_token=token, installed_at=timezone.now()
    )
    return workspace, store


# --- where the time went ----------------------------------------------------------------------


def _http_kind(url: str) -> str | None:
    if "/admin/api/" in url or "/staged-uploads/" in url:
        return "shopify_http"
    if "/v1_1/" in url:
        return "cloudinary_http"
    return None  # the emulators' own downloads, the bench's control calls


class Timings:
    """Seconds (and counts) spent per kind, process-wide, once `install()`ed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals: Counter = Counter()
        self._installed = False

    def add(self, kind: str, seconds: float) -> None:
        with self._lock:
            self._totals[kind] += seconds
            self._totals[f"{kind}#"] += 1

    def snapshot(self) -> Counter:
        with self._lock:
            return Counter(self._totals)

    @contextlib.contextmanager
    def measure(self):
        """Yields a Counter that holds, once the block ends, what was spent inside it."""
        spent: Counter = Counter()
        before = self.snapshot()
        thread_cpu, process_cpu = time.thread_time(), time.process_time()
        try:
            yield spent
        finally:
            after = self.snapshot()
            spent.update({k: after[k] - before[k] for k in after})
            spent["thread_cpu"] = time.thread_time() - thread_cpu
            spent["process_cpu"] = time.process_time() - process_cpu

    def install(self) -> Timings:
        if self._installed:
            return self
        self._installed = True
        self._wrap_http()
        self._wrap_ledger()
        self._wrap_database()
        return self

    def _wrap_http(self) -> None:
        from requests.adapters import HTTPAdapter

        send = HTTPAdapter.send
        timings = self

        def timed_send(adapter, request, *args, **kwargs):
            kind = _http_kind(request.url or "")
            if kind is None:
                return send(adapter, request, *args, **kwargs)
            started = time.perf_counter()
            try:
                return send(adapter, request, *args, **kwargs)
            finally:
                timings.add(kind, time.perf_counter() - started)

        HTTPAdapter.send = timed_send

    def _wrap_ledger(self) -> None:
        from stores.shopify.cost import CostLedger

        pacing, throttled = CostLedger.record_pacing, CostLedger.record_throttled
        timings = self

        def record_pacing(ledger, wait: float) -> None:
            if wait > 0:
                timings.add("pacing", wait)
            pacing(ledger, wait)

        def record_throttled(ledger, wait: float) -> None:
            timings.add("throttled", wait)
            throttled(ledger, wait)

        CostLedger.record_pacing = record_pacing
        CostLedger.record_throttled = record_throttled

    def _wrap_database(self) -> None:
        from django.db import connections
        from django.db.backends.base.base import BaseDatabaseWrapper
        from django.db.backends.signals import connection_created

        def timed(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                self.add("db", time.perf_counter() - started)

        def attach(connection, **_) -> None:
            if timed not in connection.execute_wrappers:
                connection.execute_wrappers.append(timed)

        connection_created.connect(attach, weak=False)
        for connection in connections.all():  # this thread's, already open or not
            attach(connection)
        # commits are not queries: with SQLite each one is a write to disk
        commit = BaseDatabaseWrapper._commit

        def timed_commit(connection):
            started = time.perf_counter()
            try:
                return commit(connection)
            finally:
                self.add("commit", time.perf_counter() - started)

        BaseDatabaseWrapper._commit = timed_commit


def cost_floor(points: float, bucket: float, rate: float) -> float:
    """Seconds Shopify needs at least to grant `points`: what the full bucket cannot hold,
    at the restore rate."""
    return max(0.0, points - bucket) / rate


def shopify_floor(
    calls: list[dict], points: float, bucket: float, rate: float, media_delay: float
) -> tuple[float, str]:
    """What Shopify makes any client wait for a run that spent `points` (actual) in `calls` (the
    emulator's call log of the run, in the order the calls were granted their points): the
    cost floor, and no less than the media delay after the last call that created files could
    be granted its points — a file is READY no sooner than `media_delay` after its create, and
    that create needed every point granted before it. Returns (seconds, how)."""
    points_floor = cost_floor(points, bucket, rate)
    creating = [i for i, call in enumerate(calls) if call.get("files_created")]
    if not creating:
        return points_floor, f"cost floor max(0, {points} - {bucket:.0f}) / {rate:.0f}"
    before = sum(call["actual_cost"] or 0 for call in calls[: creating[-1] + 1])
    processed = cost_floor(before, bucket, rate) + media_delay
    return max(points_floor, processed), (
        f"max(cost floor max(0, {points} - {bucket:.0f}) / {rate:.0f} = {points_floor:.1f}s, "
        f"points up to the last create max(0, {before} - {bucket:.0f}) / {rate:.0f} "
        f"+ media delay {media_delay}s = {processed:.1f}s)"
    )


def print_figures(
    *,
    calls: int,
    requested: int,
    actual: int,
    throttled: int,
    wall: float,
    bucket: float,
    rate: float,
    floor: float,
    floor_text: str,
    spent: Counter | None,
    target: float | None = None,
) -> None:
    print(f"  calls                {calls}")
    print(f"  points requested     {requested}")
    print(f"  points actual        {actual}")
    print(f"  THROTTLED seen       {throttled}")
    print(f"  wall                 {wall:.1f}s")
    print(f"  bucket / restore     {bucket:.0f} / {rate:.0f} per s")
    print(f"  floor                {floor_text} = {floor:.1f}s")
    aim = f" (target <= {target})" if target else ""
    print(f"  wall / floor         {wall / floor:.2f}{aim}" if floor else "  wall / floor  n/a")
    if spent is not None:
        print_time_spent(wall, spent)


def work_run(
    sandbox: Sandbox,
    domain: str,
    queue: str,
    run_id: int,
    timings: Timings,
    *,
    since: float,
    media_delay: float,
    target: float,
    title: Callable,
):
    """Work ``queue`` (the run's job) and print the run's figures against the floor, where the
    time went and what the emulators did; ``title(run)`` heads them. Returns (run, wall,
    bucket size, restore rate)."""
    from reports.models import Run

    emulator_cpu, run_since = sandbox.emulator_cpu(), time.time()
    with timings.measure() as spent:
        work_queue(queue)
    run = Run.objects.get(pk=run_id)
    wall = (run.finished_at - run.started_at).total_seconds()
    bucket = sandbox.bucket(domain)
    size, rate = bucket["maximumAvailable"], bucket["restoreRate"]
    floor, floor_text = shopify_floor(
        sandbox.calls(domain, run_since), run.points_actual, size, rate, media_delay
    )
    print(f"\n{title(run)}")
    print_figures(
        calls=run.calls, requested=run.points_requested, actual=run.points_actual,
        throttled=run.throttled, wall=wall, bucket=size, rate=rate, floor=floor,
        floor_text=floor_text, spent=spent, target=target,
    )  # fmt: skip
    print(f"  Shopify processing   {sandbox.processing(domain, since)}")
    print(f"  emulator answering   {sandbox.handling(domain, since)}")
    print(f"  emulators            {sandbox.emulator_cpu_text(emulator_cpu, wall)}")
    return run, wall, size, rate


def print_naive(
    sandbox: Sandbox, domain: str, naive: dict, *, since: float, size, rate, media_delay, title
) -> None:
    """The naive baseline's figures (``naive_baseline``'s dict) against its own floor."""
    floor, floor_text = shopify_floor(
        sandbox.calls(domain, since), naive["actual"], size, rate, media_delay
    )
    print(f"\n{title}")
    print_figures(
        calls=naive["calls"], requested=naive["requested"], actual=naive["actual"],
        throttled=naive["throttled"], wall=naive["wall"], bucket=size, rate=rate, floor=floor,
        floor_text=floor_text, spent=naive["spent"],
    )  # fmt: skip


def print_time_spent(wall: float, spent: Counter) -> None:
    pacing, throttled = spent["pacing"], spent["throttled"]
    shopify, cloudinary = spent["shopify_http"], spent["cloudinary_http"]
    db = spent["db"] + spent["commit"]
    rest = wall - pacing - throttled - shopify - cloudinary - db
    print("  where the time went (summed over threads)")
    print(f"    Shopify bucket waits   {pacing + throttled:7.2f}s  (pacing {pacing:.2f}s, "
          f"after THROTTLED {throttled:.2f}s)")  # fmt: skip
    print(f"    Shopify HTTP           {shopify:7.2f}s  ({spent['shopify_http#']:.0f} requests)")
    if cloudinary:
        print(f"    Cloudinary HTTP        {cloudinary:7.2f}s  "
              f"({spent['cloudinary_http#']:.0f} requests)")  # fmt: skip
    print(f"    database               {db:7.2f}s  ({spent['db#']:.0f} queries "
          f"{spent['db']:.2f}s, {spent['commit#']:.0f} commits {spent['commit']:.2f}s)")  # fmt: skip
    print(f"    other                  {rest:7.2f}s  (our code; waiting for media / jobs)")
    print(f"    (CPU: {spent['thread_cpu']:.2f}s in the measuring thread, "
          f"{spent['process_cpu']:.2f}s in the whole process, emulators included)")  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        _serve(sys.argv[2])
