"""Structured logs: context fields (request id, workspace, store, run id, phase) carried by a
contextvar, and a JSON formatter that writes them with every line.

    with log_context(run_id=run.pk, store=store.shop_domain):
        logger.info("Run started")   # {"message": "Run started", "run_id": 7, "store": ...}

Nested contexts add to (and may override) the outer fields and restore them on exit. The
formatter runs after the handler's redaction filter, so messages are already redacted; field
values are redacted again because they can come from anywhere.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

from assetlink_project.logging import redact

_fields: contextvars.ContextVar[dict] = contextvars.ContextVar("assetlink_log_fields", default={})  # noqa: B039 - never mutated: each context sets a new dict


def current() -> dict:
    """The context fields in force here (a copy)."""
    return dict(_fields.get())


@contextlib.contextmanager
def log_context(**fields) -> Iterator[dict]:
    """Add `fields` (None values are left out) to every log line written inside the block."""
    merged = {**_fields.get(), **{k: v for k, v in fields.items() if v is not None}}
    token = _fields.set(merged)
    try:
        yield merged
    finally:
        _fields.reset(token)


def bind(**fields) -> None:
    """Add fields to the current context until it ends (e.g. the phase a run reached)."""
    _fields.set({**_fields.get(), **{k: v for k, v in fields.items() if v is not None}})


class ContextFilter(logging.Filter):
    """Copies the context fields onto each record (so any formatter can use them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.context = current()
        return True


# LogRecord attributes that are not `extra=` fields.
_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "context"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context fields, `extra=`
    fields and the exception, if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        context = getattr(record, "context", None)
        entry.update(context if context is not None else current())
        entry.update({k: v for k, v in vars(record).items() if k not in _RESERVED})
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(
            {k: (redact(v) if isinstance(v, str) else v) for k, v in entry.items()}, default=str
        )
