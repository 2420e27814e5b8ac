"""The verifier's own HMAC (keyed states computed once) is the standard library's HMAC, and
its encoding of an event is the recorder's."""

from __future__ import annotations

import hmac

import pytest

from portal.audit.record import record_event
from portal.audit.verbs import Verb
from portal.audit.verify import hmac_sha256_hex, verify_chain
from tests.portal.audit_helpers import owner_connection


@pytest.mark.parametrize("key_length", [1, 32, 63, 64, 65, 200])
@pytest.mark.parametrize("data", [b"", b"x", b'{"a":"\xc3\xa9"}' * 50])
def test_keyed_states_give_the_standard_hmac(key_length, data):
    secret = bytes(range(256))[:key_length] if key_length <= 256 else b""
    keyed = hmac_sha256_hex(secret)
    assert keyed(data) == hmac.digest(secret, data, "sha256").hex()
    assert keyed(data) == keyed(data)  # the precomputed states are copied, never consumed


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes",
    [
        {"n": 2**70, "m": -(2**64), "text": "1234567890123456789012"},  # beyond 64 bits
        {"n": 10**310},  # beyond what orjson reads at all
        {"n": 2**63 - 1, "nested": {"b": [1, {"z": 2, "a": 3}], "a": None}},
        {"text": '\u2028 関西 "q" \\ \x01', "é": True},
    ],
)
def test_changes_of_any_shape_verify(changes):  # type: ignore[no-untyped-def]
    """The verifier re-encodes ``changes`` as the recorder did: keys sorted, integers exact
    however large (orjson reads an integer beyond 64 bits as a float, and the recorder's
    encoder falls back to the reference one for them; a false "hash" alarm before)."""
    record_event(verb=Verb.APPLICATION_UPDATED, object_type="test", object_id="1", changes=changes)
    record_event(verb=Verb.APPLICATION_UPDATED, object_type="test", object_id="2", changes={"k": 1})
    result = verify_chain()
    assert result.ok, result
    assert result.checked >= 2


@pytest.mark.django_db(transaction=True)
def test_changes_python_cannot_read_are_a_hash_problem_not_a_crash():  # type: ignore[no-untyped-def]
    """An integer of 5,000 digits cannot have been recorded (Python refuses to write it), so
    it can only be an edit of the table: reported, not raised."""
    event = record_event(verb=Verb.APPLICATION_UPDATED, object_type="test", object_id="1")
    with owner_connection() as owner, owner.transaction():  # past the append-only triggers
        owner.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        owner.execute(
            "UPDATE audit_auditevent SET changes = %s::jsonb WHERE id = %s",
            ['{"n": ' + "9" * 5000 + "}", event.pk],
        )
        owner.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
    result = verify_chain()
    assert not result.ok and result.problem == "hash" and result.first_bad_id == event.pk
