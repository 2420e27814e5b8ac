"""One home per rule (issue #13, item 3): mail recipients, the conflict-of-interest rule,
enqueueing with a logged broker failure."""

from __future__ import annotations

import logging

import kombu.exceptions
import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from partnerships.notifications import holders_of, officials_by_tenant, officials_of
from portal.queue import enqueue_or_log
from portal.tenancy.access import access_for, without_conflicted_users
from portal.tenancy.models import Membership
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def _with_email(user, email):
    user.email = email
    user.save(update_fields=["email"])
    return user


def test_officials_of_one_country_and_of_many_agree(jp, fr, django_assert_num_queries):
    """The single and the batch selectors read the same people: active officials and country
    admins with an address, not an ended membership (the batch form once mailed them)."""
    _with_email(make_user("official", jp, "o-jp"), "o@jp.example")
    _with_email(make_user("country_admin", jp, "a-jp"), "a@jp.example")
    ended = _with_email(make_user("official", jp, "gone-jp"), "gone@jp.example")
    Membership.objects.filter(user=ended).update(ended_at=timezone.now())
    inactive = _with_email(make_user("official", jp, "off-jp"), "off@jp.example")
    get_user_model().objects.filter(pk=inactive.pk).update(is_active=False)
    _with_email(make_user("official", jp, "no-mail-jp"), "")  # no address: nothing to send
    _with_email(make_user("official", fr, "o-fr"), "o@fr.example")
    _with_email(make_user("reviewer", username="rev"), "rev@us.example")

    with django_assert_num_queries(1):
        single = officials_of(jp.pk)
    with django_assert_num_queries(1):
        many = officials_by_tenant([jp.pk, fr.pk])
    assert sorted(single) == many[jp.pk] == ["a@jp.example", "o@jp.example"]
    assert many[fr.pk] == ["o@fr.example"]
    assert holders_of("reviewer") == ["rev@us.example"]


def test_conflict_of_interest_is_one_rule_for_a_person_and_for_a_list(jp, fr):
    """``Access.conflicted`` and ``without_conflicted_users`` say the same of every person:
    an active membership in the country conflicts; an ended one, or another country's, not."""
    member = make_user("reviewer", username="rev-member")
    Membership.objects.create(user=member, tenant=jp, role="official")
    former = make_user("reviewer", username="rev-former")
    Membership.objects.create(user=former, tenant=jp, role="official", ended_at=timezone.now())
    elsewhere = make_user("reviewer", username="rev-fr")
    Membership.objects.create(user=elsewhere, tenant=fr, role="official")
    plain = make_user("reviewer", username="rev-plain")
    people = [member, former, elsewhere, plain]

    listed = set(
        without_conflicted_users(
            get_user_model().objects.filter(pk__in=[p.pk for p in people]), jp.pk
        ).values_list("username", flat=True)
    )
    assert listed == {"rev-former", "rev-fr", "rev-plain"}
    assert {p.username for p in people if not access_for(p).conflicted(jp.pk)} == listed


class _BrokerDown:
    """A task whose broker refuses the message, as kombu reports a Redis outage."""

    def delay(self, *args):
        raise kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:1. Refused.")


class _Recorder:
    def __init__(self):
        self.calls = []

    def delay(self, *args):
        self.calls.append(args)


def test_enqueue_or_log_sends_or_logs_and_never_raises(caplog):
    sent = _Recorder()
    assert enqueue_or_log(sent, 7, 2, what="screening of application 7 v2", recovered_by="x")
    assert sent.calls == [(7, 2)]
    with caplog.at_level(logging.ERROR, logger="portal.queue"):
        assert not enqueue_or_log(
            _BrokerDown(), 7, what="screening of application 7 v2", recovered_by="the sweep"
        )
    assert "screening of application 7 v2 not enqueued; the sweep will pick it up" in caplog.text
