"""The screening's word on applications (compliance's task calls these): record the outcome
on the application and move it on, one at a time or as a batch. The screening columns of
``CountryApplication`` are written here and nowhere else (``screening_outcomes_reset`` is
compliance's way to forget them when a new territory list loads)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from partnerships.models import CountryApplication, Decision, State
from partnerships.workflow.guards import screening_is_clear
from partnerships.workflow.signals import transitions_recorded
from partnerships.workflow.stages import MOVE_FIELDS, enter_state
from partnerships.workflow.states import FINAL_STATES, REVIEW_STATES
from portal.audit.record import record_event, record_events
from portal.audit.verbs import Verb

#: The columns that hold an application's screening (written only by this module).
SCREENING_FIELDS = [
    "screening_outcome",
    "screening_list_version",
    "screening_summary",
    "screening_hold_cleared",
]
#: What a screening's move writes beside the screening columns.
_SCREENED_FIELDS = [*MOVE_FIELDS, "info_requested_from"]


def concerns(summary: Iterable[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """The (rule, subject) pairs a screening did not find clear: what a person had to look at.

    The one home of this rule: compliance compares a new screening's concerns with the ones an
    officer already cleared through it.
    """
    return {
        (f.get("rule", ""), f.get("subject", "")) for f in summary if f.get("outcome") != "clear"
    }


def _record_screening(
    locked: CountryApplication, outcome: str, list_version: int, summary: list[dict[str, Any]]
) -> list[str]:
    # A compliance officer's clearance survives a re-screen that finds nothing new: the same
    # needs_review concerns (or fewer) were already weighed. Anything else needs a new decision.
    keep_clearance = (
        locked.screening_hold_cleared
        and outcome == "needs_review"
        and concerns(summary) <= concerns(locked.screening_summary or [])
    )
    locked.screening_outcome = outcome
    locked.screening_list_version = list_version
    locked.screening_summary = summary
    locked.screening_hold_cleared = keep_clearance
    return list(SCREENING_FIELDS)


def screening_outcomes_reset() -> int:
    """Forget outcomes recorded against an older list or policy, so no guard trusts them;
    returns how many applications had one.

    Applications not yet final only; the re-screening writes the new outcome. Not a
    workflow action: the state and the application's version do not change. Joins the
    caller's transaction (compliance loads the new list in it).
    """
    return (
        CountryApplication.objects.exclude(state__in=FINAL_STATES)
        .exclude(screening_outcome="", screening_list_version=None)
        .update(
            screening_outcome="",
            screening_list_version=None,
            screening_summary=[],
            screening_hold_cleared=False,
        )
    )


def _screening_record(
    application: CountryApplication,
    *,
    from_state: str,
    to_state: str,
    outcome: str,
    list_version: int,
    summary: list[dict[str, Any]],
    rationale: str,
) -> tuple[Decision, dict[str, Any]]:
    """The screening's move of ``application`` (already at its new version) as an unsaved
    ``Decision`` and the keyword arguments of its audit event; one home for both the
    one-at-a-time and the batch path. Without a ``rationale``, the reasons of the findings
    that are not clear."""
    reasons = rationale or "; ".join(f["reason"] for f in summary if f.get("outcome") != "clear")
    action = "screen_clear" if to_state != State.SCREENING_HOLD else "screen_hold"
    decision = Decision(
        application=application,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor=None,
        actor_label="system",
        role="screening",
        rationale=reasons,
        application_version=application.version,
    )
    event = {
        "verb": Verb.WORKFLOW_SCREENED if action == "screen_clear" else Verb.WORKFLOW_HOLD,
        "obj": application,
        "role": "screening",
        "reason": reasons,
        "changes": {
            "state": {"before": from_state, "after": to_state},
            "outcome": outcome,
            "list_version": list_version,
        },
    }
    return decision, event


def _screened_state(application: CountryApplication, outcome: str) -> str:
    """Clear → the review stage (or the stage that asked for information); else the hold."""
    if outcome == "clear":
        return application.info_requested_from or State.TECHNICAL_REVIEW
    return State.SCREENING_HOLD


def _system_move(
    locked: CountryApplication,
    *,
    to_state: str,
    fields: list[str],
    outcome: str,
    list_version: int,
    summary: list[dict[str, Any]],
    rationale: str = "",
) -> str:
    """Move an application on the screening's word: Decision, audit event, e-mails.

    ``rationale`` is the screening's own account (outcome, list and policy versions, reasons);
    without one, the reasons of the findings that are not clear.
    """
    from_state = locked.state
    enter_state(locked, to_state, timezone.now())
    locked.info_requested_from = "" if from_state == State.SCREENING else locked.info_requested_from
    locked.version += 1
    locked.save(update_fields=[*fields, *_SCREENED_FIELDS])
    decision, event = _screening_record(
        locked, from_state=from_state, to_state=to_state, outcome=outcome,
        list_version=list_version, summary=summary, rationale=rationale,
    )  # fmt: skip
    decision.save()
    record_event(**event)
    transitions_recorded.send(sender=CountryApplication, moves=[(locked, decision)])
    return to_state


def _lock(application_id: int) -> CountryApplication:
    return (
        CountryApplication.objects.select_for_update(of=("self",))
        .select_related("tenant")
        .get(pk=application_id)
    )


@transaction.atomic
def application_screened(
    *,
    application_id: int,
    expected_version: int,
    outcome: str,
    list_version: int,
    summary: list[dict[str, Any]],
    rationale: str = "",
) -> str | None:
    """Record a screening outcome on the application and move it on (the Celery task calls this).

    Only an application still in ``screening`` at ``expected_version`` moves: clear →
    the review stage (or the stage that asked for information), otherwise →
    ``screening_hold``. Returns the new state, or None when nothing moved (idempotent: a
    duplicate or late task changes nothing). Joins the caller's transaction, if any.
    """
    locked = _lock(application_id)
    fields = _record_screening(locked, outcome, list_version, summary)
    if locked.state != State.SCREENING or locked.version != expected_version:
        locked.save(update_fields=fields)
        return None
    return _system_move(
        locked,
        to_state=_screened_state(locked, outcome),
        fields=fields,
        outcome=outcome,
        list_version=list_version,
        summary=summary,
        rationale=rationale,
    )


@dataclass(frozen=True)
class ScreeningOutcome:
    """One application's screening, as ``applications_screened`` takes it."""

    application_id: int
    expected_version: int
    outcome: str
    summary: list[dict[str, Any]]
    rationale: str = ""


def _save_rows(rows: list[CountryApplication], fields: list[str]) -> None:
    """``save(update_fields=fields)`` of many rows as one pipelined ``executemany``.

    Why not ``bulk_update``: its CASE expressions took Django longer to build than the
    database to run (1.2 s for 50 applications × 12 fields, bench/README.md); psycopg sends
    these plain UPDATEs in one pipeline, so the batch is still one round trip.
    """
    model_fields = [CountryApplication._meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(str(f.column))} = %s" for f in model_fields)  # type: ignore[union-attr]
    # Identifiers from the model's own metadata, quoted; every value is a parameter.
    sql = (
        f"UPDATE {quote(CountryApplication._meta.db_table)} SET {assignments} "  # noqa: S608
        f"WHERE {quote(str(CountryApplication._meta.pk.column))} = %s"  # type: ignore[union-attr]
    )
    params = [
        [
            f.get_db_prep_save(getattr(row, f.attname), connection)  # type: ignore[union-attr]
            for f in model_fields
        ]
        + [row.pk]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


@dataclass
class _Batch:
    """A batch's rows as they are decided: those that only record the outcome, those that
    move (with their decisions and audit events), and each application's result."""

    list_version: int
    results: dict[int, str | None] = field(default_factory=dict)
    stayed: list[CountryApplication] = field(default_factory=list)
    moved: list[tuple[CountryApplication, Decision]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def add(self, application: CountryApplication, item: ScreeningOutcome, now: Any) -> None:
        """Record ``item`` on ``application`` (locked) and move it if it still waits on it."""
        _record_screening(application, item.outcome, self.list_version, item.summary)
        if application.state != State.SCREENING or application.version != item.expected_version:
            self.stayed.append(application)
            return
        to_state, from_state = _screened_state(application, item.outcome), application.state
        enter_state(application, to_state, now)
        application.info_requested_from = ""
        application.version += 1
        application.updated_at = now  # a plain UPDATE does not run auto_now
        decision, event = _screening_record(
            application, from_state=from_state, to_state=to_state, outcome=item.outcome,
            list_version=self.list_version, summary=item.summary, rationale=item.rationale,
        )  # fmt: skip
        self.moved.append((application, decision))
        self.events.append(event)
        self.results[item.application_id] = to_state

    def save(self) -> None:
        """The batch's statements: two updates, one insert of decisions, one append of
        audit events, then the e-mails."""
        if self.stayed:
            _save_rows(self.stayed, SCREENING_FIELDS)
        if self.moved:
            _save_rows([a for a, _ in self.moved], [*SCREENING_FIELDS, *_SCREENED_FIELDS])
            Decision.objects.bulk_create([d for _, d in self.moved])
            record_events(events=self.events)
            transitions_recorded.send(sender=CountryApplication, moves=self.moved, batch=True)


@transaction.atomic
def applications_screened(
    *, outcomes: list[ScreeningOutcome], list_version: int
) -> dict[int, str | None]:
    """``application_screened`` for a batch, in one transaction and a constant number of
    statements (one lock query, two updates, one insert of decisions, one append of audit
    events, the e-mails' recipients and one insert of them). Same rules, same records, same results:
    application id → new state, or None when it did not move. Joins the caller's transaction.
    """
    locked = {
        a.pk: a
        for a in CountryApplication.objects.select_for_update(of=("self",))
        .select_related("tenant")
        .filter(pk__in=[o.application_id for o in outcomes])
        .order_by("pk")
    }
    now = timezone.now()
    batch = _Batch(list_version=list_version)
    for item in outcomes:
        batch.results[item.application_id] = None
        if (application := locked.get(item.application_id)) is not None:
            batch.add(application, item, now)
    batch.save()
    return batch.results


@transaction.atomic
def application_hold_after_rescreen(
    *,
    application_id: int,
    outcome: str,
    list_version: int,
    summary: list[dict[str, Any]],
    rationale: str = "",
) -> str | None:
    """A new list version found a not-yet-final application no longer clear: hold it.

    Applications in review states move to ``screening_hold`` with the reasons; drafts,
    applications waiting on the country and those already held only get the new outcome.
    Joins the caller's transaction, if any.
    """
    locked = _lock(application_id)
    fields = _record_screening(locked, outcome, list_version, summary)
    if screening_is_clear(locked) or locked.state not in REVIEW_STATES:
        locked.save(update_fields=fields)
        return None
    return _system_move(
        locked,
        to_state=State.SCREENING_HOLD,
        fields=fields,
        outcome=outcome,
        list_version=list_version,
        summary=summary,
        rationale=rationale,
    )
