from django.apps import AppConfig


class PartnershipsConfig(AppConfig):
    name = "partnerships"

    def ready(self) -> None:
        from partnerships import commitments, panels
        from portal import dashboard

        dashboard.register(panels.application_panels)
        dashboard.register(commitments.commitment_panels)
