"""The report of a run as CSV: one row per asset per product (docs/linking.md, "The report")."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice

from common.transformations import normalise_transformation
from reports.models import Run, RunProduct
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


# The rows of these actions name no media of the run: their transformation cell is empty.
NO_TRANSFORMATION = frozenset({"unmatched", "excluded", "unlinked", "skipped"})


def work_transformations(product_id: str, work: dict | None) -> dict[tuple[str, str], str]:
    """(product id, asset id) → the transformation the product's work (``RunProduct.work``)
    links the asset with, spelt as the asset's identity (and the dry-run CSV) spells it:
    ``normalise_transformation``."""
    return {
        (product_id, asset["asset_id"]): normalise_transformation(asset.get("transformation"))
        for asset in (work or {}).get("assets") or ()
    }


def row_transformation(
    transformations: dict[tuple[str, str], str], product_id: str, asset_id: str, action: str
) -> str:
    """A report row's ``transformation`` cell (``ReportRow.transformation``, written with the
    row; this lookup fills it for rows written before that column)."""
    if action in NO_TRANSFORMATION:
        return ""
    return transformations.get((product_id, asset_id), "")


def products_transformations(products: Iterable[RunProduct]) -> dict[tuple[str, str], str]:
    """:func:`work_transformations` of each of ``products`` (with their ``work``), merged."""
    found: dict[tuple[str, str], str] = {}
    for product in products:
        found.update(work_transformations(product.product_id, product.work))
    return found


def _transformations(run: Run) -> dict[tuple[str, str], str]:
    """The lookup of every product of ``run`` (its work): for rows written before
    ``ReportRow.transformation`` (reports 0008), whose cell is NULL."""
    return products_transformations(
        with_work(run.products.only("pk", "run_id", "product_id", "work").order_by("id"))
    )


# OWASP "CSV Injection": a cell starting with one of these is a formula to a spreadsheet.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Where a cell of csv.writer's output can start: after a line's end or a delimiter, and then,
# quoted, after the opening quote. Text without a match has no cell starting with a formula
# prefix (a match inside a quoted cell is only a false alarm: the careful path).
_FORMULA_CELL = re.compile(r'[,\n]"?[=+\-@\t\r]')
_CHUNK_ROWS = 250
_CAREFUL_ROWS = 25


def neutralise(value):
    """A text cell a spreadsheet will show as text: formula prefixes get a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _write_rows(writer, buffer: io.StringIO, rows: list[Sequence]) -> None:
    """``rows`` written by csv.writer (C) at once; where that text shows a cell starting with
    a formula prefix, written again a part at a time, down to a few rows with
    :func:`neutralise` on each cell. The buffer's text before them, if any, ends a line."""
    start = buffer.tell()
    writer.writerows(rows)
    text = buffer.getvalue()
    # the first row's first cell follows the line before it, or nothing (a buffer just sent)
    found = _FORMULA_CELL.search(text, start - 1) if start else _FORMULA_CELL.search("\n" + text)
    if not found:
        return
    buffer.seek(start)
    buffer.truncate()
    if len(rows) <= _CAREFUL_ROWS:
        writer.writerows([neutralise(value) for value in row] for row in rows)
        return
    step = max(_CAREFUL_ROWS, len(rows) // 10)
    for first in range(0, len(rows), step):
        _write_rows(writer, buffer, rows[first : first + step])


def stream_csv(header: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    """CSV text in chunks of about 64 kB (for streaming responses of large reports).

    Every report goes through here: text cells are neutralised against formula injection,
    the text the same as :func:`neutralise` on every cell gives, without a Python call per
    cell where no cell starts with a formula prefix (``_write_rows``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    rows = iter(rows)
    while chunk := list(islice(rows, _CHUNK_ROWS)):
        _write_rows(writer, buffer, chunk)
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# The row's cells as the database gives them (COLUMNS without ``store``, the run's domain).
_ROW_VALUES = COLUMNS[1:]
_PRODUCT, _ASSET, _ACTION = (_ROW_VALUES.index(c) for c in ("product_id", "asset_id", "action"))


def _rows(run: Run, store: str) -> Iterator[tuple]:
    """The run's rows in CSV order, as tuples read through a server-side cursor: no model
    instance per row. A row written before ``ReportRow.transformation`` (NULL there) gets the
    cell from the products' work, read once, the first time one is met."""
    lookup = None
    rows = run.rows.order_by("seq", "id").values_list(*_ROW_VALUES).iterator(chunk_size=2000)
    for row in rows:
        if row[-1] is None:
            if lookup is None:
                lookup = _transformations(run)
            cell = row_transformation(lookup, row[_PRODUCT], row[_ASSET], row[_ACTION])
            row = (*row[:-1], cell)
        yield (store, *row)


def report_lines(run: Run) -> Iterator[str]:
    """The CSV, a chunk at a time (for streaming responses)."""
    return stream_csv(COLUMNS, _rows(run, run.store.shop_domain))


def report_csv(run: Run) -> str:
    return "".join(report_lines(run))


def filename(run: Run) -> str:
    return f"assetlink-run-{run.pk}-{run.store.shop_domain.split('.')[0]}.csv"
