"""A wave's productUpdate calls go out at once: the guarantee holds per product all the same.
The executor runs against the Shopify emulator through the real client, wrapped to act at a
chosen call (set the abort flag, or send one product a bad source)."""

from __future__ import annotations

import threading

import pytest

from linking import runs
from linking.executor import Executor
from linking.galleries import read_galleries
from stores.clients import shopify_client
from tests.linking.runs.conftest import dry_run, gallery

pytestmark = pytest.mark.django_db(transaction=True)


class Tripwire:
    """The real client; ``on_create(variables)`` runs before each productUpdate is sent."""

    def __init__(self, client, on_create):
        self.client, self.on_create = client, on_create
        self.lock = threading.Lock()
        self.creates = 0

    def execute(self, operation, variables=None, **kwargs):
        if operation.name == "RunAddMedia":
            with self.lock:
                self.creates += 1
            variables = self.on_create(variables) or variables
        return self.client.execute(operation, variables, **kwargs)

    def __getattr__(self, name):  # bucket, ledger, …
        return getattr(self.client, name)


def _executor(store, plan, client, **kwargs) -> tuple[Executor, list]:
    works, urls, _ = runs.works_from_plan_store(plan.results.get(store=store))

    def read(product_ids, variant_ids):
        return read_galleries(client, store, product_ids, variant_ids=variant_ids).states

    def source_url(media_type, asset_id, version, transformation):
        return urls[runs.identity_key(asset_id, version, transformation)]

    executor = Executor(
        client,
        read_states=read,
        source_url=source_url,
        wave_seconds=1000,  # every product in one wave
        poll_max=0.2,
        **kwargs,
    )
    return executor, works


def _store(sandbox):
    return sandbox.shop(products=len(sandbox.skus()) - 2, media_per_product=2)


def test_an_abort_during_a_concurrent_wave_leaves_every_product_at_after_or_before(sandbox):
    store = _store(sandbox)
    plan = dry_run(sandbox, store, link_mode="append")
    before = gallery(sandbox, store)
    abort = threading.Event()
    client = Tripwire(shopify_client(store), lambda _: abort.set())
    executor, works = _executor(store, plan, client, should_abort=abort.is_set, concurrency=2)

    outcomes = {o.product_id: o for o in executor.run(works)}

    now = gallery(sandbox, store)
    statuses = {o.status for o in outcomes.values()}
    assert "not_done" in statuses  # the calls not yet sent when the flag went up were not
    assert client.creates < len(works)
    for product_id, outcome in outcomes.items():
        ids = [m["id"] for m in now[product_id]]
        if outcome.status == "not_done":
            assert ids == [m["id"] for m in before[product_id]], product_id
        else:
            assert outcome.status == "done", (product_id, outcome.error)
            assert ids == [i.media_id for i in outcome.after.gallery], product_id
            assert len(ids) > len(before[product_id])


def test_one_product_rolls_back_while_the_rest_of_its_wave_completes(sandbox):
    store = _store(sandbox)
    plan = dry_run(sandbox, store, link_mode="append")
    before = gallery(sandbox, store)
    victim = plan.results.get(store=store).products[1]["product_id"]

    def bad_source(variables):
        if variables["product"]["id"] != victim:
            return None
        media = [dict(m) for m in variables["media"]]
        media[0]["originalSource"] = "not a url"  # Shopify refuses this one, adds the others
        return {**variables, "media": media}

    client = Tripwire(shopify_client(store), bad_source)
    executor, works = _executor(store, plan, client)

    outcomes = {o.product_id: o for o in executor.run(works)}

    now = gallery(sandbox, store)
    assert outcomes[victim].status == "failed"
    assert [m["id"] for m in now[victim]] == [m["id"] for m in before[victim]]
    failed = [r for r in outcomes[victim].rows if r.action == "failed"]
    assert failed and failed[0].error_code == "INVALID"
    others = [o for pid, o in outcomes.items() if pid != victim]
    assert others and all(o.status == "done" for o in others)
    for outcome in others:
        ids = [m["id"] for m in now[outcome.product_id]]
        assert ids == [i.media_id for i in outcome.after.gallery]
        assert len(ids) > len(before[outcome.product_id])
    assert client.creates == len(works)  # one productUpdate each: nothing resent
