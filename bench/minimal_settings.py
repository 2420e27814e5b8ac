"""The minimal stack: the baseline server of the benchmark (never a deployment).

The same code, models and database as the portal server, with none of the portal's layers:
no middleware at all, token authentication only, DRF's own ``IsAuthenticated``, no
Row-Level Security scope per request (connections keep the ``all`` scope they open with, as
a task's do). ``bench.minimal_urls`` serves a no-op view and, at the portal's own paths,
plain DRF views that return the same rows as the same JSON bytes.
"""

from bench.settings import *  # noqa: F403
from bench.settings import DATABASE_WORKER, DATABASES, REST_FRAMEWORK

# Like a task's connection: the worker role, whose programme-wide scope PostgreSQL honours
# without a claim (docs/rls.md). gunicorn would otherwise log in as the web role.
for _key in ("USER", "PASSWORD", "HOST", "PORT"):
    DATABASES["default"][_key] = DATABASE_WORKER[_key]  # type: ignore[literal-required]

# Django's own backend: the portal's C timestamp loader (portal.postgresql) is one of its layers.
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"  # type: ignore[literal-required]

ROOT_URLCONF = "bench.minimal_urls"
MIDDLEWARE: list[str] = []
PORTAL_BROWSER_ONLY_MIDDLEWARE: list[str] = []  # nothing to skip (portal.handlers)
# The token library the portal's own class extends, without the portal's additions.
TOKEN_AUTHENTICATION = "knox.auth.TokenAuthentication"
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_AUTHENTICATION_CLASSES": [TOKEN_AUTHENTICATION],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "rest_framework.views.exception_handler",
}
