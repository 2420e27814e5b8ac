"""Compliance pages (issue 5): placeholder until the compliance work lands."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def holds(request: HttpRequest) -> HttpResponse:
    return render(request, "base.html")


@login_required
def territories(request: HttpRequest) -> HttpResponse:
    return render(request, "base.html")
