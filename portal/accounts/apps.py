from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "portal.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from portal import dashboard
        from portal.accounts import (
            signals,  # noqa: F401  (login audit receivers)
            throttle,  # noqa: F401  (account-wide failure counters)
        )
        from portal.accounts.panels import people_panels
        from portal.api import schema  # noqa: F401  (OpenAPI auth schemes)
        from portal.middleware import mark_active

        dashboard.register(people_panels)
        user_logged_in.connect(mark_active, dispatch_uid="portal_idle_clock")
