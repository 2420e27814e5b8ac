"""The one URL walker of the test suite (issue #13, item 6).

It walks the URL resolver and builds a concrete URL for every pattern, its path parameters
filled with real ids by the name of the parameter and the kind of object the path names.
The isolation matrix (tests/test_isolation_matrix.py), the auditor read-only matrix
(tests/portal/test_audit_readonly.py) and the endpoint table (tests/test_endpoint_table.py)
all use it, so a new endpoint is covered by each of them the day it is added.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

_ROUTE_PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")
_REGEX_PARAM = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^)]*)\)")

# Ids a walk needs (values may be an id that does not exist, for the isolation matrix).
ID_KEYS = (
    "application",
    "attachment",
    "obligation",
    "commitment",
    "tranche",
    "member",
    "invitation",
    "audit_event",
    "tenant_code",
    "object_type",
    "object_id",
)


@dataclass(frozen=True)
class Url:
    """A concrete URL, the name of its pattern and whether the pattern has path parameters."""

    path: str
    name: str
    has_params: bool
    pattern: URLPattern


def _value(name: str, prefix: str, ids: Mapping[str, Any]) -> list[str]:
    """Values for a path parameter, by its name (and, for ``pk``, by where it is)."""
    by_name = {
        "application_pk": ids["application"],
        "attachment_id": ids["attachment"],
        "obligation_id": ids["obligation"],
        "tranche_id": ids["tranche"],
        "code": ids["tenant_code"],
        "object_type": ids["object_type"],
        "object_id": ids["object_id"],
        "step": "general",
    }
    if name == "pk":
        if "invitations" in prefix:
            return [str(ids["invitation"])]
        if "members" in prefix or prefix.startswith("people/"):
            return [str(ids["member"])]
        if "commitment" in prefix:
            return [str(ids["commitment"])]
        if "audit-event" in prefix:
            return [str(ids["audit_event"])]
        return [str(ids["application"])]
    if name in by_name:
        return [str(by_name[name])]
    return ["1"]


def _expand(piece: str, prefix: str, ids: Mapping[str, Any]) -> Iterator[str]:
    """Concrete strings for one pattern piece (route or regex syntax)."""
    if piece.startswith("^") or "(?P<" in piece:
        piece = piece.lstrip("^").rstrip("$")
        match = _REGEX_PARAM.search(piece)
        if match is None:
            yield piece.replace("\\", "")
            return
        body = match.group("body")
        # An alternation of literals (confirm|withdraw) is expanded; anything else gets ids.
        options = (
            body.split("|")
            if re.fullmatch(r"[\w|-]+", body)
            else _value(match.group("name"), prefix + piece[: match.start()], ids)
        )
        for option in options:
            yield from _expand(piece[: match.start()] + option + piece[match.end() :], prefix, ids)
        return
    match = _ROUTE_PARAM.search(piece)
    if match is None:
        yield piece
        return
    for option in _value(match.group("name"), prefix + piece[: match.start()], ids):
        yield from _expand(piece[: match.start()] + option + piece[match.end() :], prefix, ids)


def _has_params(piece: str) -> bool:
    return bool(_ROUTE_PARAM.search(piece) or _REGEX_PARAM.search(piece))


def _walk(
    patterns: list[Any], prefix: str, params: bool, ids: Mapping[str, Any]
) -> Iterator[tuple[str, bool, URLPattern]]:
    for pattern in patterns:
        piece = str(pattern.pattern)
        for concrete in _expand(piece, prefix, ids):
            if isinstance(pattern, URLResolver):
                yield from _walk(
                    pattern.url_patterns, prefix + concrete, params or _has_params(piece), ids
                )
            else:
                yield "/" + prefix + concrete, params or _has_params(piece), pattern


def all_urls(ids: Mapping[str, Any]) -> list[Url]:
    """Every concrete URL the portal serves, in resolver order, filled from ``ids``."""
    missing = [key for key in ID_KEYS if key not in ids]
    assert not missing, f"the walk needs ids for {missing}"
    found = []
    for path, params, pattern in _walk(get_resolver().url_patterns, "", False, ids):
        if ".*" in path or "(?P<" in path:  # admin's catch-all redirect
            continue
        try:
            match = resolve(path)
        except Resolver404:
            continue
        assert match.func == pattern.callback, f"{path} resolves elsewhere; the walker mis-built it"
        found.append(Url(path, pattern.name or "", params, pattern))
    return found


def ids_of(world: Mapping[str, Any]) -> dict[str, Any]:
    """The walker's ids from a world of model instances keyed as in the matrices' fixtures."""
    return {
        "application": world["application"].pk,
        "attachment": world["attachment"].pk,
        "obligation": world["obligation"].pk,
        "commitment": world["commitment"].pk,
        "tranche": world["tranche"].pk,
        "member": world["user"].pk,
        "invitation": world["invitation"].pk,
        "audit_event": world["event"].pk,
        "tenant_code": world["tenant"].code,
        "object_type": world["application"]._meta.label_lower,
        "object_id": world["application"].pk,
    }
