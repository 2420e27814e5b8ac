"""The portal without the audit chain's advisory lock: the writers benchmark's upper bound.

``record_event`` normally serializes every audited write on one transaction-level lock, so
the chain has one order. Here the lock is gone (each append reads the last hash and goes
on), which is what any alternative that lets writers append in parallel (a chain per
country, batched appends) could at best reach. Concurrent appends then fork the chain (two
events naming the same ``prev_hash``), so verification fails afterwards: the benchmark runs
this only on a scratch copy of a bench database and drops it. Never served outside
``make bench``.
"""

# ruff: noqa: I001  (Django is set up by the first import, before the models are imported)
from portal.wsgi import application  # noqa: F401

from portal.audit import record
from portal.audit.chain import GENESIS_HASH
from portal.audit.models import AuditEvent


def _last_hash_without_lock() -> str:
    return AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS_HASH


record._lock_chain = _last_hash_without_lock
