from __future__ import annotations

from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"

    def ready(self) -> None:
        # Imports here: models and signals exist only once the app registry is ready.
        from compliance import signals, tasks
        from compliance.panels import holds_panel
        from compliance.territories import territory_name
        from partnerships.workflow import application_submitted
        from portal import dashboard, hooks

        hooks.register_territory_lookup(territory_name)
        application_submitted.connect(
            tasks.on_application_submitted, dispatch_uid="compliance.screen_on_submit"
        )
        signals.screening_wanted.connect(
            tasks.on_screening_wanted, dispatch_uid="compliance.screening_wanted"
        )
        signals.rescreen_wanted.connect(
            tasks.on_rescreen_wanted, dispatch_uid="compliance.rescreen_wanted"
        )
        dashboard.register(holds_panel)
