from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "portal.tenancy"
    label = "tenancy"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from portal.tenancy.rls import on_connection_created

        connection_created.connect(on_connection_created, dispatch_uid="portal.tenancy.rls")
