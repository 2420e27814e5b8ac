"""JSON rendered by orjson, byte for byte what DRF's ``JSONRenderer`` writes.

Used by hot read endpoints, whose bodies are plain JSON types already (strings, numbers,
booleans, lists, dicts) or JSON texts to embed as they are (``orjson.Fragment``, written by
PostgreSQL: partnerships.representations); anything else falls back to DRF's encoder, and an
indented (browsable) answer to DRF's renderer itself.
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
            # Indented (the browsable API): JSON texts embedded as they are
            # (``orjson.Fragment``, partnerships.representations) become values first.
            plain = orjson.loads(self._compact(data))
            return super().render(plain, accepted_media_type, renderer_context)
        body = self._compact(data)
        for raw, escaped in _LINE_SEPARATORS:
            if raw in body:
                body = body.replace(raw, escaped)
        return body

    def _compact(self, data: Any) -> bytes:
        # Dates and times go to DRF's encoder too ("Z", milliseconds), not orjson's own format;
        # error bodies can have integer keys (a list item's errors), which json writes as text.
        return orjson.dumps(
            data,
            default=self.encoder_class().default,
            option=orjson.OPT_PASSTHROUGH_DATETIME
            | orjson.OPT_PASSTHROUGH_DATACLASS
            | orjson.OPT_NON_STR_KEYS,
        )
