"""Errors services raise that the API maps to a status (services stay HTTP-agnostic)."""


class ConflictError(Exception):
    """The object changed (stale version) or its state no longer allows the request: 409."""
