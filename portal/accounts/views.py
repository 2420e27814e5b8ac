"""People pages (DESIGN §5b): invitations, members, countries, passwords, one's own security.

Thin: forms parse, services decide and audit, templates show."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_otp import user_has_device

from portal.accounts import services
from portal.accounts.forms import (
    AcceptForm,
    CountryForm,
    InviteForm,
    OutboxPasswordResetForm,
    PortalAuthenticationForm,
)
from portal.accounts.models import ApiToken, Invitation, User
from portal.accounts.two_factor import ENROL_SESSION_KEY, may_enrol, requires_second_factor
from portal.tenancy.access import access_for
from portal.tenancy.models import Membership, ProgrammeRole, Tenant
from portal.tenancy.roles import Role
from portal.tenancy.services import tenant_create
from portal.ui.service_errors import ALL, service_errors


def locked_out(
    request: HttpRequest, credentials: dict[str, Any] | None = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """django-axes lockout (this username from this address): 429 for the API, a page for
    the browser; both say when to try again."""
    cooloff: dt.timedelta = settings.AXES_COOLOFF_TIME
    at = timezone.now() + cooloff
    message = _("Too many failed sign-in attempts. Try again after %(time)s UTC.") % {
        "time": at.strftime("%H:%M")
    }
    seconds = str(int(cooloff.total_seconds()))
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message}, status=429)
    else:
        response = render(request, "accounts/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = seconds
    return response


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    authentication_form = PortalAuthenticationForm


# --- Invitation acceptance (anonymous) ----------------------------------------------------------


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the invitation e-mail: choose a username and password; the account and
    its role are created, then (where required) the second factor is enrolled first."""
    invitation = services.invitation_for_token(token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=400)
    form = AcceptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with service_errors(to_messages=(), catch_denied=True) as outcome:
            user = services.invitation_accept(
                token=token,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
            )
        if "token" in outcome.errors:
            return render(request, "accounts/invitation_invalid.html", status=400)
        names = {"password": "password1", "detail": "username" if outcome.kind == "invalid" else ""}
        for field, problems in outcome.errors.items():
            form.add_error(names.get(field, field) or None, problems)
        if outcome.ok:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[ENROL_SESSION_KEY] = user.pk
            if requires_second_factor(user):
                return redirect("two-factor-setup")
            messages.success(
                request,
                _(
                    "Welcome. Your account is ready. You may also protect it with two-step "
                    "sign-in from your account page."
                ),
            )
            return redirect("dashboard")
    return render(
        request,
        "accounts/invitation_accept.html",
        {"form": form, "invitation": invitation},
        status=400 if form.errors else 200,
    )


# --- People ---------------------------------------------------------------------------------


def _require_people_manager(user: Any) -> None:
    if not services.may_invite_anyone(user):
        raise PermissionDenied(_("Only country and platform administrators manage people."))


def _members(user: Any) -> Any:
    return (
        User.objects.restrict(user)
        .order_by("-is_active", "username")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.select_related("tenant").order_by("tenant__code"),
            ),
            Prefetch("programme_roles", queryset=ProgrammeRole.objects.order_by("role")),
        )
    )


def _rows(user: Any) -> list[dict[str, Any]]:
    """Each member with the roles the viewer may see (a country admin: their countries)."""
    access = access_for(user)
    everyone = access.has_programme_role(Role.PLATFORM_ADMIN)
    mine = {tid for tid, roles in access.tenant_roles.items() if Role.COUNTRY_ADMIN in roles}
    rows = []
    for member in _members(user):
        roles = [m for m in member.memberships.all() if everyone or m.tenant_id in mine]
        programme = list(member.programme_roles.all()) if everyone else []
        rows.append(
            {
                "user": member,
                "roles": roles,
                "programme_roles": programme,
                "manageable": member.is_active and services.may_manage_member(user, member),
            }
        )
    return rows


def _invite_form(request: HttpRequest) -> InviteForm:
    """The invitation form; ``?tenant=CC`` (after adding a country) preselects that country
    and its first admin's role, when the field's own parser accepts the code."""
    form = InviteForm(actor=request.user)
    code = request.GET.get("tenant", "")
    if code:
        try:
            tenant = form.fields["tenant"].clean(code)
        except ValidationError:
            tenant = None
        if tenant is not None:
            form = InviteForm(
                actor=request.user, initial={"tenant": tenant.code, "role": "country_admin"}
            )
    return form


@login_required
@require_safe
def people(request: HttpRequest) -> HttpResponse:
    _require_people_manager(request.user)
    invitations = (
        Invitation.objects.restrict(request.user)
        .select_related("tenant", "invited_by")
        .filter(accepted_at=None, revoked_at=None)
    )
    return render(
        request,
        "accounts/people.html",
        {
            "rows": _rows(request.user),
            "invitations": invitations,
            "form": _invite_form(request),
            "is_platform_admin": access_for(request.user).has_programme_role(Role.PLATFORM_ADMIN),
        },
    )


@login_required
@require_POST
def people_invite(request: HttpRequest) -> HttpResponse:
    _require_people_manager(request.user)
    form = InviteForm(request.POST, actor=request.user)
    if form.is_valid():
        with service_errors(
            to_messages=(), catch_denied=True, form=form, rename={"detail": "role"}
        ) as outcome:
            invitation, _token = services.invitation_create(
                actor=request.user,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                tenant=form.cleaned_data["tenant"],
                language=form.cleaned_data["language"] or None,
            )
        if outcome.ok:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": invitation.email}
            )
            return redirect("people")
    invitations = Invitation.objects.restrict(request.user).filter(
        accepted_at=None, revoked_at=None
    )
    return render(
        request,
        "accounts/people.html",
        {"rows": _rows(request.user), "invitations": invitations, "form": form},
        status=400,
    )


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    return _invitation_action(request, pk, services.invitation_revoke, _("Invitation revoked."))


@login_required
@require_POST
def invitation_resend(request: HttpRequest, pk: int) -> HttpResponse:
    return _invitation_action(
        request,
        pk,
        services.invitation_resend,
        _("A new link was sent; the old one no longer works."),
    )


def _invitation_action(
    request: HttpRequest, pk: int, service: Callable[..., Any], done: str
) -> HttpResponse:
    """Revoke or resend an invitation the user may see (else 404): ``done`` on success, the
    service's refusal (no longer open, already accepted) as a message; back to the people page."""
    invitation = get_object_or_404(Invitation.objects.restrict(request.user), pk=pk)
    with service_errors(request, to_messages=ALL) as outcome:
        service(invitation=invitation, actor=request.user)
    if outcome.ok:
        messages.success(request, done)
    return redirect("people")


@login_required
@require_http_methods(["GET", "POST"])
def member_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then deactivate (sessions and tokens end at once; nothing is deleted)."""
    member = get_object_or_404(User.objects.restrict(request.user), pk=pk)
    if not services.may_manage_member(request.user, member):
        raise PermissionDenied(_("You may not deactivate this person."))
    if request.method == "POST":
        services.member_deactivate(user=member, actor=request.user)
        messages.success(request, _("%(name)s is deactivated.") % {"name": member.get_username()})
        return redirect("people")
    return render(
        request,
        "accounts/people_confirm.html",
        {
            "member": member,
            "title": _("Deactivate %(name)s?") % {"name": member.get_username()},
            "explanation": _(
                "Their sessions and API tokens stop working at once and their roles end "
                "today. Nothing is deleted: their past actions keep their name. To bring "
                "them back, send a new invitation."
            ),
            "button": _("Deactivate"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def member_reset_device(request: HttpRequest, pk: int) -> HttpResponse:
    """Platform admins: confirm, then reset a lost authenticator (a new enrolment link is
    mailed to the person)."""
    if not access_for(request.user).has_programme_role(Role.PLATFORM_ADMIN):
        raise PermissionDenied(_("Only a platform administrator can reset a device."))
    member = get_object_or_404(User.objects.restrict(request.user), pk=pk)
    if request.method == "POST":
        with service_errors(request, to_messages=ALL) as outcome:
            services.otp_reset(user=member, actor=request.user)
        if outcome.ok:
            messages.success(
                request,
                _("%(name)s's device was reset; an enrolment link was sent to them.")
                % {"name": member.get_username()},
            )
        return redirect("people")
    return render(
        request,
        "accounts/people_confirm.html",
        {
            "member": member,
            "title": _("Reset %(name)s's authenticator?") % {"name": member.get_username()},
            "explanation": _(
                "Their authenticator and recovery codes stop working, their sessions and "
                "API tokens end, and they receive a one-time link to enrol a new device."
            ),
            "button": _("Reset device"),
        },
    )


# --- Countries ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def countries(request: HttpRequest) -> HttpResponse:
    """Platform admins: the countries, and a form to add one (it starts with no people)."""
    if not access_for(request.user).has_programme_role(Role.PLATFORM_ADMIN):
        raise PermissionDenied(_("Only a platform administrator can add a country."))
    form = CountryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with service_errors(to_messages=(), form=form) as outcome:
            tenant = tenant_create(actor=request.user, **form.cleaned_data)
        if outcome.ok:
            messages.success(
                request,
                _("%(name)s added. Invite its first country administrator.")
                % {"name": tenant.name},
            )
            return redirect(f"{reverse('people')}?tenant={tenant.code}")
    return render(
        request,
        "accounts/countries.html",
        {"form": form, "tenants": Tenant.objects.restrict(request.user)},
        status=400 if form.errors else 200,
    )


# --- One's own security ---------------------------------------------------------------------


@login_required
@require_safe
def security(request: HttpRequest) -> HttpResponse:
    """Password, API tokens and "sign out everywhere"."""
    return render(
        request,
        "accounts/security.html",
        {
            "tokens": ApiToken.objects.filter(user=request.user),
            "has_device": user_has_device(request.user),
            "may_enrol": may_enrol(request),
        },
    )


@login_required
@require_POST
def security_revoke_token(request: HttpRequest, token_id: uuid.UUID) -> HttpResponse:
    token = get_object_or_404(ApiToken, user=request.user, public_id=token_id)
    services.token_revoke(token=token, actor=request.user)
    messages.success(request, _("Token revoked."))
    return redirect("account-security")


@login_required
@require_POST
def security_sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    services.sign_out_everywhere(user=request.user)
    return redirect("login")


# --- Passwords: Django's own views, audited, revoking API tokens -----------------------------


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change_form.html"
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)  # saves, keeps this session (other ones end)
        services.password_changed(user=form.user, by_reset=False)
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    form_class = OutboxPasswordResetForm
    success_url = reverse_lazy("password_reset_done")
    extra_email_context = {"base_url": settings.PORTAL_BASE_URL.rstrip("/")}


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.password_changed(user=form.user, by_reset=True)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
