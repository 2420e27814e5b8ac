from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "portal.ops"
    label = "ops"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from portal.ops.owner import grant_app_role

        post_migrate.connect(grant_app_role, dispatch_uid="portal.ops.grant_app_role")
