"""API shapes for commitments. Only shape and types here; the rules are in ``services`` and
``validation``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from partnerships.commitments.money import money_text
from partnerships.commitments.validation import CommitmentData, TrancheInput
from partnerships.models import CoInvestmentCommitment
from partnerships.serializers import StrictMixin, WholeObjectMixin
from portal.api.fields import TextField


class MoneyField(serializers.DecimalField):
    """A decimal amount sent as a string (or a JSON integer): a JSON float is refused,
    because it has already lost digits by the time it is parsed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=20, decimal_places=3, coerce_to_string=True, **kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, float | bool):
            raise serializers.ValidationError('Send amounts as decimal strings, e.g. "1000.50".')
        return super().to_internal_value(data)


class TrancheInputSerializer(WholeObjectMixin, StrictMixin, serializers.Serializer):
    due_date = serializers.DateField()
    amount = MoneyField()


EXAMPLE = {
    "tenant": "JP",
    "vehicle": "global_expansion",
    "amount": "150000000000",
    "currency": "JPY",
    "commitment_date": "2026-04-15",
    "tranches": [
        {"due_date": "2026-12-31", "amount": "50000000000"},
        {"due_date": "2027-12-31", "amount": "100000000000"},
    ],
}


@extend_schema_serializer(
    examples=[OpenApiExample("A commitment in yen", value=EXAMPLE, request_only=True)]
)
class CommitmentWriteSerializer(StrictMixin, serializers.Serializer):
    """What an official sends. On PATCH every field is optional except ``version``;
    ``tranches``, when sent, replace the whole schedule."""

    tenant = TextField(
        max_length=2,
        required=False,
        help_text="Country code (POST only; may be omitted by an official of one country).",
    )
    application = serializers.IntegerField(required=False, allow_null=True)
    partnership = serializers.IntegerField(required=False, allow_null=True)
    vehicle = serializers.ChoiceField(choices=CoInvestmentCommitment.Vehicle.choices)
    amount = MoneyField()
    currency = TextField(max_length=3)
    commitment_date = serializers.DateField()
    tranches = TrancheInputSerializer(many=True, required=False)
    version = serializers.IntegerField(
        required=False, help_text="The version you saw (PATCH: required)."
    )

    def validated_data_for_service(self) -> CommitmentData:
        data: dict[str, Any] = {
            k: v for k, v in self.validated_data.items() if k not in ("tenant", "version")
        }
        if "tranches" in data:
            data["tranches"] = [TrancheInput(t["due_date"], t["amount"]) for t in data["tranches"]]
        return data  # type: ignore[return-value]


class CommitmentSerializer(serializers.ModelSerializer):
    """A commitment as everyone allowed to see it reads it; amounts are decimal strings."""

    tenant: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    amount = serializers.SerializerMethodField()
    fx_rate = serializers.SerializerMethodField()
    usd_amount = serializers.DecimalField(max_digits=24, decimal_places=2, read_only=True)
    tranches = serializers.SerializerMethodField()

    class Meta:
        model = CoInvestmentCommitment
        fields = [
            "id",
            "tenant",
            "application",
            "partnership",
            "vehicle",
            "amount",
            "currency",
            "commitment_date",
            "fx_rate",
            "fx_rate_date",
            "usd_amount",
            "status",
            "version",
            "created_at",
            "updated_at",
            "tranches",
        ]
        read_only_fields = fields

    def get_amount(self, obj: CoInvestmentCommitment) -> str:
        return money_text(obj.amount, obj.currency)

    def get_fx_rate(self, obj: CoInvestmentCommitment) -> str:
        return format(obj.fx_rate.normalize(), "f")

    def get_tranches(self, obj: CoInvestmentCommitment) -> list[dict[str, Any]]:
        return [
            {
                "id": t.pk,
                "due_date": t.due_date.isoformat(),
                "amount": money_text(t.amount, obj.currency),
                "status": t.status,
                "paid_at": t.paid_at.isoformat() if t.paid_at else None,
                "payment_reference": t.payment_reference,
            }
            for t in obj.tranches.all()
        ]


class VersionSerializer(StrictMixin, serializers.Serializer):
    version = serializers.IntegerField()


class PaySerializer(StrictMixin, serializers.Serializer):
    payment_reference = TextField(max_length=100, allow_blank=True)
    version = serializers.IntegerField(required=False)


class TotalsRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    count = serializers.IntegerField()
    usd_amount = serializers.DecimalField(max_digits=24, decimal_places=2)
    usd_confirmed = serializers.DecimalField(max_digits=24, decimal_places=2, required=False)
    usd_paid = serializers.DecimalField(max_digits=24, decimal_places=2, required=False)


class TotalsSummarySerializer(serializers.Serializer):
    count = serializers.IntegerField()
    usd_amount = serializers.DecimalField(max_digits=24, decimal_places=2)
    usd_confirmed = serializers.DecimalField(max_digits=24, decimal_places=2)
    usd_paid = serializers.DecimalField(max_digits=24, decimal_places=2)


class TotalsSerializer(serializers.Serializer):
    """USD totals; decimals are strings (DRF would otherwise emit JSON floats)."""

    currency = serializers.CharField()
    total = TotalsSummarySerializer()
    by_country = TotalsRowSerializer(many=True)
    by_vehicle = TotalsRowSerializer(many=True)
    by_status = TotalsRowSerializer(many=True)
