from django.apps import AppConfig


class PartnershipsConfig(AppConfig):
    name = "partnerships"

    def ready(self) -> None:
        from partnerships import commitments, notifications, panels
        from portal import dashboard, hooks

        dashboard.register(panels.application_panels)
        dashboard.register(commitments.commitment_panels)
        hooks.register_mail_queue(notifications.queue)
