"""Compliance API (DESIGN §5): territories and an application's screenings. Views are thin."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from compliance import serializers as s
from compliance.models import ScreeningResult, Territory, TerritoryListVersion
from compliance.services import screening_request
from compliance.territories import current_list_version
from partnerships.models import CountryApplication
from portal import parse
from portal.api.pagination import CursorPagination
from portal.api.viewsets import TenantScopedViewSet
from portal.tenancy.access import access_for, acts_as_country
from portal.tenancy.roles import Role


class TerritoryFilter(django_filters.FilterSet):
    supported = django_filters.BooleanFilter()
    sanctioned = django_filters.BooleanFilter(field_name="comprehensive_sanctions")
    group = django_filters.CharFilter(method="filter_group", label="EAR country group, e.g. D:5")
    search = django_filters.CharFilter(method="filter_search", label="Code or name contains")
    version = django_filters.NumberFilter(
        method="filter_version", label="List version (default: current)"
    )

    class Meta:
        model = Territory
        fields = ["supported", "sanctioned", "group", "search", "version"]

    def filter_group(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(groups__contains=[value.upper()])

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))

    def filter_version(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset  # applied in TerritoryViewSet.get_queryset (it replaces the default)


class ByCode(CursorPagination):
    ordering = "code"


def territories_of(request: Request) -> QuerySet:
    """Territories of ``?version=N``, else of the current list version (none if none loaded)."""
    number = parse.lenient_integer(request.query_params.get("version"))
    if number is not None:
        return Territory.objects.filter(version__number=number)
    current = current_list_version()
    return Territory.objects.filter(version=current) if current else Territory.objects.none()


class TerritoryViewSet(viewsets.ReadOnlyModelViewSet):
    """The territory list, current version; any signed-in user (it is public reference data)."""

    serializer_class = s.TerritorySerializer
    filterset_class = TerritoryFilter
    pagination_class = ByCode
    lookup_field = "code"
    lookup_value_regex = r"[A-Za-z0-9-]+"

    def get_queryset(self) -> QuerySet:
        return territories_of(self.request).select_related("version")

    def get_object(self) -> Territory:
        return get_object_or_404(self.get_queryset(), code=self.kwargs["code"].upper())


class TerritoryListVersionViewSet(viewsets.ReadOnlyModelViewSet):
    """Version history with diffs and re-screening progress."""

    serializer_class = s.TerritoryListVersionSerializer
    queryset = TerritoryListVersion.objects.all()
    lookup_field = "number"

    class pagination_class(CursorPagination):
        ordering = "-number"


class ScreeningViewSet(mixins.ListModelMixin, TenantScopedViewSet):
    """``/api/v1/applications/{id}/screenings/``: scoped exactly like the application.

    Programme staff see outcomes and findings; the country's officials see only that a
    screening ran (see ``CountryScreeningSerializer``). POST asks for a fresh screening
    (compliance officers only; 202).
    """

    queryset = ScreeningResult.objects.select_related("list_version", "policy_version")
    filterset_class = None

    def application(self) -> CountryApplication:
        # Another country's application answers exactly like a missing one: 404.
        return get_object_or_404(
            CountryApplication.objects.restrict(self.request.user).select_related("tenant"),
            pk=self.kwargs["application_pk"],
        )

    serializer_class = s.ScreeningResultSerializer

    @extend_schema(responses=s.ScreeningResultSerializer(many=True))
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        application = self.application()
        page = self.paginate_queryset(self.get_queryset().filter(application=application))
        # The country's people (whatever else they are) see that a screening ran, no more.
        serializer = (
            s.CountryScreeningSerializer
            if acts_as_country(request.user, application.tenant_id)
            else s.ScreeningResultSerializer
        )
        return self.get_paginated_response(serializer(page, many=True).data)

    @extend_schema(
        request=None,
        responses={
            202: s.ScreeningRequestedSerializer,
            403: OpenApiResponse(description="Not a compliance officer"),
        },
    )
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        application = self.application()
        if not access_for(request.user).has_programme_role(Role.COMPLIANCE_OFFICER):
            raise PermissionDenied("Only compliance officers can re-run a screening.")
        queued = screening_request(application=application, actor=request.user)
        return Response(
            {"detail": "Screening enqueued.", **queued}, status=status.HTTP_202_ACCEPTED
        )
