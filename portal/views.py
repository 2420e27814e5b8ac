from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from portal.dashboard import dashboard_panels


@login_required
@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    """Each role's dashboard: what waits on me."""
    return render(request, "dashboard.html", {"panels": dashboard_panels(request.user)})
