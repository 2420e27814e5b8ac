"""Compliance API serializers: shapes only, no rules."""

from __future__ import annotations

from rest_framework import serializers

from compliance.models import ScreeningResult, Territory, TerritoryListVersion


class TerritorySerializer(serializers.ModelSerializer):
    list_version = serializers.IntegerField(source="version.number", read_only=True)

    class Meta:
        model = Territory
        fields = [
            "code",
            "name",
            "supported",
            "groups",
            "comprehensive_sanctions",
            "notes",
            "list_version",
        ]


class TerritoryListVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = TerritoryListVersion
        fields = [
            "number",
            "effective_date",
            "source",
            "checksum",
            "loaded_at",
            "diff",
            "rescreen_total",
            "rescreen_done",
            "rescreen_started_at",
        ]


class FindingSerializer(serializers.Serializer):
    rule = serializers.CharField()
    outcome = serializers.CharField()
    subject = serializers.CharField(required=False)
    fact = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.source
    reason = serializers.CharField()


class ScreeningResultSerializer(serializers.ModelSerializer):
    """Programme staff: the outcome and every finding with its source."""

    list_version = serializers.IntegerField(source="list_version.number", read_only=True)
    findings = FindingSerializer(many=True, read_only=True)

    class Meta:
        model = ScreeningResult
        fields = [
            "id",
            "application_version",
            "list_version",
            "outcome",
            "findings",
            "task_id",
            "started_at",
            "finished_at",
        ]


class CountryScreeningSerializer(serializers.ModelSerializer):
    """A country's officials: that a screening ran, never its outcome or findings.

    The public state of a hold is "Under review"; the outcome would reveal the internal
    deliberation that DESIGN §4 keeps from the country.
    """

    list_version = serializers.IntegerField(source="list_version.number", read_only=True)

    class Meta:
        model = ScreeningResult
        fields = ["id", "application_version", "list_version", "finished_at"]


class ScreeningRequestedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    application_version = serializers.IntegerField()
    list_version = serializers.IntegerField()
