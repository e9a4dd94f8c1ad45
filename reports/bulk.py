"""Writing a wave's rows at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, router
from django.db.models import Model


def update_rows(objs: Sequence[Model], fields: Sequence[str]) -> None:
    """Save ``fields`` of each object by its primary key: one ``UPDATE … WHERE pk = %s``,
    executed for all of them at once (``executemany``). Django's ``bulk_update`` builds one
    ``CASE WHEN`` per field over all the objects, whose compilation takes seconds of CPU for a
    few hundred rows; this plans one statement. Call it inside the caller's transaction."""
    if not objs:
        return
    update_values(
        type(objs[0]), fields, [(obj.pk, [getattr(obj, f) for f in fields]) for obj in objs]
    )


def update_values(
    model: type[Model], fields: Sequence[str], rows: Sequence[tuple[Any, Sequence[Any]]]
) -> None:
    """``update_rows`` for rows given as ``(pk, values of fields)``: nothing read first, no
    model instance built (a few hundred instances cost tens of ms of CPU)."""
    if not rows:
        return
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in columns)
    # only names from the model (quoted) go into the text; every value is a parameter
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
    params = [
        [f.get_db_prep_save(value, connection) for f, value in zip(columns, values, strict=True)]
        + [meta.pk.get_db_prep_value(pk, connection)]
        for pk, values in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
