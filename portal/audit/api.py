"""``/api/v1/audit-events/``: list, export (``?format=csv|jsonl``) and verify; auditors only."""

from __future__ import annotations

import json
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, renderers, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from portal import parse
from portal.api.authentication import SessionAuthentication
from portal.api.permissions import IsAuthenticated
from portal.audit.export import FORMATS
from portal.audit.forms import AuditFilterForm
from portal.audit.models import AuditEvent
from portal.audit.record import record_event
from portal.audit.selectors import audit_events, is_auditor
from portal.audit.services import audit_export, audit_verify
from portal.audit.verbs import Verb
from portal.tenancy.roles import Role


class IsAuditor(permissions.BasePermission):
    """Auditors read; nobody writes here (unsafe methods answer 403, even to auditors)."""

    message = "Only auditors read the audit history, and nobody changes it."

    def has_permission(self, request: Request, view: Any) -> bool:
        # Verifying writes only its own audit.verified event: a browser session POSTs it.
        method_ok = request.method in permissions.SAFE_METHODS or (
            request.method == "POST" and getattr(view, "action", None) == "verify"
        )
        return method_ok and is_auditor(request.user)


def refuse_session_get(request: Request, what: str) -> None:
    """What writes or costs much is never a GET for a browser session (no CSRF on a GET).

    API clients with a token may keep GET; a session POSTs from the explorer instead.
    """
    if request.method == "GET" and isinstance(
        request.successful_authenticator, SessionAuthentication
    ):
        raise MethodNotAllowed(
            "GET", detail=f"From a browser session, {what} is a POST with the CSRF token."
        )


class _ExportRenderer(renderers.BaseRenderer):
    """Lets ``?format=csv|jsonl`` (and an Accept header) select an export.

    The view streams exports itself; anything else it answers (errors) is switched back to
    JSON in ``finalize_response``, so this never renders a body.
    """

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return json.dumps(data).encode()


class CSVExportRenderer(_ExportRenderer):
    media_type = "text/csv"
    format = "csv"


class JSONLExportRenderer(_ExportRenderer):
    media_type = "application/x-ndjson"
    format = "jsonl"


class AuditEventSerializer(serializers.ModelSerializer):
    tenant = serializers.CharField(source="tenant_code")

    class Meta:
        model = AuditEvent
        fields = [
            "id", "occurred_at", "actor", "actor_username", "actor_label", "role", "tenant",
            "verb", "object_type", "object_id", "object_label", "changes", "reason",
            "request_id", "client_ip", "prev_hash", "hash",
        ]  # fmt: skip
        read_only_fields = fields


class VerifyQuerySerializer(serializers.Serializer):
    since_checkpoint = serializers.BooleanField(required=False, default=False)


class VerifySerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    checked = serializers.IntegerField()
    first_bad_id = serializers.IntegerField(allow_null=True)
    problem = serializers.CharField(allow_null=True)
    last_id = serializers.IntegerField(allow_null=True)
    head_hash = serializers.CharField(allow_null=True)
    from_id = serializers.IntegerField(help_text="Events after this one were walked.")
    checkpoints = serializers.IntegerField(help_text="Signed checkpoints compared.")
    checkpoint = serializers.CharField(allow_null=True)


class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The audit history across every country. Not a TenantScopedViewSet: it is not
    tenant-owned data but the programme's record, readable by auditors and nobody else
    (``audit_events`` refuses everyone else too)."""

    serializer_class = AuditEventSerializer
    permission_classes = [IsAuthenticated, IsAuditor]
    filter_backends: list[Any] = []
    # Event ids are integers; said here because the queryset is only built per request.
    lookup_value_regex = r"[0-9]+"
    renderer_classes = [
        renderers.JSONRenderer, renderers.BrowsableAPIRenderer, CSVExportRenderer, JSONLExportRenderer,
    ]  # fmt: skip

    def get_queryset(self) -> Any:
        form = self._filter_form()
        return audit_events(user=self.request.user, lookups=form.lookups())

    def _filter_form(self) -> AuditFilterForm:
        if not hasattr(self, "_form"):
            self._form = AuditFilterForm(self.request.query_params)
            if not self._form.is_valid():
                errors = self._form.errors.get_json_data()
                raise ValidationError(
                    {field: [e["message"] for e in errs] for field, errs in errors.items()}
                )
        return self._form

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        fmt = request.accepted_renderer.format
        if fmt not in FORMATS:
            page = super().list(request, *args, **kwargs)
            self._record_read(request, count=len(page.data.get("results", [])))
            return page
        refuse_session_get(request, "an export")
        form = self._filter_form()
        stream = audit_export(
            actor=request.user, lookups=form.lookups(), query=form.as_query(), fmt=fmt
        )
        response = StreamingHttpResponse(stream, content_type=FORMATS[fmt])
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        response["Content-Disposition"] = f'attachment; filename="audit-events-{stamp}.{fmt}"'
        response["Cache-Control"] = "no-store"
        return response

    def _record_read(self, request: Request, *, count: int) -> None:
        """A page of the history read through the API is itself recorded (a bulk read)."""
        form = self._filter_form()
        record_event(
            verb=Verb.AUDIT_READ,
            actor=request.user,
            role=Role.AUDITOR,
            changes={
                "filter": form.as_query(),
                # As sent, but never a NUL byte (PostgreSQL's jsonb refuses it: a 500).
                "cursor": parse.lenient_text(request.query_params.get("cursor"), max_length=200),
                "events": count,
            },
        )

    @extend_schema(responses=VerifySerializer, parameters=[VerifyQuerySerializer])
    @action(
        detail=False,
        methods=["get", "post"],
        renderer_classes=[renderers.JSONRenderer, renderers.BrowsableAPIRenderer],
        pagination_class=None,
        filter_backends=[],
    )
    def verify(self, request: Request) -> Response:
        """Verify now: ``{"ok", "checked", "first_bad_id", …}``; recorded as audit.verified.

        The whole chain and every signed checkpoint, or with ``?since_checkpoint=true`` only
        what follows the newest matching checkpoint. Token clients may GET; a browser session
        POSTs (CSRF).
        """
        refuse_session_get(request, "verifying the chain")
        query = VerifyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        result = audit_verify(actor=request.user, full=not query.validated_data["since_checkpoint"])
        return Response(VerifySerializer(result.as_dict()).data)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        # Errors asked for as an export still answer JSON.
        renderer = getattr(request, "accepted_renderer", None)
        if isinstance(response, Response) and renderer is not None and renderer.format in FORMATS:
            request.accepted_renderer = renderers.JSONRenderer()  # type: ignore[attr-defined]
            request.accepted_media_type = "application/json"  # type: ignore[attr-defined]
        return super().finalize_response(request, response, *args, **kwargs)
