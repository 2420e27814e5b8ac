"""Serializer fields shared by every API: text that is empty to the eye is empty."""

from __future__ import annotations

from typing import Any

from django.db import models
from rest_framework import serializers
from rest_framework.fields import empty

from portal import parse


class TextField(serializers.CharField):
    """A CharField that reads a value of only invisible characters (zero-width spaces, bidi
    controls, …; see ``portal.parse.is_blank``) as blank: "may not be blank" where a value is
    required, ``""`` where blank is allowed. DRF's own check only strips whitespace."""

    def run_validation(self, data: Any = empty) -> Any:
        if isinstance(data, str) and data and parse.is_blank(data):
            data = ""
        return super().run_validation(data)


#: For ModelSerializers: the model's text columns become ``TextField``s.
FIELD_MAPPING = {
    **serializers.ModelSerializer.serializer_field_mapping,
    models.CharField: TextField,
    models.TextField: TextField,
}
