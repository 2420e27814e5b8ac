"""Applications API (DESIGN §5). Views are thin: they parse, call a service, serialize."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from partnerships import representations, services, workflow
from partnerships import serializers as s
from partnerships.models import Attachment, CountryApplication, Obligation, State
from portal.api.parsers import StrictJSONParser
from portal.api.renderers import FastJSONRenderer
from portal.api.viewsets import TenantScopedViewSet
from portal.audit.record import record_event
from portal.audit.verbs import Verb
from portal.postgresql import prepared
from portal.tenancy.access import access_for, acts_as_country
from portal.tenancy.dates import tenant_today

# The ``state`` filter takes public codes from everyone, internal states from programme staff.
STATE_FILTER_CHOICES = [
    *State.choices,
    *[(code, label) for code, label in workflow.PublicState.choices if code not in State.values],
]


class ApplicationFilter(django_filters.FilterSet):
    # distinct=False: a filter on the row itself cannot duplicate rows, and DISTINCT over
    # every column made the reviewer queue sort the whole stage (bench/results).
    state = django_filters.MultipleChoiceFilter(
        choices=STATE_FILTER_CHOICES,
        distinct=False,
        method="filter_state",
        help_text="Public state codes (anyone) or internal states (programme staff only).",
    )
    tenant = django_filters.CharFilter(field_name="tenant__code", lookup_expr="iexact")
    search = django_filters.CharFilter(method="filter_search", label="Title or reference contains")

    class Meta:
        model = CountryApplication
        fields = ["state", "tenant", "search"]

    def filter_state(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        """Public codes mean their internal states for everyone. An internal state is a
        programme staff filter: refused (400) from someone with no programme reading role,
        and never applied to the countries the person belongs to (``acts_as_country``): a
        JP official who is also a reviewer cannot find JP's held applications by state."""
        if not value:
            return queryset
        access = access_for(self.request.user)
        wanted: set[str] = set()
        internal_codes: set[str] = set()
        for code in value:
            public = workflow.internal_states(code)
            if public:
                wanted |= public
            else:
                internal_codes.add(code)
        if internal_codes and not access.reads_all_tenants():
            raise ValidationError(
                {"state": [f"Filter by public state: {', '.join(workflow.PublicState.values)}."]}
            )
        condition = Q(state__in=wanted)
        if internal_codes:
            condition |= Q(state__in=internal_codes) & ~Q(tenant_id__in=access.tenant_ids)
        return queryset.filter(condition)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(title__icontains=value) | Q(reference__icontains=value))


def internal_view(request: Request) -> Any:
    """tenant id -> whether the caller gets the internal view of that country's applications
    (programme staff with no role in it) or the country's (``acts_as_country``)."""
    user = request.user
    return lambda tenant_id: not acts_as_country(user, tenant_id)


class ApplicationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    TenantScopedViewSet,
):
    queryset = CountryApplication.objects.select_related("tenant").prefetch_related("sites")
    serializer_class = s.ApplicationSerializer
    filterset_class = ApplicationFilter
    parser_classes = [StrictJSONParser, MultiPartParser, FormParser]
    renderer_classes = [FastJSONRenderer, BrowsableAPIRenderer]

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "internal": internal_view(self.request)}

    # The two hot reads come as JSON written by PostgreSQL from the serializer's fields (same
    # bytes, same queries: partnerships.representations); the serializer still parses writes.
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = representations.values_of(
            self.filter_queryset(self.get_queryset()), user=request.user
        )
        # Prepared (parsed once per connection), planned for each request's filter values:
        # the states' sizes differ by orders of magnitude (prepared.statements).
        with prepared.statements(custom_plans=True):
            page = self.paginate_queryset(queryset)
        assert page is not None  # the viewset always paginates
        return self.get_paginated_response(
            representations.fragments(
                page, queryset=self.get_queryset(), internal=internal_view(request)
            )
        )

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Without the list's filters: their parameters are the list's (the OpenAPI schema
        # names none for a single application), and building the filter form was a tenth
        # of a detail request's time (#16). Scoping is get_queryset's (restrict()).
        queryset = representations.values_of(self.get_queryset(), user=request.user)
        # DRF's get_object_or_404: a malformed id is a 404 too, as in get_object().
        with prepared.statements():
            row: dict[str, Any] = generics.get_object_or_404(queryset, pk=self.kwargs["pk"])  # type: ignore[type-var,assignment]
        written = representations.fragments(
            [row], queryset=self.get_queryset(), internal=internal_view(request)
        )
        return Response(written[0])

    @extend_schema(request=s.ApplicationCreateSerializer, responses={201: s.ApplicationSerializer})
    def create(self, request: Request) -> Response:
        services.require_creator(request.user)  # the role before the body: 403, not 400
        body = s.ApplicationCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        tenant = services.resolve_tenant_for_create(
            actor=request.user, tenant_code=data.pop("tenant", None)
        )
        data.pop("version", None)
        application = services.application_create(actor=request.user, tenant=tenant, data=data)
        return Response(self.get_serializer(application).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ApplicationSerializer, responses=s.ApplicationSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        application = self.get_object()
        services.require_official(request.user, application.tenant_id)
        body = s.ApplicationSerializer(
            data=request.data,
            partial=True,
            context={**self.get_serializer_context(), "today": tenant_today(application.tenant)},
        )
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        version = data.pop("version", None)
        application = services.application_update(
            application=application, actor=request.user, version=version, data=data
        )
        application = self.get_queryset().get(pk=application.pk)
        return Response(self.get_serializer(application).data)

    @extend_schema(methods=["GET"], responses=s.TransitionsSerializer)
    @extend_schema(
        methods=["POST"], request=s.TransitionSerializer, responses=s.ApplicationSerializer
    )
    @action(detail=True, methods=["get", "post"])
    def transitions(self, request: Request, pk: str | None = None) -> Response:
        application = self.get_object()
        if request.method == "GET":
            country = acts_as_country(request.user, application.tenant_id)
            return Response(
                {
                    "version": application.version,
                    "state": workflow.state_for(request.user, application)[0],
                    "actions": [
                        {
                            "action": a.name,
                            "label": str(a.label),
                            "to_state": workflow.public_state_code(a.to_state)
                            if country and a.to_state
                            else a.to_state,
                            "requires": a.requirements(),
                        }
                        for a in workflow.available_actions(application, request.user)
                    ],
                }
            )
        workflow.require_may_act(application, request.user)
        body = s.TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        application = workflow.application_transition(
            application=application,
            actor=request.user,
            action=data["action"],
            version=data["version"],
            rationale=data["rationale"],
            risk_level=data["risk_level"],
            message_to_country=data["message_to_country"],
            conditions=[
                workflow.ConditionInput(c["text"], c["due_date"]) for c in data["conditions"]
            ],
        )
        application = self.get_queryset().get(pk=application.pk)
        return Response(self.get_serializer(application).data)

    # The plain lists below are whole (no pagination), and the schema says so.
    @extend_schema(responses=s.DecisionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def decisions(self, request: Request, pk: str | None = None) -> Response:
        application = self.get_object()
        decisions = workflow.decisions_for(request.user, application, application.decisions.all())
        internal = not acts_as_country(request.user, application.tenant_id)
        return Response(
            s.DecisionSerializer(
                decisions,
                many=True,
                context={**self.get_serializer_context(), "internal": internal},
            ).data
        )

    @extend_schema(responses=s.ObligationSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def obligations(self, request: Request, pk: str | None = None) -> Response:
        application = self.get_object()
        obligations = application.obligations.prefetch_related("evidence")
        return Response(s.ObligationSerializer(obligations, many=True).data)

    @extend_schema(methods=["GET"], responses=s.AttachmentSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": s.AttachmentUploadSerializer},
        responses={201: s.AttachmentSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser, FormParser],
        pagination_class=None,
    )
    def attachments(self, request: Request, pk: str | None = None) -> Response:
        application = self.get_object()
        if request.method == "GET":
            return Response(s.AttachmentSerializer(application.attachments.all(), many=True).data)
        services.require_official(request.user, application.tenant_id)
        body = s.AttachmentUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        obligation = None
        if body.validated_data.get("obligation"):
            obligation = get_object_or_404(
                Obligation.objects.filter(application=application),
                pk=body.validated_data["obligation"],
            )
        attachment = services.attachment_add(
            application=application,
            actor=request.user,
            upload=body.validated_data["file"],
            evidence_for=body.validated_data.get("evidence_for", ""),
            obligation=obligation,
        )
        return Response(s.AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiResponse(description="The file")}
    )
    @action(detail=True, methods=["get"], url_path=r"attachments/(?P<attachment_id>\d+)/download")
    def download(
        self, request: Request, pk: str | None = None, attachment_id: str | None = None
    ) -> FileResponse:
        application = self.get_object()
        attachment = get_object_or_404(
            Attachment.objects.filter(application=application), pk=attachment_id
        )
        return serve_attachment(request.user, attachment)


def serve_attachment(user: Any, attachment: Attachment) -> FileResponse:
    """Stream a stored file to someone already allowed to see its application; audited."""
    record_event(
        verb=Verb.ATTACHMENT_DOWNLOADED,
        obj=attachment,
        tenant=attachment.application.tenant,
        actor=user,
        changes={"sha256": attachment.sha256},
    )
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type,
        as_attachment=True,
        filename=attachment.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
