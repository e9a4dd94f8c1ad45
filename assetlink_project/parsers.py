"""JSON request bodies with bounds: nesting depth and size are checked before parsing.

Python's json parser recurses once per nesting level, so a body nested 50,000 deep would end
in a RecursionError (a 500); here it is a 400 before any parsing. Used by the API (DRF's
parser) and by the webhook endpoint.
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


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "body_too_large"


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with a size limit (DATA_UPLOAD_MAX_MEMORY_SIZE) and a depth limit."""

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
            return json.loads(text, parse_constant=parse_constant)
        except JSONTooDeep as exc:
            raise ParseError(str(exc)) from None
        except ValueError as exc:  # also UnicodeDecodeError
            raise ParseError(f"JSON parse error - {exc}") from None
