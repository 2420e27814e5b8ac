from django.apps import AppConfig


class PartnershipsConfig(AppConfig):
    name = "partnerships"

    def ready(self) -> None:
        from partnerships import panels
        from portal import dashboard

        dashboard.register(panels.application_panels)
