from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from portal.audit.models import AuditEvent
from portal.tenancy.models import Membership, ProgrammeRole
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_grant_and_revoke_a_country_role_are_audited(jp, capsys):
    user = make_user(username="someone")
    call_command("grant_role", "someone", "official", "--tenant", "jp")
    assert Membership.objects.filter(user=user, tenant=jp, role="official").exists()
    event = AuditEvent.objects.get(verb="role.granted")
    assert event.changes == {"role": "official", "tenant": "JP"}
    assert event.actor_label == "command:grant_role" and event.tenant == jp
    call_command("grant_role", "someone", "official", "--tenant", "JP")  # idempotent
    assert AuditEvent.objects.filter(verb="role.granted").count() == 1
    call_command("revoke_role", "someone", "official", "--tenant", "JP")
    assert not Membership.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(verb="role.revoked").count() == 1
    assert "no change" in capsys.readouterr().out


def test_grant_programme_role_and_platform_admin_gets_admin_access(db):
    user = make_user(username="ops")
    call_command("grant_role", "ops", "platform_admin")
    user.refresh_from_db()
    assert ProgrammeRole.objects.filter(user=user, role="platform_admin").exists()
    assert user.is_staff and user.is_superuser
    call_command("revoke_role", "ops", "platform_admin")
    user.refresh_from_db()
    assert not user.is_staff and not user.is_superuser


def test_create_reads_password_from_environment(jp, monkeypatch):
    monkeypatch.setenv("PORTAL_PASSWORD", "a long and unusual passphrase")
    call_command("grant_role", "new-official", "official", "--tenant", "JP", "--create")
    user = get_user_model().objects.get(username="new-official")
    assert user.check_password("a long and unusual passphrase")
    assert AuditEvent.objects.filter(verb="user.created").count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["someone", "emperor"], "Unknown role"),
        (["someone", "official"], "give --tenant"),
        (["someone", "official", "--tenant", "ZZ"], "Unknown country"),
        (["someone", "reviewer", "--tenant", "JP"], "programme-wide"),
        (["nobody", "reviewer"], "Unknown user"),
    ],
)
def test_bad_input_is_a_clear_error_and_changes_nothing(jp, args, message):
    make_user(username="someone")
    before = AuditEvent.objects.count()
    with pytest.raises(CommandError, match=message):
        call_command("grant_role", *args)
    with pytest.raises(CommandError, match=message):
        call_command("revoke_role", *args)
    assert not Membership.objects.exists() and not ProgrammeRole.objects.exists()
    assert AuditEvent.objects.count() == before


def test_create_with_bad_role_creates_no_user(jp, monkeypatch):
    monkeypatch.setenv("PORTAL_PASSWORD", "a long and unusual passphrase")
    with pytest.raises(CommandError, match="Unknown role"):
        call_command("grant_role", "ghost", "emperor", "--create")
    assert not get_user_model().objects.filter(username="ghost").exists()


def test_create_without_password_is_refused(jp, monkeypatch):
    monkeypatch.delenv("PORTAL_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="PORTAL_PASSWORD"):
        call_command("grant_role", "ghost", "official", "--tenant", "JP", "--create")


def test_users_are_never_deleted(db):
    user = make_user(username="keep")
    with pytest.raises(Exception, match="deactivated"):
        user.delete()
    user.pseudonymize()
    user.refresh_from_db()
    assert not user.is_active and user.email == "" and user.username == "keep"
