"""API shapes. Thin: field rules come from validators.py, business rules from services."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from partnerships import validators
from partnerships.models import Attachment, CountryApplication, Decision, Obligation, Sector, Site
from partnerships.workflow import PublicState, public_state, public_state_code
from portal.api.fields import FIELD_MAPPING, TextField
from portal.api.schema import role_dependent


def drf(rule: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Adapt a validators.py rule (Django ValidationError) to a DRF field validator."""

    def check(value: Any) -> Any:
        try:
            return rule(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc

    return check


class StrictMixin:
    """Unknown fields are an error, not silently ignored."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields)  # type: ignore[attr-defined]
            if unknown:
                raise serializers.ValidationError({k: ["Unknown field."] for k in sorted(unknown)})
        return super().to_internal_value(data)  # type: ignore[misc]


class WholeObjectMixin:
    """A nested object is given whole, on PATCH too.

    DRF's partial mode reaches nested serializers and makes their required fields optional,
    so ``"startup_fund": {}`` or ``"sites": [{}]`` got through validation half-empty and the
    service met a KeyError (500). A nested object replaces the old one, so it must be complete.
    """

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)  # type: ignore[misc]
        missing = [
            name
            for name, field in self.fields.items()  # type: ignore[attr-defined]
            if field.required and not field.read_only and field.source not in value
        ]
        if missing:
            raise serializers.ValidationError(
                {name: [serializers.Field.default_error_messages["required"]] for name in missing}
            )
        return value


class SiteSerializer(WholeObjectMixin, StrictMixin, serializers.ModelSerializer):
    serializer_field_mapping = FIELD_MAPPING
    country = TextField(max_length=2, validators=[drf(validators.country_code)])
    region = TextField(max_length=120)
    capacity_mw = serializers.DecimalField(
        max_digits=10, decimal_places=3, min_value=Decimal("0.001")
    )
    target_online_date = serializers.DateField()
    energy_mix = serializers.DictField(
        child=serializers.JSONField(), validators=[drf(validators.energy_mix)]
    )
    pue = serializers.DecimalField(
        max_digits=4,
        decimal_places=2,
        min_value=Decimal(1),
        max_value=Decimal(3),
        required=False,
        allow_null=True,
    )
    utilisation = serializers.DecimalField(
        max_digits=4,
        decimal_places=3,
        min_value=Decimal("0.001"),
        max_value=Decimal(1),
        required=False,
        allow_null=True,
    )

    class Meta:
        model = Site
        fields = [
            "country",
            "region",
            "capacity_mw",
            "target_online_date",
            "energy_mix",
            "pue",
            "utilisation",
            "estimated_annual_co2_tonnes",
        ]
        read_only_fields = ["estimated_annual_co2_tonnes"]

    def validate_country(self, value: str) -> str:
        return value.upper()

    def validate_target_online_date(self, value: Any) -> Any:
        # "today" is the country's (context "today", set where the country is known).
        return drf(lambda v: validators.future_date(v, today=self.context.get("today")))(value)

    def validate_energy_mix(self, value: dict[str, Any]) -> dict[str, int]:
        return validators.energy_mix(value)


class SecurityCommitmentsSerializer(StrictMixin, serializers.Serializer):
    hardware_security = serializers.BooleanField(allow_null=True, required=False)
    zero_trust = serializers.BooleanField(allow_null=True, required=False)
    encryption = serializers.BooleanField(allow_null=True, required=False)
    personnel_oversight = serializers.BooleanField(allow_null=True, required=False)


class StartupFundSerializer(WholeObjectMixin, StrictMixin, serializers.Serializer):
    amount = serializers.DecimalField(max_digits=24, decimal_places=4)
    currency = TextField(max_length=3, validators=[drf(validators.currency_code)])

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs["currency"] = attrs["currency"].upper()
        try:
            validators.money_amount(attrs["amount"], attrs["currency"])
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"amount": exc.messages}) from exc
        return attrs


EXAMPLE = {
    "tenant": "JP",
    "title": "Kansai sovereign AI campus",
    "sites": [
        {
            "country": "JP",
            "region": "Kansai",
            "capacity_mw": "120",
            "target_online_date": "2028-04-01",
            "energy_mix": {"solar": 40, "nuclear": 30, "gas": 30},
        }
    ],
    "languages": ["ja"],
    "sectors": ["healthcare", "education", "public_services"],
    "customization_notes": "Japanese public-sector terminology",
    "data_residency_required": True,
    "security_commitments": {
        "hardware_security": True,
        "zero_trust": True,
        "encryption": True,
        "personnel_oversight": True,
    },
    "startup_fund": {"amount": "50000000000", "currency": "JPY"},
}


def is_internal(context: Mapping[str, Any], tenant_id: int) -> bool:
    """Whether this caller gets the internal view of an application of ``tenant_id``.

    ``context["internal"]``: a bool, or a function of the tenant id (the API passes one built
    on ``portal.tenancy.access.acts_as_country``, since one person may be programme staff for
    one country and an official of another).
    """
    internal = context.get("internal", True)
    return bool(internal(tenant_id) if callable(internal) else internal)


@role_dependent("state", "screening_outcome")
@extend_schema_serializer(
    examples=[OpenApiExample("A complete application", value=EXAMPLE, request_only=True)]
)
class ApplicationSerializer(StrictMixin, serializers.ModelSerializer):
    """An application as officials write it and everyone allowed reads it."""

    serializer_field_mapping = FIELD_MAPPING

    tenant: serializers.Field = serializers.SlugRelatedField(slug_field="code", read_only=True)
    sites = SiteSerializer(many=True, required=False)
    languages = serializers.ListField(
        child=TextField(max_length=2, validators=[drf(validators.language_code)]),
        required=False,
        max_length=20,
    )
    sectors = serializers.ListField(
        child=serializers.ChoiceField(choices=Sector.choices), required=False, max_length=4
    )
    data_categories = serializers.ListField(
        child=TextField(max_length=60), required=False, max_length=30
    )
    security_commitments = SecurityCommitmentsSerializer(required=False)
    startup_fund = StartupFundSerializer(required=False, allow_null=True)
    public_state = serializers.SerializerMethodField(
        help_text="The state as the country sees it (a stable code)."
    )
    public_state_label = serializers.SerializerMethodField(
        help_text="The public state in the caller's language."
    )
    version = serializers.IntegerField(
        required=False, help_text="The version you saw (PATCH: required)."
    )

    class Meta:
        model = CountryApplication
        fields = [
            "id",
            "tenant",
            "reference",
            "title",
            "state",
            "public_state",
            "public_state_label",
            "version",
            "created_at",
            "updated_at",
            "submitted_at",
            "sites",
            "languages",
            "sectors",
            "other_sector",
            "customization_notes",
            "data_residency_required",
            "data_categories",
            "security_commitments",
            "startup_fund",
            "estimated_annual_co2_tonnes",
            "screening_outcome",
        ]
        read_only_fields = [
            "reference",
            "state",
            "created_at",
            "updated_at",
            "submitted_at",
            "estimated_annual_co2_tonnes",
            "screening_outcome",
        ]

    @extend_schema_field(serializers.ChoiceField(choices=PublicState.choices))
    def get_public_state(self, obj: CountryApplication) -> str:
        return public_state_code(obj.state)

    def get_public_state_label(self, obj: CountryApplication) -> str:
        return public_state(obj.state)

    def validate_languages(self, value: list[str]) -> list[str]:
        return [v.lower() for v in value]

    def validate_sites(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(value) > settings.PORTAL_MAX_SITES:
            raise serializers.ValidationError(f"At most {settings.PORTAL_MAX_SITES} sites.")
        return value

    def to_representation(self, instance: CountryApplication) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["security_commitments"] = {
            f: getattr(instance, f) for f in CountryApplication.SECURITY_FIELDS
        }
        data["startup_fund"] = (
            {
                "amount": validators.plain_decimal(instance.startup_fund_amount)
                if instance.startup_fund_amount is not None
                else None,
                "currency": instance.startup_fund_currency,
            }
            if instance.startup_fund_currency
            else None
        )
        if not is_internal(self.context, instance.tenant_id):
            data.pop("state", None)
            data.pop("screening_outcome", None)
        return data


class ApplicationCreateSerializer(ApplicationSerializer):
    tenant = TextField(
        max_length=2,
        required=False,
        help_text="Country code; optional for an official of one country.",
    )  # type: ignore[assignment]

    class Meta(ApplicationSerializer.Meta):
        extra_kwargs = {"title": {"required": True}}


class AttachmentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "evidence_for",
            "obligation",
            "uploaded_at",
            "download_url",
        ]

    def get_download_url(self, obj: Attachment) -> str:
        return f"/api/v1/applications/{obj.application_id}/attachments/{obj.pk}/download/"


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    evidence_for = serializers.ChoiceField(
        choices=Attachment.Evidence.choices, required=False, default=""
    )
    obligation = serializers.IntegerField(required=False, allow_null=True)


@role_dependent("action", "actor_label", "role", "rationale", "risk_level", "application_version")
class DecisionSerializer(serializers.ModelSerializer):
    """A decision. Programme staff: everything. The country: public states (codes), the
    released message and its questions; moves it cannot see are left out of its lists
    (``workflow.decisions_for``)."""

    from_state = serializers.CharField(
        read_only=True, help_text="Internal state; the country's people get the public code."
    )
    to_state = serializers.CharField(
        read_only=True, help_text="Internal state; the country's people get the public code."
    )
    questions = serializers.SerializerMethodField(
        help_text="The questions of an information request (empty otherwise)."
    )

    class Meta:
        model = Decision
        fields = [
            "id",
            "action",
            "from_state",
            "to_state",
            "actor_label",
            "role",
            "rationale",
            "message_to_country",
            "risk_level",
            "questions",
            "created_at",
            "application_version",
        ]

    def get_questions(self, obj: Decision) -> str:
        return obj.rationale if obj.action == "request_info" else ""

    def to_representation(self, instance: Decision) -> dict[str, Any]:
        data = super().to_representation(instance)
        # Decisions are listed per application: the view passes the caller's view as a bool.
        if not self.context.get("internal", True):
            # The country sees the public states, released messages and its questions.
            data = {
                "id": data["id"],
                "from_state": public_state_code(instance.from_state),
                "to_state": public_state_code(instance.to_state),
                "message_to_country": instance.message_to_country,
                "questions": data["questions"],
                "created_at": data["created_at"],
            }
        return data


class ConditionSerializer(WholeObjectMixin, StrictMixin, serializers.Serializer):
    text = TextField(max_length=2000)
    due_date = serializers.DateField()


class TransitionSerializer(StrictMixin, serializers.Serializer):
    action = TextField(max_length=30)
    version = serializers.IntegerField(min_value=1)
    rationale = TextField(required=False, allow_blank=True, default="", max_length=20000)
    risk_level = TextField(required=False, allow_blank=True, default="", max_length=10)
    message_to_country = TextField(required=False, allow_blank=True, default="", max_length=20000)
    conditions = serializers.ListField(
        child=ConditionSerializer(), required=False, default=list, max_length=20
    )


class ObligationSerializer(serializers.ModelSerializer):
    evidence = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Obligation
        fields = [
            "id",
            "text",
            "due_date",
            "status",
            "met_at",
            "met_note",
            "partnership",
            "evidence",
        ]


class TransitionActionSerializer(serializers.Serializer):
    action = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    to_state = serializers.CharField(
        help_text="Internal state; the country's people get the public code."
    )
    requires = serializers.DictField(child=serializers.BooleanField())


class TransitionsSerializer(serializers.Serializer):
    """What ``GET …/transitions/`` answers: the actions the caller may take now."""

    version = serializers.IntegerField()
    state = serializers.CharField(
        help_text="Internal state; the country's people get the public code."
    )
    actions = TransitionActionSerializer(many=True)
