"""access_for: every role a user holds, in one query, cached on the user for the request."""

from __future__ import annotations

import pytest

from portal.tenancy.access import access_for
from tests.factories import make_user, make_user_of_every_kind_of_role

pytestmark = pytest.mark.django_db


def test_roles_of_every_kind_in_one_query(jp, fr, django_assert_num_queries):
    user = make_user_of_every_kind_of_role(jp, fr)

    with django_assert_num_queries(1):
        access = access_for(user)
    assert access.programme_roles == {"reviewer", "auditor"}  # the ended role is gone
    assert access.tenant_roles == {jp.pk: {"official", "country_admin"}}
    assert access.tenant_codes == {jp.pk: "JP"}
    with django_assert_num_queries(0):
        assert access_for(user) is access


def test_no_roles_and_anonymous(django_assert_num_queries):
    user = make_user()
    with django_assert_num_queries(1):
        access = access_for(user)
    assert not access.programme_roles and not access.tenant_roles
    with django_assert_num_queries(0):
        assert access_for(None).programme_roles == frozenset()
