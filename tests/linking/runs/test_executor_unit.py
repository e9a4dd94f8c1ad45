"""The link executor against an in-memory Shopify (tests.doubles.fake_shopify): the engine's
fast loop beside the end-to-end tests. No database, no HTTP, no sleeping."""

from __future__ import annotations

import pytest

from linking.core import AssetToLink, LinkRecord, LinkSettings
from linking.core.modes import LinkMode
from linking.executor import Executor, ProductWork, RunHooks
from stores.shopify.errors import ShopifyUnavailable
from tests.doubles.fake_shopify import FakeShopify, Fault

P = "gid://shopify/Product/1"


class Recorder(RunHooks):
    """The run's persistence, in memory: link records, journal, outcomes."""

    def __init__(self):
        self.records: dict[str, LinkRecord] = {}
        self.journals: list[dict | None] = []
        self.outcomes = []

    def journal(self, product_id, entry):
        self.journals.append(entry)

    def record_saved(self, product_id, media_id, record):
        self.records[media_id] = record

    def records_removed(self, product_id, media_ids):
        for media_id in media_ids:
            self.records.pop(media_id, None)

    def finished(self, outcome):
        self.outcomes.append(outcome)


@pytest.fixture
def shop():
    return FakeShopify()


def executor(shop, hooks):
    return Executor(
        shop,
        read_states=lambda ids, _: {p: shop.state(p, hooks.records) for p in ids},
        source_url=lambda kind, asset_id, version, t: f"https://res.example/{asset_id}.jpg",
        hooks=hooks,
        sleep=lambda seconds: None,
        poll_min=0.0,
        doubt_wait=0.0,
    )


def run(shop, work, hooks=None):
    (outcome,) = list(executor(shop, hooks or Recorder()).run([work]))
    assert not shop.unmet_faults()
    return outcome


def link(shop, mode, assets, *, media=2, hooks=None):
    """Link ``assets`` (ids) to a product that has ``media`` media; the product's outcome."""
    before = shop.product(P, media)
    work = ProductWork(P, [AssetToLink(a, public_id=a) for a in assets], LinkSettings(mode))
    return before, run(shop, work, hooks)


def sources(shop, product_id=P):
    return [shop.files[m].source for m in shop.galleries[product_id]]


def new_sources(*assets):
    return [f"https://res.example/{a}.jpg" for a in assets]


def failures(outcome):
    return [(r.asset_id, r.error_code, r.message) for r in outcome.rows if r.action == "failed"]


def test_new_media_are_created_before_anything_is_unlinked(shop):
    before, outcome = link(shop, LinkMode.OVERWRITE, ["a", "b"])
    assert outcome.status == "done", outcome.rows
    assert sources(shop) == new_sources("a", "b")
    names = shop.names()
    unlinks = [
        n for n, (name, v) in enumerate(shop.calls)
        if name == "FileUpdate" and any("referencesToRemove" in f for f in v["files"])
    ]  # fmt: skip
    assert unlinks and names.index("RunAddMedia") < min(unlinks)
    assert names.index("RunMediaStatus") < min(unlinks)  # and READY was seen first
    for media_id in before:  # unlinked, not deleted: the files stay in Files
        assert media_id in shop.files and not shop.files[media_id].products


def test_a_permanent_error_rolls_the_product_back_to_its_gallery_before(shop):
    shop.fail("RunAddMedia", Fault(user_errors=[(1, None, "Image URL is invalid")]))
    before, outcome = link(shop, LinkMode.OVERWRITE, ["a", "b", "c"])
    assert outcome.status == "failed"
    assert shop.galleries[P] == before  # exactly as before: nothing unlinked, nothing added
    assert set(shop.files) == set(before)  # what the run created (a, c) is deleted again
    ((asset, code, message),) = failures(outcome)  # Shopify's code and message, and what we did
    assert (asset, code) == ("b", "INVALID")
    assert message.startswith("Image URL is invalid") and "rolled back" in message
    assert shop.names().count("RunAddMedia") == 1  # a permanent error is not resent


def test_a_retryable_user_error_is_sent_again(shop):
    shop.fail("RunAddMedia", Fault(user_errors=[(None, None, "Internal error, please retry")]))
    shop.fail("FileUpdate", Fault(user_errors=[(0, "FILE_LOCKED", "File is locked")]))
    before, outcome = link(shop, LinkMode.RESET, ["a", "b"])
    assert outcome.status == "done", failures(outcome)
    assert sources(shop) == new_sources("a", "b")
    assert shop.names().count("RunAddMedia") == 2
    assert len(shop.files) == len(before) + 2  # no duplicates (the old files stay in Files)


def test_partial_success_of_product_update_keeps_the_added_and_resends_the_rest(shop):
    shop.fail("RunAddMedia", Fault(user_errors=[(1, None, "Media is busy, try again")]))
    before, outcome = link(shop, LinkMode.APPEND, ["a", "b", "c"])
    assert outcome.status == "done", failures(outcome)
    assert sources(shop)[len(before) :] == new_sources("a", "b", "c")  # in the planned order
    resent = [v["media"] for name, v in shop.calls if name == "RunAddMedia"][1]
    assert [m["originalSource"] for m in resent] == new_sources("b")
    assert len(shop.files) == len(before) + 3


def test_a_doubtful_create_whose_media_all_arrived_is_adopted(shop):
    shop.fail("RunAddMedia", Fault(lost=True))
    hooks = Recorder()
    before, outcome = link(shop, LinkMode.APPEND, ["a", "b"], hooks=hooks)
    assert outcome.status == "done", failures(outcome)
    assert shop.names().count("RunAddMedia") == 1  # adopted, not sent again
    assert sources(shop)[len(before) :] == new_sources("a", "b")
    assert {r.asset_id for r in hooks.records.values()} == {"a", "b"}
    assert hooks.journals[-1] is None  # the journal is cleared once the media are known


def test_a_doubtful_create_that_half_arrived_is_deleted_and_sent_again(shop):
    # the first call ran for "a" only (Shopify refused "b") and its answer was lost
    shop.fail("RunAddMedia", Fault(user_errors=[(1, None, "bad")], lost=True))
    before, outcome = link(shop, LinkMode.APPEND, ["a", "b"])
    assert outcome.status == "done", failures(outcome)
    deleted = [v["fileIds"] for name, v in shop.calls if name == "FileDelete"]
    assert len(deleted) == 1 and len(deleted[0]) == 1  # the half that arrived went
    assert shop.names().count("RunAddMedia") == 2
    assert sources(shop)[len(before) :] == new_sources("a", "b")
    assert len(shop.files) == len(before) + 2  # no duplicates, nothing left over


def test_shopify_not_answering_a_read_only_call_is_retried(shop):
    shop.fail(
        "RunMediaStatus",
        Fault(raises=ShopifyUnavailable("down", cause="http_503", attempts=1)),
    )
    before, outcome = link(shop, LinkMode.PREPEND, ["a"])
    assert outcome.status == "done", failures(outcome)
    assert shop.galleries[P] == [shop.galleries[P][0], *before]
    assert sources(shop)[0] == new_sources("a")[0]


def test_an_undo_gives_the_gallery_back_and_keeps_media_added_since(shop):
    m1, m2 = shop.product(P, 2)
    before = shop.state(P)
    # the run replaced m1 by n1; the merchant then added x1 by hand
    (n1,) = shop.product("gid://shopify/Product/tmp", 1)
    shop.galleries[P] = [n1, m2]
    shop.files[m1].products.clear()
    shop.files[n1].products = {P}
    (x1,) = shop.product("gid://shopify/Product/other", 1)
    shop.galleries[P].append(x1)
    shop.files[x1].products.add(P)
    undo = ProductWork(P, restore=before, added_media=[n1], created_media=[n1])
    outcome = run(shop, undo)
    assert outcome.status == "done", failures(outcome)
    assert shop.galleries[P] == [m1, m2, x1]  # the gallery before, and x1 stays
    assert {r.media_id: r.action for r in outcome.rows if r.action == "unlinked"} == {
        n1: "unlinked"
    }
