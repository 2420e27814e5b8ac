"""Attachments and evidence: the attachments step, downloads, an obligation's evidence and
marking it met.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from partnerships import selectors, services, workflow
from partnerships.api import serve_attachment
from partnerships.models import Attachment
from partnerships.views.common import STEPS, is_country_official
from portal import parse
from portal.ui import errors as ui_errors
from portal.ui.service_errors import ALL, service_errors


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def application_attachments(request: HttpRequest, pk: int) -> HttpResponseBase:
    application = selectors.application_for(request.user, pk)
    errors: list[str] = []
    if request.method == "POST":
        services.require_official(request.user, application.tenant_id)
        upload = request.FILES.get("file")
        if upload is None:
            errors.append(_("Choose a file."))
        else:
            with service_errors(to_messages=()) as outcome:
                services.attachment_add(
                    application=application,
                    actor=request.user,
                    upload=upload,
                    evidence_for=request.POST.get("evidence_for", ""),  # the service checks it
                )
            errors.extend(outcome.messages)
            if outcome.ok:
                messages.success(request, _("File added."))
                return redirect("application-attachments", pk=pk)
    return render(
        request,
        "partnerships/attachments.html",
        {
            "application": application,
            "attachments": application.attachments.all(),
            "errors": errors,
            "error_summary": ui_errors.summary(
                {"file": errors} if errors else {}, lambda key: ("id_file", _("File"))
            ),
            "evidence": Attachment.Evidence.choices,
            "is_official": is_country_official(request.user, application),
            "editable": application.state in workflow.EDITABLE_STATES,
            "steps": STEPS,
            "step": "attachments",
            "completeness": services.completeness(application),
        },
        status=400 if errors else 200,
    )


@login_required
@require_safe
def attachment_download(request: HttpRequest, pk: int, attachment_id: int) -> HttpResponseBase:
    application = selectors.application_for(request.user, pk)
    attachment = get_object_or_404(application.attachments, pk=attachment_id)
    return serve_attachment(request.user, attachment)


@login_required
@require_POST
def obligation_evidence(request: HttpRequest, pk: int, obligation_id: int) -> HttpResponseBase:
    application = selectors.application_for(request.user, pk)
    obligation = get_object_or_404(application.obligations, pk=obligation_id)
    services.require_official(request.user, application.tenant_id)
    upload = request.FILES.get("file")
    with service_errors(request, to_messages=ALL) as outcome:
        if upload is None:
            raise ValidationError(_("Choose a file."))
        services.attachment_add(
            application=application, actor=request.user, upload=upload, obligation=obligation
        )
    if outcome.ok:
        messages.success(request, _("Evidence added."))
    return redirect("application-detail", pk=pk)


@login_required
@require_POST
def obligation_met(request: HttpRequest, pk: int, obligation_id: int) -> HttpResponseBase:
    application = selectors.application_for(request.user, pk)
    obligation = get_object_or_404(application.obligations, pk=obligation_id)
    with service_errors(request, to_messages=ALL) as outcome:
        services.obligation_mark_met(
            obligation=obligation,
            actor=request.user,
            note=parse.text(request.POST.get("note"), max_length=2000),
        )
    if outcome.ok:
        messages.success(request, _("Condition marked as met."))
    next_url = request.POST.get("next", "")
    return redirect(
        next_url
        if next_url.startswith("/") and not next_url.startswith("//")
        else reverse("application-detail", args=[pk])
    )
