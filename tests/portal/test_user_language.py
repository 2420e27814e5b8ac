"""A person's language (``User.language``): set from their invitation and from the language
switcher while signed in, never to a code the portal does not speak; the e-mails the portal
writes to them (authenticator reset, password reset) are in it."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from partnerships.models import OutboxEmail
from portal.accounts import services
from tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough passphrase 42"


@pytest.fixture(autouse=True)
def _default_language_afterwards():
    """A request to a prefixed page leaves its language active in the thread (the locale
    middleware does not deactivate it); the tests after these must not run in Spanish."""
    yield
    translation.deactivate()


def _language(user) -> str:
    return get_user_model().objects.get(pk=user.pk).language


def test_a_new_person_reads_english_until_they_choose(client):
    reviewer = make_user("reviewer")
    assert _language(reviewer) == "en"


def test_switching_language_while_signed_in_is_stored(client):
    reviewer = make_user("reviewer")
    client.force_login(reviewer)
    answer = client.post("/i18n/setlang/", {"language": "ja", "next": "/review/"})
    assert answer.status_code == 302 and answer["Location"] == "/ja/review/"
    assert _language(reviewer) == "ja"
    # A code nobody speaks, or one Django knows but the portal does not: nothing stored,
    # no server error.
    for code in ("xx", "de", "", "ja" * 10):
        answer = client.post("/i18n/setlang/", {"language": code, "next": "/review/"})
        assert answer.status_code == 302, code
        assert _language(reviewer) == "ja", code
    assert client.post("/i18n/setlang/", {"language": "ar", "next": ""}).status_code == 302
    assert _language(reviewer) == "ar"


def test_switching_language_signed_out_stores_nothing(client):
    answer = client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert answer.status_code == 302 and answer["Location"] == "/fr/"


def test_the_service_refuses_a_language_the_portal_does_not_speak():
    reviewer = make_user("reviewer")
    with pytest.raises(ValidationError):
        services.user_language_set(user=reviewer, language="de")
    assert _language(reviewer) == "en"
    services.user_language_set(user=reviewer, language="es")
    assert reviewer.language == "es" and _language(reviewer) == "es"


def test_accepting_an_invitation_in_french_sets_the_language(fr):
    admin = make_user("platform_admin", username="platform-admin")
    _invitation, token = services.invitation_create(
        actor=admin, email="marie@example.fr", role="country_admin", tenant=fr, language="fr"
    )
    user = services.invitation_accept(token=token, username="marie", password=PASSWORD)
    assert _language(user) == "fr"


def test_an_existing_person_taking_another_role_reads_the_invitation_language(jp):
    admin = make_user("platform_admin", username="platform-admin")
    reviewer = make_user("reviewer", username="rev")
    reviewer.set_password(PASSWORD)
    reviewer.save()
    _invitation, token = services.invitation_create(
        actor=admin, email=reviewer.email, role="approver", tenant=None, language="ja"
    )
    services.invitation_accept(token=token, username="rev", password=PASSWORD)
    assert _language(reviewer) == "ja"


@pytest.mark.parametrize(
    ("language", "subject", "prefix"),
    [
        ("ja", "2 段階サインインを設定し直してください", "/ja/accounts/2fa/enrol/"),
        ("en", "Set up two-step sign-in again", "/accounts/2fa/enrol/"),
    ],
)
def test_the_authenticator_reset_mail_is_in_the_persons_language(language, subject, prefix):
    admin = make_user("platform_admin", username="platform-admin")
    reviewer = make_user("reviewer", username="rev")
    services.user_language_set(user=reviewer, language=language)
    token = services.otp_reset(user=reviewer, actor=admin)
    mail = OutboxEmail.objects.get(to=reviewer.email)
    assert mail.subject == subject
    assert re.search(r"https?://[^/\s]+(/\S+)", mail.body).group(1) == f"{prefix}{token}/"
    if language == "ja":
        assert "認証デバイスがリセットされました" in mail.body
    # The shell's reset writes the same mail.
    OutboxEmail.objects.all().delete()
    services.otp_reset_by_operator(user=reviewer)
    assert OutboxEmail.objects.get(to=reviewer.email).subject == subject


def test_the_password_reset_mail_is_in_the_accounts_language():
    reviewer = make_user("reviewer", username="rev")
    services.user_language_set(user=reviewer, language="es")
    # Asked for from an English page: the mail is in the account's language.
    answer = Client().post("/accounts/password/reset/", {"email": reviewer.email})
    assert answer.status_code == 302
    mail = OutboxEmail.objects.get(to=reviewer.email)
    assert mail.subject == "Restablezca su contraseña del Portal de Asociaciones con Países"
    assert "Alguien pidió restablecer la contraseña de la cuenta rev" in mail.body
    link = re.search(r"/es/accounts/password/reset/[^/]+/[^/]+/", mail.body)
    assert link is not None
    assert Client().get(link.group(0), follow=True).status_code == 200
