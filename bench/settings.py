"""Benchmark settings: the portal's, on its own database (``portal_bench``)."""

from portal.settings import *  # noqa: F403
from portal.settings import DATABASE_APP, DATABASES

BENCH_DATABASE = "portal_bench"
DATABASES["default"]["NAME"] = BENCH_DATABASE
DATABASE_APP["NAME"] = BENCH_DATABASE
ROOT_URLCONF = "bench.urls"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# The benchmark logs users in thousands of times; argon2 would measure the hasher.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Sessions are made with force_login; the second factor is a sign-in step, not per request.
PORTAL_STAFF_2FA = "off"
