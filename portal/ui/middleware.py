"""Page-level presentation middleware."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class PortalNotFoundMiddleware:
    """With ``DEBUG`` (``make run``), Django answers a missing page with its technical 404,
    which lists the URLconf; people trying the portal should see the portal's own 404 page.
    The API keeps its JSON answers; without ``DEBUG`` Django already uses templates/404.html.
    Innermost in MIDDLEWARE, so the page knows the signed-in user for its navigation."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and response.get("Content-Type", "").startswith("text/html")
            and not request.path.startswith(("/api/", "/" + settings.STATIC_URL.lstrip("/")))
        ):
            return render(request, "404.html", status=404)
        return response
