"""The people page's invitation actions (revoke, resend: one shared body in
portal/accounts/views.py) and the one ``role_label`` filter (portal.tenancy.roles)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.template import Context, Template
from django.utils import translation

from portal.accounts import services
from portal.accounts.models import Invitation
from portal.audit.models import AuditEvent
from portal.tenancy.roles import role_label
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def _last_message(response: Any) -> str:
    return [str(m) for m in get_messages(response.wsgi_request)][-1]


def test_resend_then_revoke_on_the_page_and_the_refusals_are_messages(client, jp, fr):
    jp_admin = make_user("country_admin", jp, "jp-admin")
    invitation, _token = services.invitation_create(
        actor=jp_admin, email="x@example.jp", role="official", tenant=jp
    )
    client.force_login(jp_admin)
    resent = client.post(f"/people/invitations/{invitation.pk}/resend/")
    assert resent.status_code == 302 and resent["Location"] == "/people/"
    assert _last_message(resent) == "A new link was sent; the old one no longer works."
    revoked = client.post(f"/people/invitations/{invitation.pk}/revoke/")
    assert _last_message(revoked) == "Invitation revoked."
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is not None
    again = client.post(f"/people/invitations/{invitation.pk}/resend/")
    assert again.status_code == 302
    assert _last_message(again) == "This invitation is no longer open."
    verbs = AuditEvent.objects.filter(verb__startswith="invitation.").order_by("id")
    assert list(verbs.values_list("verb", flat=True)) == ["invitation.resent", "invitation.revoked"]
    # Another country's admin finds neither action's invitation.
    client.force_login(make_user("country_admin", fr, "fr-admin"))
    for action in ("resend", "revoke"):
        assert client.post(f"/people/invitations/{invitation.pk}/{action}/").status_code == 404


def test_role_label_has_one_home_and_every_page_has_it():
    assert role_label("approver") == "Approver"
    assert role_label("screening") == "screening"  # not a role: shown as it is
    with translation.override("fr"):  # a builtin: no {% load %} needed, in any template
        rendered = Template("{{ role|role_label }}").render(Context({"role": "auditor"}))
        assert rendered == role_label("auditor") != "Auditor"
