"""Enqueueing a Celery task where a lost message is recovered later (issue #13: one home).

Callers enqueue after commit; a broker outage at that moment must not fail the request that
already committed, because a periodic task (beat) finds the work again: the screening sweep,
the outbox delivery retry. So the failure is logged, never raised.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def enqueue_or_log(task: Any, *args: Any, what: str, recovered_by: str) -> bool:
    """``task.delay(*args)``; on any broker failure log ``what`` and return False.

    ``what`` names the work ("screening of application 7 v2"), ``recovered_by`` the periodic
    task that picks it up later ("the screening sweep"). Returns True when enqueued.
    """
    try:
        task.delay(*args)
    except Exception:  # any broker failure (kombu, redis, socket): the sweep recovers the work
        logger.exception("%s not enqueued; %s will pick it up", what, recovered_by)
        return False
    return True
