"""An invitation is written in the invitee's language, and its link opens the portal in it."""

from __future__ import annotations

import re

import pytest

from partnerships.models import OutboxEmail
from portal.accounts import services
from portal.accounts.models import Invitation
from portal.audit.models import AuditEvent
from tests.factories import make_user

pytestmark = pytest.mark.django_db

JA_SUBJECT = "国別パートナーシップ・ポータルへの招待"


def _link(body: str) -> str:
    return re.search(r"https?://[^/\s]+(/\S*accounts/invitation/[A-Za-z0-9_-]+/)", body).group(1)


def test_the_inviter_chooses_the_language_and_the_link_opens_in_it(client, jp):
    jp_admin = make_user("country_admin", jp, "jp-admin")
    client.force_login(jp_admin)
    form = client.get("/ja/people/").content.decode()
    # The inviter's own language is preselected; each language is named in itself.
    assert re.search(r'<option value="ja" selected>日本語</option>', form)
    assert '<option value="ar">العربيّة</option>' in form
    sent = client.post("/ja/people/invite/", {"email": "kenji@example.jp", "role": "official",
                                              "tenant": "JP", "language": "ja"})  # fmt: skip
    assert sent.status_code == 302
    invitation = Invitation.objects.get()
    assert invitation.language == "ja"
    mail = OutboxEmail.objects.get()
    assert mail.subject == JA_SUBJECT
    assert "jp-admin" in mail.body
    link = _link(mail.body)
    assert link.startswith("/ja/accounts/invitation/")
    client.logout()
    page = client.get(link)
    assert page.status_code == 200 and '<html lang="ja"' in page.content.decode()
    # The event says which language the invitation went out in.
    assert AuditEvent.objects.get(verb="user.invited").changes["language"] == "ja"
    # Sent again: a new link, the same language.
    client.force_login(jp_admin)
    assert client.post(f"/people/invitations/{invitation.pk}/resend/").status_code == 302
    again = OutboxEmail.objects.latest("id")
    assert again.subject == JA_SUBJECT and _link(again.body).startswith("/ja/")
    assert _link(again.body) != link


def test_without_a_choice_the_country_language_is_used(api, jp, fr):
    platform_admin = make_user("platform_admin", username="platform-admin")
    api.as_user(platform_admin)
    for code, email in (("FR", "a@example.fr"), ("JP", "b@example.jp")):
        body = {"email": email, "role": "country_admin", "tenant": code}
        answer = api.post("/api/v1/invitations/", body, format="json")
        assert answer.status_code == 201, answer.json()
    assert dict(Invitation.objects.values_list("tenant__code", "language")) == {
        "FR": "fr",
        "JP": "ja",
    }
    french = OutboxEmail.objects.get(to="a@example.fr")
    assert french.subject == "Invitation au Portail des partenariats avec les pays"
    assert _link(french.body).startswith("/fr/")
    # A programme role has no country: the portal's default language, no prefix.
    answer = api.post("/api/v1/invitations/", {"email": "c@example.org", "role": "approver"},
                      format="json")  # fmt: skip
    assert answer.status_code == 201 and answer.json()["language"] == "en"
    english = OutboxEmail.objects.get(to="c@example.org")
    assert english.subject == "Invitation to the Country Partnership Portal"
    assert _link(english.body).startswith("/accounts/invitation/")


def test_a_language_the_portal_does_not_speak_is_refused(api, client, jp):
    jp_admin = make_user("country_admin", jp, "jp-admin")
    body = {"email": "x@example.jp", "role": "official", "tenant": "JP", "language": "sw"}
    answer = api.as_user(jp_admin).post("/api/v1/invitations/", body, format="json")
    assert answer.status_code == 400 and "language" in answer.json()
    client.force_login(jp_admin)
    page = client.post("/people/invite/", body)
    assert page.status_code == 400 and b'aria-invalid="true"' in page.content
    with pytest.raises(services.ValidationError) as refused:
        services.invitation_create(actor=jp_admin, email="x@example.jp", role="official",
                                   tenant=jp, language="sw")  # fmt: skip
    assert "language" in refused.value.message_dict
    assert not Invitation.objects.exists() and not OutboxEmail.objects.exists()
