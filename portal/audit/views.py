"""Audit explorer (issue 3): placeholder until the explorer lands."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def explorer(request: HttpRequest) -> HttpResponse:
    return render(request, "base.html")
