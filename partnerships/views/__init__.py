"""Web pages for applications (officials) and review (programme staff), one module per page
group. Thin: each view reads through a selector, validates with the API serializers (one set of
field rules for UI and API) and calls the same services as the API.

``partnerships/urls.py`` routes to the callables re-exported here.
"""

from partnerships.views.applications import application_detail, application_list, application_new
from partnerships.views.attachments import (
    application_attachments,
    attachment_download,
    obligation_evidence,
    obligation_met,
)
from partnerships.views.replies import application_reply
from partnerships.views.review import (
    approver_board,
    review_act,
    review_assign,
    review_detail,
    review_queues,
)
from partnerships.views.steps import application_edit, emission_estimate
from partnerships.views.submit import application_submit, application_withdraw

__all__ = [
    "application_attachments",
    "application_detail",
    "application_edit",
    "application_list",
    "application_new",
    "application_reply",
    "application_submit",
    "application_withdraw",
    "approver_board",
    "attachment_download",
    "emission_estimate",
    "obligation_evidence",
    "obligation_met",
    "review_act",
    "review_assign",
    "review_detail",
    "review_queues",
]
