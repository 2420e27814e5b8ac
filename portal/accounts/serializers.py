from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.accounts.models import ApiToken, Invitation, User
from portal.api.fields import FIELD_MAPPING, TextField
from portal.tenancy.access import access_for
from portal.tenancy.models import Tenant
from portal.tenancy.roles import Role


class TokenRequestSerializer(serializers.Serializer):
    username = TextField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)
    otp = TextField(
        max_length=16,
        required=False,
        help_text="Programme staff and country admins: the current one-time or a recovery code.",
    )
    client = TextField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text="A name for this client (e.g. 'nightly export'); tokens are per client.",
    )


class TokenAnswerSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True)


class ApiTokenSerializer(serializers.ModelSerializer):
    """One's own token as listed: never the secret, its digest or its key."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    current = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["id", "client", "created", "expiry", "otp_verified", "current"]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_current(self, token: ApiToken) -> bool:
        auth = getattr(self.context.get("request"), "auth", None)
        return isinstance(auth, ApiToken) and auth.pk == token.pk


class TenantSerializer(serializers.ModelSerializer):
    serializer_field_mapping = FIELD_MAPPING

    class Meta:
        model = Tenant
        fields = ["code", "name", "languages", "time_zone", "status"]
        read_only_fields = ["status"]
        extra_kwargs: dict[str, Any] = {
            "code": {"validators": []}
        }  # uniqueness: the service's field error

    def validate_code(self, value: str) -> str:
        return value.strip()


class InvitationSerializer(serializers.ModelSerializer):
    serializer_field_mapping = FIELD_MAPPING
    tenant = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Tenant.objects.all(),
        required=False,
        allow_null=True,
        help_text="ISO code of the country, for country roles; absent for programme roles.",
    )
    role = serializers.ChoiceField(choices=Role.choices)
    language = serializers.ChoiceField(
        choices=[code for code, _name in settings.LANGUAGES],
        required=False,
        help_text="Language of the e-mail and of the page its link opens; by default the "
        "country's first language the portal speaks, else English.",
    )
    invited_by = serializers.CharField(source="invited_by.username", read_only=True)
    status = serializers.CharField(read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "tenant", "language", "invited_by", "created_at",
                  "sent_at", "expires_at", "accepted_at", "revoked_at", "status"]  # fmt: skip
        read_only_fields = ["id", "invited_by", "created_at", "sent_at", "expires_at",
                            "accepted_at", "revoked_at", "status"]  # fmt: skip


class AcceptSerializer(serializers.Serializer):
    token = TextField(max_length=100)
    username = serializers.RegexField(
        r"^[\w.@+-]+\Z",
        max_length=150,
        error_messages={"invalid": _("Letters, digits and @/./+/-/_ only.")},
    )
    password = serializers.CharField(max_length=256, trim_whitespace=False)


class AcceptAnswerSerializer(serializers.Serializer):
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    two_factor_required = serializers.BooleanField(
        help_text="True: sign in at the portal and enrol an authenticator before anything else."
    )


class MembershipOutSerializer(serializers.Serializer):
    role = serializers.CharField()
    tenant = serializers.CharField(allow_null=True)
    since = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)


class MemberSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()
    has_second_factor = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "email", "is_active", "last_login", "date_joined",
                  "roles", "has_second_factor"]  # fmt: skip
        read_only_fields = ["id", "username", "email", "last_login", "date_joined"]

    def _visible_tenants(self) -> set[int] | None:
        """None: every country (platform admin); else the countries the viewer administers."""
        request = self.context["request"]
        access = access_for(request.user)
        if access.has_programme_role(Role.PLATFORM_ADMIN):
            return None
        return {tid for tid, roles in access.tenant_roles.items() if Role.COUNTRY_ADMIN in roles}

    @extend_schema_field(MembershipOutSerializer(many=True))
    def get_roles(self, user: Any) -> Any:
        visible = self._visible_tenants()
        roles = [
            {"role": m.role, "tenant": m.tenant.code, "since": m.created_at, "ended_at": m.ended_at}
            for m in user.memberships.all()
            if visible is None or m.tenant_id in visible
        ]
        if visible is None:
            roles += [
                {"role": p.role, "tenant": None, "since": p.created_at, "ended_at": p.ended_at}
                for p in user.programme_roles.all()
            ]
        return MembershipOutSerializer(roles, many=True).data

    @extend_schema_field(serializers.BooleanField())
    def get_has_second_factor(self, user: Any) -> bool:
        return any(d.confirmed for d in user.totpdevice_set.all())


class MemberPatchSerializer(serializers.Serializer):
    is_active = serializers.BooleanField()
