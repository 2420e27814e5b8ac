"""Baselines of the benchmark, served only by the minimal stack (``bench.minimal_settings``).

Each same-work view is what a DRF tutorial would write for the endpoint: a generic view, a
queryset with the needed joins, the portal's own serializer and paginator, no scoping, no
portal layer. Mounted at the portal's paths so that the JSON bytes (next links included)
are identical; the harness checks they are before it measures.
"""

from typing import Any

from django.urls import path
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from partnerships.api import ApplicationFilter
from partnerships.models import CountryApplication
from partnerships.serializers import ApplicationSerializer
from portal.api.pagination import CursorPagination


class Noop(APIView):
    def get(self, request: Request) -> Response:
        return Response({"ok": True})


APPLICATIONS = CountryApplication.objects.select_related("tenant").prefetch_related("sites")


class ApplicationList(generics.ListAPIView):
    queryset = APPLICATIONS
    serializer_class = ApplicationSerializer
    pagination_class = CursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = ApplicationFilter

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "internal": True}


class ApplicationDetail(generics.RetrieveAPIView):
    queryset = APPLICATIONS
    serializer_class = ApplicationSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "internal": True}


urlpatterns = [
    path("api/bench/noop/", Noop.as_view()),
    path("api/v1/applications/", ApplicationList.as_view()),
    path("api/v1/applications/<int:pk>/", ApplicationDetail.as_view()),
]
