"""Account-wide brute-force limit, beside django-axes' per username+address lockout.

Axes stops one address hammering one account; guessing spread over many addresses is
limited here, per account: after ``PORTAL_ACCOUNT_FREE_FAILURES`` failures in a row, each
next attempt must wait 2, 4, 8 … seconds after the last failure, never more than
``PORTAL_ACCOUNT_MAX_DELAY_SECONDS``. Attempts made while waiting are refused without being
counted, so a stranger cannot stretch the wait: the owner is kept out for at most the cap,
not locked for a fixed long period. A successful sign-in clears the count.

Written by hand because axes (the well-kept library here) has no per-account, address-free
policy with rising delays; the counters live in the Redis cache beside axes' throttles.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver

_PREFIX = "portal:account-failures:"


def _key(username: str) -> str:
    # Hashed: usernames typed at the login form (anything) never become cache keys as such.
    return _PREFIX + hashlib.sha256(username.strip().lower().encode()).hexdigest()


def delay_after(failures: int) -> int:
    """Seconds to wait after ``failures`` failures in a row (0 while under the free count)."""
    over = failures - settings.PORTAL_ACCOUNT_FREE_FAILURES
    if over < 0:
        return 0
    return min(2 ** min(over + 1, 30), settings.PORTAL_ACCOUNT_MAX_DELAY_SECONDS)


def retry_at(username: str) -> float | None:
    """Epoch seconds before which ``username`` may not try again, or None if it may now."""
    if not username:
        return None
    state = cache.get(_key(username))
    if not state:
        return None
    failures, last = state
    wait = delay_after(failures)
    if wait and time.time() < last + wait:
        return last + wait
    return None


def seconds_to_wait(username: str) -> int:
    at = retry_at(username)
    return max(1, math.ceil(at - time.time())) if at is not None else 0


def record_failure(username: str) -> None:
    if not username:
        return
    failures, _ = cache.get(_key(username)) or (0, 0.0)
    # Kept a day after the last failure; long enough to matter, short enough to forget.
    cache.set(_key(username), (failures + 1, time.time()), timeout=86400)


def clear(username: str) -> None:
    cache.delete(_key(username))


class AccountWaitRequired(PermissionDenied):
    """Raised (and so refused) while the account's delay runs; carries the wait."""

    def __init__(self, seconds: int) -> None:
        super().__init__(f"Too many failed sign-in attempts; wait {seconds} s.")
        self.seconds = seconds


class AccountDelayBackend:
    """An authentication backend that authenticates nobody: it refuses (PermissionDenied
    stops Django's backend loop) while the account must wait, whatever the entry point
    (login page, admin login, token endpoint)."""

    def authenticate(self, request: Any, username: str | None = None, **kwargs: Any) -> None:
        if username and retry_at(username) is not None:
            if request is not None:
                request.portal_account_wait = seconds_to_wait(username)
            raise AccountWaitRequired(seconds_to_wait(username))
        return None

    # No get_user(): this backend never signs anyone in, so sessions never name it.


@receiver(user_login_failed, dispatch_uid="portal_account_failures")
def _failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    if request is not None and getattr(request, "portal_account_wait", None):
        return  # refused while waiting: not counted, or a stranger could stretch the wait
    record_failure(str(credentials.get("username", ""))[:150])


@receiver(user_logged_in, dispatch_uid="portal_account_success")
def _succeeded(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    clear(user.get_username())
