import contextlib
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import is_valid_path
from django.utils import translation
from django.views import i18n
from django.views.decorators.http import require_safe

from portal.accounts.services import user_language_set
from portal.dashboard import dashboard_panels


@login_required
@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    """Each role's dashboard: what waits on me."""
    return render(request, "dashboard.html", {"panels": dashboard_panels(request.user)})


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's ``set_language``, plus: the page it returns to is the same page in the chosen
    language, wherever the switch was made.

    Django translates ``next`` by resolving it in the language active for ``/i18n/setlang/``
    itself (the cookie's), so from ``/ja/review/`` with an English cookie it found nothing to
    translate and sent the person back to ``/ja/review/``, still Japanese. Here the language
    prefix of ``next`` is replaced by the chosen one (none for the default language).

    A signed-in person's choice is also stored on their account (``User.language``, the
    language of their e-mails); a code the portal does not speak is not stored.
    """
    response = i18n.set_language(request)
    language = request.POST.get(i18n.LANGUAGE_QUERY_PARAMETER, "")
    location = response.get("Location")
    if (
        request.method != "POST"
        or not isinstance(language, str)
        or not translation.check_for_language(language)
    ):
        return response
    if request.user.is_authenticated:
        # The language the portal writes to them in from now on (their e-mails); a language
        # Django knows but the portal does not speak is not stored.
        with contextlib.suppress(ValidationError):
            user_language_set(user=request.user, language=language)
    if not location:
        return response
    parts = urlsplit(location)
    path = parts.path or "/"
    current = translation.get_language_from_path(path)
    if current:
        path = path[len(current) + 1 :] or "/"
    if language != settings.LANGUAGE_CODE:
        with translation.override(language):
            prefixed = f"/{language}{path}"
            if is_valid_path(prefixed):
                path = prefixed
    response["Location"] = urlunsplit(parts._replace(path=path))
    return response
