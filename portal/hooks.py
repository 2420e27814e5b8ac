"""Services that the apps above ``portal`` lend it (portal must not import them; DESIGN §2).

- the e-mail outbox (``partnerships``): rows written in the caller's transaction, sent by a
  task after commit, so an invitation is mailed only if its transaction commits;
- the territory list (``compliance``): a new country's code must be on it.

Each app registers its function in ``AppConfig.ready()``; calling one that nobody registered
is a configuration error, never a silent no-op.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

MailQueue = Callable[[list[str], str, str], None]
TerritoryLookup = Callable[[str], "str | None"]

_mail_queue: list[MailQueue] = []
_territory_lookup: list[TerritoryLookup] = []


def register_mail_queue(queue: MailQueue) -> None:
    _mail_queue[:] = [queue]


def register_territory_lookup(lookup: TerritoryLookup) -> None:
    _territory_lookup[:] = [lookup]


def queue_mail(*, recipients: list[str], subject: str, body: str) -> None:
    """Queue an e-mail in the outbox, inside the caller's transaction."""
    if not _mail_queue:
        raise ImproperlyConfigured("No e-mail outbox registered (partnerships app missing?)")
    _mail_queue[0](recipients, subject, body)


def territory_name(code: str) -> str | None:
    """The name of ``code`` on the current territory list, or None when it is not on it."""
    if not _territory_lookup:
        raise ImproperlyConfigured("No territory list registered (compliance app missing?)")
    return _territory_lookup[0](code)
