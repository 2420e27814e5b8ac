"""Benchmark settings of the portal server: the production settings on the bench database.

``make bench`` serves these with gunicorn (2 sync workers, ``DEBUG`` off). Differences from
production, each because the benchmark would otherwise measure something else:
``bench.urls`` adds one no-op endpoint behind the portal's whole stack (never in
``portal.urls``); throttling is off (a load generator is one user sending thousands of
requests); no redirect to HTTPS (TLS ends at the proxy in front); the second factor is off (sessions and tokens are made by the harness); the
password hasher is MD5 (the harness creates users, nobody signs in per request).
"""

import os

from portal.settings import *  # noqa: F403
from portal.settings import DATABASE_APP, DATABASES

BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "portal_bench")
DATABASES["default"]["NAME"] = BENCH_DATABASE
DATABASE_APP["NAME"] = BENCH_DATABASE
ROOT_URLCONF = "bench.urls"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PORTAL_STAFF_2FA = "off"
# The harness sends cookies over plain HTTP on loopback.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
# TLS ends at the proxy in front (docs/deploy.md); the harness speaks plain HTTP on loopback.
SECURE_SSL_REDIRECT = False
# The generated data sets are kept and reused by every checkout that runs the benchmark, so
# their audit chain is keyed with a fixed bench key, public and for generated data only
# (the development key in .data/ differs per checkout and would make a kept chain fail
# verification as "signed by an unknown key"), unless PORTAL_AUDIT_KEY is given.
if not PORTAL_AUDIT_KEY_CONFIGURED:  # noqa: F405
    PORTAL_AUDIT_KEY = b"portal-bench: a public key for generated benchmark data only"
