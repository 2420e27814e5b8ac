"""Platform admins' changes in Django's admin are audited."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from portal.audit.models import AuditEvent
from portal.tenancy.models import Membership
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_admin_changes_are_audited(client, jp):
    admin_user = make_user("platform_admin", username="ops-admin")
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    response = client.post(
        "/admin/tenancy/tenant/add/",
        {"code": "NO", "name": "Norway", "languages": "no", "status": "active"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = AuditEvent.objects.get(verb="admin.created")
    assert created.actor == admin_user and created.object_type == "tenancy.tenant"
    assert created.changes["code"] == {"before": None, "after": "NO"}
    group = Group.objects.create(name="unused")
    response = client.post(f"/admin/auth/group/{group.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    deleted = AuditEvent.objects.get(verb="admin.deleted")
    assert deleted.object_id == str(group.pk) and deleted.object_type == "auth.group"
    # Roles come by invitation only: the admin cannot add, change or delete them.
    member = make_user(username="someone")
    membership = Membership.objects.create(user=member, tenant=jp, role="official")
    response = client.post(f"/admin/tenancy/membership/{membership.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Membership.objects.filter(pk=membership.pk).exists()
