from __future__ import annotations

from typing import Any

from rest_framework import permissions

from portal import context
from portal.tenancy import rls


class IsAuthenticated(permissions.IsAuthenticated):
    """DRF's IsAuthenticated, plus: name the user as the actor and scope the database to them.

    Why here: it is the first hook that runs after DRF authentication (token or session) on
    every API view, including test clients' forced authentication.
    """

    def has_permission(self, request: Any, view: Any) -> bool:
        allowed = super().has_permission(request, view)
        if allowed:
            context.update(user=request.user)
            scope = rls.scope_for(request.user)
            django_request = request._request
            if getattr(django_request, "_portal_scope", None) != scope:  # token users
                rls.apply_scope(scope, user=request.user)
                django_request._portal_scope = scope
        return allowed
