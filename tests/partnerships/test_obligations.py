"""Conditions after approval: evidence from the country, "met" from programme staff, each
audited (the verbs obligation.evidence_added and obligation.met; issue #13 found no test
emitting them)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from partnerships.models import Decision, Obligation
from partnerships.workflow import application_transition
from portal.audit.models import AuditEvent
from portal.audit.verbs import Verb
from tests.factories import create_application, make_user
from tests.portal.test_audit_readonly import PNG

pytestmark = pytest.mark.django_db


@pytest.fixture
def obligation(jp, official_jp) -> Obligation:
    application = create_application(official_jp, jp)
    application = application_transition(
        application=application, actor=official_jp, action="submit", version=application.version
    )
    return Obligation.objects.create(
        tenant=jp,
        application=application,
        decision=Decision.objects.filter(application=application).latest("id"),
        text="No ECCN 3A090 chips before VEU approval",
        due_date=dt.date.today() + dt.timedelta(days=90),
    )


def _url(obligation: Obligation, what: str) -> str:
    return f"/applications/{obligation.application_id}/obligations/{obligation.pk}/{what}/"


def test_the_country_adds_evidence_audited(client, official_jp, obligation):
    client.force_login(official_jp)
    upload = SimpleUploadedFile("veu.png", PNG, content_type="image/png")
    response = client.post(_url(obligation, "evidence"), {"file": upload})
    assert response.status_code == 302
    attachment = obligation.application.attachments.get()
    assert attachment.obligation_id == obligation.pk
    event = AuditEvent.objects.get(verb=Verb.OBLIGATION_EVIDENCE_ADDED)
    assert event.actor_id == official_jp.pk and event.tenant_id == obligation.tenant_id


def test_programme_staff_mark_a_condition_met_once_audited(client, official_jp, obligation):
    client.force_login(official_jp)
    refused = client.post(_url(obligation, "met"), {"note": "Done."})
    assert refused.status_code == 403
    officer = make_user("compliance_officer", username="co-met")
    client.force_login(officer)
    response = client.post(_url(obligation, "met"), {"note": "VEU granted on 1 May."})
    assert response.status_code == 302
    obligation.refresh_from_db()
    assert obligation.status == Obligation.Status.MET and obligation.met_by_id == officer.pk
    event = AuditEvent.objects.get(verb=Verb.OBLIGATION_MET)
    assert event.reason == "VEU granted on 1 May." and event.actor_id == officer.pk
    client.post(_url(obligation, "met"), {"note": "Again."})  # already met: refused, unrecorded
    assert AuditEvent.objects.filter(verb=Verb.OBLIGATION_MET).count() == 1
