"""Transition notices are written in each recipient's language (``User.language``): the
message is rendered once per language among its recipients, and reading the languages costs
no query of its own (the single and the batch paths make exactly as many as before)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone, translation

from partnerships.models import CountryApplication, Decision, Obligation, OutboxEmail, State
from partnerships.notifications import (
    official_recipients,
    official_recipients_by_tenant,
    officials_by_tenant,
    officials_of,
    queue_for_transition,
    queue_for_transitions,
    queue_in_languages,
    role_recipients,
)
from partnerships.services import application_assign, mark_overdue_work
from partnerships.workflow import public_state
from tests.factories import create_application, make_user

pytestmark = pytest.mark.django_db

JA_REVIEW = "審査中"


def _speaking(user, language: str):
    get_user_model().objects.filter(pk=user.pk).update(language=language)
    user.language = language
    return user


def _move(application: CountryApplication, action: str = "screen") -> Decision:
    """An unsaved decision: screening cleared, into technical review."""
    return Decision(
        application=application, action=action, from_state=State.SCREENING,
        to_state=State.TECHNICAL_REVIEW, actor_label="screening", role="screening",
        application_version=application.version,
    )  # fmt: skip


@pytest.fixture
def people(jp, fr, official_jp):
    return {
        "official_jp": _speaking(official_jp, "ja"),
        "admin_jp": make_user("country_admin", jp, "admin-jp"),  # English
        "official_fr": _speaking(make_user("official", fr, "official-fr"), "fr"),
        "reviewer": make_user("reviewer", username="reviewer"),  # English
        "reviewer_es": _speaking(make_user("reviewer", username="reviewer-es"), "es"),
    }


def _mail(user) -> OutboxEmail:
    return OutboxEmail.objects.get(to=user.email)


def _loaded(application: CountryApplication) -> CountryApplication:
    return CountryApplication.objects.select_related("tenant").get(pk=application.pk)


def _assert_languages(people, application: CountryApplication) -> None:
    ref = application.reference
    with translation.override("ja"):
        assert public_state(State.TECHNICAL_REVIEW) == JA_REVIEW
    japanese = _mail(people["official_jp"])
    assert japanese.subject == f"[{ref}] {JA_REVIEW}"
    assert japanese.body == f"申請 {ref}（{application.title}）: {JA_REVIEW}。"
    english = _mail(people["admin_jp"])
    with translation.override("en"):
        under_review = public_state(State.TECHNICAL_REVIEW)
    assert english.subject == f"[{ref}] {under_review}"
    assert english.body == f"Application {ref} ({application.title}): {under_review}."
    reviewer = _mail(people["reviewer"])
    assert reviewer.subject == f"[{ref}] waiting for Technical reviewer"
    assert reviewer.body == f"Application {ref} (JP) entered Technical review."
    assert _mail(people["reviewer_es"]).subject.startswith(f"[{ref}] en espera de: ")


def test_the_single_path_writes_to_each_in_their_language(
    people, official_jp, jp, django_assert_num_queries
):
    application = _loaded(create_application(official_jp, jp))
    OutboxEmail.objects.all().delete()
    # Officials (1) and their e-mails (1); reviewers (1) and theirs (1): as before languages.
    with django_assert_num_queries(4):
        queue_for_transition(application, _move(application))
    _assert_languages(people, application)
    assert OutboxEmail.objects.count() == 4


def test_the_batch_path_writes_to_each_in_their_language(
    people, official_jp, jp, fr, django_assert_num_queries
):
    in_jp = _loaded(create_application(official_jp, jp))
    in_fr = _loaded(create_application(people["official_fr"], fr))
    OutboxEmail.objects.all().delete()
    # Officials of both countries (1), reviewers once (1), every e-mail (1): as before.
    with django_assert_num_queries(3):
        queue_for_transitions([(in_jp, _move(in_jp)), (in_fr, _move(in_fr))])
    ref_jp, ref_fr = in_jp.reference, in_fr.reference
    assert _mail(people["official_jp"]).subject == f"[{ref_jp}] {JA_REVIEW}"
    assert _mail(people["admin_jp"]).body.startswith(f"Application {ref_jp} (")
    assert _mail(people["official_fr"]).body.startswith(f"Demande {ref_fr} (")
    staff = dict(
        OutboxEmail.objects.filter(to=people["reviewer"].email).values_list("subject", "body")
    )
    assert staff == {
        f"[{ref_jp}] waiting for Technical reviewer": f"Application {ref_jp} (JP) entered "
        "Technical review.",
        f"[{ref_fr}] waiting for Technical reviewer": f"Application {ref_fr} (FR) entered "
        "Technical review.",
    }
    spanish = OutboxEmail.objects.filter(to=people["reviewer_es"].email)
    assert sorted(m.body for m in spanish) == sorted(
        f"La solicitud {ref} ({code}) pasó a la etapa «Revisión técnica»."
        for ref, code in ((ref_jp, "JP"), (ref_fr, "FR"))
    )
    assert OutboxEmail.objects.count() == 2 + 1 + 2 * 2


def test_a_message_is_rendered_once_per_language_not_per_recipient():
    rendered: list[str] = []

    def message() -> tuple[str, str]:
        rendered.append(translation.get_language())
        return "subject", "body"

    queue_in_languages(
        [("a@x.example", "ja"), ("b@x.example", "en"), ("c@x.example", "ja"),
         ("d@x.example", "sw")],  # a code the portal does not speak: its default language
        message,
    )  # fmt: skip
    assert sorted(rendered) == ["en", "ja"]
    assert OutboxEmail.objects.count() == 4


def test_recipients_with_languages_are_the_same_people(people, jp, fr, django_assert_num_queries):
    with django_assert_num_queries(1):
        single = official_recipients(jp.pk)
    with django_assert_num_queries(1):
        many = official_recipients_by_tenant([jp.pk, fr.pk])
    assert sorted(single) == many[jp.pk]
    assert [email for email, _language in many[jp.pk]] == officials_by_tenant([jp.pk])[jp.pk]
    assert sorted(officials_of(jp.pk)) == [email for email, _language in many[jp.pk]]
    assert dict(many[jp.pk]) == {people["official_jp"].email: "ja", people["admin_jp"].email: "en"}
    assert dict(role_recipients("reviewer")) == {
        people["reviewer"].email: "en",
        people["reviewer_es"].email: "es",
    }


def test_assignment_and_overdue_notices_in_the_readers_language(people, official_jp, jp):
    reviewer, reviewer_es = people["reviewer"], people["reviewer_es"]
    application = create_application(official_jp, jp)
    CountryApplication.objects.filter(pk=application.pk).update(state=State.TECHNICAL_REVIEW)
    application = _loaded(application)
    OutboxEmail.objects.all().delete()
    application_assign(application=application, actor=reviewer, assignee=reviewer_es)
    ref = application.reference
    assigned = _mail(reviewer_es)
    assert assigned.subject == f"[{ref}] asignada a usted"
    assert assigned.body == f"reviewer le asignó {ref} (Revisión técnica)."
    decision = _move(application)
    decision.save()
    Obligation.objects.create(
        tenant=jp, application=application, decision=decision, text="Report yearly",
        due_date=dt.date(2020, 1, 31),
    )  # fmt: skip
    OutboxEmail.objects.all().delete()
    CountryApplication.objects.filter(pk=application.pk).update(
        stage_due_at=timezone.now() - dt.timedelta(days=1)
    )
    assert mark_overdue_work() == {"applications": 1, "obligations": 1}
    assert _mail(reviewer_es).subject == f"[{ref}] vencida"
    assert _mail(people["official_jp"]).subject == f"[{ref}] 義務の期限超過"
    assert _mail(people["official_jp"]).body == "条件「Report yearly」の期限は 2020-01-31 でした。"
    assert _mail(people["admin_jp"]).body == "The condition “Report yearly” was due on 2020-01-31."
