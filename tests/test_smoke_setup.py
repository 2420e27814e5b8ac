import pytest
from django.conf import settings
from django.db import connection


@pytest.mark.django_db
def test_tests_run_as_the_worker_role() -> None:
    """Test code acts like a command: the worker role (DATABASE_WORKER_URL, else the one
    application role). tests/portal/test_scope_widening.py covers the web role."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        user, superuser = cursor.fetchone()
    assert user == settings.DATABASE_WORKER["USER"]
    assert user in {"portal_app", "portal_worker"}
    assert superuser is False
