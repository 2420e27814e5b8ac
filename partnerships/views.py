"""Web pages for applications and review (in progress)."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def application_list(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return render(request, "base.html")


@login_required
def application_new(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return render(request, "base.html")


@login_required
def application_detail(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return render(request, "base.html")


@login_required
def application_edit(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return render(request, "base.html")


@login_required
def application_submit(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return render(request, "base.html")


@login_required
def application_withdraw(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return render(request, "base.html")


@login_required
def application_attachments(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return render(request, "base.html")


@login_required
def attachment_download(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return render(request, "base.html")


@login_required
def obligation_evidence(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return render(request, "base.html")


@login_required
def obligation_met(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return render(request, "base.html")


@login_required
def emission_estimate(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return render(request, "base.html")


@login_required
def review_queues(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return render(request, "base.html")


@login_required
def approver_board(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return render(request, "base.html")


@login_required
def review_detail(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return render(request, "base.html")


@login_required
def review_act(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return render(request, "base.html")


@login_required
def review_assign(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return render(request, "base.html")
