"""The base API viewset: every read goes through ``restrict()`` (STYLE 1–3).

Subclasses name a ``queryset`` built from a ``RestrictedQuerySet``; the viewset restricts
it to the request's user by HTTP method ("view" for safe methods, "change" otherwise).
Overriding ``get_queryset`` or ``get_object`` is refused at class creation: the escape
hatch is ``dangerously_get_queryset``, which names itself in review.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from rest_framework import viewsets

from portal.tenancy.querysets import RestrictedQuerySet

_GUARDED = ("get_queryset", "get_object")


class TenantScopedViewSet(viewsets.GenericViewSet):
    queryset: models.QuerySet | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in _GUARDED:
            if name in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__} overrides {name}; scope through restrict() instead "
                    "(or dangerously_get_queryset, with a reason)."
                )

    def dangerously_get_queryset(self) -> models.QuerySet | None:
        """Hook for a subclass that must scope differently; None means "use restrict()"."""
        return None

    def get_queryset(self) -> models.QuerySet:
        special = self.dangerously_get_queryset()
        if special is not None:
            return special
        assert self.queryset is not None, f"{type(self).__name__} needs a queryset"
        queryset = self.queryset.all()
        if not isinstance(queryset, RestrictedQuerySet):
            raise TypeError(f"{type(self).__name__}.queryset must be a RestrictedQuerySet")
        # Always view-scoped: another country's object then answers 404 for writes as for
        # reads; whether the user may change what they can see is the service's rule (403).
        return queryset.restrict(self.request.user, "view")
