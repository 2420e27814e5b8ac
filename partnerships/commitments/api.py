"""Commitments API (DESIGN §5). Thin: parse, call a service or selector, serialize."""

from __future__ import annotations

from typing import Any

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from partnerships.commitments import serializers as s
from partnerships.commitments.payments import tranche_mark_paid
from partnerships.commitments.permissions import (
    require_confirmer,
    require_creator,
    require_official,
    require_payer,
    resolve_tenant,
)
from partnerships.commitments.services import (
    commitment_confirm,
    commitment_create,
    commitment_update,
    commitment_withdraw,
)
from partnerships.commitments.totals import commitment_totals
from partnerships.models import CoInvestmentCommitment
from portal.api.viewsets import TenantScopedViewSet


class CommitmentFilter(django_filters.FilterSet):
    country = django_filters.CharFilter(field_name="tenant__code", lookup_expr="iexact")
    vehicle = django_filters.MultipleChoiceFilter(
        choices=CoInvestmentCommitment.Vehicle.choices, distinct=False
    )
    status = django_filters.MultipleChoiceFilter(
        choices=CoInvestmentCommitment.Status.choices, distinct=False
    )

    class Meta:
        model = CoInvestmentCommitment
        fields = ["country", "vehicle", "status"]


class CommitmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    queryset = CoInvestmentCommitment.objects.select_related("tenant").prefetch_related("tranches")
    serializer_class = s.CommitmentSerializer
    filterset_class = CommitmentFilter
    lookup_value_regex = r"\d+"

    def _reloaded(self, pk: int) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(request=s.CommitmentWriteSerializer, responses={201: s.CommitmentSerializer})
    def create(self, request: Request) -> Response:
        require_creator(request.user)  # the role before the body: 403, not 400
        body = s.CommitmentWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tenant = resolve_tenant(actor=request.user, tenant_code=body.validated_data.get("tenant"))
        commitment = commitment_create(
            actor=request.user, tenant=tenant, data=body.validated_data_for_service()
        )
        response = self._reloaded(commitment.pk)
        response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(request=s.CommitmentWriteSerializer, responses=s.CommitmentSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        commitment = self.get_object()
        require_official(request.user, commitment.tenant_id)
        body = s.CommitmentWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        if "tenant" in body.validated_data:
            return Response(
                {"tenant": ["A commitment cannot move to another country."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        commitment = commitment_update(
            commitment=commitment,
            actor=request.user,
            version=body.validated_data.get("version"),
            data=body.validated_data_for_service(),
        )
        return self._reloaded(commitment.pk)

    def _at_version(self, request: Request, check: Any, service: Any) -> Response:
        """A state change that names the version it saw: role first (403), then the body."""
        commitment = self.get_object()
        check(request.user, commitment.tenant_id)
        body = s.VersionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        service(commitment=commitment, actor=request.user, version=body.validated_data["version"])
        return self._reloaded(commitment.pk)

    @extend_schema(request=s.VersionSerializer, responses=s.CommitmentSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        return self._at_version(request, require_confirmer, commitment_confirm)

    @extend_schema(request=s.VersionSerializer, responses=s.CommitmentSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        return self._at_version(request, require_official, commitment_withdraw)

    @extend_schema(request=s.PaySerializer, responses=s.CommitmentSerializer)
    @action(detail=True, methods=["post"], url_path=r"tranches/(?P<tranche_id>\d+)/pay")
    def pay(
        self, request: Request, pk: str | None = None, tranche_id: str | None = None
    ) -> Response:
        commitment = self.get_object()
        require_payer(request.user, commitment.tenant_id)
        tranche = get_object_or_404(commitment.tranches.all(), pk=tranche_id)
        body = s.PaySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tranche_mark_paid(
            commitment=commitment,
            tranche_id=tranche.pk,
            actor=request.user,
            payment_reference=body.validated_data["payment_reference"],
            version=body.validated_data.get("version"),
        )
        return self._reloaded(commitment.pk)

    @extend_schema(responses=s.TotalsSerializer)
    @action(detail=False, methods=["get"])
    def totals(self, request: Request) -> Response:
        """USD totals by country, vehicle and status of the commitments you may see (list filters apply)."""
        queryset = self.filter_queryset(self.get_queryset())
        return Response(s.TotalsSerializer(commitment_totals(queryset)).data)
