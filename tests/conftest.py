"""Test set-up: the test database is created and migrated as the owner role, then every test
runs as the application role, exactly as the portal does in production."""

from __future__ import annotations

import pytest
from django.test.utils import setup_databases, teardown_databases

from portal.ops.owner import as_owner

pytest_plugins = ["tests.factories", "tests.verb_coverage"]


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment: None, django_db_blocker: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock(), as_owner():  # type: ignore[attr-defined]
        config = setup_databases(verbosity=0, interactive=False, keepdb=False)
        # as_owner restores the application role's credentials, now on the test database.
    yield
    with django_db_blocker.unblock(), as_owner():  # type: ignore[attr-defined]
        teardown_databases(config, verbosity=0)


@pytest.fixture(scope="session", autouse=True)
def _media_root(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Uploaded files and audit checkpoints of the tests go to a temporary folder, never to
    the checkout's .data/ (where a local `make run` keeps its own)."""
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


@pytest.fixture(scope="session", autouse=True)
def _programme_scope_between_requests():  # type: ignore[no-untyped-def]
    """After each request the portal resets the connection's scope to none; the test code
    that goes on using the test client's connection acts for the whole programme (like a
    command). tests/portal/test_rls_streaming.py switches this off to see the reset."""
    from portal.tenancy import rls

    rls.AFTER_REQUEST_SCOPE = rls.SCOPE_ALL
    yield
    rls.AFTER_REQUEST_SCOPE = rls.SCOPE_NONE


@pytest.fixture(autouse=True)
def _programme_scope_at_start() -> None:
    """Each test starts like a command: programme-wide (what a test left on the connection
    object, e.g. a country's scope, is not carried into the next; portal.tenancy.rls)."""
    from portal.tenancy import rls

    rls.apply_scope(rls.SCOPE_ALL)


@pytest.fixture(autouse=True)
def _own_checkpoints(settings) -> None:  # type: ignore[no-untyped-def]
    """Each test starts with no audit checkpoint (they anchor ids of its own database)."""
    import uuid

    settings.PORTAL_AUDIT_CHECKPOINT_DIR = f"audit-checkpoints/{uuid.uuid4().hex}"


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Throttle counters live in the Redis cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()
