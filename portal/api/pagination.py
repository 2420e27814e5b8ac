from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError

from portal import parse


class CursorPagination(pagination.CursorPagination):
    """Keyset pages: constant cost however deep (DESIGN §5).

    DRF decodes the cursor but hands its position to the query unchecked, so ``p=abc`` for an
    integer ordering reached PostgreSQL (500). Here the position is parsed by the ordering
    field's own type first, and any malformed cursor is a 400, not DRF's 404.
    """

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200
    invalid_cursor_message = "Invalid cursor."

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Any) -> Any:
        try:
            cursor = super().decode_cursor(request)
        except NotFound as exc:
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]}) from exc
        if cursor is None or cursor.position is None:
            return cursor
        if not self._position_is_valid(cursor.position):
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})
        return cursor

    def _position_is_valid(self, position: Any) -> bool:
        ordering = self.ordering
        name = (ordering[0] if isinstance(ordering, list | tuple) else ordering).lstrip("-")
        try:
            field = self._model._meta.get_field(name)
        except (AttributeError, FieldDoesNotExist):  # pragma: no cover - every ordering is a field
            return False
        if not isinstance(position, str) or "\x00" in position or len(position) > 200:
            return False
        if isinstance(field, models.IntegerField | models.AutoField | models.ForeignKey):
            return parse.lenient_integer(position) is not None
        try:
            field.to_python(position)
        except (DjangoValidationError, ValueError, TypeError):
            return False
        return True
