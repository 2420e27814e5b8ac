"""DESIGN §4's workflow table, written out by hand from the contract.

Deliberately independent of ``partnerships.workflow``: the generated action × role × state
matrix takes its expected answers from here, so a mistake in the workflow table fails a test
instead of being copied into the expectation. Plain strings, no imports from the code under
test.
"""

from __future__ import annotations

REVIEW_STATES = {"technical_review", "security_review", "us_coordination", "final_review"}
NON_FINAL_STATES = {
    "draft", "screening", "screening_hold", "technical_review", "security_review",
    "us_coordination", "final_review", "info_requested",
}  # fmt: skip
TENANT_ROLES = {"official", "country_admin"}
#: "the role of that state" (DESIGN §1 and §4).
STATE_ROLE = {
    "screening_hold": "compliance_officer",
    "technical_review": "reviewer",
    "security_review": "security_reviewer",
    "us_coordination": "us_coordinator",
    "final_review": "approver",
}

#: action → (from states, to state, who). ``who`` is a role, ``TENANT`` for the
#: official/country_admin of the application's country, or ``STATE`` for the role of the state.
TENANT = "tenant"
STATE = "state"
TABLE: dict[str, tuple[set[str], str, str]] = {
    "submit": ({"draft", "info_requested"}, "screening", TENANT),
    "clear_hold": ({"screening_hold"}, "technical_review", "compliance_officer"),
    "approve_technical": ({"technical_review"}, "security_review", "reviewer"),
    "approve_security": ({"security_review"}, "us_coordination", "security_reviewer"),
    "concur": ({"us_coordination"}, "final_review", "us_coordinator"),
    "non_concur": ({"us_coordination"}, "rejected", "us_coordinator"),
    "approve": ({"final_review"}, "approved", "approver"),
    "request_info": (REVIEW_STATES, "info_requested", STATE),
    "reject": (REVIEW_STATES | {"screening_hold"}, "rejected", STATE),
    "withdraw": (NON_FINAL_STATES, "withdrawn", TENANT),
}
#: The approving actions of the four-eyes rule (DESIGN §4 "Guards").
APPROVING = {"clear_hold", "approve_technical", "approve_security", "concur", "approve"}


def allowed(action: str, state: str, role: str) -> bool:
    """May a holder of ``role`` (of the application's country, for tenant roles) take
    ``action`` in ``state``, by the contract alone (no four-eyes or conflict history)?"""
    from_states, _to, who = TABLE[action]
    if state not in from_states:
        return False
    if who == TENANT:
        return role in TENANT_ROLES
    if who == STATE:
        return STATE_ROLE.get(state) == role
    return who == role
