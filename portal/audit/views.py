"""The auditors' explorer: read-only pages over the audit history (thin; rules live in
``selectors``/``services``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from portal import parse
from portal.audit.checkpoints import load_checkpoints
from portal.audit.export import FORMATS
from portal.audit.forms import (
    FILTER_PARAMS,
    AuditFilterForm,
    DateOrDateTimeField,
    ExportForm,
    end_of_day,
)
from portal.audit.selectors import (
    audit_events,
    change_rows,
    display,
    is_auditor,
    keyset_page,
    object_events,
    object_state_as_of,
    withheld_countries,
)
from portal.audit.services import audit_export, audit_status, audit_verify

TIMELINE_PAGE_SIZE = 100


def _auditor_only(view: Callable[..., Any]) -> Callable[..., Any]:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not is_auditor(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def auditor_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in (else to the login page) and an auditor (else 403); GET/HEAD only."""
    return require_safe(_auditor_only(view))


def auditor_action(view: Callable[..., Any]) -> Callable[..., Any]:
    """Like ``auditor_required`` for what writes or costs much: POST only (with CSRF)."""
    return require_POST(_auditor_only(view))


def _id_param(request: HttpRequest, name: str) -> int | None:
    """A keyset position; anything but plain digits (``²``, ``-1``, ``1e3``) is ignored."""
    return parse.lenient_integer(request.GET.get(name))


def _with_diffs(events: list[Any]) -> list[tuple[Any, list[Any]]]:
    return [(event, change_rows(event.changes)) for event in events]


@auditor_required
def explorer(request: HttpRequest) -> HttpResponse:
    """Filters, newest-first keyset pages, and export links for the current filter."""
    form = AuditFilterForm(request.GET)
    page = None
    if form.is_valid():
        page = keyset_page(
            queryset=audit_events(user=request.user, lookups=form.lookups()),
            after=_id_param(request, "after"),
            before=_id_param(request, "before"),
        )
    filters = request.GET.copy()
    for name in list(filters):
        if name not in FILTER_PARAMS:
            del filters[name]
    return render(request, "audit/explorer.html", {
        "form": form,
        "page": page,
        "rows": _with_diffs(page.events) if page else [],
        "filter_query": filters.urlencode(),
        "filter_items": [(k, v) for k in filters for v in filters.getlist(k)],
        "withheld": withheld_countries(user=request.user),
    })  # fmt: skip


@auditor_required
def object_timeline(request: HttpRequest, object_type: str, object_id: str) -> HttpResponse:
    """One object's events, oldest first, with diffs; and its state as of a chosen date."""
    try:  # path segments are client text too: a NUL byte would reach PostgreSQL
        object_type, object_id = parse.text(object_type), parse.text(object_id)
    except parse.ParseError as exc:
        raise Http404 from exc
    events = object_events(user=request.user, object_type=object_type, object_id=object_id)
    page = keyset_page(
        queryset=events,
        after=_id_param(request, "after"),
        before=_id_param(request, "before"),
        size=TIMELINE_PAGE_SIZE,
        newest_first=False,
    )
    as_of_field = DateOrDateTimeField(required=False)
    as_of_text = request.GET.get("as_of", "").strip()
    state, as_of_error = None, None
    if as_of_text:
        try:
            as_of = as_of_field.clean(as_of_text)
        except ValidationError as exc:
            as_of_error = " ".join(exc.messages)
        else:
            # "As of a day" means at the end of it; past the calendar's last day, everything.
            moment = as_of if isinstance(as_of, dt.datetime) else end_of_day(as_of)
            state = object_state_as_of(
                user=request.user, object_type=object_type, object_id=object_id, moment=moment
            )
    try:
        kind = str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        kind = object_type
    labelled = next((e for e in page.events if e.object_label), None)
    return render(request, "audit/timeline.html", {
        "object_type": object_type,
        "object_id": object_id,
        # Headings name the reference (JP-2026-0009), not "partnerships.countryapplication 19".
        "object_label": labelled.object_label if labelled else object_id,
        "object_kind": kind,
        "page": page,
        "rows": _with_diffs(page.events),
        "as_of": as_of_text,
        "as_of_error": as_of_error,
        "state": state,
        "state_rows": [(k, display(v)) for k, v in sorted(state.fields.items())] if state else [],
        "today": timezone.localdate().isoformat(),
        "filter_query": urlencode({"object_type": object_type, "object_id": object_id}),
        "filter_items": [("object_type", object_type), ("object_id", object_id)],
    })  # fmt: skip


@auditor_action
def verify(request: HttpRequest) -> HttpResponse:
    """Verify the whole chain now (the badge's button; recorded); a fragment for htmx."""
    result = audit_verify(actor=request.user, full=True)
    template = (
        "audit/_verify_badge.html" if request.headers.get("HX-Request") else "audit/verify.html"
    )
    return render(request, template, {"result": result, "full": True})


@auditor_required
def verify_status(request: HttpRequest) -> HttpResponse:
    """The badge: verified from the newest signed checkpoint (instant at any chain length)."""
    result = audit_status(actor=request.user)
    return render(request, "audit/_verify_badge.html", {"result": result, "full": False})


CHECKPOINTS_SHOWN = 200


@auditor_required
def checkpoints(request: HttpRequest) -> HttpResponse:
    """The signed checkpoints kept outside the database, newest first, each checked."""
    listed = load_checkpoints()[-CHECKPOINTS_SHOWN:][::-1]
    hashes = dict(
        audit_events(user=request.user)
        .filter(id__in=[cp.last_id for cp in listed])
        .values_list("id", "hash")
    )
    rows = [(cp, cp.valid and hashes.get(cp.last_id) == cp.head_hash) for cp in listed]
    return render(request, "audit/checkpoints.html", {"rows": rows})


@auditor_action
def export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The explorer's export buttons: the current filter, streamed (recorded first)."""
    form = ExportForm(request.POST)
    if not form.is_valid():
        return render(request, "audit/export_error.html", {"form": form}, status=400)
    fmt = form.cleaned_data["format"]
    stream = audit_export(
        actor=request.user, lookups=form.lookups(), query=form.as_query(), fmt=fmt
    )
    response = StreamingHttpResponse(stream, content_type=FORMATS[fmt])
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="audit-events-{stamp}.{fmt}"'
    return response
