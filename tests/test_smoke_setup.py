import pytest
from django.db import connection


@pytest.mark.django_db
def test_tests_run_as_the_application_role() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        user, superuser = cursor.fetchone()
    assert user == "portal_app"
    assert superuser is False
