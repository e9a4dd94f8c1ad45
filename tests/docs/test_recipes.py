"""The documentation's recipes are tests: every shell block and every HTTP request shown in the
README, docs/api.md ("Using it") and docs/automation.md runs here as written — read from the
markdown, so an edited recipe is what gets tested — against the live app (tests/live_app.py:
the app on `live_server`, both emulators, real RQ workers), with the variables the docs name
(`APP`, `KEY`, `WS`, `ASSET`) set to the sandbox's workspace and an API key made through the
product's own endpoint.

- A shell command runs in `bash` (`set -eo pipefail`, so a failed `curl -f` or `jq -e` fails
  it); a `python manage.py …` line is parsed by bash and run through `call_command`. Each
  command must exit 0; `curl` is observed (every HTTP answer is recorded and must be < 400),
  and a poll loop's `sleep N` waits 0.2 s (what it waits for is unchanged; the suite stays fast).
- A line that is shorthand, not a command (`…`, `{a,b}` or `[--opt]` in it), must be in
  SHORTHAND, which spells each as the full commands it stands for; they run the same way.
- A block or request these tests do not know fails `test_every_recipe_is_known`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from django.core.management import call_command
from django.test import Client

from linking.sync.models import SyncRule
from reports.models import Run
from stores.dev_install import install_by_oauth
from stores.models import Store, Workspace

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("README.md", "docs/api.md", "docs/automation.md")
SHELL = {"sh", "bash", "shell", "console"}
FENCE = re.compile(r"^```(\S*)\s*$")
REQUEST = re.compile(r"`((?:GET|POST|PUT|PATCH|DELETE)\s[^`]+)`", re.S)


# -- Reading the docs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    doc: str
    section: str
    text: str

    @property
    def key(self) -> str:
        return f"{self.doc} § {self.section}"


def read_doc(doc: str) -> tuple[list[Block], list[str]]:
    """The shell blocks of `doc` (each under its section's heading) and the HTTP requests its
    prose shows in inline code (`POST /api/… {body}`), whitespace made single spaces."""
    blocks: list[Block] = []
    prose: list[str] = []
    section, fence, body = "", None, []
    for line in (ROOT / doc).read_text(encoding="utf-8").splitlines():
        match = FENCE.match(line)
        if fence is None and match:
            fence, body = match.group(1), []
        elif fence is not None and line.strip() == "```":
            if fence in SHELL:
                blocks.append(Block(doc, section, "\n".join(body)))
            fence = None
        elif fence is not None:
            body.append(line)
        else:
            if line.startswith("#"):
                section = line.lstrip("#").strip()
            prose.append(line)
    text = "\n".join(prose)
    return blocks, [" ".join(m.split()) for m in REQUEST.findall(text)]


def every_block() -> dict[str, Block]:
    out: dict[str, Block] = {}
    for doc in DOCS:
        for block in read_doc(doc)[0]:
            assert block.key not in out, f"two shell blocks under {block.key}: give each a section"
            out[block.key] = block
    return out


def every_request() -> list[tuple[str, str]]:
    return [(doc, request) for doc in DOCS for request in read_doc(doc)[1]]


def commands(block: Block) -> list[str]:
    """The block's commands, each as written (continuation lines and multi-line quotes kept):
    lines are joined until bash can parse them (a shorthand line is one by itself); comment
    lines between commands are skipped."""
    out, buffer = [], []
    for line in block.text.splitlines():
        if not buffer and (not line.strip() or line.lstrip().startswith("#")):
            continue
        buffer.append(line)
        text = "\n".join(buffer)
        if not text.endswith("\\") and (_parses(text) or len(buffer) == 1 and is_shorthand(text)):
            out.append(text)
            buffer = []
    assert not buffer, f"{block.key}: an unfinished command: {buffer}"
    return out


def _parses(text: str) -> bool:
    return subprocess.run(["bash", "-n", "-c", text], capture_output=True).returncode == 0


def _without_comment(command: str) -> str:
    return " ".join(re.sub(r"\s+#\s[^'\"]*$", "", command).split())


def is_shorthand(command: str) -> bool:
    return bool(re.search(r"…|\{\w[\w -]*,\S[^}]*\}|\[--", _without_comment(command)))


# -- What each block and request is, and which test runs it -------------------------------------

KNOWN_BLOCKS = {
    "README.md § The two commands": "not run here: `make demo` is run end to end by "
    "tests/assetlink_project/test_demo.py, and `make test` is this suite (CI: .ci/run)",
    "docs/api.md § Pages, dry runs, API and CLI": "test_the_cli_commands",
    "docs/api.md § Manage links": "test_the_manage_links_requests",
    "docs/api.md § A CI job with an API key": "test_the_ci_job_with_an_api_key",
}

# (doc, the request as shown) → the test that makes it, in the order the docs show them.
KNOWN_REQUESTS = [
    ("docs/api.md", "POST /api/plans/{id}/dry-run/", "test_the_dry_run_requests"),
    ("docs/api.md", "POST …/dry-run/cancel/", "test_the_dry_run_requests"),
    ("docs/api.md", "POST /api/uploads/{id}/dry-run/", "test_the_dry_run_requests"),
    ("docs/api.md", "POST …/dry-run/cancel/", "test_the_dry_run_requests"),
    ("docs/api.md", "GET /api/uploads/{id}/", "test_the_dry_run_requests"),
    (
        "docs/api.md",
        'POST /api/workspaces/$WS/sync-rules/ {"plan": $PLAN, "reconcile_hour": 2}',
        "test_the_notification_rule_recipe",
    ),
    (
        "docs/api.md",
        'POST localhost:8702/_control/clouds/demo/notifications {"url": '
        '"http://127.0.0.1:8000/cloudinary/notifications/<workspace id>"}',
        "test_the_notification_rule_recipe",
    ),
    (
        "docs/automation.md",
        'POST /api/workspaces/{id}/sync-rules/ {"plan": 12, "name": "Shoes", "reconcile_hour": 3}',
        "test_the_sync_rule_requests",
    ),
    (
        "docs/automation.md",
        'POST /v1_1/<cloud>/triggers {"uri": …, "event_type": "all"}',
        "test_the_sync_rule_requests",
    ),
    ("docs/automation.md", "GET /api/sync-rules/{id}/history/", "test_the_sync_rule_requests"),
]

# A shorthand line (as written, its trailing comment aside) → the full commands it stands for.
# `$RUN` is the run the CLI block's `link … --wait` made, `$PLAN` a saved plan of `$ASSET` on
# demo-1 (so the rule's reconciliations stay small) and `$RULE` the rule `create` made.
SHORTHAND = {
    "python manage.py runs {list,show,abort,resume,undo,report} …": [
        "python manage.py runs list",
        'python manage.py runs show "$RUN"',
        'python manage.py runs report "$RUN" --output run.csv',
        'python manage.py runs undo "$RUN" --wait',
        'python manage.py runs abort "$RUN"',
        "python manage.py runs resume --dead",
    ],
    'python manage.py upload_files --workspace "$WS" --stores … (--assets …|--expression …) '
    "[--dry-run] [--wait] [--report PATH]": [
        'python manage.py upload_files --workspace "$WS" --stores demo-1.myshopify.com \\\n'
        "    --expression 'folder=\"products/shoes\"' --dry-run",
        'python manage.py upload_files --workspace "$WS" --stores demo-1.myshopify.com \\\n'
        '    --assets "$ASSET" --wait --report upload.csv',
    ],
    "python manage.py prune_webhook_deliveries [--days N]": [
        "python manage.py prune_webhook_deliveries",
        "python manage.py prune_webhook_deliveries --days 30",
    ],
    "python manage.py sync_rules {list,create --plan ID,pause,resume,reconcile,history} …": [
        'python manage.py sync_rules list --workspace "$WS"',
        'python manage.py sync_rules create --plan "$PLAN"',
        'python manage.py sync_rules pause "$RULE"',
        'python manage.py sync_rules resume "$RULE"',
        'python manage.py sync_rules reconcile "$RULE"',
        'python manage.py sync_rules history "$RULE"',
    ],
}


def test_every_recipe_is_known():
    """A shell block or a request the docs gain (or lose) must be run by a test here first."""
    blocks = every_block()
    assert sorted(blocks) == sorted(KNOWN_BLOCKS), "a shell block is new (or gone): run it here"
    assert every_request() == [(doc, request) for doc, request, _ in KNOWN_REQUESTS], (
        "an HTTP request shown in the docs is new, changed or gone: make it in a test here"
    )
    shorthand = [
        _without_comment(c) for block in blocks.values() for c in commands(block) if is_shorthand(c)
    ]
    assert sorted(shorthand) == sorted(SHORTHAND), "a shorthand line is new (or gone): spell it"
    tests = {name for name in KNOWN_BLOCKS.values() if name.startswith("test_")}
    tests |= {name for *_, name in KNOWN_REQUESTS}
    assert tests <= set(globals()), "a test named here does not exist"


# -- Running them --------------------------------------------------------------------------------

PRELUDE = """set -eo pipefail
trap 'env -0 > "$__ENV"' EXIT
curl() { command curl -w '%{stderr}HTTP %{http_code} %{method} %{url_effective}\\n' "$@"; }
python() { printf '%s\\0' "$@" > "$__ARGV"; }
sleep() { command sleep 0.2; }
set -a
"""


@dataclass
class Step:
    command: str
    stdout: str
    http: list[tuple[int, str]]


class Shell:
    """Runs commands one by one in bash, each in the variables the previous ones left."""

    def __init__(self, cwd: Path, env: dict[str, str]):
        self.cwd, self.env = cwd, {"PATH": "/usr/bin:/bin", "HOME": str(cwd), **env}
        self.steps: list[Step] = []

    def run(self, command: str) -> Step:
        state, argv = self.cwd / ".env", self.cwd / ".argv"
        argv.unlink(missing_ok=True)
        done = subprocess.run(
            ["bash", "-c", PRELUDE + command],
            cwd=self.cwd,
            env={**self.env, "__ENV": str(state), "__ARGV": str(argv)},
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, (
            f"{command}\nexit {done.returncode}\n{done.stdout}{done.stderr}"
        )
        self.env = dict(v.split("=", 1) for v in state.read_text().split("\0") if "=" in v)
        self.env = {k: v for k, v in self.env.items() if not k.startswith("__")}
        http = [
            (int(m.group(1)), m.group(2))
            for m in re.finditer(r"^HTTP (\d{3}) (\S+ \S+)$", done.stderr, re.M)
        ]
        failed = [h for h in http if h[0] >= 400]
        assert not failed, f"{command}\nanswered {failed}\n{done.stdout}"
        stdout = done.stdout
        if argv.exists():  # a `python manage.py …` line: bash parsed it, Django runs it
            args = argv.read_text().split("\0")[:-1]
            assert args[:1] == ["manage.py"], command
            stdout = _call(args[1:], self.cwd)
        step = Step(command, stdout, http)
        self.steps.append(step)
        return step

    def set(self, **values) -> None:
        self.env.update({k: str(v) for k, v in values.items()})


def _call(args: list[str], cwd: Path) -> str:
    out = io.StringIO()
    here = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out):
            call_command(*args, stdout=out)
    finally:
        os.chdir(here)
    return out.getvalue()


def wait_until(predicate, timeout: float = 90, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what or predicate}"
        time.sleep(0.1)


def settle() -> None:
    """The workers took every job the commands queued, and every run has ended."""
    import django_rq

    queues = [django_rq.get_queue(name) for name in ("dry_runs", "links", "uploads")]

    def idle() -> bool:
        return all(q.count == 0 and q.started_job_registry.count == 0 for q in queues) and (
            not Run.objects.filter(status__in=Run.ACTIVE).exists()
        )

    wait_until(idle, what="the workers to finish")


def ended_well(run_ids) -> None:
    for pk in run_ids:
        wait_until(lambda pk=pk: Run.objects.get(pk=pk).status not in Run.ACTIVE, what=f"run {pk}")
        run = Run.objects.get(pk=pk)
        assert run.status == Run.Status.SUCCEEDED, (run.pk, run.status, run.error)


@dataclass
class Live:
    url: str
    workspace: Workspace
    admin: Client
    cloudinary: str
    shopify: str

    def api_key(self, domain: str) -> str:
        """A key of the store, made as Setup makes it: POST /api/stores/{id}/api-keys/."""
        store = Store.objects.get(shop_domain=domain)
        answer = self.admin.post(
            f"/api/stores/{store.pk}/api-keys/", {"label": "docs"}, content_type="application/json"
        )
        assert answer.status_code == 201, answer.content
        return answer.json()["token"]

    def cloud(self, path: str, body: dict | None = None, method: str = "post") -> dict:
        url = f"{self.cloudinary}/_control/clouds/{self.workspace.cloudinary_cloud_name}/{path}"
        answer = requests.request(method, url, json=body, timeout=30)
        answer.raise_for_status()
        return answer.json()

    def shell(self, tmp_path: Path, domain: str, **env) -> Shell:
        return Shell(
            tmp_path, {"APP": self.url, "KEY": self.api_key(domain), "WS": str(self.workspace.pk),
                       **env},
        )  # fmt: skip

    def asset(self, public_id: str) -> dict:
        found = self.cloud("assets", method="get")
        total = found["total"]
        assets = self.cloud(f"assets?limit={total}", method="get")["assets"]
        return next(a for a in assets if a["public_id"] == public_id)

    def ss27(self) -> None:
        """What the CI recipe links: a build's assets in `products/ss27` (three SKUs of
        the catalog) and the store `shop.myshopify.com`, installed in the workspace."""
        from sandbox.__main__ import seed_shop

        seed_shop(self.shopify, self.cloudinary, "shop.myshopify.com",
                  self.workspace.cloudinary_cloud_name)  # fmt: skip
        install_by_oauth("shop.myshopify.com", workspace=self.workspace)
        for n in (1, 2, 3):
            for view in (1, 2):
                self.cloud("assets", {
                    "public_id": f"products/ss27/sku-{n:05d}_{view}",
                    "metadata": {"sku": f"SKU-{n:05d}", "sequence_number": view},
                })  # fmt: skip


@pytest.fixture
def live(demo, worker, settings) -> Live:
    settings.APP_URL = demo["url"]
    settings.SYNC_QUEUE = "links"  # the test's workers drain dry_runs, links and uploads
    settings.SYNC_DEBOUNCE_SECONDS = 0.2
    workspace = Workspace.objects.get()
    admin = Client()
    admin.force_login(workspace.members.get(role="master_admin").user)
    yield Live(demo["url"], workspace, admin, demo["cloudinary"], demo["shopify"])
    settle()


def run_block(shell: Shell, key: str, between=None) -> list[Step]:
    """Every command of the block `key` as written (its shorthand lines as SHORTHAND spells
    them), `between(step)` after each."""
    steps = []
    for command in commands(every_block()[key]):
        spelt = SHORTHAND.get(_without_comment(command), [command])
        for full in spelt:
            step = shell.run(full)
            steps.append(step)
            if between:
                between(step)
    return steps


# -- The shell blocks ------------------------------------------------------------------------


def test_the_ci_job_with_an_api_key(live, tmp_path):
    """docs/api.md's CI recipe, with an API key of shop.myshopify.com: the plan, its dry run,
    the run, its report and the recipe's own check (`jq -e '.status == "succeeded"'`)."""
    live.ss27()
    shell = live.shell(tmp_path, "shop.myshopify.com")
    steps = run_block(shell, "docs/api.md § A CI job with an API key")
    assert steps[-1].stdout.strip() == "true"  # the recipe's own check
    run = Run.objects.get(pk=int(shell.env["RUN"]))
    assert run.status == Run.Status.SUCCEEDED and run.api_key is not None
    assert run.store.shop_domain == "shop.myshopify.com" and run.products_total == 3
    with open(tmp_path / "report.csv", encoding="utf-8") as report:
        rows = list(csv.DictReader(report))
    placed = [r for r in rows if r["public_id"]]  # (overwrite also unlinks what was there)
    assert sorted(r["public_id"] for r in placed) == sorted(
        f"products/ss27/sku-{n:05d}_{view}" for n in (1, 2, 3) for view in (1, 2)
    ), [(r["action"], r["public_id"]) for r in rows]


def test_the_cli_commands(live, tmp_path):
    """The CLI block: link --dry-run, link --wait, every `runs`, `upload_files`,
    `shopify_install`, `prune_webhook_deliveries` and `sync_rules` command."""
    asset = live.asset("products/shoes/sku-00008_1")
    shell = Shell(tmp_path, {"WS": str(live.workspace.pk), "ASSET": asset["asset_id"]})

    def between(step: Step) -> None:
        if "--wait" in step.command and " link " in step.command:
            run = Run.objects.filter(kind=Run.Kind.LINK).latest("pk")
            assert run.status == Run.Status.SUCCEEDED
            plan = live.admin.post(f"/api/workspaces/{live.workspace.pk}/plans/", {
                "asset_ids": [asset["asset_id"]], "stores": ["demo-1.myshopify.com"],
                "cloudinary_field": "metadata:sku", "shopify_field": "variant.sku",
            }, content_type="application/json")  # fmt: skip
            assert plan.status_code == 201, plan.content
            shell.set(RUN=run.pk, PLAN=plan.json()["id"])
        if "sync_rules create" in step.command:
            shell.set(RULE=SyncRule.objects.latest("pk").pk)
        settle()

    steps = run_block(shell, "docs/api.md § Pages, dry runs, API and CLI", between)
    assert (tmp_path / "dry-run.csv").read_text().count("\n") > 100
    assert (tmp_path / "run.csv").read_text().count("\n") > 100
    assert (tmp_path / "upload.csv").exists()
    assert Store.objects.filter(shop_domain="demo-3.myshopify.com", workspace=live.workspace)
    undo = Run.objects.get(undo_of_id=int(shell.env["RUN"]))
    assert undo.status == Run.Status.SUCCEEDED
    assert [s.command.split()[2] for s in steps].count("sync_rules") == 6
    assert "reconcile" in steps[-1].stdout  # the history: resume's and reconcile's sync runs


def test_the_manage_links_requests(live, tmp_path):
    """The Manage links block, with an API key of demo-1: where an asset is linked, re-link it
    after a new version, unlink one media of it, a group, every link of the store — each
    action's runs succeed before the next command (as a person running them one by one)."""
    asset = live.asset("products/shoes/sku-00008_1")
    call_command(
        "link", "--workspace", str(live.workspace.pk), "--stores", "demo-1.myshopify.com",
        "--expression", 'folder="products/shoes"', "--cloudinary-field", "metadata:sku",
        "--shopify-field", "variant.sku", "--mode", "append", "--wait", stdout=io.StringIO(),
    )  # fmt: skip
    live.cloud(f"assets/{asset['asset_id']}", {})  # a new version of it, in the Media Library
    shell = live.shell(tmp_path, "demo-1.myshopify.com", ASSET=asset["asset_id"])

    def between(step: Step) -> None:
        if step.stdout.startswith("{") and "runs" in (answer := json.loads(step.stdout)):
            ended_well([r["id"] for r in answer["runs"]])

    steps = run_block(shell, "docs/api.md § Manage links", between)
    listed = json.loads(steps[1].stdout)
    assert listed["count"] >= 1 and {link["status"] for link in listed["links"]} == {"outdated"}
    actions = [json.loads(s.stdout) for s in steps if '"runs"' in s.stdout]
    assert len(actions) == 4 and all(len(a["runs"]) == 1 for a in actions)
    left = live.admin.get(f"/api/workspaces/{live.workspace.pk}/links/?store=demo-1.myshopify.com")
    # Swatch files (kind `file`) are listed but not unlinked by these actions, the docs say.
    assert {link["kind"] for link in left.json()["links"]} <= {"file"}


# -- The requests shown in prose ---------------------------------------------------------------


def shown(test: str) -> list[str]:
    """The requests the docs show (read from them, in their order) that `test` makes."""
    pairs = zip(every_request(), KNOWN_REQUESTS, strict=True)
    return [request for (_, request), (*_, name) in pairs if name == test]


def spelt(request: str, **values) -> tuple[str, str, dict | None]:
    """A request as shown (`METHOD target [JSON body]`) with its placeholders filled in:
    `values` maps each placeholder as written (`{id}`, `$WS`, `…`) to what it stands for."""
    for placeholder, value in values.items():
        assert placeholder in request, f"{placeholder!r} is not in {request!r}"
        request = request.replace(placeholder, str(value))
    method, _, rest = request.partition(" ")
    target, _, body = rest.partition(" ")
    return method, target, json.loads(body) if body else None


class Api:
    """The HTTP API as one principal: an API key (`Bearer al_…`) or an admin's login session."""

    def __init__(self, live: Live, *, key: str | None = None):
        self.live, self.key = live, key

    def __call__(self, method: str, path: str, body=None, expect: int = 200):
        if self.key:
            answer = requests.request(method, self.live.url + path, json=body, timeout=30,
                                      headers={"Authorization": f"Bearer {self.key}"})  # fmt: skip
            status, content = answer.status_code, answer.content
        else:
            answer = self.live.admin.generic(
                method, path, json.dumps(body) if body is not None else "", "application/json"
            )
            status, content = answer.status_code, answer.content
        assert status == expect, (method, path, status, content[:500])
        return json.loads(content) if content.startswith((b"{", b"[")) else content

    def shown(self, request: str, expect: int = 200, **values):
        method, path, body = spelt(request, **values)
        return self(method, path, body, expect)


def dry_run_ended(api: Api, path: str) -> dict:
    answer: dict = {}

    def ended() -> bool:
        answer.update(api("GET", path))
        return answer["status"] not in ("queued", "running")

    wait_until(ended, what=f"the dry run at {path}")
    return answer


def test_the_dry_run_requests(live):
    """docs/api.md, with an API key of demo-1: a plan's dry run in the background (POST answers
    202, `GET` the same URL follows it, cancel stops the next one and the result stays), its
    `statistics/`, `result/?page=N&page_size=M&include=groups,rows` and `report.csv`; an upload
    batch's dry run the same way, and the batch holding its result."""
    plan_dry_run, plan_cancel, upload_dry_run, upload_cancel, batch = shown(
        "test_the_dry_run_requests"
    )
    api = Api(live, key=live.api_key("demo-1.myshopify.com"))
    ws = live.workspace.pk
    plan = api("POST", f"/api/workspaces/{ws}/plans/", {
        "expression": 'folder="products/shoes"', "stores": ["demo-1.myshopify.com"],
        "cloudinary_field": "metadata:sku", "shopify_field": "variant.sku", "link_mode": "append",
    }, expect=201)["id"]  # fmt: skip
    started = api.shown(plan_dry_run, 202, **{"{id}": plan})
    assert started["status"] in ("queued", "running", "succeeded")
    url = spelt(plan_dry_run, **{"{id}": plan})[1]
    assert dry_run_ended(api, url)["status"] == "succeeded"
    statistics = api("GET", f"/api/plans/{plan}/statistics/")
    assert statistics["stores"][0]["store"] == "demo-1.myshopify.com" and statistics["products"]
    page = api("GET", f"/api/plans/{plan}/result/?page=1&page_size=5&include=groups,rows")
    report = api("GET", f"/api/plans/{plan}/report.csv")
    assert report.count(b"\n") > 100

    api.shown(plan_dry_run, 202, **{"{id}": plan})
    cancelled = api.shown(plan_cancel, **{"…": f"/api/plans/{plan}"})
    assert cancelled["cancel_requested"] or cancelled["status"] == "succeeded"
    assert dry_run_ended(api, url)["status"] in ("cancelled", "succeeded")
    assert api("GET", f"/api/plans/{plan}/result/?page=1&page_size=5&include=groups,rows") == page

    asset = live.asset("products/shoes/sku-00008_1")["asset_id"]
    batch_id = api("POST", f"/api/workspaces/{ws}/uploads/", {
        "asset_ids": [asset], "stores": ["demo-1.myshopify.com"]}, expect=201)["id"]  # fmt: skip
    api.shown(upload_dry_run, 202, **{"{id}": batch_id})
    upload_url = spelt(upload_dry_run, **{"{id}": batch_id})[1]
    assert dry_run_ended(api, upload_url)["status"] == "succeeded"
    held = api.shown(batch, **{"{id}": batch_id})
    api.shown(upload_dry_run, 202, **{"{id}": batch_id})
    cancelled = api.shown(upload_cancel, **{"…": f"/api/uploads/{batch_id}"})
    assert cancelled["cancel_requested"] or cancelled["status"] == "succeeded"
    assert dry_run_ended(api, upload_url)["status"] in ("cancelled", "succeeded")
    assert asset in json.dumps(held)  # the batch holds its dry run's result


def ci_plan_body() -> dict:
    """The plan of the CI recipe (docs/api.md), as its block writes it."""
    block = every_block()["docs/api.md § A CI job with an API key"].text
    body = re.search(r"-d '(\{.*?\})'", block, re.S).group(1)
    return json.loads(body)


def history_with(api: Api, rule: int, predicate, what: str) -> dict:
    """Wait for a sync run of `rule` that `predicate` accepts, whose link runs all ended well."""
    found: dict = {}

    def seen() -> bool:
        for sync in api("GET", f"/api/sync-rules/{rule}/history/"):
            if (
                predicate(sync)
                and sync["status"] in ("started", "nothing")
                and all(r["status"] not in Run.ACTIVE for r in sync["runs"])
            ):
                found.update(sync)
                return True
        return False

    wait_until(seen, what=what)
    assert all(r["status"] == Run.Status.SUCCEEDED for r in found["runs"]), found
    return found


def links_of(api: Api, asset_id: str) -> list[dict]:
    return api("GET", f"/api/workspaces/{api.live.workspace.pk}/links/?asset_id={asset_id}")[
        "links"
    ]


def test_the_notification_rule_recipe(live):
    """docs/api.md's notification rule, step by step, as an admin's session: the CI recipe's plan
    saved, made a rule (its first reconciliation links the whole selection), Cloudinary given the
    rule's `notification_url` by hand as shown, then a new version, a metadata change and a
    deletion in the Media Library: the products follow, and the history shows the run."""
    make_rule, notify_by_hand = shown("test_the_notification_rule_recipe")
    live.ss27()
    admin, ws = Api(live), live.workspace.pk
    plan = admin("POST", f"/api/workspaces/{ws}/plans/", ci_plan_body(), expect=201)["id"]
    rule = admin.shown(make_rule, 201, **{"$WS": ws, "$PLAN": plan})
    history_with(admin, rule["id"], lambda s: s["trigger"] == "reconcile" and s["runs"],
                 "the first reconciliation")  # fmt: skip
    linked = admin("GET", f"/api/workspaces/{ws}/links/?store=shop.myshopify.com")["links"]
    assert sorted(link["asset_id"] for link in linked if link["kind"] == "product_media") == sorted(
        live.asset(f"products/ss27/sku-{n:05d}_{v}")["asset_id"] for n in (1, 2, 3) for v in (1, 2)
    )

    emulator = live.cloudinary.removeprefix("http://")
    method, target, body = spelt(notify_by_hand, **{
        "localhost:8702": emulator, "http://127.0.0.1:8000": live.url, "<workspace id>": ws})  # fmt: skip
    # (the emulator's control API, not AssetLink's: no principal)
    answer = requests.request(method, f"http://{target}", json=body, timeout=30)
    assert answer.status_code == 200 and answer.json()["url"] == rule["notification_url"]

    renewed = live.asset("products/ss27/sku-00001_1")
    moved = live.asset("products/ss27/sku-00002_2")
    deleted = live.asset("products/ss27/sku-00003_2")
    live.cloud(f"assets/{renewed['asset_id']}", {})  # a new version
    live.cloud(
        f"assets/{moved['asset_id']}", {"metadata": {"sku": "SKU-00004", "sequence_number": 2}}
    )
    live.cloud(f"assets/{deleted['asset_id']}", method="delete")
    changed = {renewed["asset_id"], moved["asset_id"], deleted["asset_id"]}

    def followed() -> bool:
        return (
            [link["version"] for link in links_of(admin, renewed["asset_id"])]
            == [live.asset("products/ss27/sku-00001_1")["version"]]
            and not links_of(admin, deleted["asset_id"])
            and {link["product_handle"] for link in links_of(admin, moved["asset_id"])}
            == {p["handle"] for p in products_with_sku(live, "shop.myshopify.com", "SKU-00004")}
        )

    wait_until(followed, what="the products to follow the Media Library")
    notified = [
        s
        for s in admin("GET", f"/api/sync-rules/{rule['id']}/history/")
        if s["trigger"] == "notification"
    ]
    assert notified and changed <= {
        a for s in notified for a in s["changed_asset_ids"] + s["deleted_asset_ids"]
    }
    assert all(r["status"] == Run.Status.SUCCEEDED for s in notified for r in s["runs"])


def products_with_sku(live: Live, domain: str, sku: str) -> list[dict]:
    state = requests.get(f"{live.shopify}/_control/shops/{domain}", timeout=30).json()
    return [p for p in state["products"] if any(v.get("sku") == sku for v in p["variants"])]


def test_the_sync_rule_requests(live):
    """docs/automation.md: a rule made through the API by an admin, an Admin API trigger that
    sends Cloudinary's notifications to the rule's `notification_url` (the global URL unset,
    so only the trigger delivers), and the rule's history read with an API key of the plan's
    store, showing the run the notification made."""
    make_rule, trigger, history = shown("test_the_sync_rule_requests")
    live.ss27()
    admin, ws = Api(live), live.workspace.pk
    plan = admin("POST", f"/api/workspaces/{ws}/plans/", ci_plan_body(), expect=201)["id"]
    method, path, body = spelt(make_rule, **{"{id}": ws})
    rule = admin(method, path, {**body, "plan": plan}, expect=201)  # the example's plan 12: ours
    assert rule["name"] == body["name"] and rule["reconcile_hour"] == 3
    history_with(admin, rule["id"], lambda s: s["trigger"] == "reconcile", "the reconciliation")

    live.cloud("notifications", {"url": None})
    cloud = live.cloud("", method="get")
    method, target, body = spelt(trigger, **{
        "<cloud>": live.workspace.cloudinary_cloud_name, "…": json.dumps(rule["notification_url"])
    })  # fmt: skip
    made = requests.request(method, live.cloudinary + target, json=body, timeout=30,
                            auth=(cloud["api_key"], cloud["api_secret"]))  # fmt: skip
    assert made.status_code == 200 and made.json()["uri"] == rule["notification_url"], made.text
    renewed = live.asset("products/ss27/sku-00002_1")
    live.cloud(f"assets/{renewed['asset_id']}", {})  # a new version

    by_key = Api(live, key=live.api_key("shop.myshopify.com"))
    ran = history_with(
        by_key,
        rule["id"],
        lambda s: renewed["asset_id"] in s["changed_asset_ids"] and s["runs"],
        "the notification's sync run",
    )
    assert ran["trigger"] == "notification"
    shown_history = by_key.shown(history, **{"{id}": rule["id"]})
    assert ran["id"] in [s["id"] for s in shown_history]
