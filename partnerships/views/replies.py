"""The country's answer to an information request."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from partnerships import selectors, services
from partnerships.views.applications import render_detail
from portal import parse
from portal.ui.service_errors import service_errors


@login_required
@require_POST
def application_reply(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The country's answer to an information request (text and files)."""
    application = selectors.application_for(request.user, pk)
    services.require_official(request.user, application.tenant_id)
    text = request.POST.get("text", "")
    with service_errors(request, parse_key="text") as outcome:
        answer = parse.text(text, max_length=20000)
        services.info_reply_add(
            application=application,
            actor=request.user,
            text=answer,
            uploads=request.FILES.getlist("files")[:10],
        )
    if outcome.kind == "invalid":
        errors = {("text" if k == "text" else "files"): v for k, v in outcome.errors.items()}
        return render_detail(request, application, reply_text=text, errors=errors, status=400)
    if outcome.kind == "conflict":
        return redirect("application-detail", pk=pk)
    messages.success(
        request,
        _("Your answer was sent to the programme. Submit the application again when it is ready."),
    )
    return redirect("application-detail", pk=pk)
