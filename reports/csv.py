"""The report of a run as CSV: one row per asset per product (docs/linking.md, "The report")."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from common.transformations import normalise_transformation
from reports.models import ReportRow, Run
from reports.selectors import with_work

COLUMNS = [
    "store",
    "product_id",
    "product_handle",
    "product_title",
    "group",
    "asset_id",
    "public_id",
    "action",
    "position_before",
    "position_after",
    "media_id",
    "previous_media_id",
    "status",
    "error_code",
    "message",
    "filename",
    "url",
    "transformation",
]
"""One layout for every report (link, undo, upload): uploads fill ``media_id`` with the file's
id and ``filename``/``url``; link rows leave those two empty."""


def _transformations(run: Run) -> dict[tuple[str, str], str]:
    """(product id, asset id) → the transformation the run linked the asset with, spelt as
    the asset's identity (and the dry-run CSV) spells it: ``normalise_transformation``."""
    products = with_work(run.products.only("pk", "run_id", "product_id", "work").order_by("id"))
    return {
        (product.product_id, asset["asset_id"]): normalise_transformation(
            asset.get("transformation")
        )
        for product in products
        for asset in (product.work or {}).get("assets") or ()
    }


def _value(row: ReportRow, column: str, store: str, transformations: dict):
    if column == "store":
        return store
    if column == "transformation":
        if row.action in ("unmatched", "excluded", "unlinked", "skipped"):
            return ""
        return transformations.get((row.product_id, row.asset_id), "")
    value = getattr(row, column)
    return "" if value is None else value


# OWASP "CSV Injection": a cell starting with one of these is a formula to a spreadsheet.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A text cell a spreadsheet will show as text: formula prefixes get a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def stream_csv(header: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    """CSV text in chunks of about 64 kB (for streaming responses of large reports).

    Every report goes through here: text cells are neutralised against formula injection.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise(value) for value in row])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def report_lines(run: Run) -> Iterator[str]:
    """The CSV, a chunk at a time (for streaming responses)."""
    store = run.store.shop_domain
    transformations = _transformations(run)
    rows = run.rows.order_by("seq", "id").iterator(chunk_size=2000)
    return stream_csv(
        COLUMNS, ([_value(row, c, store, transformations) for c in COLUMNS] for row in rows)
    )


def report_csv(run: Run) -> str:
    return "".join(report_lines(run))


def filename(run: Run) -> str:
    return f"assetlink-run-{run.pk}-{run.store.shop_domain.split('.')[0]}.csv"
