"""Every log line names the request (or task) it belongs to: ``request_id`` from the actor
context, so a 500 a client reports by its ``request_id`` can be found in the logs."""

from __future__ import annotations

import logging

from portal import context


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # Django logs a 500 ("Internal Server Error: …") after the middleware that holds
            # the context has returned, but passes the request along.
            request = getattr(record, "request", None)
            record.request_id = (
                getattr(request, "request_id", "") or context.current().request_id or "-"
            )
        return True
