"""A second factor (TOTP, django-otp) for programme staff and country admins.

Anyone holding a role in ``PORTAL_2FA_ROLES`` (programme staff and country admins) must prove a
one-time code from an authenticator app (or a recovery code) before any page or API call
answers; officials may enrol one. Enrolment is open only to a session that came through an
invitation or a platform admin's enrolment link, or that is already verified: a password
alone never lets someone attach their own authenticator to an account. Turned off with
PORTAL_STAFF_2FA=off (the local demo of ``make run`` does that).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts import services
from portal.audit.record import record_event
from portal.audit.verbs import Verb
from portal.tenancy.access import access_for

_OPEN_PREFIXES = (
    "/static/",
    "/i18n/",
    "/healthz",
    "/readyz",
    "/api/v1/auth/token/",
    "/api/v1/invitations/accept/",
)
#: Session keys: the person this session may enrol a device for, and the codes shown once.
ENROL_SESSION_KEY = "portal_enrol_user"
ENROL_LINK_SESSION_KEY = "portal_enrol_link"
CODES_SESSION_KEY = "portal_recovery_codes"
#: Set at sign-in when the person has a device although their roles do not require one (an
#: official who chose it): the session is then held to it like staff (no query per request).
DEVICE_SESSION_KEY = "portal_device_on"


def requires_second_factor(user: Any) -> bool:
    if settings.PORTAL_STAFF_2FA != "required" or not user.is_authenticated:
        return False
    access = access_for(user)
    roles = set(access.programme_roles) | {r for rs in access.tenant_roles.values() for r in rs}
    return bool(roles & settings.PORTAL_2FA_ROLES)


def may_enrol(request: HttpRequest) -> bool:
    """Enrolment is open to a verified session, or one opened by an invitation or an
    enrolment link for this very person."""
    user = request.user
    if user.is_verified():  # type: ignore[union-attr]
        return True
    if request.session.get(ENROL_SESSION_KEY) == user.pk:
        return True
    link = request.session.get(ENROL_LINK_SESSION_KEY, "")
    linked = services.enrolment_link_user(link) if link else None
    return linked is not None and linked.pk == user.pk


def _open_path(path: str) -> bool:
    # Language prefixes (/fr/accounts/…) are allowed like the unprefixed pages.
    bare = (
        "/" + path.lstrip("/").split("/", 1)[-1]
        if path[1:3] in {"ja", "fr", "es", "ar"} and path[3:4] == "/"
        else path
    )
    return bare.startswith(_OPEN_PREFIXES) or bare.startswith(
        ("/accounts/2fa/", "/accounts/logout/", "/accounts/invitation/")
    )


class StaffTwoFactorMiddleware:
    """Send unverified programme staff to the second-factor page (403 for the API)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and (
                requires_second_factor(user)
                or (
                    settings.PORTAL_STAFF_2FA == "required"
                    and request.session.get(DEVICE_SESSION_KEY)
                    and user.is_authenticated
                )
            )
            and not user.is_verified()
            and not _open_path(request.path)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": _("Programme staff must verify a one-time code first.")}, status=403
                )
            target = "two-factor-verify" if user_has_device(user) else "two-factor-setup"
            return redirect(f"{reverse(target)}?next={request.get_full_path()}")
        return self.get_response(request)


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
        return candidate
    return reverse("dashboard")


def _qr_svg(data: str) -> str:
    """The enrolment QR code as inline SVG (no image request, no third party)."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def setup(request: HttpRequest) -> HttpResponseBase:
    """Enrol an authenticator app: scan the code, type one code to confirm; then the ten
    recovery codes are shown, once."""
    user = request.user
    if user_has_device(user) and not user.is_verified():  # type: ignore[union-attr]
        return redirect(f"{reverse('two-factor-verify')}?next={_next_url(request)}")
    if not may_enrol(request):
        return render(request, "accounts/two_factor_closed.html", status=403)
    device = TOTPDevice.objects.filter(
        user=user, confirmed=False
    ).first() or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    error = ""
    if request.method == "POST":
        if device.verify_token(request.POST.get("token", "").strip()):
            with transaction.atomic():
                TOTPDevice.objects.filter(user=user, confirmed=True).delete()  # replaced
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                record_event(verb=Verb.AUTH_2FA_ENROLLED, obj=user, actor=user)
                codes = services.recovery_codes_issue(user=user)
                services.enrolment_link_close(user=user)
            otp_login(request, device)
            request.session[DEVICE_SESSION_KEY] = True
            request.session.pop(ENROL_SESSION_KEY, None)
            request.session.pop(ENROL_LINK_SESSION_KEY, None)
            request.session[CODES_SESSION_KEY] = codes
            return redirect(f"{reverse('two-factor-codes')}?next={_next_url(request)}")
        error = _("That code did not match. Check the time on your device and try again.")
        record_event(verb=Verb.AUTH_2FA_FAILED, obj=user, actor=user, changes={"stage": "enrol"})
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "qr_svg": _qr_svg(device.config_url),
            "secret": secret,
            "error": error,
            "next": _next_url(request),
        },
        status=400 if error else 200,
    )


@login_required
@require_safe
def recovery_codes(request: HttpRequest) -> HttpResponseBase:
    """The recovery codes just issued, shown this once (they are stored hashed nowhere else
    than django-otp's table, and never shown again)."""
    codes = request.session.pop(CODES_SESSION_KEY, None)
    if not codes:
        return redirect(_next_url(request))
    response = render(
        request, "accounts/recovery_codes.html", {"codes": codes, "next": _next_url(request)}
    )
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def enrol_link(request: HttpRequest, token: str) -> HttpResponseBase:
    """A platform admin's enrolment link: remember it in this session, then sign in and
    enrol. An unknown, used or expired link gets the closed page."""
    user = services.enrolment_link_user(token)
    if user is None:
        return render(request, "accounts/two_factor_closed.html", status=400)
    request.session[ENROL_LINK_SESSION_KEY] = token
    setup_url = reverse("two-factor-setup")
    if request.user.is_authenticated and request.user.pk == user.pk:
        return redirect(setup_url)
    return redirect(f"{reverse('login')}?next={setup_url}")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request: HttpRequest) -> HttpResponseBase:
    """Prove the second factor for this session."""
    user = request.user
    if not user_has_device(user):
        return redirect(f"{reverse('two-factor-setup')}?next={_next_url(request)}")
    error = ""
    if request.method == "POST":
        device = match_token(user, request.POST.get("token", "").strip())
        if device is not None:
            otp_login(request, device)
            record_event(verb=Verb.AUTH_2FA_VERIFIED, obj=user, actor=user)
            return redirect(_next_url(request))
        error = _("That code did not match. Try the newest code from your authenticator app.")
        record_event(verb=Verb.AUTH_2FA_FAILED, obj=user, actor=user, changes={"stage": "verify"})
    return render(
        request,
        "accounts/two_factor_verify.html",
        {"error": error, "next": _next_url(request)},
        status=400 if error else 200,
    )
