"""JSON rendered by orjson, byte for byte what DRF's ``JSONRenderer`` writes.

Used by hot read endpoints, whose bodies are plain JSON types already (strings, numbers,
booleans, lists, dicts); anything else falls back to DRF's encoder, and an indented (browsable)
answer to DRF's renderer itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from rest_framework.renderers import JSONRenderer

# DRF escapes these two (valid JSON, but not valid JavaScript inside a <script>).
_LINE_SEPARATORS = ((b"\xe2\x80\xa8", b"\\u2028"), (b"\xe2\x80\xa9", b"\\u2029"))


class FastJSONRenderer(JSONRenderer):
    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        if self.get_indent(accepted_media_type or "", dict(renderer_context or {})):
            return super().render(data, accepted_media_type, renderer_context)
        # Dates and times go to DRF's encoder too ("Z", milliseconds), not orjson's own format;
        # error bodies can have integer keys (a list item's errors), which json writes as text.
        body = orjson.dumps(
            data,
            default=self.encoder_class().default,
            option=orjson.OPT_PASSTHROUGH_DATETIME
            | orjson.OPT_PASSTHROUGH_DATACLASS
            | orjson.OPT_NON_STR_KEYS,
        )
        for raw, escaped in _LINE_SEPARATORS:
            if raw in body:
                body = body.replace(raw, escaped)
        return body
