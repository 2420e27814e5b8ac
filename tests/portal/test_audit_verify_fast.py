"""The verifier's own HMAC (keyed states computed once) is the standard library's HMAC."""

from __future__ import annotations

import hmac

import pytest

from portal.audit.verify import hmac_sha256_hex


@pytest.mark.parametrize("key_length", [1, 32, 63, 64, 65, 200])
@pytest.mark.parametrize("data", [b"", b"x", b'{"a":"\xc3\xa9"}' * 50])
def test_keyed_states_give_the_standard_hmac(key_length, data):
    secret = bytes(range(256))[:key_length] if key_length <= 256 else b""
    keyed = hmac_sha256_hex(secret)
    assert keyed(data) == hmac.digest(secret, data, "sha256").hex()
    assert keyed(data) == keyed(data)  # the precomputed states are copied, never consumed
