"""What compliance's services ask of its tasks, as signals (sent after commit).

The services must not import ``compliance.tasks`` (the tasks import the services); the tasks
module connects its receivers in ``ComplianceConfig.ready``.
"""

from __future__ import annotations

from django.dispatch import Signal

# kwargs: application_id: int, version: int: screen this application version.
screening_wanted = Signal()
# kwargs: list_version_id: int, application_ids: list[int] | None: re-screen these
# applications against that list version (None: every application, in chunks).
rescreen_wanted = Signal()
