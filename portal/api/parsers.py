"""The API's JSON parser: strict about what Python's json module lets through (DESIGN §5c).

* Nesting deeper than ``MAX_DEPTH`` is refused (400): the serializers never need more than a
  few levels, and 50,000 levels made the stdlib recurse until RecursionError (500).
* A key repeated in one object is refused (400) naming the key: with ``{"amount": "100",
  "amount": "200"}`` the stdlib keeps the last silently, so what was reviewed and what was
  stored could differ.
* ``NaN``/``Infinity`` literals, NUL characters and lone surrogates (``"\\ud800"``, which
  PostgreSQL cannot store) are refused.
* A body over ``MAX_REQUEST_BYTES`` is refused with 413 even without a Content-Length.

The stdlib parser stays (C speed); only hooks and checks of the parsed value are added.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework import exceptions, parsers, status
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32


class PayloadTooLarge(exceptions.APIException):
    # Here rather than in portal.api.exceptions: that module imports rest_framework.views,
    # whose APIView reads DEFAULT_PARSER_CLASSES, i.e. this module.
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "too_large"


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKey(key)
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of parsed JSON (a scalar is 0, ``[]`` is 1), counted up to ``limit + 1``.

    Iterative, so it cannot itself run out of stack.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            level += 1
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            stack.extend(
                (child, level) for child in (node.values() if isinstance(node, dict) else node)
            )
    return deepest


def _bad_text(value: Any) -> bool:
    """True if any string (key or value) holds a NUL or a lone surrogate."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if "\x00" in node or any("\ud800" <= c <= "\udfff" for c in node):
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def loads(text: str) -> Any:
    """Parse ``text`` under the rules above; raises ``ValueError`` with a message for people
    (``DuplicateKey`` for a repeated key)."""
    try:
        data = json.loads(text, object_pairs_hook=_pairs, parse_constant=_no_constant)
    except RecursionError as exc:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels") from exc
    if depth(data) > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    if _bad_text(data):
        raise ValueError("strings may not contain NUL characters or lone surrogates")
    return data


class StrictJSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        if stream is None:
            return None
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise PayloadTooLarge()
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - the body is not {encoding} text.") from exc
        try:
            return loads(text)
        except DuplicateKey as exc:
            raise ParseError(f"JSON parse error - duplicate key {exc.key!r}.") from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
