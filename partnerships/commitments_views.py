"""Commitments pages (issue 7): placeholder until the commitments work lands."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def commitment_list(request: HttpRequest) -> HttpResponse:
    return render(request, "base.html")
