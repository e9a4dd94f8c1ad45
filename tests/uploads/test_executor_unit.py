"""The upload executor against an in-memory Shopify (tests.doubles.fake_shopify): the fast
loop beside the end-to-end upload tests. No database, no HTTP, no sleeping."""

from __future__ import annotations

from collections import Counter
from itertools import count

import pytest

from stores.shopify.errors import ShopifyUnavailable
from tests.doubles.fake_shopify import FakeShopify, Fault
from uploads.executor import FileRecord, UploadExecutor, UploadHooks, UploadWork

_items = count(1)


class Recorder(UploadHooks):
    def __init__(self):
        self.records: dict[int, str] = {}
        self.removed: list[str] = []
        self.journaled: list[tuple[list[int], bool]] = []
        self.results = []

    def journal(self, works, sent):
        self.journaled.append(([w.item_id for w in works], sent))

    def records_saved(self, saved):
        for work, file_id, _, _ in saved:
            self.records[work.item_id] = file_id

    def record_removed(self, work, file_id):
        self.removed.append(file_id)
        if self.records.get(work.item_id) == file_id:
            del self.records[work.item_id]

    def finished(self, results):
        self.results += results


@pytest.fixture
def shop():
    return FakeShopify()


def work(public_id, *, alt="", version=1, record=None):
    name = public_id.rsplit("/", 1)[-1]
    return UploadWork(
        next(_items), f"asset-{public_id}", public_id, version, "IMAGE", "",
        f"https://res.example/v{version}/{public_id}.jpg", f"{name}.jpg", alt, record=record,
    )  # fmt: skip


def upload(shop, works, hooks=None):
    hooks = hooks or Recorder()
    executor = UploadExecutor(shop, hooks=hooks, sleep=lambda s: None, poll_min=0.0)
    assert executor.run(works)
    assert not shop.unmet_faults()
    return {w.public_id: o for w, o in hooks.results}, hooks


def test_created_files_are_ready_with_their_alt_text(shop):
    works = [work("shoes/red", alt="Red shoe"), work("shoes/blue")]
    out, hooks = upload(shop, works)
    assert {p: o.action for p, o in out.items()} == {
        "shoes/red": "created",
        "shoes/blue": "created",
    }
    red = shop.files[out["shoes/red"].file_id]
    assert (red.status, red.alt) == ("READY", "Red shoe")  # the marker is gone
    assert shop.names().count("FileCreate") == 1
    assert set(hooks.records.values()) == set(shop.files)


def test_an_input_shopify_refuses_fails_alone_and_the_rest_is_sent_again(shop):
    shop.fail("FileCreate", Fault(user_errors=[(1, "INVALID", "Unsupported file type")]))
    out, _ = upload(shop, [work("a"), work("b"), work("c")])
    assert out["b"].action == "failed"
    assert (out["b"].error_code, out["b"].message) == ("INVALID", "Unsupported file type")
    assert out["a"].action == out["c"].action == "created"
    resent = [v["files"] for name, v in shop.calls if name == "FileCreate"][1]
    assert [f["filename"] for f in resent] == ["a.jpg", "c.jpg"]
    assert len(shop.files) == 2  # the refused call created nothing


def test_a_lost_file_create_is_adopted_by_its_marker_never_by_name(shop):
    # two assets with one filename, and one whose name is a prefix of another's
    works = [work("aaa/red"), work("bbb/red"), work("shoes/sku_1"), work("shoes/sku_10")]
    shop.fail("FileCreate", Fault(lost=True))
    out, hooks = upload(shop, works)
    assert shop.names().count("FileCreate") == 1  # adopted, not created again
    assert "FilesSearch" in shop.names()  # after looking for what the lost call made
    assert len(shop.files) == 4
    for w in works:
        assert out[w.public_id].action == "created"
        assert shop.files[out[w.public_id].file_id].source == w.source_url  # its own file
    assert Counter(hooks.records.values()).most_common(1)[0][1] == 1


def test_a_locked_file_is_replaced_once_shopify_lets_it(shop):
    (file_id,) = shop.product("gid://shopify/Product/9", 1)
    shop.fail("FileUpdate", Fault(user_errors=[(0, "FILE_LOCKED", "File is being processed")]))
    new = work("shoes/red", version=2, record=FileRecord(file_id, 1))
    out, _ = upload(shop, [new])
    assert (out["shoes/red"].action, out["shoes/red"].file_id) == ("replaced", file_id)
    assert shop.files[file_id].source == new.source_url
    assert shop.names().count("FileUpdate") == 2


def test_a_file_shopify_cannot_process_is_reported_and_removed(shop):
    out, hooks = upload(shop, [work("shoes/broken"), work("shoes/fine")])
    assert (out["shoes/broken"].action, out["shoes/broken"].error_code) == (
        "failed",
        "PROCESSING_FAILED",
    )
    assert [f.source for f in shop.files.values()] == ["https://res.example/v1/shoes/fine.jpg"]
    assert hooks.removed  # and the run forgets it


def test_shopify_down_before_a_create_fails_the_batch_and_creates_nothing(shop):
    down = ShopifyUnavailable("Shopify answered 503", cause="http_503", attempts=5)
    shop.fail("FileCreate", Fault(raises=down))
    out, hooks = upload(shop, [work("a"), work("b")])
    assert {o.action for o in out.values()} == {"failed"}
    assert not shop.files and not hooks.records
    assert hooks.journaled[-1][1] is False  # the journal says nothing is in flight
