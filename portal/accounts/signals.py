"""Login, logout and failed-login events, written by the recording service."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django_otp import user_has_device

from portal.audit.record import record_event
from portal.audit.verbs import Verb


@receiver(user_logged_in, dispatch_uid="audit_login")
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record_event(verb=Verb.AUTH_LOGIN, obj=user, actor=user)
    if request is not None and hasattr(request, "session") and user_has_device(user):
        # An official who chose a second factor is held to it (portal.accounts.two_factor).
        request.session["portal_device_on"] = True


@receiver(user_logged_out, dispatch_uid="audit_logout")
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record_event(verb=Verb.AUTH_LOGOUT, obj=user, actor=user)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username", ""))[:150]
    known = get_user_model().objects.filter(username=username).first()
    record_event(
        verb=Verb.AUTH_LOGIN_FAILED,
        object_type="accounts.user",
        object_id=known.pk if known else "",
        object_label=username,
        actor=None,
    )
