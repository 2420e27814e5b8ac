"""The web process's WSGI handler: Django's, with a shorter middleware chain for API requests
that carry a token.

Why: an API client authenticated by its token has no browser session, so the middleware that
serve one (sessions, CSRF, the session's user, the idle clock, the second-factor pages,
messages, static files, the HTML 404) only cost it time: about a tenth of a no-op request
(#16, bench/README.md). Django builds one chain from ``MIDDLEWARE``; nothing in Django or a
maintained library routes a request to a second one, hence this module.

Which requests: a path under ``/api/`` whose ``Authorization`` header names the ``Token``
scheme (knox's, ``REST_KNOX["AUTH_HEADER_PREFIX"]``), valid or not (a bad token is DRF's
401 either way). Everything else, a session's API call included, takes the whole chain.

What the short chain keeps: every other middleware of ``MIDDLEWARE``, in its order (JSON
errors, security headers and CSP, the request id, the body limit, the language, the request's
Row-Level Security scope and the ``no-store`` header, clickjacking, axes). It skips
``PORTAL_BROWSER_ONLY_MIDDLEWARE``, each of which must be in ``MIDDLEWARE`` and may add no
hook Django registers separately (``process_view``, ``process_template_response``,
``process_exception``) but CSRF's ``process_view``, which returns at once for DRF's views
(``csrf_exempt``); ``load_middleware`` refuses anything else.

The ASGI application (``portal.asgi``) keeps Django's own handler; the benchmark and the
deployment serve WSGI (gunicorn).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, MiddlewareNotUsed
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

# The one separately registered hook a skipped middleware may have: CSRF's process_view,
# which returns None for a csrf_exempt view (every DRF view is one).
_HOOKS_ALLOWED = {("django.middleware.csrf.CsrfViewMiddleware", "process_view")}
_HOOKS = ("process_view", "process_template_response", "process_exception")


def is_token_api(request: HttpRequest) -> bool:
    """An API request whose ``Authorization`` header names the token scheme."""
    if not request.path_info.startswith("/api/"):
        return False
    scheme = request.META.get("HTTP_AUTHORIZATION", "").split(None, 1)
    return (
        bool(scheme) and scheme[0].lower() == str(settings.REST_KNOX["AUTH_HEADER_PREFIX"]).lower()
    )


def token_api_middleware() -> list[str]:
    """``MIDDLEWARE`` without ``PORTAL_BROWSER_ONLY_MIDDLEWARE``, in order.

    Raises ImproperlyConfigured for a skipped entry that is not in ``MIDDLEWARE`` or that
    has a hook the short chain would still run without its own request processing.
    """
    skipped = list(settings.PORTAL_BROWSER_ONLY_MIDDLEWARE)
    for path in skipped:
        if path not in settings.MIDDLEWARE:
            raise ImproperlyConfigured(
                f"PORTAL_BROWSER_ONLY_MIDDLEWARE: {path} is not in MIDDLEWARE"
            )
        middleware = import_string(path)
        for hook in _HOOKS:
            if hasattr(middleware, hook) and (path, hook) not in _HOOKS_ALLOWED:
                raise ImproperlyConfigured(
                    f"PORTAL_BROWSER_ONLY_MIDDLEWARE: {path} has {hook}, which Django would "
                    "still call for requests that skip it"
                )
    return [path for path in settings.MIDDLEWARE if path not in skipped]


class TokenApiRouting(BaseHandler):
    """Loads Django's chain, then a second one without the browser-only middleware, and
    sends each request down one of them (``is_token_api``). A mixin for any handler class:
    the WSGI handler below, and the test client's in the tests."""

    _get_response: Callable[[HttpRequest], HttpResponse]  # BaseHandler's (not in the stubs)
    _middleware_chain: Callable[[HttpRequest], Any] | None

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async)
        whole = self._middleware_chain
        if is_async or whole is None:  # the short chain is for synchronous serving only
            return
        short = self._short_chain(token_api_middleware())

        def route(request: HttpRequest) -> HttpResponse:
            return (short if is_token_api(request) else whole)(request)

        self._middleware_chain = route

    def _short_chain(self, paths: list[str]) -> Callable[[HttpRequest], Any]:
        # Django's own construction (BaseHandler.load_middleware) for synchronous middleware:
        # each wraps the next, innermost the view; the separately registered hooks are the
        # whole chain's, loaded above.
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(paths):
            try:
                instance = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            handler = convert_exception_to_response(instance)
        return handler


class PortalWSGIHandler(TokenApiRouting, WSGIHandler):
    """``portal.wsgi.application``."""
