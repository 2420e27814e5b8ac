"""Celery tasks of compliance: thin, take ids, call a service, own their retries, idempotent.

Reliability: every task is ``acks_late`` with ``reject_on_worker_lost`` (a killed worker's
message is redelivered), retries with backoff on database and broker errors, and the
periodic ``compliance.sweep_screening`` re-enqueues whatever a lost message left behind.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import kombu.exceptions
import redis.exceptions
from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from compliance import services
from portal.context import actor_context
from portal.queue import enqueue_or_log

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (
    OperationalError,
    InterfaceError,
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    services.NoTerritoryList,
)
RELIABLE: dict[str, Any] = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}
RESCREEN_CHUNK = 50
#: Applications one screening task screens in one transaction: the one it names and others
#: waiting in ``screening`` (bench/README.md: per-application transactions, territory reads
#: and audit appends were most of a screening's cost; a batch shares them).
SCREEN_BATCH = 50


@shared_task(name="compliance.screen_application", **RELIABLE)
def screen_application(self: Any, application_id: int, version: int) -> str | None:
    with actor_context(system_label="task:compliance.screen_application"):
        return services.application_screen(
            application_id=application_id,
            version=version,
            task_id=self.request.id or "",
            also_waiting=SCREEN_BATCH - 1,
        )


@shared_task(name="compliance.rescreen_all", **RELIABLE)
def rescreen_all(self: Any, list_version_id: int) -> int:
    """Fan out the re-screening of a new list version in chunks; progress on the version."""
    with actor_context(system_label="task:compliance.rescreen_all"):
        ids = services.rescreen_begin(list_version_id=list_version_id)
        if ids is None:
            return 0
        for chunk in services.chunks(ids, RESCREEN_CHUNK):
            rescreen_chunk.delay(list_version_id, chunk)
        return len(ids)


@shared_task(name="compliance.rescreen_chunk", **RELIABLE)
def rescreen_chunk(self: Any, list_version_id: int, application_ids: list[int]) -> dict[str, int]:
    """Re-screen a chunk in one transaction (``services.applications_rescreen``)."""
    with actor_context(system_label="task:compliance.rescreen_chunk"):
        counts = services.applications_rescreen(
            application_ids=application_ids,
            list_version_id=list_version_id,
            task_id=self.request.id or "",
        )
        services.rescreen_progress(list_version_id=list_version_id, done=len(application_ids))
    return counts


@shared_task(name="compliance.sweep_screening", **RELIABLE)
def sweep_screening(self: Any) -> dict[str, int]:
    """Re-enqueue what a lost message or a dead worker left behind (beat, every minute)."""
    age = dt.timedelta(seconds=settings.PORTAL_SCREENING_SWEEP_SECONDS)
    with actor_context(system_label="task:compliance.sweep_screening"):
        stuck = services.stuck_in_screening(older_than=age)
        for application_id, version in stuck:
            screen_application.delay(application_id, version)
        rescreened = 0
        current = services.rescreen_owed(older_than=age)  # a new list or policy version
        if current is not None:
            if current.rescreen_started_at is None:
                rescreen_all.delay(current.pk)
            else:
                missing = services.not_rescreened(list_version=current)
                for chunk in services.chunks(missing, RESCREEN_CHUNK):
                    rescreen_chunk.delay(current.pk, chunk)
                rescreened = len(missing)
    if stuck or rescreened:
        logger.warning(
            "screening sweep re-enqueued %s screenings and %s re-screenings", len(stuck), rescreened
        )
    return {"screening": len(stuck), "rescreen": rescreened}


def enqueue_screening(application_id: int, version: int) -> bool:
    """Enqueue a screening; False (logged) if the broker is down: the sweep recovers it."""
    return enqueue_or_log(
        screen_application,
        application_id,
        version,
        what=f"screening of application {application_id} v{version}",
        recovered_by="the screening sweep",
    )


def enqueue_rescreen(list_version_id: int, application_ids: list[int] | None) -> bool:
    """Enqueue a re-screening (``None``: of every application, fanned out by ``rescreen_all``)."""
    if application_ids is None:
        return enqueue_or_log(
            rescreen_all,
            list_version_id,
            what=f"re-screening for list version id {list_version_id}",
            recovered_by="the screening sweep",
        )
    return enqueue_or_log(
        rescreen_chunk,
        list_version_id,
        application_ids,
        what=f"re-screening of {application_ids}",
        recovered_by="the screening sweep",
    )


def on_screening_wanted(sender: Any, application_id: int, version: int, **kwargs: Any) -> None:
    """Receiver of ``compliance.signals.screening_wanted``."""
    enqueue_screening(application_id, version)


def on_rescreen_wanted(
    sender: Any, list_version_id: int, application_ids: list[int] | None, **kwargs: Any
) -> None:
    """Receiver of ``compliance.signals.rescreen_wanted``."""
    enqueue_rescreen(list_version_id, application_ids)


def on_application_submitted(sender: Any, application_id: int, version: int, **kwargs: Any) -> None:
    """Receiver of ``partnerships.workflow.application_submitted`` (sent after commit)."""
    enqueue_screening(application_id, version)
