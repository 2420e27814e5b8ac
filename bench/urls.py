"""The portal server's URLs in the benchmark: the production URLconf plus one no-op endpoint
that runs the portal's whole request stack (middleware, authentication, permission and the
Row-Level Security scope) and then does nothing. Served only with ``bench.settings``."""

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.urls import urlpatterns as portal_urlpatterns


class PortalNoop(APIView):
    """The portal's default authentication and permission classes, then nothing."""

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


urlpatterns = [path("api/bench/noop/", PortalNoop.as_view()), *portal_urlpatterns]
