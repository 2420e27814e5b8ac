from django.apps import AppConfig


class PartnershipsConfig(AppConfig):
    name = "partnerships"

    def ready(self) -> None:
        # Imports here: models and signals exist only once the app registry is ready.
        from partnerships import notifications, panels, tasks, workflow
        from partnerships.commitments import dashboard as commitment_dashboard
        from portal import dashboard, hooks

        dashboard.register(panels.application_panels)
        dashboard.register(commitment_dashboard.commitment_panels)
        hooks.register_mail_queue(notifications.queue)
        workflow.transitions_recorded.connect(
            notifications.on_transitions_recorded, dispatch_uid="partnerships.notify_on_move"
        )
        notifications.outbox_filled.connect(
            tasks.on_outbox_filled, dispatch_uid="partnerships.deliver_on_queue"
        )
