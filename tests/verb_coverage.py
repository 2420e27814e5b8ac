"""Every audit ``Verb`` is emitted by some test (issue #13, item 6).

How it works, and why it cannot pass silently:

- A session-scoped collector wraps ``portal.audit.record._event_fields``, the one function
  both ``record_event`` and ``record_events`` build every row through, so each verb the
  recorder is asked to write during the run is noted — whichever service, view, command or
  task (run in-process) asked. Events written by another process (a ``make run`` subprocess,
  a real Celery worker) are not seen: a verb emitted only there counts as untested, which
  errs on the side of failing.
- ``test_every_verb_is_emitted_by_some_test`` is moved to the very end of the run. It fails
  when any ``Verb`` member was never emitted.
- It only judges a whole run: when the session was narrowed (file or node arguments other
  than the test root, ``-k``, ``--lf``/``--ff``/``--sw``, ``-x`` stopping early or failures
  that ended tests before the end), it is *skipped* with the reason, and a skip is reported
  by pytest (``-ra``), never a pass. ``-m "not slow"`` still counts as a whole run: slow
  tests run in a subprocess, whose events the collector cannot see anyway.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

EMITTED: set[str] = set()
_WHOLE_RUN_KEY = pytest.StashKey[bool]()
TESTS_ROOT = Path(__file__).resolve().parent


def _whole_run(config: pytest.Config) -> bool:
    """True when the session selected every test module (markers aside)."""
    option = config.option
    narrowed = (
        bool(getattr(option, "keyword", ""))
        or bool(getattr(option, "lf", False))
        or bool(getattr(option, "failedfirst", False))
        or bool(getattr(option, "stepwise", False))
        or bool(getattr(option, "deselect", None))
    )
    root = Path(str(config.rootpath)).resolve()
    for arg in config.args:
        path = Path(arg.split("::")[0])
        path = (Path(str(config.invocation_params.dir)) / path).resolve()
        if "::" in arg or path not in (root, TESTS_ROOT):
            narrowed = True
    return not narrowed


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_WHOLE_RUN_KEY] = _whole_run(config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The verb check runs last, after every test that could emit a verb."""
    last = [i for i in items if i.name == "test_every_verb_is_emitted_by_some_test"]
    items[:] = [i for i in items if i not in last] + last


@pytest.fixture(scope="session", autouse=True)
def _collect_emitted_verbs() -> Any:
    from portal.audit import record

    original = record._event_fields

    def noting(**kwargs: Any) -> Any:
        EMITTED.add(str(kwargs["verb"]))
        return original(**kwargs)

    record._event_fields = noting  # type: ignore[assignment]
    yield EMITTED
    record._event_fields = original  # type: ignore[assignment]


@pytest.fixture
def emitted_verbs(request: pytest.FixtureRequest) -> set[str]:
    """The verbs emitted so far, or a skip when this run does not cover the whole suite."""
    session = request.session
    if not request.config.stash.get(_WHOLE_RUN_KEY, False):
        pytest.skip("partial run (file/node arguments, -k, --lf…): verb coverage not judged")
    if session.shouldstop or session.testsfailed:
        pytest.skip("the run stopped or failed before the end: verb coverage not judged")
    return EMITTED


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With ``PORTAL_VERBS_EMITTED_FILE`` set, write the emitted verbs there (one a line)."""
    target = os.environ.get("PORTAL_VERBS_EMITTED_FILE")
    if target:
        Path(target).write_text("".join(f"{verb}\n" for verb in sorted(EMITTED)))
