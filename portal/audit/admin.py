"""Changes made in Django's admin are audited like any other (platform admins manage people
and countries there)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction

from portal.audit.record import record_event
from portal.audit.verbs import Verb


class AuditedModelAdmin(admin.ModelAdmin):
    """save_model/delete_model write an audit event in the same transaction as the change."""

    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        fields = [name for name in form.changed_data if name not in ("password",)]
        before = {name: form.initial.get(name) for name in fields} if change else {}
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            after = {name: form.cleaned_data.get(name) for name in fields}
            record_event(
                verb=Verb.ADMIN_CHANGED if change else Verb.ADMIN_CREATED,
                obj=obj,
                actor=request.user,
                role="platform_admin",
                changes={
                    name: {"before": _plain(before.get(name)), "after": _plain(after.get(name))}
                    for name in fields
                },
            )

    def delete_model(self, request: Any, obj: Any) -> None:
        with transaction.atomic():
            record_event(
                verb=Verb.ADMIN_DELETED, obj=obj, actor=request.user, role="platform_admin"
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        with transaction.atomic():
            for obj in queryset:
                record_event(
                    verb=Verb.ADMIN_DELETED, obj=obj, actor=request.user, role="platform_admin"
                )
            super().delete_queryset(request, queryset)


def _plain(value: Any) -> Any:
    if hasattr(value, "pk"):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if hasattr(value, "all") and callable(value.all):  # a queryset of many-to-many choices
        return [str(v) for v in value.all()]
    return value
