"""Meta-test: every audit verb is emitted by at least one test (see tests/verb_coverage.py)."""

from __future__ import annotations

from portal.audit.verbs import Verb


def test_every_verb_is_emitted_by_some_test(emitted_verbs: set[str]) -> None:
    missing = sorted(verb.value for verb in Verb if verb.value not in emitted_verbs)
    assert not missing, f"Verbs no test emits (add a test that records each): {missing}"
