"""reports.bulk: a wave's rows written at once leave the table as one ORM save per row would.

Run on the suite's database (PostgreSQL in CI: one ``UPDATE … FROM (VALUES …)``; SQLite with
``DATABASE_URL=sqlite://…``: one statement executed per row)."""

from __future__ import annotations

import pytest
from django.db import DataError, IntegrityError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports.bulk import update_rows, update_values
from reports.models import RunProduct
from tests.factories import RunFactory, RunProductFactory, StoreFactory
from uploads.models import UploadRecord

pytestmark = pytest.mark.django_db

PRODUCTS = 6
# what a text column or a JSON document can hold on PostgreSQL: no NUL, no lone surrogate
letters = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
texts = st.text(letters, max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner),
    max_leaves=6,
)
changes = st.lists(
    st.tuples(
        st.integers(0, PRODUCTS - 1),
        st.sampled_from([s.value for s in RunProduct.Status]),
        json_values,
        st.text(letters, max_size=40),  # quotes, %s, any script
        st.booleans(),
    ),
    max_size=15,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(changes=changes)
def test_update_values_leaves_what_one_save_per_row_leaves(changes):
    """Random rows, keys repeated (the last row of a key wins, as saves in order would)."""
    run = RunFactory()
    products = RunProductFactory.create_batch(PRODUCTS, run=run, after={"old": 1}, error="old")
    expected = {p.pk: ("pending", {"old": 1}, "old", False) for p in products}
    rows = []
    for index, status, after, error, replanned in changes:
        pk = products[index].pk
        rows.append((pk, [status, after, error, replanned]))
        expected[pk] = tuple(rows[-1][1])
    with transaction.atomic():
        update_values(RunProduct, ["status", "after", "error", "replanned"], rows)
    got = {
        p.pk: (p.status, p.after, p.error, p.replanned) for p in RunProduct.objects.filter(run=run)
    }
    assert got == expected


def test_update_rows_saves_the_fields_of_model_instances():
    products = RunProductFactory.create_batch(3)
    for n, product in enumerate(products):
        product.status, product.journal, product.before = "done", {"n": n}, None
    update_rows(products, ["status", "journal", "before"])
    for n, product in enumerate(products):
        product.refresh_from_db()
        assert (product.status, product.journal, product.before) == ("done", {"n": n}, None)


def test_update_values_by_other_fields_updates_only_the_rows_that_match_them_all():
    store, other = StoreFactory(), StoreFactory()
    common = {"asset_id": "a", "public_id": "p", "version": 1, "media_type": "IMAGE"}
    mine = UploadRecord.objects.create(store=store, file_id="gid://f/1", **common)
    theirs = UploadRecord.objects.create(store=other, file_id="gid://f/1", **common)
    update_values(
        UploadRecord,
        ["url"],
        [((store.pk, "gid://f/1"), ["https://cdn/1.jpg"]), ((store.pk, "gid://f/9"), ["x"])],
        by=["store", "file_id"],
    )
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.url, theirs.url) == ("https://cdn/1.jpg", "")
    assert UploadRecord.objects.count() == 2


def test_a_value_too_long_for_its_column_fares_as_in_a_plain_update():
    """PostgreSQL refuses it (never cut short by a cast); SQLite keeps it, as it would."""
    product = RunProductFactory()

    def outcome(write):
        product.status = "pending"
        product.save()
        try:
            with transaction.atomic():
                write()
        except (DataError, IntegrityError):
            return "refused", RunProduct.objects.get(pk=product.pk).status
        return "kept", RunProduct.objects.get(pk=product.pk).status

    plain = outcome(lambda: RunProduct.objects.filter(pk=product.pk).update(status="x" * 11))
    bulk = outcome(lambda: update_values(RunProduct, ["status"], [(product.pk, ["x" * 11])]))
    assert bulk == plain
    if connection.vendor == "postgresql":
        assert bulk == ("refused", "pending")
