"""The whole product as people use it: a hypothesis state machine whose rules are what
merchants, staff and automation do through the public surfaces (the HTTP API with each kind
of principal; real RQ workers; both emulators), checked after every step against an
independent model of what each store must hold (tests/whole/model.py, from PRODUCT.md).

Invariants (after every step): each store read back over GraphQL equals the model —
galleries in order, alt texts, variant images, swatch metafields, Files — and AssetLink's
link records (read over the API) equal the model's. Per run: its report accounts for every
asset of its selection exactly once per product (one row per asset per product per store);
a dry run's promise equals what the run then did; an undo gives back everything the run
touched.

Rules (each a thing people do; the invariant of each in its docstring): make a plan (any
principal, mode, position, exclusions, alt source, per-asset alt overrides, variant images,
transformation), dry run, run, abort (while queued or while running), run with Shopify faults
(userErrors, 5xx, lost answers), undo, unlink and re-link (Manage links), a new version or the
deletion of an asset (Cloudinary emulator), upload to Files, a sync rule's reconciliation, an
uninstall and reinstall of a store.

`make test` runs a few short sequences; `--hypothesis-profile=soak` runs 100 sequences of 25
steps (`WHOLE_EXAMPLES` / `WHOLE_STEPS` size the default profile for a run in between).
"""

from __future__ import annotations

import copy
import os
import sys
import time
from collections import Counter

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tests.linking.plans.conftest import emulators, queue, sandbox  # noqa: F401
from tests.whole import model as M
from tests.whole.shop_view import canonical
from tests.whole.world import World

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    # The sandbox's short Shopify API secret signs the session tokens.
    pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning"),
]
STEPS = Counter()

ALT_SOURCES = [
    ("keep_shopify", ""),
    ("metadata", "alt"),
    ("context", "alt"),
    ("template", "{product.title} – {metadata.color}"),
]
TRANSFORMATIONS = ["", "c_fill,w_800,h_800", "e_grayscale"]


class WholeProduct(RuleBasedStateMachine):
    world_factory = None  # set by the test: () -> World

    def __init__(self):
        super().__init__()
        STEPS["examples"] += 1
        self.world: World = type(self).world_factory()
        self.library = self.world.library()
        self.models = {
            s.shop_domain: M.StoreModel.of(self.world.read(s)) for s in self.world.stores
        }
        self.plans: dict[int, tuple[M.PlanSpec, list]] = {}
        self.undoable: dict[str, dict] = {}  # store → the last run there and its snapshot
        self.swatch_ids = {a.public_id for a in self.library.values() if a.is_swatch}
        # Link records name an asset by id, the model by public id; a deleted asset keeps its.
        self.public_of = {a.asset_id: a.public_id for a in self.library.values()}
        self.deleted: set[str] = set()
        self.rules: dict[int, int] = {}  # plan → its sync rule

    # --- helpers ---------------------------------------------------------------------

    def _ws(self) -> int:
        return self.world.workspace.pk

    def _in_order(self, domains) -> list[str]:
        """Domains in the order of the world's stores (their names differ between examples)."""
        return [s.shop_domain for s in self.world.stores if s.shop_domain in domains]

    def _store(self, domain: str):
        return next(s for s in self.world.stores if s.shop_domain == domain)

    def _reaching(self, domain: str) -> list:
        """The principals that reach ``domain``: a login, its session tokens and API key."""
        return [
            p for p in self.world.principals if p.store is None or p.store.shop_domain == domain
        ]

    def _run_status(self, principal, run_id: int) -> dict:
        r = principal.get(f"/api/runs/{run_id}/")
        assert r.status_code == 200, r.content
        return r.json()

    def _asset_ids(self, images_only: bool = False) -> list[str]:
        """The library's asset ids in public id order: asset ids (and the order of any set of
        them) differ from one cloud — one example — to the next; a draw must not."""
        assets = sorted(self.library.values(), key=lambda a: a.public_id)
        return [a.asset_id for a in assets if not images_only or a.resource_type == "image"]

    def _link_keys(self, domain: str) -> list:
        """A store's link records in an order that is the same in every example (product ids
        differ between shops; handles do not)."""
        model = self.models[domain]
        return sorted(model.links, key=lambda k: (model.products[k[0]].handle, repr(k[1])))

    def _spec(self, data) -> M.PlanSpec:
        # In public id order: asset ids differ from one cloud (one example) to the next.
        images = self._asset_ids(images_only=True)
        ids = data.draw(st.lists(st.sampled_from(images), min_size=1, unique=True), label="ids")
        groups = sorted({self.library[a].group for a in ids if self.library[a].group})
        mode = data.draw(st.sampled_from(M.MODES), label="mode")
        source, field = data.draw(st.sampled_from(ALT_SOURCES), label="alt")
        overrides = data.draw(
            st.lists(st.sampled_from(ids), unique=True, max_size=2), label="overrides"
        )
        return M.PlanSpec(
            asset_ids=tuple(ids),
            link_mode=mode,
            position=data.draw(st.integers(1, 4), label="position") if mode == "position" else None,
            excluded_asset_ids=tuple(
                data.draw(st.lists(st.sampled_from(ids), unique=True, max_size=2), label="excl")
            ),
            excluded_groups=tuple(
                data.draw(st.lists(st.sampled_from(groups), unique=True, max_size=1), label="xg")
            )
            if groups
            else (),
            alt_source=source,
            alt_field=field,
            alt_overrides=tuple((a, f"Override {a[:6]}") for a in overrides),
            assign_variant_images=data.draw(st.booleans(), label="variant images"),
        )

    def _compare(self, domain: str) -> None:
        view = self.world.read(self._store(domain))
        expected = self.models[domain]
        loose = lambda tok: M.loose(tok, self.swatch_ids)  # noqa: E731
        for pid, product in expected.products.items():
            seen = view.products[pid]
            assert seen.gallery == product.gallery, (domain, pid, "gallery")
            assert seen.variant_images == product.variant_images, (domain, pid, "variant images")
            got = {o: v and [loose(t) for t in v] for o, v in seen.swatches.items()}
            want = {o: v and [loose(t) for t in v] for o, v in product.swatches.items()}
            assert got == want, (domain, pid, "swatch metafields")
        assert {loose(t) for t in view.files} == {loose(t) for t in expected.files}, (
            domain,
            "files",
        )

    def _links(self, domain: str) -> dict:
        r = self.world.principals[0].get(f"/api/workspaces/{self._ws()}/links/", {"store": domain})
        assert r.status_code == 200, r.content
        out = {}
        for link in r.json()["links"]:
            if link["kind"] != "product_media":
                continue
            public_id = self.public_of.get(link["asset_id"], link["asset_id"])
            tok = ("asset", public_id, link["version"], canonical(link["transformation"]))
            out[(link["product_id"], tok)] = link["alt"] or ""
        return out

    def _dry_run(self, principal, plan_id: int) -> dict:
        r = principal.post(f"/api/plans/{plan_id}/dry-run/")
        assert r.status_code == 202, r.content
        self.world.work()
        state = principal.get(f"/api/plans/{plan_id}/dry-run/").json()
        assert state["status"] == "succeeded", state
        r = principal.get(f"/api/plans/{plan_id}/result/", {"page_size": 100})
        assert r.status_code == 200, r.content
        return {s["store"]: s for s in r.json()}

    def _promise(self, domain: str, result: dict) -> dict[str, list]:
        """The dry run's gallery after, per product, in the model's words."""
        raw = self.world.read(self._store(domain)).by_gid
        promised = {}
        for product in result.get("products") or ():
            slots = []
            for item in product["after"]:
                if item["new"]:
                    asset = self.library[item["asset_id"]]
                    tok = ("asset", asset.public_id, int(item["version"]),
                           canonical(item["transformation"]))  # fmt: skip
                else:
                    tok = raw[item["media_id"]]
                slots.append((tok, item["alt"] or ""))
            promised[product["product_id"]] = slots
        return promised

    # --- rules -----------------------------------------------------------------------

    @rule(data=st.data())
    def make_plan(self, data):
        """Someone configures a link (mode, order, exclusions, alt source, variant images)."""
        STEPS[sys._getframe().f_code.co_name] += 1
        principal = data.draw(st.sampled_from(self.world.principals), label="who")
        spec = self._spec(data)
        if principal.store is not None:
            domains = [principal.store.shop_domain]
        else:
            domains = data.draw(
                st.lists(
                    st.sampled_from([s.shop_domain for s in self.world.stores]),
                    min_size=1,
                    unique=True,
                ),
                label="stores",
            )
            if data.draw(st.booleans(), label="transformation override"):
                spec = M.PlanSpec(
                    **{**spec.__dict__, "image_transformation": data.draw(
                        st.sampled_from(TRANSFORMATIONS[1:]), label="transformation")}
                )  # fmt: skip
        r = principal.post(
            f"/api/workspaces/{self._ws()}/plans/", {**spec.body(), "stores": domains}
        )
        assert r.status_code == 201, r.content
        self.plans[r.json()["id"]] = (spec, domains, principal)

    @precondition(lambda self: self.plans)
    @rule(data=st.data())
    def dry_run(self, data):
        """A dry run writes nothing to Shopify and promises what the model plans."""
        STEPS[sys._getframe().f_code.co_name] += 1
        plan_id = data.draw(st.sampled_from(sorted(self.plans)), label="plan")
        spec, domains, principal = self.plans[plan_id]
        results = self._dry_run(principal, plan_id)
        for domain in domains:
            outcome = M.plan(self.models[domain], self.library, spec)
            promised = self._promise(domain, results[domain])
            for pid, after in outcome.after.items():
                if after.gallery != self.models[domain].products[pid].gallery:
                    assert promised.get(pid) == after.gallery, (domain, pid, "promise")

    def _choose_run(self, data):
        plan_id = data.draw(st.sampled_from(sorted(self.plans)), label="plan")
        spec, domains, principal = self.plans[plan_id]
        chosen = data.draw(
            st.lists(st.sampled_from(domains), min_size=1, unique=True), label="run stores"
        )
        return plan_id, spec, principal, chosen

    def _start(self, principal, plan_id: int, chosen: list[str]):
        """Dry-run the plan (its promises), then start its runs on ``chosen``."""
        results = self._dry_run(principal, plan_id)
        promises = {d: self._promise(d, results[d]) for d in chosen}
        r = principal.post(f"/api/plans/{plan_id}/run/", {"stores": chosen})
        assert r.status_code == 202, r.content
        started = r.json()
        assert sorted(x["store"] for x in started) == sorted(chosen), started
        return promises, started

    @precondition(lambda self: self.plans)
    @rule(data=st.data())
    def run(self, data):
        """Dry run, then run, on some of the plan's stores: each store ends as the model says;
        the report has one row per asset per product; the dry run's promise is kept."""
        STEPS[sys._getframe().f_code.co_name] += 1
        plan_id, spec, principal, chosen = self._choose_run(data)
        promises, started = self._start(principal, plan_id, chosen)
        files = {d: self._files(d) for d in chosen}
        self.world.work()
        for started_run in started:
            domain = started_run["store"]
            run = self._run_status(principal, started_run["id"])
            assert run["status"] == "succeeded", run
            before = self.models[domain].snapshot()
            outcome = M.plan(self.models[domain], self.library, spec)
            outcome.apply(self.models[domain])
            self._check_report(principal, started_run["id"], outcome)
            for pid in M.changed(before, self.models[domain]):
                got = promises[domain].get(pid)
                assert got == self.models[domain].products[pid].gallery, (pid, "promise kept")
            self._record_undo(domain, started_run["id"], before, principal, files[domain])

    def _files(self, domain: str) -> Counter:
        """The store's Files as they are, each file once (two files may show the same)."""
        return Counter(self.world.read(self._store(domain)).files)

    def _record_undo(self, domain, run_id, before, principal, files_before: Counter) -> None:
        """What an undo of this run must give back: the products as ``before``; of Files, the
        undo deletes the files the run created (seen: the store's Files since the run began)
        and nothing else."""
        created = self._files(domain) - files_before
        self.undoable[domain] = {"run": run_id, "before": before, "principal": principal,
                                 "created": created}  # fmt: skip

    def _matches(self, seen, product: M.ProductModel) -> bool:
        loose = lambda tok: M.loose(tok, self.swatch_ids)  # noqa: E731
        swatches = lambda sw: {o: v and [loose(t) for t in v] for o, v in sw.items()}  # noqa: E731
        return (
            seen.gallery == product.gallery
            and seen.variant_images == product.variant_images
            and swatches(seen.swatches) == swatches(product.swatches)
        )

    def _settle(self, domain: str, before: M.StoreModel, outcome: M.Outcome) -> set[str]:
        """A run that may not have finished (aborted, faults): each product it was to change is
        at its planned state or at its state before, never in between; the model follows what
        each product did. Files: none lost, none but the run's own added. Answers the products
        that ended at their planned state."""
        view = self.world.read(self._store(domain))
        model = self.models[domain]
        finished = set()
        for pid, after in outcome.after.items():
            seen = view.products[pid]
            if self._matches(seen, after):
                finished.add(pid)
                model.products[pid] = copy.deepcopy(after)
            else:
                assert self._matches(seen, before.products[pid]), (domain, pid, "in between")
        for pid, tok in outcome.dropped_links:
            if pid in finished:
                model.links.pop((pid, tok), None)
        model.links.update({k: v for k, v in outcome.new_links.items() if k[0] in finished})
        loose = lambda tok: M.loose(tok, self.swatch_ids)  # noqa: E731
        seen_files = {loose(t) for t in view.files}
        assert {loose(t) for t in before.files} <= seen_files, (domain, "files lost")
        allowed = {loose(t) for t in before.files | outcome.created}
        assert seen_files <= allowed, (domain, "files not the run's", seen_files - allowed)
        model.files = set(view.files)
        # A product planned to stay as it was is "at its plan" whether or not the run got to
        # it: only the ones that changed are known to be done.
        return {p for p in finished if not self._matches(view.products[p], before.products[p])}

    def _check_report(
        self, principal, run_id, outcome, unfinished=frozenset(), only_products=None
    ) -> None:
        """One row per asset per product (per asset for what matched no product), each with an
        action the model allows. ``only_products``: a sync rule's run reports the products
        it changes (and the assets that matched none), not the ones already as planned."""
        r = principal.get(f"/api/runs/{run_id}/rows/")
        assert r.status_code == 200, r.content
        rows = [x for x in r.json()["rows"] if x["action"] != "unlinked"]
        counts = Counter((x["product_id"], x["asset_id"]) for x in rows)
        expected = {
            (e.product_id, e.asset_id): e
            for e in outcome.rows
            if only_products is None or not e.product_id or e.product_id in only_products
        }
        odd = set(counts) ^ set(expected)
        assert not odd, [
            (x["product_id"], x["asset_id"], x["action"], x.get("group"), x.get("message"))
            for x in r.json()["rows"] if (x["product_id"], x["asset_id"]) in odd
        ] + [e for k, e in expected.items() if k in odd]  # fmt: skip
        assert all(n == 1 for n in counts.values()), [k for k, n in counts.items() if n > 1]
        for x in rows:
            want = expected[(x["product_id"], x["asset_id"])].actions
            if x["product_id"] in unfinished:  # not done: it says why
                want = want | {"failed", "skipped"}
            assert x["action"] in want, (x, sorted(want))

    def _unfinished_run(self, principal, started, spec, statuses, files) -> None:
        for started_run in started:
            domain = started_run["store"]
            run = self._run_status(principal, started_run["id"])
            assert run["status"] in statuses, run
            before = self.models[domain].snapshot()
            outcome = M.plan(before, self.library, spec)
            finished = self._settle(domain, before, outcome)
            if run["status"] == "aborted" and not run.get("started_at"):
                assert not finished, (domain, "an aborted queued run changed", finished)
            unfinished = set(outcome.after) - finished
            self._check_report(principal, started_run["id"], outcome, unfinished)
            if run["status"] != "aborted" and run["status"] != "failed":
                self._record_undo(domain, started_run["id"], before, principal, files[domain])
            else:
                self.undoable.pop(domain, None)

    @precondition(lambda self: self.plans)
    @rule(data=st.data(), when=st.sampled_from(["queued", "running"]))
    def abort(self, data, when):
        """Abort a run while it waits or while it works: it stops within seconds; every
        product it touched is at its plan or as before; its report accounts for every asset."""
        STEPS[sys._getframe().f_code.co_name] += 1
        plan_id, spec, principal, chosen = self._choose_run(data)
        _, started = self._start(principal, plan_id, chosen)
        files = {d: self._files(d) for d in chosen}
        thread = None
        if when == "running":
            thread = self.world.worker_thread()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and all(
                self._run_status(principal, x["id"])["status"] == "queued" for x in started
            ):
                time.sleep(0.02)
        for x in started:
            r = principal.post(f"/api/runs/{x['id']}/abort/")
            assert r.status_code in (200, 202), r.content
        if thread is not None:
            thread.join(timeout=120)
            assert not thread.is_alive(), "the worker did not stop"
        self.world.work()
        statuses = {"aborted"} if when == "queued" else {"aborted", "succeeded"}
        self._unfinished_run(principal, started, spec, statuses, files)

    @precondition(lambda self: self.plans)
    @rule(
        data=st.data(),
        faults=st.sampled_from([
            {"user_errors": {"productReorderMedia": 0.3, "productUpdate": 0.3,
                             "metafieldsSet": 0.3}},
            {"http_500": 0.1, "http_503": 0.1},
            {"lost_answers": {"productUpdate": 0.3, "productReorderMedia": 0.3}},
        ]),
        seed=st.integers(1, 1000),
    )  # fmt: skip
    def run_with_faults(self, data, faults, seed):
        """A run while Shopify refuses some calls, fails with 5xx or loses answers: retried where
        it can be, rolled back where not; never in between, never a duplicate."""
        STEPS[sys._getframe().f_code.co_name] += 1
        plan_id, spec, principal, chosen = self._choose_run(data)
        _, started = self._start(principal, plan_id, chosen)
        files = {d: self._files(d) for d in chosen}
        self.world.control_shop("faults", {**faults, "seed": seed, "shops": chosen})
        try:
            self.world.work()
        finally:
            self.world.control_shop("faults", method="delete")
        statuses = {"succeeded", "completed_with_failures", "failed"}
        self._unfinished_run(principal, started, spec, statuses, files)

    @precondition(lambda self: self.undoable)
    @rule(data=st.data())
    def undo(self, data):
        """Undo the last run of a store: every product it touched is back as before (gallery,
        alt texts, variant images, swatch metafields, links); the files it created go."""
        STEPS[sys._getframe().f_code.co_name] += 1
        domain = data.draw(st.sampled_from(self._in_order(self.undoable)), label="undo store")
        last = self.undoable.pop(domain)
        r = last["principal"].post(f"/api/runs/{last['run']}/undo/")
        if r.status_code == 400 and "nothing to undo" in r.json()["detail"]:
            assert last["before"].products == self.models[domain].products
            return
        assert r.status_code == 202, r.content
        files_now = self._files(domain)
        self.world.work()
        run = self._run_status(last["principal"], r.json()["id"])
        assert run["status"] == "succeeded", run
        model = self.models[domain]
        restored = copy.deepcopy(last["before"])
        # Files: the undo deletes what the run created and nothing else (uploads since stay);
        # what it adds is what the run had removed (an unlink's media, placed again).
        files_after = self._files(domain)
        kept = files_now - last["created"]
        assert not kept - files_after, (domain, "files the undo must keep", kept - files_after)
        loose = lambda tok: M.loose(tok, self.swatch_ids)  # noqa: E731
        added = {loose(t) for t in files_after - kept}
        assert added <= {loose(t) for t in last["before"].files}, (domain, "files added", added)
        restored.files = set(files_after)
        restored.uploads = model.uploads
        self.models[domain] = restored

    def _manage(self, principal, action: str, body: dict):
        r = principal.post(f"/api/workspaces/{self._ws()}/links/{action}/", body)
        assert r.status_code == 202, r.content
        runs = r.json()["runs"]
        self.world.work()
        done = [self._run_status(principal, x["id"]) for x in runs]
        assert all(x["status"] == "succeeded" for x in done), done
        rows = []
        for x in runs:
            rows += principal.get(f"/api/runs/{x['id']}/rows/").json()["rows"]
        return runs, rows

    @precondition(lambda self: any(m.links for m in self.models.values()))
    @rule(data=st.data())
    def unlink(self, data):
        """Unlink some links (Manage links): their media leave the galleries and the variants'
        images, their records go, Files stay; one `unlinked` row per link."""
        STEPS[sys._getframe().f_code.co_name] += 1
        domain = data.draw(
            st.sampled_from([d for d in self._in_order(self.models) if self.models[d].links]),
            label="unlink store",
        )
        model = self.models[domain]
        keys = self._link_keys(domain)
        chosen = data.draw(st.lists(st.sampled_from(keys), min_size=1, unique=True), label="links")
        public_ids = {tok[1] for _, tok in chosen}
        # By asset: every link of those assets in that store goes.
        asset_ids = sorted(a for a, p in self.public_of.items() if p in public_ids)
        gone = [k for k in keys if k[1][1] in public_ids]
        principal = data.draw(st.sampled_from(self._reaching(domain)), label="who")
        before, files = model.snapshot(), self._files(domain)
        runs, rows = self._manage(principal, "unlink", {"stores": [domain], "asset_ids": asset_ids})
        assert len(runs) == 1, runs
        assert Counter(x["action"] for x in rows)["unlinked"] == len(gone), rows
        M.unlink(model, gone)
        self._record_undo(domain, runs[0]["id"], before, principal, files)

    @precondition(lambda self: any(M.outdated(m, self.library) for m in self.models.values()))
    @rule(data=st.data())
    def relink(self, data):
        """Re-link outdated links to their asset's newest version (Manage links): in place, the
        same alt, the variants follow; one `replaced` row per outdated link."""
        STEPS[sys._getframe().f_code.co_name] += 1
        domains = [
            d for d in self._in_order(self.models) if M.outdated(self.models[d], self.library)
        ]
        domain = data.draw(st.sampled_from(domains), label="relink store")
        model = self.models[domain]
        outdated = sorted({tok[1] for _, tok in M.outdated(model, self.library)})
        public_ids = set(data.draw(st.lists(st.sampled_from(outdated), min_size=1, unique=True),
                                   label="assets"))  # fmt: skip
        asset_ids = sorted(a for a, p in self.public_of.items() if p in public_ids)
        principal = data.draw(st.sampled_from(self._reaching(domain)), label="who")
        before, files = model.snapshot(), self._files(domain)
        runs, rows = self._manage(principal, "relink", {"stores": [domain], "asset_ids": asset_ids})
        replaced = M.relink(model, self.library, public_ids)
        assert Counter(x["action"] for x in rows)["replaced"] == replaced, rows
        self._record_undo(domain, runs[0]["id"], before, principal, files)

    def _refresh_library(self) -> None:
        self.library = self.world.library()
        self.public_of.update({a.asset_id: a.public_id for a in self.library.values()})

    @rule(data=st.data())
    def new_version(self, data):
        """A Media Library user uploads a new version of an asset (in the Cloudinary emulator):
        nothing changes in Shopify until someone links or re-links it."""
        STEPS[sys._getframe().f_code.co_name] += 1
        linked = {tok[1] for m in self.models.values() for _, tok in m.links}
        ids = self._asset_ids()
        of_linked = [a for a in ids if self.library[a].public_id in linked]
        if of_linked and data.draw(st.booleans(), label="of a linked asset"):
            ids = of_linked
        asset_id = data.draw(st.sampled_from(ids), label="new version of")
        self.world.control_cloud(f"assets/{asset_id}", {})
        self._refresh_library()

    @precondition(lambda self: len(self.library) > 10)
    @rule(data=st.data())
    def delete_asset(self, data):
        """A Media Library user deletes an asset: its links stay (and say so); plans that
        select it report it; nothing changes in Shopify."""
        STEPS[sys._getframe().f_code.co_name] += 1
        asset_id = data.draw(st.sampled_from(self._asset_ids()), label="delete")
        self.world.control_cloud(f"assets/{asset_id}", method="delete")
        self.deleted.add(asset_id)
        self._refresh_library()

    @rule(data=st.data())
    def upload(self, data):
        """Upload some assets to a store's Files (API): each asset's file is placed once; an
        asset uploaded before is not uploaded again, a newer version replaces its file."""
        STEPS[sys._getframe().f_code.co_name] += 1
        domain = data.draw(st.sampled_from(self._in_order(self.models)), label="upload store")
        principal = data.draw(st.sampled_from(self._reaching(domain)), label="who")
        ids = data.draw(
            # Images: a video goes through a staged upload, its file's URL no longer names it.
            st.lists(
                st.sampled_from(self._asset_ids(images_only=True)),
                min_size=1,
                max_size=4,
                unique=True,
            ),
            label="upload ids",
        )
        r = principal.post(
            f"/api/workspaces/{self._ws()}/uploads/", {"asset_ids": ids, "stores": [domain]}
        )
        assert r.status_code == 201, r.content
        r = principal.post(f"/api/uploads/{r.json()['id']}/start/", {})
        assert r.status_code == 202, r.content
        run_id = r.json()[0]["id"]
        files_before = Counter(self.world.read(self._store(domain)).files)
        self.world.work()
        progress = principal.get(f"/api/upload-runs/{run_id}/").json()
        assert progress["status"] == "succeeded", progress
        rows = principal.get(f"/api/upload-runs/{run_id}/rows/").json()["rows"]
        before_uploads = dict(self.models[domain].uploads)
        actions = M.upload(self.models[domain], self.library, ids)
        assert Counter(x["asset_id"] for x in rows) == Counter(ids), rows
        for x in rows:
            assert x["action"] in actions[x["asset_id"]], (x, sorted(actions[x["asset_id"]]))
        # Each asset's file is placed once: a new file per created, the same count per reused,
        # the old file's content replaced per replaced (a link run's swatch file of the same
        # asset is a file of its own).
        files_after = Counter(self.world.read(self._store(domain)).files)
        want = files_before.copy()
        for x in rows:
            tok = self.models[domain].uploads[x["asset_id"]]
            if x["action"] == "created":
                want[tok] += 1
            elif x["action"] == "replaced":
                want[tok] += 1
                want[before_uploads[x["asset_id"]]] -= 1
        assert files_after == +want, (domain, "files after the upload")

    @precondition(
        lambda self: any(
            all(a in self.library for a in spec.asset_ids) for spec, _, _ in self.plans.values()
        )
    )
    @rule(data=st.data())
    def sync_rule_reconciles(self, data):
        """An admin puts a plan under a sync rule and reconciles it now (as the nightly sweep
        does): the plan is run on every store of it with the library as it is now — new
        versions replace old ones — each store ends as the model plans; one report row per
        asset per product."""
        STEPS[sys._getframe().f_code.co_name] += 1
        ready = [p for p, (spec, _, _) in sorted(self.plans.items())
                 if all(a in self.library for a in spec.asset_ids)]  # fmt: skip
        plan_id = data.draw(st.sampled_from(ready), label="rule of plan")
        spec, domains, _ = self.plans[plan_id]
        admin = self.world.principals[0]
        rule_id = self.rules.get(plan_id)
        seen = {x["id"] for x in self._history(admin, rule_id)} if rule_id else set()
        files = {d: self._files(d) for d in domains}
        if rule_id is None:  # a new rule reconciles at once (docs/automation.md)
            r = admin.post(f"/api/workspaces/{self._ws()}/sync-rules/", {"plan": plan_id})
            assert r.status_code == 201, r.content
            rule_id = self.rules[plan_id] = r.json()["id"]
        else:
            r = admin.post(f"/api/sync-rules/{rule_id}/reconcile/")
            assert r.status_code in (200, 202), r.content
        self.world.work()
        new = [x for x in self._history(admin, rule_id) if x["id"] not in seen]
        assert len(new) == 1, new
        latest = new[0]
        assert latest["trigger"] == "reconcile" and latest["status"] in ("started", "nothing"), (
            latest
        )
        started = {x["store"]: x for x in latest["runs"]}
        for domain in domains:
            before = self.models[domain].snapshot()
            outcome = M.plan(self.models[domain], self.library, spec)
            outcome.apply(self.models[domain])
            if domain not in started:  # nothing to do there
                assert not list(M.changed(before, self.models[domain])), (domain, latest)
                continue
            run = self._run_status(admin, started[domain]["id"])
            assert run["status"] == "succeeded", run
            changed = set(M.changed(before, self.models[domain]))
            self._check_report(admin, run["id"], outcome, only_products=changed)
            self._record_undo(domain, run["id"], before, admin, files[domain])

    def _history(self, principal, rule_id: int) -> list[dict]:
        r = principal.get(f"/api/sync-rules/{rule_id}/history/")
        assert r.status_code == 200, r.content
        body = r.json()
        return body.get("results", body.get("sync_runs")) if isinstance(body, dict) else body

    @rule(data=st.data())
    def uninstall_and_reinstall(self, data):
        """The merchant uninstalls the app (Shopify's signed `app/uninstalled`, which revokes
        the app's token) and installs it again: meanwhile the store's API key is refused; after
        the reinstall the store is back in its workspace, its galleries and link records as
        they were, the old key still revoked and a new key working."""
        STEPS[sys._getframe().f_code.co_name] += 1
        domain = data.draw(st.sampled_from(self._in_order(self.models)), label="uninstall")
        old = next(p for p in self.world.principals if p.name == f"api_key:{domain}")
        self.world.uninstall(domain)
        assert old.get("/api/runs/").status_code == 401
        new = self.world.reinstall(domain)
        # What that key made (plans, runs to undo) is acted on by the new key from now on.
        self.plans = {
            k: (spec, ds, new if p is old else p) for k, (spec, ds, p) in self.plans.items()
        }
        for last in self.undoable.values():
            if last["principal"] is old:
                last["principal"] = new
        assert old.get("/api/runs/").status_code == 401, "a revoked key stays revoked"
        assert new.get("/api/runs/").status_code == 200

    # --- invariants ------------------------------------------------------------------

    @invariant()
    def stores_and_links_are_the_models(self):
        STEPS["steps"] += 1
        for domain, expected in self.models.items():
            self._compare(domain)
            assert self._links(domain) == expected.links, domain


def _machine_settings() -> hypothesis_settings:
    if hypothesis_settings.get_current_profile_name() == "soak":
        return hypothesis_settings()  # tests/conftest.py: the soak profile
    return hypothesis_settings(
        max_examples=int(os.environ.get("WHOLE_EXAMPLES", 5)),
        stateful_step_count=int(os.environ.get("WHOLE_STEPS", 12)),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


def test_whole_product_against_the_model(emulators, queue, settings, live_server, db):  # noqa: F811
    from hypothesis.stateful import run_state_machine_as_test

    from stores.cloudinary.client import clear_caches

    cloudinary_url, shopify_url = emulators
    settings.CLOUDINARY_API_BASE_URL = cloudinary_url
    settings.SHOPIFY_ADMIN_BASE_URL = shopify_url + "/{shop}"
    clear_caches()
    WholeProduct.world_factory = lambda: World(cloudinary_url, shopify_url, queue, live_server.url)
    STEPS.clear()
    started = time.monotonic()
    try:
        run_state_machine_as_test(WholeProduct, settings=_machine_settings())
    finally:  # the soak's figures (pytest -s shows them)
        print(
            f"\nwhole product: {STEPS['examples']} sequences, {STEPS['steps']} checked states, "
            f"{time.monotonic() - started:.0f} s, profile "
            f"{hypothesis_settings.get_current_profile_name()}; rules: "
            + ", ".join(
                f"{k} {n}" for k, n in sorted(STEPS.items()) if k not in ("examples", "steps")
            )
        )
