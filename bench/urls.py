"""The portal's URLs plus a bare DRF endpoint: the baseline every ratio is measured against."""

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.urls import urlpatterns as portal_urlpatterns


class Bare(APIView):
    """Authentication, permission check and JSON rendering: nothing else."""

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


urlpatterns = [path("bench/bare/", Bare.as_view()), *portal_urlpatterns]
