"""Review pages (programme staff): the queues, the approver board, the review page, acting
and assigning.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from partnerships import selectors, services, workflow
from partnerships.models import CountryApplication, State
from partnerships.views.common import changed_since_loaded, posted_version
from partnerships.views.decision_form import (
    DECISION_FIELDS,
    decision_conditions,
    decision_field_ref,
    decision_form_values,
    decision_texts,
)
from portal import parse
from portal.errors import ConflictError
from portal.tenancy.access import access_for, acts_as_country, without_conflicted_users
from portal.tenancy.roles import Role
from portal.ui import errors as ui_errors
from portal.ui.service_errors import service_errors


def _require_programme(user: Any) -> None:
    if not access_for(user).reads_all_tenants():
        raise PermissionDenied


@login_required
@require_safe
def review_queues(request: HttpRequest) -> HttpResponse:
    _require_programme(request.user)
    tenant = parse.lenient_text(request.GET.get("tenant"), max_length=2).upper()
    filters: dict[str, Any] = {
        "state": parse.choice(request.GET.get("state"), workflow.STATE_ROLE),
        "tenant": tenant if tenant.isascii() and tenant.isalpha() else "",
        "overdue": request.GET.get("overdue") == "1",
        "mine": request.GET.get("mine") == "1",
    }
    queue, next_cursor = selectors.queue_page(
        selectors.review_queue(request.user, **filters),
        selectors.QueueCursor.parse(request.GET.get("after")),
    )
    access = access_for(request.user)
    stages = [
        (s, State(s).label)
        for s, role in workflow.STATE_ROLE.items()
        if access.has_programme_role(role) or access.has_programme_role(Role.AUDITOR)
    ]
    return render(
        request,
        "partnerships/review_queue.html",
        {
            "queue": queue,
            "next_cursor": next_cursor,
            "filters": filters,
            "stages": stages,
            "now": dt.datetime.now(dt.UTC),
        },
    )


@login_required
@require_safe
def approver_board(request: HttpRequest) -> HttpResponse:
    """Final review as cards: due date, the security risk and the US concurrence of each."""
    _require_programme(request.user)
    items = list(
        selectors.review_queue(request.user, state=State.FINAL_REVIEW).prefetch_related(
            "obligations", "decisions"
        )[:200]
    )
    cards = []
    for item in items:
        decisions = list(item.decisions.all())
        security = next((d for d in reversed(decisions) if d.action == "approve_security"), None)
        concurrence = next((d for d in reversed(decisions) if d.action == "concur"), None)
        cards.append({"application": item, "security": security, "concurrence": concurrence})
    return render(request, "partnerships/approver_board.html", {"cards": cards})


def _render_review(
    request: HttpRequest,
    application: CountryApplication,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    access = access_for(request.user)
    role = workflow.STATE_ROLE.get(State(application.state))
    User = get_user_model()
    colleagues = (
        without_conflicted_users(
            User.objects.filter(
                is_active=True, programme_roles__role=role, programme_roles__ended_at__isnull=True
            ),
            application.tenant_id,
        )
        .order_by("username")
        .distinct()
        if role
        else User.objects.none()
    )
    errors = errors or {}
    actions = workflow.available_actions(application, request.user)

    def field_ref(key: str) -> tuple[str, str]:
        if key == "action" and actions:
            return f"action-{actions[0].name}", str(DECISION_FIELDS["action"][1])
        return decision_field_ref(key)

    return render(
        request,
        "partnerships/review_detail.html",
        {
            "application": application,
            "actions": actions,
            "risk_levels": [(r, workflow.RISK_LABELS[r]) for r in workflow.RISK_LEVELS],
            "decisions": application.decisions.select_related("actor"),
            "replies": application.info_replies.prefetch_related("attachments"),
            "attachments": application.attachments.all(),
            "obligations": application.obligations.prefetch_related("evidence"),
            "sites": application.sites.all(),
            "findings": application.screening_summary or [],
            "can_assign": bool(role and access.has_programme_role(role)),
            "colleagues": colleagues,
            "form": form or decision_form_values(request.POST if request.method == "POST" else {}),
            "errors": errors,
            "error_summary": ui_errors.summary(errors, field_ref),
        },
        status=status,
    )


@login_required
@require_safe
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_programme(request.user)
    application = selectors.application_for(request.user, pk)
    if acts_as_country(request.user, application.tenant_id):
        # A person of the country reads its applications as the country does.
        return redirect("application-detail", pk=pk)
    return _render_review(request, application, form=decision_form_values(QueryDict()))


@login_required
@require_POST
def review_act(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Record a decision. Errors re-render the form with everything typed; an action that
    cannot be undone (approve, reject, non-concur) first shows a confirmation step."""
    _require_programme(request.user)
    application = selectors.application_for(request.user, pk)
    workflow.require_may_act(application, request.user)
    form = decision_form_values(request.POST)
    with service_errors(to_messages=()) as outcome:
        conditions = decision_conditions(form)
        texts = decision_texts(form)
        spec = workflow.validate_transition_input(
            action=texts["action"],
            rationale=texts["rationale"],
            risk_level=texts["risk_level"],
            conditions=conditions,
            tenant=application.tenant,
        )
    if not outcome.ok:
        return _render_review(
            request, application, form=form, errors=outcome.errors, status=outcome.status
        )
    if "edit" in request.POST:
        return _render_review(request, application, form=form)
    if spec.name in workflow.IRREVERSIBLE_ACTIONS and request.POST.get("confirmed") != "1":
        return render(
            request,
            "partnerships/confirm_decision.html",
            {
                "application": application,
                "action": spec,
                "form": form,
                "conditions": conditions,
                "risk_label": workflow.RISK_LABELS.get(form["risk_level"], ""),
                "post_url": reverse("review-act", args=[pk]),
                "version": request.POST.get("version", ""),
            },
        )
    version = posted_version(request)
    with service_errors(to_messages=()) as outcome:
        if version is None:
            raise ConflictError(changed_since_loaded())
        workflow.application_transition(
            application=application,
            actor=request.user,
            action=spec.name,
            version=version,
            rationale=texts["rationale"],
            risk_level=texts["risk_level"],
            message_to_country=texts["message_to_country"],
            conditions=conditions,
        )
    if not outcome.ok:
        if outcome.kind == "conflict":
            application.refresh_from_db()
        return _render_review(
            request, application, form=form, errors=outcome.errors, status=outcome.status
        )
    messages.success(request, _("Decision recorded."))
    return redirect("review")


@login_required
@require_POST
def review_assign(request: HttpRequest, pk: int) -> HttpResponseBase:
    _require_programme(request.user)
    application = selectors.application_for(request.user, pk)
    User = get_user_model()
    chosen = parse.lenient_integer(request.POST.get("assignee"), minimum=1)
    if request.POST.get("assignee") and chosen is None:
        raise Http404
    assignee_id = chosen if chosen is not None else request.user.pk
    if assignee_id is None:
        raise Http404
    assignee = User.objects.filter(pk=assignee_id, is_active=True).first()
    if assignee is None:
        raise Http404
    with service_errors(request) as outcome:
        services.application_assign(application=application, actor=request.user, assignee=assignee)
    if outcome.ok:
        messages.success(request, _("Assigned to %(user)s.") % {"user": assignee.get_username()})
    return redirect("review-detail", pk=pk)
