from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any, cast

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template import loader
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from portal import hooks
from portal.accounts import services, throttle
from portal.tenancy.models import Tenant, validate_language_code
from portal.tenancy.roles import Role


def wait_message(seconds: int) -> str:
    at = timezone.localtime(timezone.now() + dt.timedelta(seconds=seconds))
    return _(
        "Too many failed sign-in attempts for this account. Try again after %(time)s UTC "
        "(in %(seconds)d seconds)."
    ) % {"time": at.strftime("%H:%M:%S"), "seconds": seconds}


class PortalAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, plus the account-wide delay (portal.accounts.throttle), said
    with the time to try again."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        if wait := throttle.seconds_to_wait(username):
            raise ValidationError(wait_message(wait), code="account_wait")
        try:
            return super().clean()
        except ValidationError:
            if wait := getattr(self.request, "portal_account_wait", 0):
                raise ValidationError(wait_message(wait), code="account_wait") from None
            raise


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form, but the message goes to the outbox (sent by a worker after
    commit), so the answer takes the same time whether or not the address is known; the
    request is audited either way. The message is in the account's language."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        # Written in the account's language (its link opens the portal in it too).
        with translation.override(services.user_language(context["user"])):
            subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
            body = loader.render_to_string(email_template_name, context)
        hooks.queue_mail(recipients=[to_email], subject=subject, body=body)

    def save(self, *args: Any, **kwargs: Any) -> None:
        email = self.cleaned_data["email"]
        users = list(self.get_users(email))
        with transaction.atomic():
            services.password_reset_requested(email=email, user=users[0] if users else None)
            super().save(*args, **kwargs)


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    role = forms.ChoiceField(label=_("Role"))
    tenant = forms.ModelChoiceField(
        label=_("Country"),
        queryset=Tenant.objects.none(),
        to_field_name="code",
        required=False,
        help_text=_("For country roles only."),
    )
    language = forms.ChoiceField(
        label=_("Language of the invitation"),
        choices=services.invitation_languages,
        required=False,  # absent: the country's language (services.invitation_create)
        help_text=_("The e-mail is written in it, and the link opens the portal in it."),
    )

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].initial = translation.get_language()
        tenants = services.invitable_tenants(actor)
        tenant_field = cast(forms.ModelChoiceField, self.fields["tenant"])
        tenant_field.queryset = Tenant.objects.filter(pk__in=[t.pk for t in tenants])
        roles: set[str] = set(services.grantable_roles(actor, None))
        for tenant in tenants:
            roles |= set(services.grantable_roles(actor, tenant))
        cast(forms.ChoiceField, self.fields["role"]).choices = [
            (r.value, r.label) for r in Role if r in roles
        ]
        if len(tenants) == 1 and not services.grantable_roles(actor, None):
            self.fields["tenant"].initial = tenants[0].code


class AcceptForm(forms.Form):
    username = forms.RegexField(
        label=_("Username"),
        regex=r"^[\w.@+-]+\Z",
        max_length=150,
        help_text=_("Letters, digits and @/./+/-/_ only."),
        error_messages={"invalid": _("Letters, digits and @/./+/-/_ only.")},
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data


def _time_zones() -> list[tuple[str, str]]:
    return [("", "—")] + [(z, z) for z in sorted(zoneinfo.available_timezones())]


class CountryForm(forms.Form):
    code = forms.RegexField(
        label=_("ISO code"),
        regex=r"^[A-Z]{2}\Z",
        help_text=_("Two capital letters, e.g. KE."),
        error_messages={"invalid": _("Two capital letters, e.g. KE.")},
    )
    name = forms.CharField(
        label=_("Name"), max_length=100, widget=forms.TextInput(attrs={"dir": "auto"})
    )
    languages = forms.CharField(
        label=_("Languages"),
        max_length=200,
        required=False,
        help_text=_("ISO 639-1 codes, comma-separated, e.g. en, sw."),
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=_time_zones, required=False)

    def clean_code(self) -> str:
        code = self.cleaned_data["code"]
        if hooks.territory_name(code) is None:
            raise ValidationError(_("%(code)s is not on the territory list.") % {"code": code})
        return code

    def clean_languages(self) -> list[str]:
        codes = [c.strip().lower() for c in self.cleaned_data["languages"].split(",") if c.strip()]
        for code in codes:
            validate_language_code(code)
        return codes
