"""Test set-up: the test database is created and migrated as the owner role, then every test
runs as the application role, exactly as the portal does in production."""

from __future__ import annotations

import pytest
from django.test.utils import setup_databases, teardown_databases

from portal.ops.owner import as_owner

pytest_plugins = ["tests.factories"]


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment: None, django_db_blocker: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        with as_owner():
            config = setup_databases(verbosity=0, interactive=False, keepdb=False)
        # as_owner restores the application role's credentials, now on the test database.
    yield
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        with as_owner():
            teardown_databases(config, verbosity=0)
