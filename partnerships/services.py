"""Application services: create, update, completeness, attachments, assignment, obligations.

Keyword-only, typed, ``actor`` required, each in its own transaction and audited.
Workflow state changes are in ``partnerships.workflow``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any

import filetype
import PIL.Image
import pypdf
import pypdf.errors
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from partnerships import emissions
from partnerships.models import (
    Attachment,
    CountryApplication,
    Decision,
    InformationReply,
    Obligation,
    ReferenceCounter,
    Site,
    State,
)
from partnerships.notifications import (
    Message,
    notify_users,
    official_recipients,
    queue_in_languages,
)
from partnerships.validators import plain_decimal
from partnerships.workflow import (
    EDITABLE_STATES,
    STATE_ROLE,
    TransitionConflict,
    missing_for_submit,
)
from portal import parse
from portal.audit.record import diff, record_event
from portal.audit.verbs import Verb
from portal.tenancy.access import (
    access_for,
    require_any_tenant,
    require_programme_role,
    require_tenant_role,
)
from portal.tenancy.dates import tenant_today
from portal.tenancy.models import Tenant
from portal.tenancy.roles import Role
from portal.tenancy.services import tenant_for_official

SCALAR_FIELDS = (
    "title",
    "languages",
    "sectors",
    "other_sector",
    "customization_notes",
    "data_residency_required",
    "data_categories",
)


def _next_reference(tenant: Tenant, year: int) -> str:
    """``JP-2026-0007``: per country and year, from a locked counter, never reused."""
    counter, _created = ReferenceCounter.objects.get_or_create(tenant=tenant, year=year)
    counter = ReferenceCounter.objects.select_for_update().get(pk=counter.pk)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{tenant.code}-{year}-{counter.last:04d}"


def require_official(actor: Any, tenant_id: int) -> None:
    """Only the country's officials (or country admins) change its applications and files."""
    require_tenant_role(
        actor, tenant_id, _("Only the country's officials change its applications.")
    )


def require_creator(actor: Any) -> None:
    """Only country officials create applications (checked before the body is read)."""
    require_any_tenant(actor, _("Only country officials create applications."))


def resolve_tenant_for_create(*, actor: Any, tenant_code: str | None) -> Tenant:
    """The country an official creates for: named, or their only one. Never someone else's."""
    return tenant_for_official(
        actor=actor,
        tenant_code=tenant_code,
        refused=_("Only country officials create applications."),
        not_yours=_("You cannot create applications for %(code)s."),
    )


def _snapshot(application: CountryApplication) -> dict[str, Any]:
    data = {f: getattr(application, f) for f in SCALAR_FIELDS}
    data.update({f: getattr(application, f) for f in CountryApplication.SECURITY_FIELDS})
    data["startup_fund"] = (
        f"{plain_decimal(application.startup_fund_amount)} {application.startup_fund_currency}"
        if application.startup_fund_amount is not None
        else None
    )
    data["sites"] = [
        {
            "country": s.country,
            "region": s.region,
            "capacity_mw": plain_decimal(s.capacity_mw),
            "target_online_date": s.target_online_date.isoformat(),
            "energy_mix": s.energy_mix,
            "pue": str(s.pue) if s.pue is not None else None,
            "utilisation": str(s.utilisation) if s.utilisation is not None else None,
        }
        for s in application.sites.all()
    ]
    return data


def _apply(application: CountryApplication, data: dict[str, Any]) -> None:
    for name in SCALAR_FIELDS:
        if name in data:
            setattr(application, name, data[name])
    for name, value in (data.get("security_commitments") or {}).items():
        setattr(application, name, value)
    if "startup_fund" in data:
        fund = data["startup_fund"]
        application.startup_fund_amount = fund["amount"] if fund else None
        application.startup_fund_currency = fund["currency"] if fund else ""


def _replace_sites(application: CountryApplication, sites: list[dict[str, Any]]) -> None:
    """Sites are one unit: validated together, replaced together."""
    application.sites.all().delete()
    total = Decimal(0)
    rows = []
    for position, site in enumerate(sites):
        tonnes = emissions.annual_tonnes(
            capacity_mw=site["capacity_mw"],
            energy_mix=site["energy_mix"],
            pue=site.get("pue"),
            utilisation=site.get("utilisation"),
        )
        total += tonnes
        rows.append(
            Site(
                application=application,
                position=position,
                estimated_annual_co2_tonnes=tonnes,
                **{
                    k: site.get(k)
                    for k in (
                        "country",
                        "region",
                        "capacity_mw",
                        "target_online_date",
                        "energy_mix",
                        "pue",
                        "utilisation",
                    )
                },
            )
        )
    Site.objects.bulk_create(rows)
    application.estimated_annual_co2_tonnes = total if rows else None


def _check_site_dates(tenant: Tenant, sites: list[dict[str, Any]] | None) -> None:
    """Target online dates are not in the past *in the country* (ValidationError ``sites``)."""
    today = tenant_today(tenant)
    late = [n for n, site in enumerate(sites or [], start=1) if site["target_online_date"] < today]
    if late:
        raise ValidationError(
            {
                "sites": [
                    _("Site %(n)s: the target online date cannot be in the past.") % {"n": n}
                    for n in late
                ]
            }
        )


def application_create(*, actor: Any, tenant: Tenant, data: dict[str, Any]) -> CountryApplication:
    """Create a draft for ``tenant`` (the actor must be one of its officials).

    Raises ``ValidationError`` (``sites``) for a target online date before the country's today.
    """
    require_official(actor, tenant.id)
    _check_site_dates(tenant, data.get("sites"))
    with transaction.atomic():
        application = CountryApplication(
            tenant=tenant,
            reference=_next_reference(tenant, timezone.now().year),
            created_by=actor,
            updated_by=actor,
        )
        _apply(application, data)
        application.save()
        _replace_sites(application, data.get("sites") or [])
        application.save(update_fields=["estimated_annual_co2_tonnes"])
        record_event(
            actor=actor,
            verb=Verb.APPLICATION_CREATED,
            obj=application,
            changes=diff({}, _snapshot(application)),
        )
    return application


def application_update(
    *, application: CountryApplication, actor: Any, version: int | None, data: dict[str, Any]
) -> CountryApplication:
    """Change a draft (or an application the programme asked questions about).

    Only the country's officials, only in ``draft``/``info_requested``, only at the version
    they saw (409 otherwise). Bumps ``version`` and audits the before/after of what changed.
    """
    if version is None:
        raise ValidationError({"version": [_("Send the version you saw.")]})
    if "sites" in data:
        _check_site_dates(application.tenant, data["sites"])
    with transaction.atomic():
        locked = CountryApplication.objects.select_for_update().get(pk=application.pk)
        require_official(actor, locked.tenant_id)
        if locked.version != version:
            raise TransitionConflict(_("The application changed since you loaded it; reload it."))
        if locked.state not in EDITABLE_STATES:
            raise TransitionConflict(
                _("The application cannot be edited while it is under review.")
            )
        before = _snapshot(locked)
        _apply(locked, data)
        if "sites" in data:
            _replace_sites(locked, data["sites"])
        changes = diff(before, _snapshot(locked))
        if not changes:
            return locked
        locked.version += 1
        locked.updated_by = actor
        locked.save()
        record_event(actor=actor, verb=Verb.APPLICATION_UPDATED, obj=locked, changes=changes)
    return locked


def completeness(application: CountryApplication) -> int:
    """Percentage of the sections filled in, for the progress bar."""
    total = 6 + len(CountryApplication.SECURITY_FIELDS)
    return round(100 * (total - min(total, len(missing_for_submit(application)))) / total)


# --- Attachments -----------------------------------------------------------------------------

ALLOWED_TYPES = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "text/csv": "csv",
}


def sniff_content_type(head: bytes) -> str | None:
    """The type the bytes say they are; CSV is UTF-8 text without control characters."""
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime if kind.mime in ALLOWED_TYPES else None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # The sample may cut a multi-byte character at its end.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return None
    if not text.strip() or any(ord(c) < 32 and c not in "\t\r\n" for c in text):
        return None
    first_line = text.splitlines()[0]
    return "text/csv" if ("," in first_line or ";" in first_line or "\t" in first_line) else None


_MARKUP = re.compile(
    r"<\s*(?:!doctype|html|head|body|script|iframe|svg|object|embed|meta|link|style|a\s)", re.I
)


def structure_problem(upload: UploadedFile, content_type: str) -> str | None:
    """Open the file with a parser for its detected type; the reason it fails, or None.

    A magic number is not a file: PDFs are read by pypdf (at least one page), PNG and JPEG by
    Pillow (``verify()``, and the format must be the detected one), CSV by the ``csv``
    module (UTF-8, no markup, the same number of columns in every row, at most
    ``PORTAL_MAX_CSV_ROWS`` rows).
    """
    upload.seek(0)
    try:
        if content_type == "application/pdf":
            if len(pypdf.PdfReader(upload).pages) < 1:
                return "a PDF without pages"
        elif content_type in ("image/png", "image/jpeg"):
            with PIL.Image.open(upload) as image:
                expected = "PNG" if content_type == "image/png" else "JPEG"
                if image.format != expected:
                    return f"not a {expected} image"
                image.verify()
        elif content_type == "text/csv":
            text = upload.read().decode("utf-8-sig")
            if _MARKUP.search(text):
                return "markup, not a table"
            widths = set()
            for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
                if number > settings.PORTAL_MAX_CSV_ROWS:
                    return "too many rows"
                if row:
                    widths.add(len(row))
            if len(widths) != 1:
                return "rows of different lengths"
    except (pypdf.errors.PyPdfError, PIL.UnidentifiedImageError, OSError, ValueError,
            SyntaxError, csv.Error, UnicodeDecodeError) as exc:  # fmt: skip
        return f"unreadable: {type(exc).__name__}"
    finally:
        upload.seek(0)
    return None


def stored_name(original: str, content_type: str) -> str:
    """The name a file is kept and downloaded under: its own stem, the detected extension
    (``report.exe`` holding a PNG becomes ``report.png``)."""
    stem = PurePosixPath((original or "file").replace("\\", "/")).name.rsplit(".", 1)[0] or "file"
    return f"{stem[:190]}.{ALLOWED_TYPES[content_type]}"


def _accepted_upload(upload: UploadedFile) -> tuple[str, int]:
    """The upload's content type (read from its bytes) and size in bytes; ValidationError
    (``file``) when it is too large (code ``too_large``), empty, or not an accepted,
    well-formed type."""
    if upload.size is None or upload.size > settings.PORTAL_MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            {"file": ValidationError(_("The file is larger than the limit."), code="too_large")}
        )
    if upload.size == 0:
        raise ValidationError({"file": [_("The file is empty.")]})
    upload.seek(0)
    content_type = sniff_content_type(upload.read(8192))
    if content_type is None or structure_problem(upload, content_type) is not None:
        raise ValidationError({"file": [_("Only PDF, PNG, JPEG and CSV files are accepted.")]})
    return content_type, upload.size


def _sha256(upload: UploadedFile) -> str:
    """The upload's SHA-256 (hex), read in chunks; the upload is left at its start."""
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def attachment_add(
    *,
    application: CountryApplication,
    actor: Any,
    upload: UploadedFile,
    evidence_for: str = "",
    obligation: Obligation | None = None,
    reply: InformationReply | None = None,
) -> Attachment:
    """Store a file on the application; its type is read from its bytes, never its name.

    ``reply`` files the upload with an answer to an information request (``info_reply_add``).
    """
    require_official(actor, application.tenant_id)
    if evidence_for not in Attachment.Evidence.values:  # a page posts it as typed
        raise ValidationError({"evidence_for": [_("Choose what the file is evidence for.")]})
    if obligation is None and application.state not in EDITABLE_STATES:
        raise TransitionConflict(
            _("Files can be added while the application is a draft or answers questions.")
        )
    if obligation is not None and obligation.application_id != application.pk:
        raise ValidationError({"obligation": [_("That obligation is not on this application.")]})
    content_type, size = _accepted_upload(upload)
    sha256 = _sha256(upload)
    with transaction.atomic():
        attachment = Attachment(
            application=application,
            obligation=obligation,
            reply=reply,
            original_name=stored_name(upload.name or "file", content_type),
            content_type=content_type,
            size=size,
            sha256=sha256,
            evidence_for=evidence_for,
            uploaded_by=actor,
        )
        attachment.file.save(f"{ALLOWED_TYPES[content_type]}", upload, save=False)
        attachment.save()
        _record_attachment_added(attachment=attachment, actor=actor, application=application)
    return attachment


def _record_attachment_added(
    *, attachment: Attachment, actor: Any, application: CountryApplication
) -> None:
    """The audit events of a stored file: ``attachment_added`` and, for an obligation's
    evidence, ``obligation_evidence_added``. Call inside the adding transaction."""
    obligation, reply = attachment.obligation, attachment.reply
    record_event(
        actor=actor,
        verb=Verb.ATTACHMENT_ADDED,
        obj=attachment,
        tenant=application.tenant,
        changes={
            "name": attachment.original_name,
            "sha256": attachment.sha256,
            "size": attachment.size,
            "content_type": attachment.content_type,
            "evidence_for": attachment.evidence_for,
            "obligation": obligation.pk if obligation else None,
            **({"reply": reply.pk} if reply else {}),
        },
    )
    if obligation is not None:
        record_event(
            actor=actor,
            verb=Verb.OBLIGATION_EVIDENCE_ADDED,
            obj=obligation,
            tenant=application.tenant,
            changes={"attachment": attachment.pk},
        )


def info_reply_add(
    *,
    application: CountryApplication,
    actor: Any,
    text: str,
    uploads: list[UploadedFile],
) -> InformationReply:
    """The country answers the open information request: text (required) and files.

    Only an official/country admin of the application's country, only while the application
    is in ``info_requested``. The reply is tied to the latest ``request_info`` decision, so
    reviewers read it beside the question; it is immutable and audited
    (``application.info_replied``), its files each as ``attachment.added``, all in one
    transaction: a refused file stores nothing. Raises ``PermissionDenied`` (not an official),
    ``TransitionConflict`` (no open request) or ``ValidationError`` (``text``, ``file``).
    """
    require_official(actor, application.tenant_id)
    if application.state != State.INFO_REQUESTED:
        raise TransitionConflict(_("There is no open information request to answer."))
    text = text.strip()
    if parse.is_blank(text):
        raise ValidationError({"text": [_("Write your answer.")]})
    question = (
        Decision.objects.filter(application=application, action="request_info")
        .order_by("-id")
        .first()
    )
    if question is None:
        raise TransitionConflict(_("There is no open information request to answer."))
    with transaction.atomic():
        reply = InformationReply.objects.create(
            application=application,
            request=question,
            text=text,
            author=actor,
            author_label=actor.get_username(),
        )
        record_event(
            actor=actor,
            verb=Verb.APPLICATION_INFO_REPLIED,
            obj=application,
            tenant=application.tenant,
            reason=text,
            changes={"request": question.pk, "reply": reply.pk, "files": len(uploads)},
        )
        for upload in uploads:
            attachment_add(application=application, actor=actor, upload=upload, reply=reply)
    return reply


# --- Work management --------------------------------------------------------------------------


def application_assign(
    *, application: CountryApplication, actor: Any, assignee: Any
) -> CountryApplication:
    """Claim (assignee = actor) or assign the current stage; grants the object permission."""
    if not access_for(actor).has_programme_role(*STATE_ROLE.values()):
        raise PermissionDenied(_("Your role does not assign review work."))
    role = STATE_ROLE.get(State(application.state))
    if role is None:
        raise TransitionConflict(_("Only applications in a review stage are assigned."))
    for person in {actor, assignee}:
        person_access = access_for(person)
        if not person_access.has_programme_role(role) or person_access.conflicted(
            application.tenant_id
        ):
            raise PermissionDenied(
                _("%(user)s cannot work this stage.") % {"user": person.get_username()}
            )
    with transaction.atomic():
        locked = CountryApplication.objects.select_for_update().get(pk=application.pk)
        previous = locked.assigned_to
        if previous is not None:
            remove_perm("partnerships.review_application", previous, locked)
        assign_perm("partnerships.review_application", assignee, locked)
        locked.assigned_to = assignee
        locked.save(update_fields=["assigned_to", "updated_at"])
        record_event(
            actor=actor,
            verb=Verb.WORKFLOW_ASSIGNED,
            obj=locked,
            role=role,
            changes={
                "assigned_to": {
                    "before": previous.get_username() if previous else None,
                    "after": assignee.get_username(),
                }
            },
        )
        if assignee != actor:
            notify_users([assignee], _assigned_message(locked, actor))
    return locked


def _assigned_message(application: CountryApplication, actor: Any) -> Message:
    """The notice that ``actor`` assigned ``application``, rendered in the active language."""

    def render() -> tuple[str, str]:
        reference = application.reference
        return (
            _("[%(reference)s] assigned to you") % {"reference": reference},
            _("%(user)s assigned you %(reference)s (%(state)s).")
            % {
                "user": actor.get_username(),
                "reference": reference,
                "state": State(application.state).label,
            },
        )

    return render


def _obligation_overdue_message(obligation: Obligation) -> Message:
    """The notice of an overdue condition, rendered in the active language."""

    def render() -> tuple[str, str]:
        return (
            _("[%(reference)s] obligation overdue")
            % {"reference": obligation.application.reference},
            _("The condition “%(condition)s” was due on %(date)s.")
            % {"condition": obligation.text, "date": obligation.due_date.isoformat()},
        )

    return render


def _overdue_message(application: CountryApplication) -> Message:
    """The overdue notice of ``application``, rendered in the active language."""

    def render() -> tuple[str, str]:
        reference = application.reference
        return (
            _("[%(reference)s] overdue") % {"reference": reference},
            _("%(reference)s is past its due date in %(state)s.")
            % {"reference": reference, "state": State(application.state).label},
        )

    return render


def mark_overdue_work(now: dt.datetime | None = None) -> dict[str, int]:
    """Mark overdue review stages, obligations and tranches; notify the people concerned once."""
    now = now or timezone.now()
    counts = {"applications": 0, "obligations": 0}
    with transaction.atomic():
        late = (
            CountryApplication.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(stage_due_at__lt=now, overdue_notified=False, state__in=list(STATE_ROLE))
            .select_related("tenant", "assigned_to")
        )
        for application in late:
            application.overdue_notified = True
            application.save(update_fields=["overdue_notified"])
            record_event(
                verb=Verb.WORKFLOW_OVERDUE,
                obj=application,
                changes={"state": application.state, "due": application.stage_due_at},
            )
            if application.assigned_to is not None:
                notify_users([application.assigned_to], _overdue_message(application))
            counts["applications"] += 1
        # A condition is overdue once its due date has passed in its country: candidates by
        # the latest "today" on earth, then each by its own country's date.
        for obligation in (
            Obligation.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(status=Obligation.Status.OPEN, due_date__lt=tenant_today(None, now=now))
            .select_related("tenant", "application")
        ):
            if obligation.due_date >= tenant_today(obligation.tenant, now=now):
                continue
            obligation.status = Obligation.Status.OVERDUE
            obligation.save(update_fields=["status"])
            record_event(
                verb=Verb.OBLIGATION_OVERDUE,
                obj=obligation,
                changes={"status": {"before": "open", "after": "overdue"}},
            )
            queue_in_languages(
                official_recipients(obligation.application.tenant_id),
                _obligation_overdue_message(obligation),
            )
            counts["obligations"] += 1
    return counts


def obligation_mark_met(*, obligation: Obligation, actor: Any, note: str) -> Obligation:
    """A programme user records that a condition is met, with a note."""
    require_programme_role(
        actor,
        obligation.tenant_id,
        (Role.COMPLIANCE_OFFICER, Role.US_COORDINATOR, Role.APPROVER),
        _("Only programme staff mark conditions met."),
    )
    if parse.is_blank(note):
        raise ValidationError({"note": [_("Say how the condition was met.")]})
    with transaction.atomic():
        locked = Obligation.objects.select_for_update().get(pk=obligation.pk)
        if locked.status == Obligation.Status.MET:
            raise TransitionConflict(_("The condition is already met."))
        before = locked.status
        locked.status = Obligation.Status.MET
        locked.met_at, locked.met_by, locked.met_note = timezone.now(), actor, note.strip()
        locked.save(update_fields=["status", "met_at", "met_by", "met_note"])
        record_event(
            actor=actor,
            verb=Verb.OBLIGATION_MET,
            obj=locked,
            tenant=locked.tenant,
            reason=note,
            changes={"status": {"before": before, "after": "met"}},
        )
    return locked
