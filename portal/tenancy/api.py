from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import mixins
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from portal.accounts.serializers import TenantSerializer
from portal.api.viewsets import TenantScopedViewSet
from portal.tenancy.access import access_for
from portal.tenancy.models import Tenant
from portal.tenancy.roles import Role
from portal.tenancy.services import tenant_create


class TenantViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, TenantScopedViewSet):
    """The countries the caller may see; a platform admin adds one (with no people yet)."""

    queryset = Tenant.objects.all()
    serializer_class = TenantSerializer
    pagination_class = None  # tens of countries, listed whole
    lookup_field = "code"

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not access_for(request.user).has_programme_role(Role.PLATFORM_ADMIN):
            raise PermissionDenied(_("Only a platform administrator can add a country."))
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        serializer.instance = tenant_create(
            code=data["code"], name=data["name"], languages=data.get("languages", []),
            time_zone=data.get("time_zone", ""), actor=self.request.user,
        )  # fmt: skip
