"""Compliance services: record a screening and move the application through the workflow.

The Celery tasks are thin wrappers around these functions. Applications move only through
``partnerships.workflow`` (``applications_screened``, ``application_hold_after_rescreen``).
Each function works inside one transaction holding the application's row lock, so a
duplicated task finds the work done and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Exists, F, OuterRef
from django.db.models.functions import Least
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance.models import (
    ScreeningPolicyVersion,
    ScreeningResult,
    Territory,
    TerritoryListVersion,
)
from compliance.screening import (
    decision_rationale,
    policy_of,
    screen,
    territory_subjects,
)
from compliance.signals import rescreen_wanted, screening_wanted
from compliance.territories import LIST_LOCK, current_list_version, current_policy_version
from partnerships import notifications, workflow
from partnerships.models import CountryApplication, Partnership, State
from partnerships.workflow import (
    REVIEW_STATES,
    ScreeningOutcome,
    application_hold_after_rescreen,
    applications_screened,
    concerns,
)
from portal.audit.record import record_event, record_events
from portal.audit.verbs import Verb
from portal.errors import ConflictError
from portal.tenancy.roles import Role

logger = logging.getLogger(__name__)

#: States a new list version re-screens: not final, already screened once, not waiting on
#: the screening task (which screens against the current list anyway); approved ones are
#: re-checked to flag their partnership.
RESCREEN_STATES = frozenset(
    {State.SCREENING_HOLD, State.INFO_REQUESTED, State.APPROVED, *REVIEW_STATES}
)


class NoTerritoryList(Exception):
    """No territory list (or no screening policy) is loaded: run ``manage.py load_territories``."""


def _screening_inputs() -> tuple[TerritoryListVersion, ScreeningPolicyVersion]:
    """The current list and policy versions; ``NoTerritoryList`` while either is missing."""
    list_version, policy_version = current_list_version(), current_policy_version()
    if list_version is None or policy_version is None:
        raise NoTerritoryList(
            "no territory list or screening policy is loaded; run manage.py load_territories"
        )
    return list_version, policy_version


def _lock_list_shared() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [LIST_LOCK])


def _test_pause() -> None:
    """Test-only hook: park the task inside its transaction so a test can kill the worker.

    Active only under tests, and only in a worker started with PORTAL_TEST_SCREENING_PAUSE
    naming a file: the task writes ``<file>.started`` and waits while ``<file>`` exists.
    """
    marker = os.environ.get("PORTAL_TEST_SCREENING_PAUSE")
    if not (settings.TESTING and marker):
        return
    Path(marker + ".started").write_text(str(os.getpid()))
    deadline = time.monotonic() + 120
    while Path(marker).exists() and time.monotonic() < deadline:
        time.sleep(0.1)


def _completed_event(
    application: CountryApplication,
    result: ScreeningResult,
    list_version: TerritoryListVersion,
    policy_version: ScreeningPolicyVersion,
    policy: str,
    rationale: str,
) -> dict[str, Any]:
    """The ``screening.completed`` audit event of a newly recorded result."""
    return {
        "verb": Verb.SCREENING_COMPLETED,
        "obj": application,
        "role": "screening",
        "changes": {
            "screening_result": result.pk,
            "outcome": result.outcome,
            "list_version": list_version.number,
            "list_effective_date": list_version.effective_date,
            "application_version": result.application_version,
            "policy": policy,
            "policy_version": policy_version.number,
            "policy_checksum": policy_version.checksum,
            "not_clear": [
                f"{f['rule']} ({f['subject']})" for f in result.findings if f["outcome"] != "clear"
            ],
        },
        "reason": rationale,
    }


def _record_result(
    *,
    application: CountryApplication,
    list_version: TerritoryListVersion,
    policy_version: ScreeningPolicyVersion,
    task_id: str,
) -> tuple[ScreeningResult, bool, str]:
    """Screen and store the result once per (application version, list version, policy version).

    Returns the result, whether it was created now, and the rationale a decision taken on
    its word states (outcome, list version and date, policy version).
    """
    started = timezone.now()
    outcome = screen(
        application=application, list_version=list_version, policy=policy_of(policy_version)
    )
    _test_pause()
    result, created = ScreeningResult.objects.get_or_create(
        application=application,
        application_version=application.version,
        list_version=list_version,
        policy_version=policy_version,
        defaults={
            "outcome": outcome.outcome,
            "findings": outcome.findings,
            "task_id": task_id or "",
            "started_at": started,
            "finished_at": timezone.now(),
        },
    )
    rationale = decision_rationale(
        outcome=result.outcome,
        findings=result.findings,
        list_version=list_version,
        policy_version=policy_version,
    )
    if created:
        record_event(
            **_completed_event(
                application, result, list_version, policy_version, outcome.policy, rationale
            )
        )
    return result, created, rationale


def application_screen(
    *, application_id: int, version: int, task_id: str = "", also_waiting: int = 0
) -> str | None:
    """Screen a submitted application at ``version`` against the current list and move it on,
    and with it, in the same transaction, up to ``also_waiting`` other applications waiting
    in ``screening`` (the task passes ``SCREEN_BATCH - 1``; claimed with SKIP LOCKED, so two
    workers never wait on each other; the others' own tasks then find nothing to do).

    Returns the state the named application moved to, or None when there was nothing to do
    for it (it changed, moved on, or another task already screened it). Raises
    ``NoTerritoryList`` when no list is loaded (applications stay in ``screening``; the
    sweep retries). A batch that fails for any other reason than a transient one is retried
    with the named application alone, so one application that cannot be screened never
    holds back the others (their own tasks screen them).
    """
    try:
        return _screen_batch(application_id, version, task_id, also_waiting)
    except (NoTerritoryList, OperationalError, InterfaceError):
        raise  # the task retries these
    except Exception:
        if not also_waiting:
            raise
        logger.exception("screening batch with application %s failed; alone now", application_id)
        return _screen_batch(application_id, version, task_id, 0)


def _screen_batch(application_id: int, version: int, task_id: str, others: int) -> str | None:
    with transaction.atomic():
        _lock_list_shared()
        waiting = (
            CountryApplication.objects.select_for_update(of=("self",))
            .select_related("tenant")
            .prefetch_related("sites")
        )
        named = waiting.filter(pk=application_id).first()
        targets = []
        if named is not None and named.state == State.SCREENING and named.version == version:
            targets.append(named)
        else:
            logger.info(
                "screening %s v%s: nothing to do (moved on or already screened)",
                application_id,
                version,
            )
        if others:
            targets += list(
                waiting.select_for_update(of=("self",), skip_locked=True)
                .filter(state=State.SCREENING)
                .exclude(pk=application_id)
                .order_by("stage_entered_at", "pk")[:others]
            )
        if not targets:
            return None
        list_version, policy_version = _screening_inputs()
        results = _record_results(
            applications=targets,
            list_version=list_version,
            policy_version=policy_version,
            task_id=task_id,
        )
        moved = applications_screened(
            outcomes=[
                ScreeningOutcome(
                    application_id=a.pk,
                    expected_version=a.version,
                    outcome=results[a.pk][0].outcome,
                    summary=results[a.pk][0].findings,
                    rationale=results[a.pk][1],
                )
                for a in targets
            ],
            list_version=list_version.number,
        )
        return moved[application_id] if targets[0] is named else None


def _record_results(
    *,
    applications: list[CountryApplication],
    list_version: TerritoryListVersion,
    policy_version: ScreeningPolicyVersion,
    task_id: str,
) -> dict[int, tuple[ScreeningResult, str, bool]]:
    """``_record_result`` for a batch: one read of the list's territories, one insert of the
    results, one append of their audit events; a result already recorded for an application
    version, list version and policy version is kept (idempotent). Returns each
    application's result, the rationale a decision on its word states, and whether the
    result was recorded now."""
    policy = policy_of(policy_version)
    codes = {code for a in applications for code in territory_subjects(a, policy)}
    territories = {
        t.code: t for t in Territory.objects.filter(version=list_version, code__in=list(codes))
    }
    existing = {
        (r.application_id, r.application_version): r
        for r in ScreeningResult.objects.filter(
            list_version=list_version, policy_version=policy_version, application__in=applications
        )
    }
    started = timezone.now()
    screenings = {
        a.pk: screen(
            application=a, list_version=list_version, policy=policy, territories=territories
        )
        for a in applications
    }
    _test_pause()
    finished = timezone.now()
    new = ScreeningResult.objects.bulk_create(
        [
            ScreeningResult(
                application=a,
                application_version=a.version,
                list_version=list_version,
                policy_version=policy_version,
                outcome=screenings[a.pk].outcome,
                findings=screenings[a.pk].findings,
                task_id=task_id or "",
                started_at=started,
                finished_at=finished,
            )
            for a in applications
            if (a.pk, a.version) not in existing
        ]
    )
    recorded = {**existing, **{(r.application_id, r.application_version): r for r in new}}
    rationales = {
        key: decision_rationale(
            outcome=r.outcome,
            findings=r.findings,
            list_version=list_version,
            policy_version=policy_version,
        )
        for key, r in recorded.items()
    }
    by_application = {a.pk: a for a in applications}
    if new:
        record_events(
            events=[
                _completed_event(
                    by_application[r.application_id],
                    r,
                    list_version,
                    policy_version,
                    screenings[r.application_id].policy,
                    rationales[(r.application_id, r.application_version)],
                )
                for r in new
            ]
        )
    return {
        a.pk: (recorded[key], rationales[key], key not in existing)
        for a in applications
        for key in [(a.pk, a.version)]
    }


def application_rescreen(*, application_id: int, list_version_id: int, task_id: str = "") -> str:
    """Re-check one application against a new list version; what happened, as a word.

    Not-yet-final applications that are no longer clear go to ``screening_hold`` (through
    the workflow); approved ones whose partnership no longer passes are flagged.
    """
    with transaction.atomic():
        _lock_list_shared()
        current, policy_version = current_list_version(), current_policy_version()
        if current is None or current.pk != list_version_id or policy_version is None:
            return "superseded"  # a newer list's re-screening covers it
        application = (
            CountryApplication.objects.select_for_update(of=("self",))
            .select_related("tenant")
            .filter(pk=application_id)
            .first()
        )
        if application is None or application.state not in RESCREEN_STATES:
            return "skipped"
        result, created, rationale = _record_result(
            application=application,
            list_version=current,
            policy_version=policy_version,
            task_id=task_id,
        )
        if not created:
            return "done"  # recorded with its transition in one transaction: nothing left to do
        if application.state == State.APPROVED:
            return partnership_recheck(application=application, result=result)
        moved = application_hold_after_rescreen(
            application_id=application.pk,
            outcome=result.outcome,
            list_version=current.number,
            summary=result.findings,
            rationale=rationale,
        )
        return "held" if moved else "recorded"


def applications_rescreen(
    *, application_ids: list[int], list_version_id: int, task_id: str = ""
) -> dict[str, int]:
    """``application_rescreen`` for a chunk, in one transaction: one read of the list's
    territories, one insert of the results and one audit append for them, the partnerships
    of approved ones locked in one query. Returns how many of ``application_ids`` ended each
    way (the words of ``application_rescreen``).

    A chunk that fails for any other reason than a transient one (``NoTerritoryList``,
    database errors: the task retries those) is redone one application at a time, so one
    application that cannot be screened never holds back the others.
    """
    try:
        return _rescreen_batch(application_ids, list_version_id, task_id)
    except (NoTerritoryList, OperationalError, InterfaceError):
        raise
    except Exception:
        logger.exception("re-screening chunk %s failed; one at a time now", application_ids[:5])
        counts: dict[str, int] = {}
        for application_id in application_ids:
            what = application_rescreen(
                application_id=application_id, list_version_id=list_version_id, task_id=task_id
            )
            counts[what] = counts.get(what, 0) + 1
        return counts


def _rescreen_batch(
    application_ids: list[int], list_version_id: int, task_id: str
) -> dict[str, int]:
    counts: dict[str, int] = {}

    def count(what: str, n: int = 1) -> None:
        if n:
            counts[what] = counts.get(what, 0) + n

    with transaction.atomic():
        _lock_list_shared()
        current, policy_version = current_list_version(), current_policy_version()
        if current is None or current.pk != list_version_id or policy_version is None:
            count("superseded", len(application_ids))  # a newer list's re-screening covers it
            return counts
        targets = list(
            CountryApplication.objects.select_for_update(of=("self",))
            .select_related("tenant")
            .prefetch_related("sites")
            .filter(pk__in=application_ids, state__in=RESCREEN_STATES)
            .order_by("pk")
        )
        found = {a.pk for a in targets}
        count("skipped", sum(1 for pk in application_ids if pk not in found))
        if not targets:
            return counts
        results = _record_results(
            applications=targets,
            list_version=current,
            policy_version=policy_version,
            task_id=task_id,
        )
        fresh = [a for a in targets if results[a.pk][2]]
        count("done", len(targets) - len(fresh))  # recorded with its move already
        approved = [a for a in fresh if a.state == State.APPROVED]
        partnerships = {
            p.application_id: p
            for p in Partnership.objects.select_for_update().filter(application__in=approved)
        } if approved else {}  # fmt: skip
        for application in fresh:
            result, rationale, _fresh = results[application.pk]
            if application.state == State.APPROVED:
                count(
                    _partnership_recheck(
                        application=application,
                        result=result,
                        partnership=partnerships.get(application.pk),
                    )
                )
                continue
            moved = application_hold_after_rescreen(
                application_id=application.pk,
                outcome=result.outcome,
                list_version=current.number,
                summary=result.findings,
                rationale=rationale,
            )
            count("held" if moved else "recorded")
    return counts


def partnership_recheck(*, application: CountryApplication, result: ScreeningResult) -> str:
    """Flag an approved partnership that no longer passes; its state does not change.

    Passes: clear, or only the concerns a compliance officer already cleared before approval
    (needs_review findings on the same rule and subject). Anything blocked never passes.
    """
    partnership = Partnership.objects.select_for_update().filter(application=application).first()
    return _partnership_recheck(application=application, result=result, partnership=partnership)


def _partnership_recheck(
    *, application: CountryApplication, result: ScreeningResult, partnership: Partnership | None
) -> str:
    if partnership is None:
        return "skipped"
    new = concerns(result.findings) - concerns(application.screening_summary or [])
    if result.outcome == "clear" or (result.outcome != "blocked" and not new):
        return "passes"
    reasons = [f["reason"] for f in result.findings if f["outcome"] != "clear"]
    policy = f", policy v{result.policy_version.number}" if result.policy_version else ""
    reason = (
        f"Territory list v{result.list_version.number}{policy}: screening is {result.outcome}. "
        + " ".join(reasons)
    )[:2000]
    if partnership.flagged and partnership.flag_reason == reason:
        return "done"
    partnership.flagged = True
    partnership.flag_reason = reason
    partnership.save(update_fields=["flagged", "flag_reason"])
    record_event(
        verb=Verb.PARTNERSHIP_FLAGGED,
        obj=partnership,
        tenant=application.tenant,
        role="screening",
        reason=reason,
        changes={
            "flagged": True,
            "screening_result": result.pk,
            "outcome": result.outcome,
            "list_version": result.list_version.number,
        },
    )
    officers = list(
        get_user_model()
        .objects.filter(is_active=True, programme_roles__role=Role.COMPLIANCE_OFFICER)
        .exclude(email="")
        .values_list("email", "language")
        .distinct()
    )

    def flagged_message() -> tuple[str, str]:
        names = {
            "reference": application.reference,
            "country": application.tenant.code,
            "n": result.list_version.number,
        }
        return (
            _("[%(reference)s] partnership flagged by re-screening") % names,
            _(
                "The approved partnership of %(reference)s (%(country)s) no longer passes "
                "screening against territory list v%(n)s."
            )
            % names
            + f"\n\n{reason}",
        )

    notifications.queue_in_languages(officers, flagged_message)
    return "flagged"


def rescreen_targets() -> list[int]:
    return list(
        CountryApplication.objects.filter(state__in=RESCREEN_STATES)
        .order_by("id")
        .values_list("id", flat=True)
    )


def rescreen_begin(*, list_version_id: int) -> list[int] | None:
    """Record the start and size of a re-screening; None if it already started or is superseded."""
    with transaction.atomic():
        version = TerritoryListVersion.objects.select_for_update().get(pk=list_version_id)
        current = current_list_version()
        if version.rescreen_started_at is not None or current is None or current.pk != version.pk:
            return None
        ids = rescreen_targets()
        version.rescreen_total, version.rescreen_done = len(ids), 0
        version.rescreen_started_at = timezone.now()
        version.save(update_fields=["rescreen_total", "rescreen_done", "rescreen_started_at"])
    return ids


def rescreen_progress(*, list_version_id: int, done: int) -> None:
    # Capped: a redelivered chunk may count its applications twice.
    TerritoryListVersion.objects.filter(pk=list_version_id).update(
        rescreen_done=Least(F("rescreen_done") + done, F("rescreen_total"))
    )


def chunks(ids: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def stuck_in_screening(*, older_than: dt.timedelta, limit: int = 1000) -> list[tuple[int, int]]:
    """(id, version) of applications waiting in ``screening`` longer than ``older_than``."""
    cutoff = timezone.now() - older_than
    return list(
        CountryApplication.objects.filter(state=State.SCREENING, stage_entered_at__lt=cutoff)
        .order_by("stage_entered_at")
        .values_list("id", "version")[:limit]
    )


def rescreen_owed(*, older_than: dt.timedelta) -> TerritoryListVersion | None:
    """The current list version if a re-screening is owed to it, loaded before ``older_than``.

    Owed after a second list version or a second policy version (the first of each has
    nothing screened before it to redo); "loaded" is the later of the two loads.
    """
    current, policy = current_list_version(), current_policy_version()
    if current is None or policy is None:
        return None
    triggers = [v.loaded_at for v in (current, policy) if v.number > 1]
    if not triggers:
        return None
    return current if max(triggers) < timezone.now() - older_than else None


def not_rescreened(*, list_version: TerritoryListVersion, limit: int = 1000) -> list[int]:
    """Applications a new list or policy should have re-screened but has no result for (lost tasks)."""
    policy = current_policy_version()
    return list(
        CountryApplication.objects.filter(state__in=RESCREEN_STATES)
        .filter(
            ~Exists(
                ScreeningResult.objects.filter(
                    application=OuterRef("pk"), list_version=list_version, policy_version=policy
                )
            )
        )
        .exclude(state=State.APPROVED, partnership__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


def screening_request(*, application: CountryApplication, actor: Any) -> dict[str, Any]:
    """A compliance officer asks for a fresh screening; audited, enqueued after commit.

    In ``screening`` the submission's screening is re-enqueued; otherwise the application is
    re-checked against the current list like a re-screening. A screening of the same
    application version against the same list version is recorded once only (idempotent).
    Raises ``ConflictError`` for rejected or withdrawn applications and drafts.
    """
    if application.state in (State.REJECTED, State.WITHDRAWN, State.DRAFT):
        state = workflow.state_for(actor, application)[1]
        raise ConflictError(f"An application that is “{state}” is not screened.")
    current = current_list_version()
    if current is None:
        raise ConflictError("No territory list is loaded.")
    app_id, version, list_id = application.pk, application.version, current.pk
    with transaction.atomic():
        record_event(
            verb=Verb.SCREENING_REQUESTED,
            obj=application,
            actor=actor,
            role=Role.COMPLIANCE_OFFICER,
            changes={
                "application_version": version,
                "list_version": current.number,
                "state": application.state,
            },
        )
        if application.state == State.SCREENING:
            transaction.on_commit(
                lambda: screening_wanted.send(
                    sender=CountryApplication, application_id=app_id, version=version
                )
            )
        else:
            transaction.on_commit(
                lambda: rescreen_wanted.send(
                    sender=CountryApplication, list_version_id=list_id, application_ids=[app_id]
                )
            )
    return {"application_version": version, "list_version": current.number}
