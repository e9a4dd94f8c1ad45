"""The report of a run as CSV: one row per asset per product (PRODUCT.md, "Report")."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from reports.models import ReportRow, Run

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
]


def _value(row: ReportRow, column: str, store: str):
    if column == "store":
        return store
    value = getattr(row, column)
    return "" if value is None else value


def report_lines(run: Run) -> Iterator[str]:
    """The CSV, a line at a time (for streaming responses)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    store = run.store.shop_domain
    for row in run.rows.order_by("seq", "id").iterator(chunk_size=2000):
        writer.writerow([_value(row, c, store) for c in COLUMNS])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def report_csv(run: Run) -> str:
    return "".join(report_lines(run))


def filename(run: Run) -> str:
    return f"assetlink-run-{run.pk}-{run.store.shop_domain.split('.')[0]}.csv"
