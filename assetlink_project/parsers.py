"""JSON request bodies with bounds: nesting depth and size are checked before parsing.

Python's json parser recurses once per nesting level, so a body nested 50,000 deep would end
in a RecursionError (a 500); here it is a 400 before any parsing. Used by the API (DRF's
parser) and by the webhook endpoint.

An API body holding a NUL character (U+0000, sent as the escape \\u0000) in any key or value
is a 400 naming where: PostgreSQL stores it neither in text nor in jsonb, so it would otherwise
be saved on SQLite and a 500 on PostgreSQL.
"""

from __future__ import annotations

import re

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

MAX_JSON_DEPTH = 32
# A JSON string (skipped whole, so brackets inside it do not count) or a bracket.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


class JSONTooDeep(ValueError):
    pass


class JSONHoldsNul(ValueError):
    pass


def check_json_depth(text: str, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise JSONTooDeep when `text` nests arrays/objects more than `limit` levels deep."""
    depth = 0
    for token in _TOKENS.finditer(text):
        char = token.group()
        if char in "[{":
            depth += 1
            if depth > limit:
                raise JSONTooDeep(
                    f"The JSON body nests more than {limit} levels deep; send a flatter body."
                )
        elif char in "]}":
            depth -= 1


def nul_location(value, path: str = "") -> str | None:
    """Where the first NUL character of a parsed JSON value is ("a key at manual_orders",
    "a value at alt_overrides.front"), or None. Bounded recursion: depth is checked first."""
    if isinstance(value, str):
        return f"a value at {path[:200] or 'the top level'}" if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return f"a key at {path[:200] or 'the top level'}"
            found = nul_location(item, f"{path}.{key}" if path else key)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_location(item, f"{path}[{index}]")
            if found:
                return found
    return None


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "body_too_large"


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with a size limit (DATA_UPLOAD_MAX_MEMORY_SIZE), a depth limit and no
    NUL characters."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:
            raise BodyTooLarge(f"The request body is over {limit:,} bytes.")
        try:
            text = raw.decode(encoding)
            check_json_depth(text)
            parse_constant = json.strict_constant if self.strict else None
            data = json.loads(text, parse_constant=parse_constant)
            where = nul_location(data)
            if where:
                raise JSONHoldsNul(
                    f"The JSON body holds a NUL character (\\u0000) in {where}; remove it: "
                    "it cannot be stored."
                )
            return data
        except (JSONTooDeep, JSONHoldsNul) as exc:
            raise ParseError(str(exc)) from None
        except ValueError as exc:  # also UnicodeDecodeError
            raise ParseError(f"JSON parse error - {exc}") from None
