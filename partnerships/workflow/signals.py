"""What the workflow tells the modules above it (which it must not import): signals,
connected in ``partnerships/apps.py`` and ``compliance/apps.py``."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent after commit when an application enters ``screening`` (compliance listens).
application_submitted = Signal()  # kwargs: application_id, version
#: Sent inside the transaction of a move (kwargs: moves: [(application, decision)], batch:
#: bool): notifications writes its outbox rows in it. A signal, because notifications reads
#: the workflow's tables of states and roles (the workflow must not import it back).
transitions_recorded = Signal()
