"""Sending a batch of inputs and carrying out Shopify's userErrors per input
(`stores.shopify.batching.send_batches`, `send_retrying`, `files.delete_files`): against the
in-memory Shopify of the executors' unit tests, and against the emulator for a real lock."""

from __future__ import annotations

import pytest

from stores.shopify import operations as ops
from stores.shopify.batching import (
    Backoff,
    ConcurrentSender,
    Refused,
    send_batches,
    send_retrying,
)
from stores.shopify.errors import ShopifyUnavailable
from stores.shopify.files import StagedUpload, delete_files, put_staged, stage_uploads
from tests.doubles.fake_shopify import FakeShopify, Fault

from .test_client import fast_client


@pytest.fixture
def shop():
    return FakeShopify()


def alt_updates(shop, file_ids, *, sleeps=None, **kw):
    """fileUpdate of each file's alt text to ``alt <its index>``."""
    return send_batches(
        shop,
        ops.FILE_UPDATE,
        [(n, file_id) for n, file_id in enumerate(file_ids)],
        input_key="files",
        spec=lambda item: {"id": item[1], "alt": f"alt {item[0]}"},
        sleep=(sleeps.append if sleeps is not None else lambda s: None),
        **kw,
    )


def sent_ids(shop, name="FileUpdate"):
    return [[spec["id"] for spec in v["files"]] for n, v in shop.calls if n == name]


def test_a_batch_without_user_errors_is_applied_in_one_call(shop):
    files = shop.product("gid://shopify/Product/1", 3)
    out = alt_updates(shop, files)
    assert [item for _, item in out.items] == files
    assert [a.index for a in out.applied] == [0, 1, 2]  # each input's node in the payload
    assert not out.refused
    assert sent_ids(shop) == [files]
    assert [shop.files[f].alt for f in files] == ["alt 0", "alt 1", "alt 2"]


def test_inputs_shopify_refuses_are_set_aside_and_the_rest_is_applied(shop):
    files = shop.product("gid://shopify/Product/1", 3)
    shop.fail("FileUpdate", Fault(user_errors=[(1, "ALT_VALUE_LIMIT_EXCEEDED", "Too long")]))
    out = alt_updates(shop, files)
    assert out.refused == [Refused((1, files[1]), "ALT_VALUE_LIMIT_EXCEEDED", "Too long")]
    assert [item for _, item in out.items] == [files[0], files[2]]
    # the call with userErrors changed nothing; the rest went again, without the refused one
    assert sent_ids(shop) == [files, [files[0], files[2]]]
    assert [shop.files[f].alt for f in files] == ["alt 0", "", "alt 2"]


def test_an_input_shopify_asks_to_retry_goes_again_after_a_pause_and_succeeds(shop):
    files = shop.product("gid://shopify/Product/1", 3)
    shop.fail("FileUpdate", Fault(user_errors=[(0, "FILE_LOCKED", "File has a pending op")]))
    sleeps = []
    out = alt_updates(shop, files, sleeps=sleeps, backoff=Backoff(first=0.1, cap=1.0))
    assert not out.refused
    assert sorted(item for _, item in out.items) == sorted(files)
    # the others at once, the locked one in the next round, after the backoff
    assert sent_ids(shop) == [files, files[1:], files[:1]]
    assert sleeps == [0.4]
    assert shop.files[files[0]].alt == "alt 0"


def test_media_being_processed_is_retried_with_growing_pauses(shop):
    files = shop.product("gid://shopify/Product/1", 1)
    busy = Fault(user_errors=[(0, "MEDIA_CANNOT_BE_MODIFIED", "Media is being modified")])
    shop.fail("FileUpdate", busy, busy)
    sleeps = []
    out = alt_updates(shop, files, sleeps=sleeps, backoff=Backoff(first=0.1, cap=0.6))
    assert out.items == [(0, files[0])]
    assert sleeps == [0.4, 0.6]  # doubling, capped


def test_when_the_retry_budget_is_spent_the_input_fails_with_shopifys_code(shop):
    files = shop.product("gid://shopify/Product/1", 2)
    locked = Fault(user_errors=[(0, "FILE_LOCKED", "File has a pending operation.")])
    shop.fail("FileUpdate", locked, Fault(), locked, locked)
    sleeps = []
    out = alt_updates(shop, files, sleeps=sleeps, attempts=3)
    assert out.refused == [Refused((0, files[0]), "FILE_LOCKED", "File has a pending operation.")]
    assert out.items == [(1, files[1])]
    assert len(sleeps) == 2  # three rounds
    assert shop.files[files[0]].alt == ""


def test_an_error_that_names_no_input_refuses_the_whole_call(shop):
    files = shop.product("gid://shopify/Product/1", 2)
    shop.fail("FileUpdate", Fault(user_errors=[(None, "INVALID", "Invalid input")]))
    out = alt_updates(shop, files)
    assert [(r.item[1], r.code) for r in out.refused] == [(f, "INVALID") for f in files]
    assert not out.applied and len(shop.calls) == 1


def test_a_call_shopify_did_not_answer_is_sent_again_when_that_is_harmless(shop):
    files = shop.product("gid://shopify/Product/1", 2)
    down = ShopifyUnavailable("Shopify answered 503", cause="http_503", attempts=5)
    shop.fail("FileUpdate", Fault(raises=down))
    out = alt_updates(shop, files)  # fileUpdate sets values: idempotent
    assert len(out.items) == 2 and sent_ids(shop) == [files, files]


def test_a_create_shopify_did_not_answer_is_not_sent_again_blindly(shop):
    down = ShopifyUnavailable("Shopify answered 503", cause="http_503", attempts=5)
    shop.fail("FileCreate", Fault(raises=down))
    journal = []
    out = send_batches(
        shop,
        ops.FILE_CREATE,
        ["a", "b"],
        input_key="files",
        spec=lambda name: {"originalSource": f"https://res.example/{name}.jpg"},
        before_send=lambda batch: journal.append(("sent", list(batch))),
        not_applied=lambda batch: journal.append(("nothing", list(batch))),
        sleep=lambda s: None,
    )
    assert [(r.item, r.code) for r in out.refused] == [("a", "HTTP_503"), ("b", "HTTP_503")]
    assert journal == [("sent", ["a", "b"]), ("nothing", ["a", "b"])]
    assert not shop.files


def test_the_journal_comes_before_every_call_and_a_lost_answer_is_settled(shop):
    shop.fail(
        "FileCreate",
        Fault(user_errors=[(2, "INVALID", "Unsupported file type")]),
        Fault(lost=True),
    )
    journal, found = [], {}

    def settle(batch, exc):
        assert exc.maybe_applied
        made = {f.source: f.id for f in shop.files.values()}
        found.update({n: made[f"https://res.example/{n}.jpg"] for n in batch if n != "b"})
        return [n for n in batch if n == "b"]  # pretend "b" was not found: it goes again

    def execute(operation, variables, **kw):
        journal.append(("call", [f["originalSource"][-5] for f in variables["files"]]))
        return FakeShopify.execute(shop, operation, variables, **kw)

    shop.execute = execute
    out = send_batches(
        shop,
        ops.FILE_CREATE,
        ["a", "b", "c"],
        input_key="files",
        spec=lambda name: {"originalSource": f"https://res.example/{name}.jpg"},
        before_send=lambda batch: journal.append(("sent", list(batch))),
        not_applied=lambda batch: journal.append(("nothing", list(batch))),
        settle_doubt=settle,
        sleep=lambda s: None,
    )
    assert journal == [
        ("sent", ["a", "b", "c"]),
        ("call", ["a", "b", "c"]),
        ("nothing", ["a", "b", "c"]),  # userErrors: nothing was created
        ("sent", ["a", "b"]),
        ("call", ["a", "b"]),  # lost after it ran
        ("nothing", ["b"]),
        ("sent", ["b"]),
        ("call", ["b"]),
    ]
    assert [r.item for r in out.refused] == ["c"] and list(found) == ["a"]
    assert out.items == ["b"]


def test_delete_files_reports_what_shopify_deleted_and_what_it_kept(shop):
    files = shop.product("gid://shopify/Product/1", 2)
    out = delete_files(shop, [files[0], "gid://shopify/MediaImage/1", files[1]])
    assert out.items == [files[0], files[1]]
    assert [(r.item, r.code) for r in out.refused] == [
        ("gid://shopify/MediaImage/1", "NOT_DELETED")
    ]
    assert shop.galleries["gid://shopify/Product/1"] == []


def test_retried_calls_end_with_their_result_or_shopifys_refusal(shop):
    shop.product("gid://shopify/Product/1", 2)
    shop.product("gid://shopify/Product/2", 2)
    shop.fail(
        "ProductReorderMedia",
        Fault(user_errors=[(None, "MEDIA_CANNOT_BE_MODIFIED", "busy")]),
        Fault(user_errors=[(None, "INVALID", "Invalid move")]),
    )
    calls = [
        (p, ops.PRODUCT_REORDER_MEDIA, {"id": p, "moves": [{"id": shop.galleries[p][1],
                                                           "newPosition": "0"}]})
        for p in ("gid://shopify/Product/1", "gid://shopify/Product/2")
    ]  # fmt: skip
    sender = ConcurrentSender(shop, workers=1)
    answers = send_retrying(sender, calls, sleep=lambda s: None)
    first, second = answers["gid://shopify/Product/1"], answers["gid://shopify/Product/2"]
    assert first.ok and first.result.payload()["job"]["done"]  # retried, then applied
    assert (second.ok, second.code, second.message) == (False, "INVALID", "Invalid move")


def test_a_variant_image_still_being_processed_is_attached_once_it_is_ready(shop):
    """NON_READY_MEDIA means "not yet": a media a resumed run adopts while Shopify still
    processes it (created by the run before it) goes to its variant in a later round."""
    shop.product("gid://shopify/Product/1", 2)
    not_ready = Fault(
        user_errors=[(None, "NON_READY_MEDIA", "Non-ready media cannot be attached to variants.")]
    )
    shop.fail("ProductReorderMedia", not_ready, not_ready)
    p = "gid://shopify/Product/1"
    moves = [{"id": shop.galleries[p][1], "newPosition": "0"}]
    sleeps = []
    answers = send_retrying(
        ConcurrentSender(shop, workers=1),
        [(p, ops.PRODUCT_REORDER_MEDIA, {"id": p, "moves": moves})],
        backoff=Backoff(first=0.1, cap=1.0),
        sleep=sleeps.append,
    )
    assert answers[p].ok and len(sleeps) == 2


def test_a_file_locked_by_a_pending_reorder_is_updated_once_the_job_is_done(shopify):
    """Against the emulator: a reorder job keeps the product's files locked (FILE_LOCKED)."""
    shop, token = shopify.new_shop(products=1, media_per_product=2)
    client = fast_client(shop, token)
    search = {"query": "", "first": 1, "variantsFirst": 1, "mediaFirst": 5}
    product = client.execute(ops.PRODUCTS_SEARCH, search).data["products"]["nodes"][0]
    media = [m["id"] for m in product["media"]["nodes"]]
    shopify.post("config", {"job_delay": 1.0})
    try:
        moves = [{"id": media[1], "newPosition": "0"}]
        client.execute(ops.PRODUCT_REORDER_MEDIA, {"id": product["id"], "moves": moves})
        answers = []

        class Recording:
            def execute(self, operation, variables):
                result = client.execute(operation, variables)
                answers.append([e.code for e in result.user_errors])
                return result

        missing = "gid://shopify/MediaImage/999999"
        out = send_batches(
            Recording(),
            ops.FILE_UPDATE,
            [*media, missing],
            input_key="files",
            spec=lambda file_id: {"id": file_id, "alt": "new alt"},
            backoff=Backoff(first=0.2, cap=2.0),
        )
    finally:
        shopify.post("config", {"job_delay": 0.05})
    assert answers[0] == ["FILE_LOCKED", "FILE_LOCKED", "FILE_DOES_NOT_EXIST"]
    assert answers[-1] == []
    assert sorted(out.items) == sorted(media)
    assert [(r.item, r.code) for r in out.refused] == [(missing, "FILE_DOES_NOT_EXIST")]


def test_staged_uploads_set_aside_the_file_shopify_refuses_and_stage_the_rest(shopify):
    shop, token = shopify.new_shop()
    client = fast_client(shop, token)
    videos = ["a.mp4", "", "c.mp4"]  # Shopify refuses a blank filename
    staged = stage_uploads(client, videos, lambda name: StagedUpload(name, 2048))
    assert [(r.item, r.code) for r in staged.refused] == [("", "INVALID")]
    assert "Filename" in staged.refused[0].message
    assert [name for name, _ in staged.targets] == ["a.mp4", "c.mp4"]
    for name, target in staged.targets:
        assert target.resource_url.endswith("/" + name)
        assert target.headers["Content-Type"] == "video/mp4"
        put_staged(target, b"\x00" * 2048)  # the target takes the bytes
